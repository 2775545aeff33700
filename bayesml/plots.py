"""Stage 6 — plots of a model's priors and fits (matplotlib)."""

from __future__ import annotations

import math

import numpy as np

from .model import BrmsModel, prior_draws

__all__ = ["plot_priors"]


def plot_priors(model, draws: int = 4000, seed: int | None = None, bins: int = 60):
    """Histogram densities of every proper prior, one panel per brms ``prior_*`` parameter.

    Parameters
    ----------
    model : BrmsModel or Fit
        The priors in force (defaults and user priors).
    draws : int
        Independent draws per prior.
    seed : int, optional
    bins : int

    Returns
    -------
    matplotlib.figure.Figure
        Panels titled ``prior_b``, ``prior_Intercept``, ``prior_sd_<group>``, ... Flat priors
        have no density and are listed in the figure's title instead.
    """
    import matplotlib.pyplot as plt

    bm: BrmsModel = getattr(model, "model", model) if not isinstance(model, BrmsModel) else model
    samples = prior_draws(bm, draws, seed)
    names = list(samples)
    if not names:
        raise ValueError("Every prior of this model is flat; there is no density to draw.")
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 2.8 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        x = np.asarray(samples[name], dtype=float)
        lo, hi = np.quantile(x, [0.005, 0.995])
        if lo == hi:
            ax.axvline(lo, color="C0")
        else:
            ax.hist(x[(x >= lo) & (x <= hi)], bins=bins, density=True, color="C0", alpha=0.7)
        ax.set_title(name)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    flat = _flat_classes(bm)
    fig.suptitle("Prior densities" + (f" (flat: {', '.join(flat)})" if flat else ""))
    fig.tight_layout()
    return fig


def _flat_classes(bm: BrmsModel) -> list[str]:
    from .priors import improper_classes

    return improper_classes(bm.priors, bm.design, bm.family)
