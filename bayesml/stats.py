"""Statistics of draws: convergence diagnostics, stacking, interval summaries.

This module imports nothing from the rest of the package, so that the sampler, the results
layer, predictions and the model checks can all use it without importing each other.

R-hat is the rank-normalised split R-hat of Vehtari et al. (2021), as the R package posterior
(and so brms) computes it: each chain is split in half, so that a single chain has an R-hat too.
Effective sample sizes come from ``arviz_stats`` (bulk and tail, the same definitions).
"""

from __future__ import annotations

import warnings

import arviz_stats as azs
import numpy as np
import pandas as pd
import xarray as xr
from scipy import special, stats

__all__ = [
    "SAMPLE_DIMS",
    "diagnostics_table",
    "interval_stats",
    "quantile_names",
    "rhat",
    "scalar_variables",
    "stack_draws",
    "stat_frame",
]

SAMPLE_DIMS = ("chain", "draw")


def _split_chains(x: np.ndarray) -> np.ndarray:
    """(chains, draws) → (2 · chains, draws // 2); an odd draw count drops the middle draw."""
    n = x.shape[1]
    half = n // 2
    return np.concatenate([x[:, :half], x[:, n - half :]], axis=0)


def _z_scale(x: np.ndarray) -> np.ndarray:
    """Rank-normalise all draws together (average ranks for ties, Blom's offset 3/8)."""
    ranks = stats.rankdata(x, method="average").reshape(x.shape)
    return special.ndtri((ranks - 0.375) / (x.size + 0.25))


def _rhat_basic(x: np.ndarray) -> float:
    chains, n = x.shape
    if chains < 2 or n < 2 or not np.all(np.isfinite(x)) or np.ptp(x) == 0:
        return float("nan")
    between = n * np.var(x.mean(axis=1), ddof=1)
    within = np.mean(np.var(x, axis=1, ddof=1))
    return float(np.sqrt((between / within + n - 1) / n))


def rhat(x: np.ndarray) -> float:
    """Rank-normalised split R-hat of one quantity's draws ``(chains, draws)``.

    The larger of the bulk R-hat and the R-hat of the folded draws ``|x - median(x)|``
    (posterior's ``rhat``). NaN for fewer than 4 draws per chain, non-finite or constant draws.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] < 4:
        return float("nan")
    split = _split_chains(x)
    if not np.all(np.isfinite(split)) or np.ptp(split) == 0:
        return float("nan")
    bulk = _rhat_basic(_z_scale(split))
    folded = _rhat_basic(_z_scale(np.abs(split - np.median(split))))
    return float(max(bulk, folded))


def scalar_variables(post: xr.Dataset) -> list[str]:
    """Variables with one value per draw (no further dimensions)."""
    return [v for v in post.data_vars if set(post[v].dims) == set(SAMPLE_DIMS)]


def diagnostics_table(post: xr.Dataset, var_names: list[str] | None = None) -> pd.DataFrame:
    """R-hat, bulk and tail ESS per scalar variable (NaN where a value cannot be computed)."""
    names = var_names if var_names is not None else scalar_variables(post)
    if not names:
        return pd.DataFrame(columns=["Rhat", "Bulk_ESS", "Tail_ESS"], dtype=float)
    ds = post[names].transpose(*SAMPLE_DIMS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bulk = azs.ess(ds, method="bulk")
        tail = azs.ess(ds, method="tail")
    return pd.DataFrame(
        {
            "Rhat": [rhat(ds[v].values) for v in names],
            "Bulk_ESS": [float(bulk[v]) for v in names],
            "Tail_ESS": [float(tail[v]) for v in names],
        },
        index=names,
    )


def stack_draws(da: xr.DataArray) -> np.ndarray:
    """Chains stacked into one axis first: ``(chains · draws, ...)``."""
    return da.stack(__sample__=SAMPLE_DIMS).transpose("__sample__", ...).values


def interval_stats(x: np.ndarray, prob: float, robust: bool = False) -> dict[str, np.ndarray]:
    """Estimate, Est.Error and the central ``prob`` interval over axis 0 (brms's summaries).

    ``robust``: median and MAD (scaled by 1.4826) instead of mean and sd. Quantiles are R's
    type 7, as posterior's ``quantile2`` computes them.
    """
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    if robust:
        est = np.median(x, axis=0)
        err = 1.4826 * np.median(np.abs(x - est), axis=0)
    else:
        est = x.mean(axis=0)
        err = x.std(axis=0, ddof=1)
    return {
        "Estimate": est,
        "Est.Error": err,
        "lo": np.quantile(x, lo, axis=0),
        "hi": np.quantile(x, hi, axis=0),
    }


def quantile_names(prob: float) -> tuple[str, str]:
    """brms's column names of a central interval: ``("Q2.5", "Q97.5")`` for 0.95."""
    lo, hi = (1 - prob) / 2 * 100, (1 - (1 - prob) / 2) * 100
    return f"Q{lo:g}", f"Q{hi:g}"


def stat_frame(x: np.ndarray, index: list, prob: float, robust: bool = False) -> pd.DataFrame:
    """Estimate, Est.Error, Q-lower, Q-upper per column of ``x`` (draws × quantities)."""
    s = interval_stats(x, prob, robust)
    lo, hi = quantile_names(prob)
    return pd.DataFrame(
        {"Estimate": s["Estimate"], "Est.Error": s["Est.Error"], lo: s["lo"], hi: s["hi"]},
        index=index,
    )
