"""Many fits of one model: brms's ``kfold()`` and ``brm_multiple()``.

Each fit is a job for any ``concurrent.futures.Executor`` (a process pool, or a Dask
cluster's ``client.get_executor()``); without one they run here, one after the other. A job
carries the model's formula, family, prior table and settings and returns arrays, not fits, so
that nothing but data crosses processes. A worker keeps its compiled samplers
(``sampling.compile_nutpie``), so jobs of the same structure compile once per worker.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from .brm import brm
from .fit import Fit
from .model import make_model, sampler_coordinates
from .predict import log_likelihood
from .sampling import SamplerSettings

__all__ = ["KFold", "brm_multiple", "kfold", "kfold_split_random"]


@dataclass(frozen=True)
class RefitJob:
    """What a worker needs to fit the model again on other data."""

    formula: object
    family: object
    prior: object
    group_effects: str
    chains: int
    iter: int
    warmup: int
    thin: int
    cores: int | None = None
    sampler_kwargs: dict = field(default_factory=dict)
    coordinates: dict | None = None  # the slopes' sampler coordinates (sampler_coordinates)

    def fit(self, data: pd.DataFrame, seed: int | None) -> Fit:
        return brm(
            self.formula, data, self.family, prior=self.prior, group_effects=self.group_effects,
            chains=self.chains, iter=self.iter, warmup=self.warmup, thin=self.thin, seed=seed,
            cores=self.cores, progressbar=False, like=self.coordinates, **self.sampler_kwargs,
        )  # fmt: skip


def _job_of(fit: Fit, executor: Executor | None, **changes) -> RefitJob:
    st, bm = fit.settings, fit.model
    args = dict(
        formula=bm.design.formula, family=bm.family, prior=bm.priors,
        # integrated-out effects make the folds' graphs differ (their rows are constants)
        group_effects="noncentred" if bm.group_effects == "marginal" else bm.group_effects,
        chains=st.chains, iter=st.iter, warmup=st.warmup, thin=st.thin,
        cores=1 if executor is not None else None, coordinates=sampler_coordinates(bm),
    )  # fmt: skip
    args.update(changes)
    return RefitJob(**args)


def _run(executor: Executor | None, fn, tasks: list[tuple]) -> list:
    if executor is None:
        return [fn(*t) for t in tasks]
    futures = [executor.submit(fn, *t) for t in tasks]
    return [f.result() for f in futures]


def _logmeanexp(x: np.ndarray) -> np.ndarray:
    """log mean exp over draws (axis 0), stably."""
    return np.logaddexp.reduce(x, axis=0) - np.log(x.shape[0])


def _pointwise(ll: xr.Dataset) -> np.ndarray:
    """(draws, observations) of a log-likelihood dataset (chains stacked)."""
    v = next(iter(ll.data_vars.values()))
    return v.values.reshape(v.sizes["chain"] * v.sizes["draw"], -1)


def kfold_split_random(K: int, N: int, seed: int | None = None) -> np.ndarray:
    """Fold (1..K) of each of N observations: balanced and randomly assigned, as
    ``loo::kfold_split_random`` assigns them (fold sizes differ by at most one)."""
    if not isinstance(K, int) or not 2 <= K <= N:
        raise ValueError(f"K must be a whole number between 2 and the {N} observations; got {K}.")
    perm = np.random.default_rng(seed).permutation(N)
    idx = np.ceil(np.arange(1, N + 1) / (N / K)).astype(int)
    folds = np.empty(N, dtype=int)
    folds[perm] = idx
    return folds


def _fold_elpd(job: RefitJob, train: pd.DataFrame, test: pd.DataFrame, seed) -> np.ndarray:
    """Log predictive density of each held-out row under the fit to the others."""
    fit = job.fit(train, seed)
    ll = log_likelihood(fit, newdata=test, allow_new_levels=True, seed=seed)
    return _logmeanexp(_pointwise(ll))


@dataclass
class KFold:
    """brms's ``kfold`` result: ``estimates`` (elpd_kfold, p_kfold, kfoldic × Estimate, SE),
    ``pointwise`` elpd of each observation, and the ``folds`` they were held out in."""

    estimates: pd.DataFrame
    pointwise: np.ndarray
    folds: np.ndarray
    K: int

    @property
    def elpd_kfold(self) -> float:
        return float(self.estimates.loc["elpd_kfold", "Estimate"])

    def __str__(self) -> str:
        table = self.estimates.to_string(float_format=lambda v: f"{v:.1f}")
        return f"\nBased on {self.K}-fold cross-validation\n\n{table}"

    __repr__ = __str__


def kfold(
    fit: Fit,
    K: int = 10,
    folds: np.ndarray | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    **changes,
) -> KFold:
    """K-fold cross-validation (brms's ``kfold()``): the model is fitted K times, each time
    without one fold, and the held-out rows' log predictive densities are summed.

    Parameters
    ----------
    fit : Fit
    K : int
        Number of folds (brms's default 10).
    folds : array of ints 1..K, optional
        The fold of each row; balanced random folds (``kfold_split_random``) by default.
    seed : int, optional
        Seeds the folds and the refits (refit k uses ``seed + k``).
    executor : concurrent.futures.Executor, optional
        Where the K fits run: a process pool, or a Dask cluster's ``client.get_executor()``;
        one after the other here without one.
    **changes
        Other ``brm`` settings for the refits (``iter``, ``chains``, ...). The refits keep
        the fit's prior table (as brms's ``update`` does) and its slopes' sampler
        coordinates, and sample integrated-out varying effects non-centred (brms's
        parameterisation; pass ``group_effects=`` to change it), so that folds of equal size
        share one compiled sampler per process.

    Returns
    -------
    KFold
        ``p_kfold`` is the full fit's log pointwise predictive density minus elpd_kfold,
        ``kfoldic = -2 elpd_kfold`` (brms's definitions).
    """
    data = fit.model.design.data.reset_index(drop=True)
    n = len(data)
    folds = kfold_split_random(K, n, seed) if folds is None else np.asarray(folds, dtype=int)
    if folds.shape != (n,):
        raise ValueError(f"folds must give one fold per row of the data ({n}), got {folds.shape}.")
    labels = np.unique(folds)
    job = _job_of(fit, executor, **changes)
    base = 0 if seed is None else seed
    tasks = [
        (job, data[folds != k], data[folds == k], None if seed is None else base + int(k))
        for k in labels
    ]
    parts = _run(executor, _fold_elpd, tasks)
    elpd = np.empty(n)
    for k, part in zip(labels, parts, strict=True):
        elpd[folds == k] = part
    lpd = _logmeanexp(_pointwise(log_likelihood(fit)))
    p = lpd - elpd
    est = pd.DataFrame(
        {
            "Estimate": [elpd.sum(), p.sum(), -2 * elpd.sum()],
            "SE": [np.sqrt(n * elpd.var(ddof=1)), np.sqrt(n * p.var(ddof=1)),
                   2 * np.sqrt(n * elpd.var(ddof=1))],
        },
        index=["elpd_kfold", "p_kfold", "kfoldic"],
    )  # fmt: skip
    return KFold(est, elpd, folds, len(labels))


def _fit_draws(job: RefitJob, data: pd.DataFrame, seed) -> tuple:
    """One fit's posterior and sampler statistics (plain datasets cross processes)."""
    fit = job.fit(data, seed)
    stats = fit.idata["sample_stats"].to_dataset() if "sample_stats" in fit.idata.children else None
    return fit.posterior, stats


def brm_multiple(
    formula,
    data: list[pd.DataFrame],
    family="gaussian",
    prior=None,
    group_effects: str = "auto",
    chains: int = 4,
    iter: int = 2000,
    warmup: int | None = None,
    thin: int = 1,
    seed: int | None = None,
    executor: Executor | None = None,
    **sampler_kwargs,
) -> Fit:
    """Fit one model to each of several data sets (multiply imputed ones) and combine the
    draws (brms's ``brm_multiple()``): the fit has the chains of every fit, data set by data
    set, so its summary pools the imputations' uncertainty.

    The prior table is the first data set's (brms, too, takes the first data set's
    data-dependent default priors); ``seed + i`` seeds fit i. As in brms, R-hat across
    imputations can be large because the data differ, not because chains failed: check
    each fit's own R-hat (``fit.rhats_per_dataset``).

    Parameters
    ----------
    formula, family, prior, group_effects, chains, iter, warmup, thin, **sampler_kwargs
        As for ``brm``.
    data : list of pandas.DataFrame
        The data sets, same columns.
    executor : concurrent.futures.Executor, optional
        Where the fits run (a process pool, a Dask cluster's ``client.get_executor()``).

    Returns
    -------
    Fit
    """
    if not isinstance(data, list | tuple) or not data:
        raise ValueError("brm_multiple needs a list of data frames (one per imputation).")

    first = make_model(formula, data[0], family, prior, group_effects)
    chains_, iter_, warmup_ = chains, iter, iter // 2 if warmup is None else warmup
    job = RefitJob(
        formula, first.family, first.priors, first.group_effects, chains_, iter_, warmup_, thin,
        1 if executor is not None else None, sampler_kwargs, sampler_coordinates(first),
    )  # fmt: skip
    seeds = [None if seed is None else seed + i for i in range(len(data))]
    results = _run(executor, _fit_draws, [(job, d, s) for d, s in zip(data, seeds, strict=True)])
    posterior = _stack_chains([r[0] for r in results])
    tree = {"posterior": posterior}
    if all(r[1] is not None for r in results):
        tree["sample_stats"] = _stack_chains([r[1] for r in results])
    idata = xr.DataTree.from_dict(tree)
    settings = SamplerSettings(chains_ * len(data), iter_, warmup_, thin)
    fit = Fit.from_saved(first, idata, settings, "data")
    fit.rhats_per_dataset = pd.DataFrame(
        [_max_rhat(r[0]) for r in results], index=[f"data{i + 1}" for i in range(len(data))]
    )
    return fit


def _stack_chains(parts: list[xr.Dataset]) -> xr.Dataset:
    """Datasets of separate fits as one, chains renumbered 0..(total - 1)."""
    out = []
    start = 0
    for p in parts:
        n = p.sizes["chain"]
        out.append(p.assign_coords(chain=np.arange(start, start + n)))
        start += n
    return xr.concat(out, dim="chain")


def _max_rhat(post: xr.Dataset) -> pd.Series:
    import arviz as az

    rhat = az.rhat(post)
    return pd.Series({v: float(np.nanmax(rhat[v].values)) for v in rhat.data_vars})
