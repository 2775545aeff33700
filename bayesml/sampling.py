"""Stage 5 — NUTS through PyMC, with brms's defaults and brms-style convergence warnings."""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import logging
import os
import re
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pymc as pm
import xarray as xr
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant
from pytensor.graph.op import HasInnerGraph
from pytensor.graph.traversal import io_toposort

from .cholesky_terms import register_jax
from .compiled import compile_numba
from .stats import diagnostics_table

__all__ = [
    "ConvergenceWarning",
    "DEFAULT_NUTS_SAMPLER",
    "SamplerSettings",
    "SamplingInterrupted",
    "check_settings",
    "quiet_pymc",
    "compile_nutpie",
    "model_fingerprint",
    "nutpie_settings",
    "run_nutpie",
    "convergence_messages",
    "has_correlated_noncentred",
    "sample",
    "sample_prior_only",
]

# nutpie (Rust NUTS on the Numba-compiled model) samples the seed models faster and with fewer
# divergences than PyMC's Python NUTS (benchmarks/README.md); either can be chosen per call.
DEFAULT_NUTS_SAMPLER = "nutpie" if importlib.util.find_spec("nutpie") else "pymc"
# nutpie's mass-matrix adaptation, by model size (benchmarks/README.md): a low-rank correction
# captures the intercept/varying-effect correlation of small models (alcohol: bulk ESS 237 ->
# 1324; a Poisson y ~ x + (1 | g) with 118 groups: 1,330 against 480) but its tuning costs
# grow steeply with the number of sampled values, between 121 and 133 most of all (whole fits
# of that Poisson model: 3.5 s at 121 values, 17-24 s at 133, 24-31 s at 143, against 2.0-2.6 s
# with the diagonal adaptation; the crossed Poisson GLMM of tests/test_scale.py, 182 values:
# 53-66 s against 2.0 s at the same bulk ESS, 24 s of one chain's 1,000 tuning draws against
# 0.3 s; all on nutpie's own update schedule). Updating at the adaptation windows' ends only
# (below) removes most of that cost but not all, at no better ESS per draw (133 values: 4.2-4.5
# s against 1.5 s). Above the bound nutpie's default gradient-based diagonal adaptation is kept.
LOW_RANK_MAX_PARAMETERS = 121
# nuts-rs recomputes the low-rank mass matrix at the end of every adaptation window and, by
# nutpie's default, every 20 tuning draws in between; those extra eigen-decompositions are
# most of the low-rank tuning cost. Updating only at the window ends (Stan's schedule) halves
# rats' sampler time (0.68-0.78 -> 0.30-0.42 s) at the same bulk ESS, and the crossed Poisson
# GLMM's (182 values, low-rank forced) falls from 36 to 4.9 s (benchmarks/README.md).
LOW_RANK_UPDATE_FREQ = 2**31
LOW_RANK_SETTINGS = {"adaptation": "low_rank", "mass_matrix_update_freq": LOW_RANK_UPDATE_FREQ}
# nuts-rs's settings that nutpie.sample does not take as keywords; bayesml sets them itself
_NUTS_RS_ONLY = ("mass_matrix_update_freq",)


@contextlib.contextmanager
def quiet_pymc():
    """PyMC logs which variables it samples; bayesml's own draws are no sampling runs."""
    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


# Standardised smooth or GP coefficients sampled with the rest (non-Gaussian models): the
# low-rank adaptation left a chain stuck (Poisson y ~ s(x) + (1 | g): R-hat 1.34, 416
# divergences; 1.03 with target_accept 0.95), nutpie's diagonal one with target_accept 0.95
# mixed at every seed tried (R-hat <= 1.009, 0-1 divergences; benchmarks/README.md).
NONCENTRED_SMOOTH_SETTINGS = {"target_accept": 0.95}


# Correlated varying effects sampled non-centred: Stan's kind of diagonal adaptation (from
# the draws' variances alone). With the population-level effects at their varying effects'
# means (bayesml.mean_shift), seeds 1-8 of the Poisson y ~ x + (x | g) of tests/test_scale.py
# gave R-hat <= 1.011 and 0-5 divergences, where the low-rank adaptation left one seed stuck
# (R-hat 1.13) and nutpie's gradient-based diagonal one reached R-hat 1.021; the bernoulli
# sleepstudy model's min bulk ESS was 808-1174 over seeds 1-6, against 465-809 (low-rank)
# and 681-866 (benchmarks/README.md).
CORRELATED_NONCENTRED_SETTINGS = {"adaptation": "draw_diag"}
_CORRELATION_FACTOR = re.compile(r"^L_(\d+)(_signed)?$")


