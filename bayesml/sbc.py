"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman, 2018).

If parameters are drawn from their prior, data are simulated from the model with those
parameters, and the model is fitted to those data, then the rank of each true value among its
posterior draws is uniform — for every parameter, whenever the sampler and the model code are
right. ``sbc`` does this for any formula, family and (proper) priors:

1. ``n_sims`` parameter sets and responses are drawn exactly from the prior and the model
   (``sample_prior_only``: forward sampling, ordered thresholds included);
2. the model is compiled once and fitted to each simulated response (nutpie's ``with_data``),
   with the sampling strategy ``brm`` would use (the varying effects integrated out of Gaussian
   models, for instance);
3. each truth is ranked among ``n_draws`` thinned posterior draws, under brms's names.

``SBCResult.uniformity()`` tests each parameter's ranks (chi-square over bins, exact expected
counts) and ``SBCResult.plot()`` draws the rank histograms with a 99% band for a uniform
histogram. The replications can run on any ``concurrent.futures.Executor`` (a process pool, or
a Dask cluster's ``client.get_executor()``); each worker compiles the model once.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pymc as pm
from scipy import stats

from .families import get_family
from .fit import Fit, brms_posterior
from .model import make_model, response_containers
from .model_priors import improper_classes
from .priors import PriorError, PriorRow, PriorTable
from .sampling import (
    SamplerSettings,
    check_settings,
    compile_nutpie,
    nutpie_settings,
    run_nutpie,
    sample_prior_only,
)
from .stats import SAMPLE_DIMS

__all__ = ["SBCResult", "sbc"]


@dataclass
class SBCResult:
    """Ranks of the true parameter values among their posterior draws.

    Attributes
    ----------
    ranks : pandas.DataFrame
        One row per replication, one column per parameter (brms's names); ranks 0..n_draws.
    n_draws : int
        Posterior draws each truth is ranked among.
    truths : pandas.DataFrame
        The parameter values drawn from the prior, same layout.
    divergences, max_rhat : numpy.ndarray
        Per replication: divergent transitions after warmup, largest R-hat of the ranked
        parameters.
    seconds : float
        Wall time of the replications (simulation and compilation included).
    """

    ranks: pd.DataFrame
    n_draws: int
    truths: pd.DataFrame
    divergences: np.ndarray
    max_rhat: np.ndarray
    seconds: float = 0.0
    label: str = ""
    settings: dict = field(default_factory=dict)

    def bin_counts(self, bins: int = 10) -> tuple[pd.DataFrame, np.ndarray]:
        """Rank counts per bin (parameters × bins) and each bin's probability under
        uniformity (bins hold ``floor(rank · bins / (n_draws + 1))``)."""
        L1 = self.n_draws + 1
        edges = np.floor(np.arange(L1) * bins / L1).astype(int)
        expected = np.bincount(edges, minlength=bins) / L1
        counts = {
            p: np.bincount(edges[self.ranks[p].dropna().to_numpy(int)], minlength=bins)
            for p in self.ranks.columns
        }  # failed replications have no ranks
        return pd.DataFrame(counts).T, expected

    def uniformity(self, bins: int = 10) -> pd.DataFrame:
        """Chi-square test of uniform ranks per parameter: statistic, degrees of freedom,
        p-value, and the largest bin count's deviation in binomial standard deviations."""
        counts, expected = self.bin_counts(bins)
        n = counts.sum(axis=1).to_numpy()[:, None]
        e = expected * n
        chi2 = ((counts - e) ** 2 / e).sum(axis=1)
        sd = np.sqrt(n * expected * (1 - expected))
        return pd.DataFrame(
            {
                "n": n[:, 0],
                "chi2": chi2,
                "df": bins - 1,
                "p_value": stats.chi2.sf(chi2, bins - 1),
                "max_abs_z": ((counts - e).abs() / sd).max(axis=1),
            }
        )

    def plot(self, bins: int = 10, parameters=None, ncol: int = 4):
        """Rank histograms with the 99% band of a uniform histogram's bin counts."""
        import matplotlib.pyplot as plt

        counts, expected = self.bin_counts(bins)
        names = list(parameters or counts.index)
        n = int(counts.sum(axis=1).max())
        nrow = math.ceil(len(names) / ncol)
        fig, axes = plt.subplots(
            nrow, ncol, figsize=(3.2 * ncol, 2.4 * nrow), squeeze=False, sharey=True
        )
        lo = stats.binom.ppf(0.005, n, expected)
        hi = stats.binom.ppf(0.995, n, expected)
        x = np.arange(bins)
        for ax, name in zip(axes.flat, names, strict=False):
            ax.fill_between(x, lo, hi, step="mid", color="0.85", label="99% band")
            ax.bar(x, counts.loc[name], width=0.9, color="C0")
            ax.set_title(name, fontsize=8)
            ax.set_xticks([])
        for ax in list(axes.flat)[len(names) :]:
            ax.set_visible(False)
        fig.suptitle(
            f"{self.label or 'SBC'}: ranks among {self.n_draws} draws, {n} replications",
            fontsize=10,
        )
        fig.tight_layout()
        return fig


def sbc(
    formula: str,
    data: pd.DataFrame,
    family="gaussian",
    prior=None,
    n_sims: int = 200,
    chains: int = 2,
    iter: int = 1000,
    thin: int = 10,
    seed: int = 0,
    group_effects: str = "auto",
    executor: Executor | None = None,
    workers: int | None = None,
    label: str = "",
    parameters=None,
    **sampler_kwargs,
) -> SBCResult:
    """Simulation-based calibration of a model: see the module notes.

    Parameters
    ----------
    formula, data, family, prior
        As for ``brm``; every prior must be proper and must not depend on the response (brms's
        data-driven defaults for the intercept and the scales do; give priors for them).
        The response column of ``data`` is replaced by each simulated response.
    n_sims : int
        Replications.
    chains, iter, thin : int
        Sampler settings of each fit; warmup is ``iter // 2``; ranks are taken among every
        ``thin``-th post-warmup draw of each chain.
    seed : int
        Seeds the simulation and every fit.
    executor : concurrent.futures.Executor, optional
        Runs chunks of replications (``workers`` chunks, default: the CPU count); each chunk
        compiles the model once. Without one, everything runs in this process.
    parameters : list of str, optional
        brms names to rank; default: every scalar parameter and the varying effects of the
        first two levels of each group.

    Returns
    -------
    SBCResult
    """
    start = time.perf_counter()
    chains, iter, warmup, thin, seed = check_settings(chains, iter, None, thin, seed)
    fam = get_family(family)
    fitted = make_model(formula, data, fam, prior, group_effects)
    _check_fixed_priors(fitted)
    simulator = make_model(formula, data, fam, fitted.priors, "noncentred")
    draws = sample_prior_only(simulator, 1, 2 * n_sims, n_sims, 1, seed)
    truths = _truth_table(draws, simulator, parameters)
    simulated = draws["prior_predictive"].to_dataset()
    ys = list(simulated.data_vars.values())[0].values.reshape(n_sims, -1)
    job = _Job(
        formula=fitted.design.formula.source,
        data=data,
        family=(fam.name, fam.link_name),
        priors=[r.__dict__ for r in fitted.priors.rows],
        group_effects=fitted.group_effects,
        chains=chains,
        iter=iter,
        thin=thin,
        sampler_kwargs=sampler_kwargs,
        cores=1 if executor is not None else max(1, min(chains, os.cpu_count() or 1)),
    )
    seeds = np.random.default_rng([seed, 1]).integers(0, 2**31, n_sims)
    if executor is None:
        parts = [_run_chunk(job, list(range(n_sims)), ys, truths, seeds)]
    else:
        k = workers or os.cpu_count() or 1
        chunks = [c.tolist() for c in np.array_split(np.arange(n_sims), k) if len(c)]
        futures = [
            executor.submit(_run_chunk, job, c, ys[c], truths.iloc[c], seeds[c]) for c in chunks
        ]
        parts = [f.result() for f in futures]
    ranks = pd.concat([p[0] for p in parts]).sort_index()
    diverging = np.concatenate([p[1] for p in parts])
    rhat = np.concatenate([p[2] for p in parts])
    order = np.concatenate([p[0].index.to_numpy() for p in parts]).argsort()
    n_draws = chains * len(range(0, iter - warmup, thin))
    return SBCResult(
        ranks,
        n_draws,
        truths,
        diverging[order],
        rhat[order],
        time.perf_counter() - start,
        label or formula,
        {"chains": chains, "iter": iter, "thin": thin, "n_sims": n_sims, "seed": seed},
    )


@dataclass
class _Job:
    """What a worker needs to rebuild and fit the model (picklable)."""

    formula: str
    data: pd.DataFrame
    family: tuple[str, str]
    priors: list[dict]
    group_effects: str
    chains: int
    iter: int
    thin: int
    sampler_kwargs: dict
    cores: int


def _check_fixed_priors(bm) -> None:
    bad = improper_classes(bm.priors, bm.design, bm.family)
    if bad:
        raise PriorError(
            f"Simulation-based calibration draws parameters from their priors; the prior of "
            f"'{bad[0]}' is flat. Give every class a proper prior."
        )
    # brms computes these defaults from the response (def_scale_prior)
    scaled = {"sd", *(d.name for d in bm.family.dpars if d.default == "scale")}
    if bm.design.fixed.intercept and not bm.family.ordinal:
        scaled.add("Intercept")
    data_driven = [r.class_ for r in bm.priors.rows if r.class_ in scaled and r.source == "default"]
    if data_driven:
        raise PriorError(
            f"brms's default prior of '{data_driven[0]}' is computed from the response, which "
            "simulation-based calibration replaces; give it a fixed prior."
        )


def _truth_table(draws, simulator, parameters) -> pd.DataFrame:
    """The simulated parameter values under brms's names (one row per replication)."""
    post = brms_posterior(draws["posterior"].to_dataset(), simulator)
    cols: dict[str, np.ndarray] = {}
    for name, da in post.data_vars.items():
        if set(da.dims) == set(SAMPLE_DIMS):
            cols[name] = da.values.ravel()
        elif name.startswith("r_"):
            g = name[2:]
            for level in da.coords[g].values[:2]:
                for coef in da.coords[f"{g}__coef"].values:
                    v = da.sel({g: level, f"{g}__coef": coef}).values.ravel()
                    cols[f"{name}[{level},{coef}]"] = v
    table = pd.DataFrame(cols)
    if parameters is not None:
        table = table[list(parameters)]
    return table.loc[:, table.nunique() > 1]  # constants (fixed parameters) have no rank


def _run_chunk(job: _Job, idx, ys, truths: pd.DataFrame, seeds):
    """Fit the model to each simulated response of a chunk; return ranks, divergences,
    largest R-hat per replication (a failed replication: no ranks, -1 divergences)."""
    family = get_family(*job.family)
    priors = PriorTable([PriorRow(**r) for r in job.priors])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bm = make_model(job.formula, job.data, family, priors, job.group_effects)
        compiled = compile_nutpie(bm.model)
    settings = nutpie_settings(bm.model, job.sampler_kwargs, compiled.n_dim)
    sampler = SamplerSettings(job.chains, job.iter, job.iter // 2, 1)
    rows, diverging, rhat = [], [], []
    for k, i in enumerate(idx):
        try:
            ranks, n_div, worst = _replicate(
                job, bm, compiled, settings, sampler, ys[k], truths.iloc[k], int(seeds[k])
            )
        except Exception as err:  # noqa: BLE001 - a failed fit is counted, not fatal
            warnings.warn(f"SBC replication {i} failed: {err}", stacklevel=2)
            ranks, n_div, worst = {}, -1, np.nan
        rows.append(pd.Series(ranks, name=i, dtype=float))
        diverging.append(n_div)
        rhat.append(worst)
    return pd.DataFrame(rows, columns=truths.columns), np.array(diverging), np.array(rhat)


def _replicate(job: _Job, bm, compiled, settings, sampler, y, truth: pd.Series, seed: int):
    """One fit to one simulated response: ranks, divergences, largest R-hat."""
    from .stats import diagnostics_table

    warmup = job.iter // 2
    y = np.asarray(y)
    response = replace(bm.design.response, y=y)
    design = replace(bm.design, y=y, response=response)
    # the response and its own terms (log y!, ...) go in together; the model's own graph
    # (varying effects drawn after sampling) reads them too
    values = response_containers(bm.family, response, bm.design.additions)
    pm.set_data(values, model=bm.model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = run_nutpie(
            compiled.with_data(**values),
            bm.model,
            job.chains,
            job.iter - warmup,
            warmup,
            seed,
            job.cores,
            False,
            settings,
        )
        post = Fit(replace(bm, design=design), idata, sampler, "sbc", seed).posterior
    kept = post.isel(draw=slice(None, None, job.thin))
    ranks = {name: int((_draws_of(kept, name) < value).sum()) for name, value in truth.items()}
    names = [n for n in truth.index if n in post]
    worst = float(diagnostics_table(post, names)["Rhat"].max())
    return ranks, int(idata["sample_stats"]["diverging"].sum()), worst


def _draws_of(post, name: str) -> np.ndarray:
    if name in post:  # scalar parameters, b_Intercept[1] and simo_mom1[1] included
        return post[name].values.ravel()
    if "[" in name:
        var, inner = name.split("[", 1)
        level, coef = inner[:-1].split(",")
        g = var[2:]
        return post[var].sel({g: level, f"{g}__coef": coef}).values.ravel()
    return post[name].values.ravel()
