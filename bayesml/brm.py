"""``brm``: the composition of the pipeline stages, as in brms."""

from __future__ import annotations

import warnings

import pandas as pd

from .families import Family
from .fit import Fit
from .model import make_model, prior_draws
from .sampling import ConvergenceWarning, SamplerSettings, sample, sample_prior_only

__all__ = ["brm"]


def brm(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    prior=None,
    sample_prior: str = "no",
    group_effects: str = "auto",
    chains: int = 4,
    iter: int = 2000,
    warmup: int | None = None,
    thin: int = 1,
    seed: int | None = None,
    cores: int | None = None,
    progressbar: bool = True,
    data_name: str | None = None,
    file: str | None = None,
    **sampler_kwargs,
) -> Fit:
    """Fit a Bayesian (multilevel) regression model with brms's defaults.

    ``formula → make_design → default priors → make_model → sample → Fit``; each stage is
    public (``parse_formula``, ``make_design``, ``get_prior``, ``make_model``, ``sample``).

    Parameters
    ----------
    formula : str
        brms/lme4 formula, e.g. ``"Reaction ~ Days + (Days | Subject)"``.
    data : pandas.DataFrame
    family : str or Family
        ``"gaussian"`` by default.
    prior : prior(...) specifications or PriorTable, optional
        User priors, e.g. ``prior("normal(0, 1)", class_="b", coef="Days") +
        prior("exponential(1)", class_="sigma")``; brms's defaults elsewhere.
    sample_prior : {"no", "yes", "only"}
        ``"yes"`` adds ``prior_*`` draws beside the posterior (for ``hypothesis``);
        ``"only"`` draws from the prior alone (every parameter needs a proper prior) and
        stores prior predictive draws of the response.
    group_effects : {"auto", "marginal", "noncentred"}
        How the varying effects enter the model. ``"auto"`` integrates them out of Gaussian
        models (identity link, no weights) and draws them afterwards from their exact
        conditional, which samples far better than brms's non-centred parameterisation
        (used otherwise, and with ``"noncentred"``).
    chains, iter, warmup, thin : int
        brms's defaults: 4 chains of 2000 iterations, the first half warmup.
    seed : int, optional
        Makes the draws reproducible.
    cores : int, optional
        Chains run in parallel on this many processes (default: all CPUs, at most ``chains``).
    progressbar : bool
    data_name : str, optional
        Name shown on the summary's Data line; defaults to ``data.attrs["name"]`` or "data".
    file : str, optional
        Path of a saved fit (zarr store). If it holds a fit of the same formula, data,
        family, priors and settings it is loaded instead of sampling again; otherwise the
        model is fitted and saved there (brms's ``file`` argument).
    **sampler_kwargs
        Passed to ``pymc.sample`` (``target_accept``, ``nuts_sampler``, ...).

    Returns
    -------
    Fit
    """
    warmup = iter // 2 if warmup is None else warmup
    if sample_prior not in ("no", "yes", "only"):
        raise ValueError(f"sample_prior must be 'no', 'yes' or 'only', got '{sample_prior}'.")
    if sample_prior == "only":
        group_effects = "noncentred"  # forward sampling needs the effects themselves
    bm = make_model(formula, data, family, prior, group_effects)
    signature = None
    if file is not None:
        from pathlib import Path

        from .persist import fit_signature, load

        settings = (chains, iter, warmup, thin, seed, sample_prior, bm.group_effects)
        signature = fit_signature(
            bm.design.formula.text,
            bm.design.data,
            bm.family,
            bm.priors,
            settings,
            sorted(sampler_kwargs.items()),
        )
        if Path(file).exists():
            saved = load(file)
            if getattr(saved, "signature", "") == signature:
                return saved
    if sample_prior == "only":
        idata = sample_prior_only(bm, chains, iter, warmup, thin, seed)
    else:
        idata = sample(
            bm.model, chains, iter, warmup, thin, seed, cores, progressbar, **sampler_kwargs
        )
    name = data_name or getattr(data, "attrs", {}).get("name") or "data"
    fit = Fit(bm, idata, SamplerSettings(chains, iter, warmup, thin), name, seed)
    if sample_prior == "yes":
        fit.add_prior_draws(prior_draws(bm, fit.settings.total_draws, seed))
    if file is not None:
        fit.signature = signature
        fit.save(file)
    for msg in fit.convergence_warnings():
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    return fit