def has_correlated_noncentred(model: pm.Model) -> bool:
    """Whether the model samples a block of correlated varying effects non-centred (its
    standardised effects ``z_k`` and its correlation factor)."""
    names = {v.name for v in model.free_RVs}
    return any(
        (m := _CORRELATION_FACTOR.match(name)) and f"z_{m.group(1)}" in names for name in names
    )


def nutpie_adaptation(model: pm.Model, n_dim: int | None = None) -> dict:
    """Default nutpie settings for a model (see NONCENTRED_SMOOTH_SETTINGS,
    CORRELATED_NONCENTRED_SETTINGS and LOW_RANK_MAX_PARAMETERS); ``n_dim``, the number of
    sampled values, is counted from the model's initial point (a compilation) when not
    given."""
    if any(v.name.startswith(("zs_", "zgp_")) for v in model.free_RVs):
        return dict(NONCENTRED_SMOOTH_SETTINGS)
    if has_correlated_noncentred(model):
        return dict(CORRELATED_NONCENTRED_SETTINGS)
    n = n_dim
    if n is None:
        n = sum(int(np.size(v)) for v in model.initial_point().values())
    if n <= LOW_RANK_MAX_PARAMETERS:
        return dict(LOW_RANK_SETTINGS)
    return {}


class ConvergenceWarning(UserWarning):
    """Sampling diagnostics suggest the draws may not be trustworthy."""


class SamplingInterrupted(KeyboardInterrupt):
    """Sampling was stopped (Ctrl-C) before any post-warmup draw was made."""


@dataclass(frozen=True)
class SamplerSettings:
    """What the Draws line of the summary reports (brms's names).

    ``completed`` is the number of post-warmup iterations every chain finished when sampling
    was interrupted (None: all of them).
    """

    chains: int = 4
    iter: int = 2000
    warmup: int = 1000
    thin: int = 1
    completed: int | None = None

    @property
    def draws_per_chain(self) -> int:
        n = self.iter - self.warmup if self.completed is None else self.completed
        return (n + self.thin - 1) // self.thin

    @property
    def total_draws(self) -> int:
        return self.chains * self.draws_per_chain

    @property
    def incomplete(self) -> bool:
        return self.completed is not None


