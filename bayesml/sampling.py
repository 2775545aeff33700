"""Stage 5 — NUTS through PyMC, with brms's defaults and brms-style convergence warnings."""

from __future__ import annotations

import importlib.util
import os
import warnings
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr

__all__ = [
    "ConvergenceWarning",
    "DEFAULT_NUTS_SAMPLER",
    "SamplerSettings",
    "convergence_messages",
    "sample",
    "sample_prior_only",
]

# nutpie (Rust NUTS on the Numba-compiled model) samples the seed models faster and with fewer
# divergences than PyMC's Python NUTS (benchmarks/README.md); either can be chosen per call.
DEFAULT_NUTS_SAMPLER = "nutpie" if importlib.util.find_spec("nutpie") else "pymc"
# nutpie's mass-matrix adaptation, by model size (benchmarks/README.md): a low-rank correction
# captures the intercept/varying-effect correlation of small models (alcohol: bulk ESS 237 ->
# 1324) but costs too much beyond a few hundred parameters (classroom_uncorr: 15 s -> 300 s),
# where nutpie's default gradient-based diagonal adaptation is kept.
LOW_RANK_MAX_PARAMETERS = 250


def nutpie_adaptation(model: pm.Model) -> dict:
    """Default nutpie settings for a model (see LOW_RANK_MAX_PARAMETERS)."""
    n = sum(int(np.size(v)) for v in model.initial_point().values())
    if n <= LOW_RANK_MAX_PARAMETERS:
        return {"adaptation": "low_rank"}
    return {}


class ConvergenceWarning(UserWarning):
    """Sampling diagnostics suggest the draws may not be trustworthy."""