def _whole_number(name: str, value, low: int) -> int:
    """An integer argument of at least ``low`` (numpy integers too), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be a whole number, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}.")
    return int(value)


def check_settings(chains, iter, warmup, thin, seed) -> tuple[int, int, int, int, int | None]:
    """brms's sampler arguments checked before anything is compiled or sampled.

    Returns ``(chains, iter, warmup, thin, seed)`` with ``warmup`` defaulting to ``iter // 2``.

    Raises
    ------
    ValueError
        A count that is not a whole number or too small, ``warmup`` outside ``[0, iter)``, a
        ``thin`` larger than the post-warmup draws, or a seed that is not a whole number in
        ``[0, 2**32)``.
    """
    chains = _whole_number("chains", chains, 1)
    iter = _whole_number("iter", iter, 1)
    warmup = iter // 2 if warmup is None else _whole_number("warmup", warmup, 0)
    if warmup >= iter:
        raise ValueError(f"warmup must lie in [0, iter); got warmup={warmup}, iter={iter}.")
    thin = _whole_number("thin", thin, 1)
    if thin > iter - warmup:
        raise ValueError(
            f"thin = {thin} keeps no draw of the {iter - warmup} post-warmup iterations."
        )
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
            raise ValueError(f"seed must be a whole number in [0, 2**32) or None, got {seed!r}.")
        if not 0 <= seed < 2**32:
            raise ValueError(f"seed must lie in [0, 2**32), got {seed}.")
        seed = int(seed)
    return chains, iter, warmup, thin, seed


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
        A whole number in ``[0, 2**32)``.
    cores : int, optional
        Parallel chains; defaults to ``min(chains, number of CPUs)``.
    nuts_sampler : {"nutpie", "pymc", "numpyro", "blackjax"}, optional
        NUTS implementation; ``"nutpie"`` by default when installed, with its mass-matrix
        adaptation chosen by model size (``nutpie_adaptation``) unless ``nuts`` is given.
    **sampler_kwargs
        Passed to the sampler: nutpie's settings in ``nuts={...}`` (``target_accept=``,
        ``maxdepth=`` also work at the top level) and ``backend="jax"`` (nutpie evaluates
        the log density and its gradient with JAX instead of Numba: it compiles in about a
        second but samples slower on CPU; ``benchmarks/README.md``), or ``pymc.sample``'s
        keywords.

    Returns
    -------
    xarray.DataTree
        PyMC's output (model variable names; see ``Fit`` for brms's names). When sampling was
        interrupted (Ctrl-C) after warmup, the draws every chain completed, with
        ``attrs["completed_draws"]`` giving their number per chain.

    Raises
    ------
    SamplingInterrupted
        Ctrl-C before any post-warmup draw.
    """
    chains, iter, warmup, thin, seed = check_settings(chains, iter, warmup, thin, seed)
    if cores is None:
        cores = max(1, min(chains, os.cpu_count() or 1))
    nuts_sampler = nuts_sampler or DEFAULT_NUTS_SAMPLER
    if nuts_sampler in ("numpyro", "blackjax") or sampler_kwargs.get("backend") == "jax":
        register_jax()  # the marginal likelihood's fused Cholesky operation, in JAX
    with model, warnings.catch_warnings():
        # PyTensor's default linker here is Numba, which does its own BLAS calls; its warning
        # about the C backend's missing BLAS does not apply.
        warnings.filterwarnings("ignore", message=".*could not link to a BLAS.*")
        if nuts_sampler == "nutpie":
            idata = _sample_nutpie(
                model, chains, iter - warmup, warmup, seed, cores, progressbar, sampler_kwargs
            )
        else:
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
    idata = _complete_draws(idata, iter - warmup)
    if thin > 1:
        for group in ("posterior", "sample_stats"):
            idata[group] = idata[group].to_dataset().isel(draw=slice(None, None, thin))
    return idata


_NUTPIE_TOP_LEVEL = ("target_accept", "maxdepth", "max_treedepth")


# Compiled models of this process by graph fingerprint (``model_fingerprint``), most recent
# last: a model with the same graph, constants, data shapes and coordinates is not compiled
# again; its data go in through nutpie's ``with_data``.
_COMPILED: OrderedDict[str, object] = OrderedDict()
COMPILED_CACHE_SIZE = 8


def _fingerprint_item(var, index: dict) -> tuple:
    """One graph input or node of ``model_fingerprint``."""
    if isinstance(var, SharedVariable):  # data: by name and shape, values go in with_data
        value = var.get_value(borrow=True)
        return ("shared", var.name, str(getattr(value, "dtype", type(value))),
                np.shape(value))  # fmt: skip
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        # object arrays (None, slices) would hash their pointers: stable text instead
        content = (repr(var.data).encode() if data.dtype == object
                   else np.ascontiguousarray(data).tobytes())  # fmt: skip
        digest = hashlib.sha1(content).hexdigest()
        return ("constant", str(data.dtype), data.shape, digest)
    return ("input", var.name, str(var.type))


def _generative_outputs(model: pm.Model) -> list | None:
    """The variables that determine the log density without building it: every random
    variable (its distribution and parameters), the observed values, the potentials, the
    deterministics and each transform applied to its variable (bounds included). None when a
    ``CustomDist`` keeps its density in a Python function, outside the graph."""
    outputs = [*model.basic_RVs, *model.potentials, *model.deterministics]
    outputs += [model.rvs_to_values[rv] for rv in model.observed_RVs]
    for rv in model.free_RVs:
        transform = model.rvs_to_transforms.get(rv)
        if transform is not None:
            outputs.append(transform.forward(rv, *rv.owner.inputs))
    for node in io_toposort([], outputs):
        if any(c.__module__ == "pymc.distributions.custom" for c in type(node.op).__mro__):
            return None
    return outputs


def _graph_parts(inputs: list, outputs: list) -> list:
    """Every operation of the graph from ``inputs`` (placeholders, by position) to
    ``outputs``, with its output types and its inputs' positions, and each free input:
    data containers by name and shape, constants by value. An operation with an inner graph
    (PyMC's symbolic distributions, Scan) is described by that graph too."""
    index: dict = {v: i for i, v in enumerate(inputs)}
    parts: list = []
    for v in outputs:  # free inputs that are outputs too (observed values)
        if v.owner is None and v not in index:
            index[v] = len(index)
            parts.append(_fingerprint_item(v, index))
    for node in io_toposort(inputs, outputs):
        ins = []
        for v in node.inputs:
            if v not in index:
                index[v] = len(index)
                parts.append(_fingerprint_item(v, index) if v.owner is None else ("out",))
            ins.append(index[v])
        for out in node.outputs:
            index.setdefault(out, len(index))
        op = node.op
        inner = (_graph_parts(list(op.inner_inputs), list(op.inner_outputs))
                 if isinstance(op, HasInnerGraph) else None)  # fmt: skip
        parts.append((str(op), tuple(ins), tuple(str(o.type) for o in node.outputs), inner))
    parts.append(("outputs", tuple(index.get(v, -1) for v in outputs)))
    return parts


def model_fingerprint(model: pm.Model) -> str:
    """A digest of everything the compiled sampler depends on except the values of the data
    containers: the model's graph (every operation, every constant's values), the free
    variables and their transforms, the data containers' names and shapes, and the
    coordinates.

    The graph is the generative one (``_generative_outputs``), which determines the log
    density; building the log density itself took 0.15 s of a sleepstudy fit. Models with a
    ``CustomDist`` (whose density is a Python function) are fingerprinted by their log
    density's graph."""
    outputs = _generative_outputs(model)
    kind = "generative"
    if outputs is None:
        outputs, kind = [model.logp(), *model.deterministics], "logp"
    parts: list = [kind, ("check_bounds", bool(model.check_bounds)), *_graph_parts([], outputs)]
    for rv in model.free_RVs:
        transform = model.rvs_to_transforms.get(rv)
        initval = model.rvs_to_initial_values.get(rv)
        parts.append(("free", rv.name, type(transform).__name__, str(rv.type), repr(initval)))
    parts.append(("observed", tuple(rv.name for rv in model.observed_RVs)))
    parts.append(("coords", tuple((k, tuple(map(str, v or ()))) for k, v in model.coords.items())))
    parts.append(("deterministics", tuple(d.name for d in model.deterministics)))
    return hashlib.sha1(repr(parts).encode()).hexdigest()


NUTPIE_BACKENDS = ("numba", "jax")


def compile_nutpie(model: pm.Model, backend: str = "numba"):
    """The model compiled for nutpie (with Numba, or JAX for its log density and gradient),
    or the compiled model of an earlier model with the same fingerprint
    (``model_fingerprint``) and backend with this model's data put in. Its data
    (``pm.Data``) can be swapped with the compiled model's ``with_data`` without compiling
    again."""
    import nutpie

    if backend not in NUTPIE_BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(NUTPIE_BACKENDS)}; got '{backend}'.")
    data = {v.name: v.get_value() for v in model.data_vars}
    key = f"{backend}:{model_fingerprint(model)}"
    if backend == "jax":  # nutpie's JAX functions hold the data as constants: key by values
        digest = hashlib.sha1()
        for name in sorted(data):
            digest.update(name.encode() + np.ascontiguousarray(data[name]).tobytes())
        key += ":" + digest.hexdigest()
    compiled = _COMPILED.pop(key, None)
    if compiled is None:
        if backend == "jax":
            compiled = nutpie.compile_pymc_model(model, backend="jax", gradient_backend="jax")
        else:  # with data read through pointers, and cached on disk across processes
            compiled = compile_numba(model, key.split(":")[1])
    _COMPILED[key] = compiled
    while len(_COMPILED) > COMPILED_CACHE_SIZE:
        _COMPILED.popitem(last=False)
    if backend == "jax" or not data:
        return compiled
    return compiled.with_data(**data)