@dataclass(frozen=True)
class SamplerSettings:
    """What the Draws line of the summary reports (brms's names)."""

    chains: int = 4
    iter: int = 2000
    warmup: int = 1000
    thin: int = 1

    @property
    def total_draws(self) -> int:
        return self.chains * ((self.iter - self.warmup + self.thin - 1) // self.thin)


def sample(
    model: pm.Model,
    chains: int = 4,
    iter: int = 2000,
    warmup: int | None = None,
    thin: int = 1,
    seed: int | None = None,
    cores: int | None = None,
    progressbar: bool = True,
    nuts_sampler: str | None = None,
    **sampler_kwargs,
):
    """Run NUTS on a PyMC model with brms's defaults.

    Parameters
    ----------
    model : pymc.Model
    chains, iter, warmup, thin : int
        brms's meaning: ``iter`` counts warmup; ``warmup`` defaults to ``iter // 2``.
    seed : int, optional
    cores : int, optional
        Parallel chains; defaults to ``min(chains, number of CPUs)``.
    nuts_sampler : {"nutpie", "pymc", "numpyro", "blackjax"}, optional
        NUTS implementation; ``"nutpie"`` by default when installed, with its mass-matrix
        adaptation chosen by model size (``nutpie_adaptation``) unless ``nuts`` is given.
    **sampler_kwargs
        Passed to ``pymc.sample`` (e.g. ``target_accept=0.95``).

    Returns
    -------
    xarray.DataTree
        PyMC's output (model variable names; see ``Fit`` for brms's names).
    """
    warmup = iter // 2 if warmup is None else warmup
    if not 0 <= warmup < iter:
        raise ValueError(f"warmup must lie in [0, iter); got warmup={warmup}, iter={iter}.")
    if chains < 1 or thin < 1:
        raise ValueError("chains and thin must be at least 1.")
    if cores is None:
        cores = max(1, min(chains, os.cpu_count() or 1))
    nuts_sampler = nuts_sampler or DEFAULT_NUTS_SAMPLER
    if nuts_sampler == "nutpie" and not {"nuts", "nuts_sampler_kwargs"} & set(sampler_kwargs):
        sampler_kwargs["nuts"] = nutpie_adaptation(model)
    with model, warnings.catch_warnings():
        # PyTensor's default linker here is Numba, which does its own BLAS calls; its warning
        # about the C backend's missing BLAS does not apply.
        warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
        idata = pm.sample(
            draws=iter - warmup,
            tune=warmup,
            chains=chains,
            cores=cores,
            random_seed=seed,
            progressbar=progressbar,
            compute_convergence_checks=False,
            nuts_sampler=nuts_sampler,
            **sampler_kwargs,
        )
    if thin > 1:
        idata["posterior"] = idata["posterior"].to_dataset().isel(draw=slice(None, None, thin))
        idata["sample_stats"] = (
            idata["sample_stats"].to_dataset().isel(draw=slice(None, None, thin))
        )
    return idata


PRIOR_ONLY_ERROR = (
    "Sampling from priors is not possible as some parameters have no proper priors. "
    "Error occurred for parameter '{name}'."
)


def _as_chains(ds: xr.Dataset, chains: int) -> xr.Dataset:
    """Split one sequence of independent draws into ``chains`` pseudo-chains."""
    n = ds.sizes["draw"] * ds.sizes.get("chain", 1)
    per = n // chains
    stacked = ds.stack(__s__=("chain", "draw")).isel(__s__=slice(0, per * chains))
    stacked = stacked.drop_vars(["__s__", "chain", "draw"], errors="ignore")
    out = stacked.assign_coords(__s__=np.arange(per * chains))
    out = out.coarsen(__s__=per).construct(__s__=("chain", "draw"))
    return out.assign_coords(chain=np.arange(chains), draw=np.arange(per)).transpose(
        "chain", "draw", ...
    )


def sample_prior_only(
    bm,
    chains: int = 4,
    iter: int = 2000,
    warmup: int | None = None,
    thin: int = 1,
    seed: int | None = None,
):
    """Draws from the prior alone (brms's ``sample_prior = "only"``).

    The draws are exact and independent: every prior is sampled forward rather than by MCMC
    with the likelihood switched off (brms's way), so no warmup is needed and the draws are
    free of autocorrelation. The prior predictive draws of the response are stored in the
    ``prior_predictive`` group. Returns a DataTree whose ``posterior`` holds the prior draws,
    as a brms prior-only fit does.

    Raises
    ------
    PriorError
        A parameter has a flat (improper) prior: brms's message, naming the parameter.
    """
    from .model import ordered_threshold_draws
    from .priors import PriorError, improper_classes

    warmup = iter // 2 if warmup is None else warmup
    bad = improper_classes(bm.priors, bm.design, bm.family)
    if bad:
        raise PriorError(PRIOR_ONLY_ERROR.format(name=bad[0]))
    n = chains * ((iter - warmup + thin - 1) // thin)
    model = bm.model
    obs = [v.name for v in model.observed_RVs]
    params = [v.name for v in model.free_RVs] + [v.name for v in model.deterministics]
    if bm.family.ordinal:
        # the ordered thresholds are drawn exactly by ordered_threshold_draws
        params = [p for p in params if p not in ("Intercept", "b_Intercept")]
    with model, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        idata = pm.sample_prior_predictive(draws=n, var_names=params, random_seed=seed)
    prior = _as_chains(idata["prior"].to_dataset(), chains)
    if bm.family.ordinal:
        thr = ordered_threshold_draws(bm, n, None if seed is None else [seed, 11])
        per = prior.sizes["draw"]
        prior["Intercept"] = xr.DataArray(
            thr.reshape(chains, per, -1),
            dims=("chain", "draw", "thres"),
            coords={
                "chain": prior["chain"].values,
                "draw": prior["draw"].values,
                "thres": list(model.coords["thres"]),
            },
        )
    # what depends on the thresholds (b_Intercept) and the responses come from the model graph
    derived = ["b_Intercept"] if bm.family.ordinal else []
    tree = xr.DataTree.from_dict({"posterior": prior})
    if obs or derived:
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            pp = pm.sample_posterior_predictive(
                tree, var_names=obs + derived, random_seed=seed, progressbar=False
            )
        drawn = pp["posterior_predictive"].to_dataset()
        if derived:
            prior = prior.assign({v: drawn[v] for v in derived})
            tree = xr.DataTree.from_dict({"posterior": prior})
        if obs:
            tree["prior_predictive"] = drawn[obs]
    return tree


def convergence_messages(
    posterior: xr.Dataset, sample_stats: xr.Dataset | None, rhat_max: float = 1.01
) -> list[str]:
    """Warnings about divergences, tree depth, R-hat and ESS, with the numbers."""
    from .fit import diagnostics_table

    msgs = []
    if sample_stats is not None:
        if "diverging" in sample_stats:
            n_div = int(sample_stats["diverging"].sum())
            if n_div:
                msgs.append(
                    f"There were {n_div} divergent transitions after warmup. Increasing "
                    "target_accept above 0.8 may help."
                )
        depth = next(
            (k for k in ("reached_max_treedepth", "maxdepth_reached") if k in sample_stats), None
        )
        if depth is not None:
            n_tree = int(sample_stats[depth].sum())
            if n_tree:
                msgs.append(
                    f"There were {n_tree} transitions after warmup that exceeded the maximum "
                    "treedepth. Increase max_treedepth above 10."
                )
    diag = diagnostics_table(posterior)
    if len(diag):
        worst = diag["Rhat"].idxmax()
        rhat = diag.loc[worst, "Rhat"]
        if np.isfinite(rhat) and rhat > rhat_max:
            msgs.append(
                f"The largest R-hat is {rhat:.3f} (for {worst}), indicating chains have not "
                "mixed. Running more iterations may help."
            )
        n_chains = posterior.sizes.get("chain", 1)
        for col, label in (("Bulk_ESS", "Bulk"), ("Tail_ESS", "Tail")):
            low = diag[col].idxmin()
            ess = diag.loc[low, col]
            if np.isfinite(ess) and ess < 100 * n_chains:
                msgs.append(
                    f"{label} Effective Samples Size (ESS) is too low: {ess:.0f} for {low} "
                    f"(below {100 * n_chains}). Running more iterations may help."
                )
    return msgs