def nutpie_settings(model: pm.Model, kwargs: dict, n_dim: int | None = None) -> dict:
    """nutpie's sampler settings from ``sample``'s keywords: ``nuts={...}`` (else the
    adaptation chosen by model size, ``n_dim`` sampled values) plus
    ``target_accept``/``maxdepth`` given directly."""
    check_nutpie_keywords(kwargs)
    kwargs = dict(kwargs)
    nuts = kwargs.pop("nuts", None)
    # nuts={} asks for nutpie's own defaults (its diagonal adaptation), not for ours
    settings = dict(nuts) if nuts is not None else nutpie_adaptation(model, n_dim)
    for key in _NUTPIE_TOP_LEVEL:
        if key in kwargs:
            settings["maxdepth" if key == "max_treedepth" else key] = kwargs.pop(key)
    if "max_treedepth" in settings:
        settings["maxdepth"] = settings.pop("max_treedepth")
    return settings


def check_nutpie_keywords(kwargs: dict) -> None:
    """A clear error for sampler keywords nutpie does not take (before anything compiles)."""
    unknown = set(kwargs) - {"nuts", *_NUTPIE_TOP_LEVEL}
    if unknown:
        raise TypeError(
            f"Unknown sampler argument(s) for nutpie: {', '.join(sorted(unknown))}; pass "
            "nutpie's settings as nuts={...}, or choose nuts_sampler='pymc'."
        )
    nuts = kwargs.get("nuts") or {}
    if "mass_matrix_update_freq" in nuts:
        _whole_number("nuts['mass_matrix_update_freq']", nuts["mass_matrix_update_freq"], 1)
        adaptation = nuts.get("adaptation", "diag")
        if adaptation not in ("low_rank", "diag"):
            raise ValueError(
                "nuts['mass_matrix_update_freq'] applies to the 'low_rank' and 'diag' "
                f"adaptations, not {adaptation!r}."
            )


def run_nutpie(
    compiled, model: pm.Model, chains, draws, tune, seed, cores, progressbar, settings: dict
):
    """nutpie on a compiled model; Ctrl-C keeps the draws made so far."""
    import nutpie
    from pymc.backends.arviz import patch_nutpie_idata

    start = time.perf_counter()
    run = dict(
        draws=draws,
        tune=max(tune, 1),  # nuts-rs needs at least one tuning step
        chains=chains,
        cores=cores,
        seed=_nutpie_seed(seed, chains),
        progress_bar=progressbar,
    )
    settings = dict(settings)
    adapt_options = {k: settings.pop(k) for k in _NUTS_RS_ONLY if k in settings}
    if adapt_options:
        sampler = _start_nutpie(compiled, settings, adapt_options, **run)
    else:
        sampler = nutpie.sample(compiled, save_warmup=False, blocking=False, **run, **settings)
    try:
        # short waits return to Python between them, so that Ctrl-C reaches this frame
        while True:
            try:
                idata = sampler.wait(timeout=0.2)
                break
            except TimeoutError:
                continue
    except KeyboardInterrupt:
        idata = sampler.abort()
        idata.attrs["interrupted"] = 1
    patch_nutpie_idata(idata, model, sampling_time=time.perf_counter() - start)
    return idata


def _start_nutpie(
    compiled, settings: dict, adapt_options: dict, *, draws, tune, chains, cores, seed, progress_bar
):
    """``nutpie.sample(..., blocking=False)`` with nuts-rs adaptation options that
    ``nutpie.sample`` takes no keyword for (``_NUTS_RS_ONLY``) written into its settings."""
    from nutpie import _lib
    from nutpie.sample import _BackgroundSampler

    settings = dict(settings)
    # the adaptation was checked by check_nutpie_keywords before compiling
    kinds = {"low_rank": _lib.PyNutsSettings.LowRank, "diag": _lib.PyNutsSettings.Diag}
    nuts = kinds[settings.pop("adaptation", "diag")](seed)
    nuts.update({**settings, "num_tune": tune, "num_draws": draws, "num_chains": chains})
    tree = nuts.as_dict()["settings"]
    tree["adapt_options"].update({k: int(v) for k, v in adapt_options.items()})
    nuts.update_settings(tree)
    init_mean = np.zeros(compiled.n_dim)
    return _BackgroundSampler(
        compiled, nuts, init_mean, cores, progress_bar=progress_bar, save_warmup=False
    )


def _nutpie_seed(seed: int | None, chains: int) -> int:
    """nutpie's seed for ``seed``, derived as ``pymc.sample`` derives it (the first of the
    per-chain seeds spawned from a generator seeded with ``seed``), so that a seed gives the
    same draws through either route."""
    rngs = np.random.default_rng(seed).spawn(chains)
    return int(rngs[0].integers(2**30))


def _sample_nutpie(model, chains, draws, tune, seed, cores, progressbar, kwargs):
    kwargs = dict(kwargs)
    backend = kwargs.pop("backend", "numba")
    check_nutpie_keywords(kwargs)
    compiled = compile_nutpie(model, backend)
    settings = nutpie_settings(model, kwargs, compiled.n_dim)
    return run_nutpie(compiled, model, chains, draws, tune, seed, cores, progressbar, settings)


def _complete_draws(idata, draws: int):
    """Keep the draws every chain completed (all of them unless sampling was interrupted)."""
    post = idata["posterior"].to_dataset()
    n = post.sizes.get("draw", 0)
    finite = np.ones(n, dtype=bool)
    for v in post.data_vars.values():
        if np.issubdtype(v.dtype, np.floating) and v.size:
            axes = tuple(i for i, d in enumerate(v.dims) if d != "draw")
            finite &= np.all(np.isfinite(v.values), axis=axes)
    done = int(np.argmin(finite)) if not finite.all() else n
    if done == draws and not idata.attrs.get("interrupted"):
        return idata
    if done == 0:
        raise SamplingInterrupted(
            "Sampling was interrupted during warmup; no post-warmup draw was made."
        )
    for group in ("posterior", "sample_stats"):
        if group in idata.children:
            idata[group] = idata[group].to_dataset().isel(draw=slice(0, done))
    idata.attrs["completed_draws"] = done
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
    from .model import build_model, ordered_threshold_draws
    from .model_priors import improper_classes
    from .priors import PriorError

    warmup = iter // 2 if warmup is None else warmup
    bad = improper_classes(bm.priors, bm.design, bm.family)
    if bad:
        raise PriorError(PRIOR_ONLY_ERROR.format(name=bad[0]))
    n = chains * ((iter - warmup + thin - 1) // thin)
    model = bm.model
    canonical = bm.family.canonical_likelihood(bm.design.response, bm.design.additions)
    if bm.graph.get("mean_shift") or canonical is not None:
        # the population-level effects' priors, not shifted values, are drawn forward, and
        # the responses from PyMC's distributions, as predictions draw them
        model = build_model(
            bm.design, bm.family, bm.priors, bm.group_effects, mean_shift=False,
            response_draws=canonical is not None,
        )  # fmt: skip
    obs = [v.name for v in model.observed_RVs]
    params = [v.name for v in model.free_RVs] + [v.name for v in model.deterministics]
    ordered = bm.family.ordinal and bm.family.ordered_thresholds
    if ordered:
        # the ordered thresholds are drawn exactly by ordered_threshold_draws (sratio, cratio
        # and acat have plain thresholds, which PyMC draws from their priors as they are)
        params = [p for p in params if p not in ("Intercept", "b_Intercept")]
    with model, warnings.catch_warnings(), quiet_pymc():
        warnings.simplefilter("ignore", UserWarning)
        idata = pm.sample_prior_predictive(draws=n, var_names=params, random_seed=seed)
    prior = _as_chains(idata["prior"].to_dataset(), chains)
    if ordered:
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
    derived = ["b_Intercept"] if ordered else []
    tree = xr.DataTree.from_dict({"posterior": prior})
    if obs or derived:
        with model, warnings.catch_warnings(), quiet_pymc():
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
    try:
        diag = diagnostics_table(posterior)
    except Exception as err:  # noqa: BLE001 - a diagnostic must never cost the draws
        return [*msgs, f"Convergence diagnostics could not be computed ({err})."]
    n_chains = posterior.sizes.get("chain", 1)
    rhats = diag["Rhat"].dropna()
    if len(rhats) and rhats.max() > rhat_max:
        worst = rhats.idxmax()
        msgs.append(
            f"The largest R-hat is {rhats[worst]:.3f} (for {worst}), indicating chains have not "
            "mixed. Running more iterations may help."
        )
    for col, label in (("Bulk_ESS", "Bulk"), ("Tail_ESS", "Tail")):
        ess = diag[col].dropna()
        if len(ess) and ess.min() < 100 * n_chains:
            low = ess.idxmin()
            msgs.append(
                f"{label} Effective Samples Size (ESS) is too low: {ess[low]:.0f} for {low} "
                f"(below {100 * n_chains}). Running more iterations may help."
            )
    return msgs
