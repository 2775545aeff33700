"""Stage 6 — predictions from a fit, through the model graph.

Every prediction runs the same model builder as the fit (``build_model``), with the varying
effects as inputs (``group_effects="given"``) and the data of ``newdata`` in its data
containers; ``pymc.sample_posterior_predictive`` then evaluates the linear predictor, the
expected response and new responses for the stored draws. There is no second copy of the
linear predictor.

Common keywords, as in brms: ``newdata``, ``re_formula`` (None: all varying effects; ``NA`` or
``"~0"``: none; a formula: a subset), ``allow_new_levels``, ``sample_new_levels``
("uncertainty", "gaussian", "old_levels"), ``ndraws`` (a random subset of draws, with
``seed``) or ``draw_ids`` (positions in the draws, counted from 0 where brms counts from 1).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from .columns import as_pandas
from .design import Design, GroupBlock, make_design, new_data_design
from .families import LINKS
from .formula import parse_formula
from .model import build_model, evaluate_on_draws
from .sampling import quiet_pymc
from .stats import stack_draws, stat_frame
from .terms.group import effects_name
from .terms.matrix import evaluate, formulae_frame
from .terms.monotonic import monotonic_coef

__all__ = [
    "fitted",
    "log_likelihood",
    "posterior_epred",
    "posterior_linpred",
    "posterior_predict",
    "posterior_smooths",
    "predict",
]

NEW_LEVEL_METHODS = ("uncertainty", "gaussian", "old_levels")


def _draw_ids(total: int, ndraws: int | None, seed: int | None, draw_ids=None) -> np.ndarray:
    if draw_ids is not None:
        if ndraws is not None:
            raise ValueError("Give either ndraws or draw_ids, not both.")
        ids = np.asarray(draw_ids, dtype=np.int64).ravel()
        bad = ids[(ids < 0) | (ids >= total)]
        if len(bad):
            raise ValueError(
                f"draw_ids must lie in 0..{total - 1} (positions in the {total} draws, counted "
                f"from 0); got {', '.join(str(i) for i in bad[:5])}."
            )
        return ids
    if ndraws is None or ndraws >= total:
        return np.arange(total)
    if ndraws < 1:
        raise ValueError(f"ndraws must be at least 1, got {ndraws}.")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(total, ndraws, replace=False))


def _no_effects(re_formula) -> bool:
    if re_formula is None:
        return False
    if isinstance(re_formula, float) and math.isnan(re_formula):
        return True
    if re_formula is pd.NA:
        return True
    return isinstance(re_formula, str) and re_formula.replace(" ", "") in ("NA", "~0", "0", "~-1")


def select_blocks(design: Design, re_formula) -> dict[int, tuple[str, ...]]:
    """The varying effects ``re_formula`` keeps, per block id: all (None), none (NA, "~0") or
    those named in a formula such as ``"~ (1 | Subject)"`` (by group and coefficient)."""
    if re_formula is None:
        return {b.id: b.coefs for b in design.blocks}
    if _no_effects(re_formula):
        return {}
    text = str(re_formula).strip()
    f = parse_formula(("y " + text) if text.startswith("~") else text)
    wanted: dict[str, set[str]] = {}
    frame = formulae_frame(design.data, design.data.columns)
    for t in f.all_group_terms:
        m = evaluate(t.expr, frame, f.text, "group-level term", design.rows)
        names = set(m.names) | {monotonic_coef(mt) for mt in t.monotonic}
        wanted.setdefault(t.group, set()).update(names)
    unknown = [g for g in wanted if g not in design.groups]
    if unknown:
        raise ValueError(
            f"re_formula names groups the model does not have: {', '.join(unknown)}; "
            f"groups: {', '.join(design.groups)}."
        )
    out = {}
    for b in design.blocks:
        # a re_formula term keeps that effect in every parameter's formula
        kept = wanted.get(b.group, set())
        keep = tuple(c for c, pc in zip(b.coefs, b.prior_coefs, strict=True) if pc in kept)
        if keep:
            out[b.id] = keep
    return out


def _new_level_draws(
    fit, block: GroupBlock, r: np.ndarray, n_new: int, method: str, ids, rng
) -> np.ndarray:
    """Effects (S, n_new, coefs) for levels the model has not seen."""
    S, n_old, m = r.shape
    if method == "uncertainty":
        # each draw of each new level borrows that draw of a random existing level
        pick = rng.integers(0, n_old, size=(S, n_new))
        return np.take_along_axis(r, pick[:, :, None], axis=1)
    if method == "old_levels":
        pick = rng.integers(0, n_old, size=n_new)
        return r[:, pick, :]
    # "gaussian" (the method was checked by the caller): draws from N(0, Σ) per draw
    sds, cors = fit.model.registry.covariance(block.id)
    sd = np.stack([stack_draws(fit.posterior[p.name])[ids] for p in sds], 1)
    R = np.broadcast_to(np.eye(m), (S, m, m)).copy()
    for (i, j), p in cors.items():
        R[:, i, j] = R[:, j, i] = stack_draws(fit.posterior[p.name])[ids]
    cov = sd[:, :, None] * R * sd[:, None, :]
    L = np.linalg.cholesky(cov + 1e-12 * np.eye(m))
    z = rng.standard_normal((S, n_new, m))
    return np.einsum("sij,snj->sni", L, z)


def _parameter_values(fit, model: pm.Model, var: str, ids):
    """(dims, draws) of one free variable of a prediction model, from the registry's entries
    whose draws live in it; None when the registry has none (varying effects)."""
    post, reg = fit.posterior, fit.model.registry
    entries = reg.of_var(var)
    if not entries:  # one variable per coefficient (coefficients with priors of their own)
        entries = [
            p for p in reg.parameters
            if p.kind == "draw" and p.index and f"{p.var}_{p.index[-1][1]}" == var
        ]  # fmt: skip
        return ((), stack_draws(post[entries[0].name])[ids]) if entries else None
    if not entries[0].index:
        return (), stack_draws(post[entries[0].name])[ids]
    dims = tuple(dim for dim, _ in entries[0].index)
    by_label = {tuple(label for _, label in p.index): p for p in entries}

    def column(position: tuple) -> np.ndarray:
        # an entry is found by its labels, or by position for integer-indexed dimensions
        labels = tuple(model.coords[d][i] for d, i in zip(dims, position, strict=True))
        key = position if position in by_label else labels
        return stack_draws(post[by_label[key].name])[ids]

    shape = [len(model.coords[d]) for d in dims]
    cols = [column(pos) for pos in np.ndindex(*shape)]
    return dims, np.stack(cols, 1).reshape(len(ids), *shape)


def _effect_values(fit, blk: GroupBlock, new_levels, ids, method: str, rng) -> np.ndarray:
    """A block's varying effects (draws, levels, coefficients) from brms's ``r_<g>`` arrays
    (``r_<g>__<dpar>`` for another parameter's coefficients), new levels appended."""
    post, g = fit.posterior, blk.group
    cols = []
    for coef, dpar in zip(blk.prior_coefs, blk.dpars, strict=True):
        r = post[effects_name(g, dpar)].sel({f"{g}__coef": coef}).transpose("chain", "draw", g)
        cols.append(stack_draws(r)[ids])
    r = np.stack(cols, axis=-1)  # (S, levels, m)
    n_new = len(new_levels.get(blk.id, ()))
    if n_new:
        r = np.concatenate([r, _new_level_draws(fit, blk, r, n_new, method, ids, rng)], 1)
    return r


def _trace(fit, pdesign: Design, new_levels, ids, method: str, rng, model: pm.Model):
    """Draws under the prediction model's variable names, one chain."""
    values: dict[str, tuple[tuple[str, ...], np.ndarray]] = {}
    blocks = {f"r_{b.id}": b for b in pdesign.blocks}
    for rv in model.free_RVs:
        if rv.name in blocks:
            blk = blocks[rv.name]
            r = _effect_values(fit, blk, new_levels, ids, method, rng)
            values[rv.name] = ((blk.group, blk.coef_dim), r)
            continue
        got = _parameter_values(fit, model, rv.name, ids)
        if got is not None:
            values[rv.name] = got
    n = len(ids)
    data_vars = {
        name: xr.DataArray(x[None], dims=("chain", "draw", *dims))
        for name, (dims, x) in values.items()
    }
    ds = xr.Dataset(data_vars, coords={"chain": [0], "draw": np.arange(n)})
    return xr.DataTree.from_dict({"posterior": ds})


def _prediction_model(
    fit, newdata, re_formula, allow_new_levels, response_draws=False, graph=None, observed=None
):
    keep = select_blocks(fit.design, re_formula)
    blocks = tuple(b for b in fit.design.blocks if b.id in keep)
    if newdata is None:
        pdesign = replace(fit.design, blocks=blocks)
        new_levels: dict[int, tuple[str, ...]] = {}
    else:
        newdata = as_pandas(newdata, "newdata")
        pdesign, new_levels = new_data_design(fit.design, newdata, blocks, allow_new_levels)
    # effects left out by re_formula inside a kept block contribute nothing
    masked = []
    for b in pdesign.blocks:
        mask = np.array([c in keep[b.id] for c in b.coefs], dtype=float)
        masked.append(b if mask.all() else replace(b, Z=b.Z * mask))
    pdesign = replace(pdesign, blocks=tuple(masked))
    if observed is not None:  # new rows with their response (log-likelihood of new data)
        pdesign = replace(
            pdesign, y=observed.y, response=observed.response, additions=observed.additions
        )
    model = build_model(
        pdesign,
        fit.family,
        fit.model.priors,
        group_effects="given",
        predictive=True,
        response_draws=response_draws,
        graph=graph,
    )
    return pdesign, new_levels, model


def _predictive(
    fit,
    var: str,
    newdata=None,
    re_formula=None,
    allow_new_levels: bool = False,
    sample_new_levels: str = "uncertainty",
    ndraws: int | None = None,
    seed: int | None = None,
    draw_ids=None,
) -> np.ndarray:
    if sample_new_levels not in NEW_LEVEL_METHODS:
        raise ValueError(
            f"sample_new_levels must be one of {', '.join(NEW_LEVEL_METHODS)}, "
            f"got '{sample_new_levels}'."
        )
    pdesign, new_levels, model = _prediction_model(
        fit, newdata, re_formula, allow_new_levels, response_draws=True
    )
    ids = _draw_ids(fit.settings.total_draws, ndraws, seed, draw_ids)
    rng = np.random.default_rng(seed)
    trace = _trace(fit, pdesign, new_levels, ids, sample_new_levels, rng, model)
    name = var if var != "response" else [v.name for v in model.observed_RVs][0]
    with warnings.catch_warnings(), quiet_pymc():
        warnings.simplefilter("ignore")
        out = pm.sample_posterior_predictive(
            trace, model=model, var_names=[name], random_seed=seed, progressbar=False
        )
    x = out["posterior_predictive"][name].values[0]
    if var == "response" and fit.family.has_categories:
        x = x + 1  # categories 1..K, as brms returns them
    return x


def posterior_linpred(
    fit, newdata=None, transform: bool = False, dpar: str | None = None, **kw
) -> np.ndarray:
    """Draws of a linear predictor, draws × rows: mu's, or another parameter's with
    ``dpar`` (``"sigma"``). ``transform=True`` applies the inverse link (for ordinal models mu
    stays the latent eta). A parameter without a formula gives its draws, one column per row.
    """
    fam = fit.family
    if dpar in (None, "mu"):
        eta = _predictive(fit, "linpred", newdata, **kw)
        return fam.mu_link.inverse_np(eta) if transform and not fam.ordinal else eta
    if dpar in fit.design.dpars:
        eta = _predictive(fit, f"linpred_{dpar}", newdata, **kw)
        return LINKS[fam.dpar(dpar).link].inverse_np(eta) if transform else eta
    estimated = [
        d.name for d in fam.estimated_dpars(fit.formula.additions, fit.design.not_estimated)
    ]
    if dpar not in estimated:
        raise ValueError(
            f"Family '{fam.name}' of this model has no parameter '{dpar}'; its parameters: "
            f"{', '.join(['mu', *fit.design.dpars, *estimated])}."
        )
    n = len(newdata) if newdata is not None else fit.design.nobs
    ids = _draw_ids(fit.settings.total_draws, kw.get("ndraws"), kw.get("seed"), kw.get("draw_ids"))
    return np.repeat(fit.draws(dpar)[ids][:, None], n, axis=1)


def posterior_epred(fit, newdata=None, **kw) -> np.ndarray:
    """Draws of the expected response (brms's ``posterior_epred``): draws × rows; binomial
    models give expected counts (probability × trials), lognormal ``exp(mu + sigma²/2)``,
    ordinal models category probabilities (draws × rows × categories)."""
    return _predictive(fit, "epred", newdata, **kw)


def posterior_predict(fit, newdata=None, **kw) -> np.ndarray:
    """Draws of new responses (brms's ``posterior_predict``): draws × rows."""
    return _predictive(fit, "response", newdata, **kw)


def _smooth_key(fit, smooth: str, dpar: str) -> str:
    """The graph key of a smooth term named as written (``s(x, by = g)``) or as brms
    writes it (``s(x,by=g)``)."""
    pred = fit.design.predictors.get(dpar)
    terms = []
    if pred is not None:
        for kind in ("smooth", "gp"):
            design = pred.terms.get(kind)
            terms += [p.term.label for p in getattr(design, "parts", ())]
    terms = list(dict.fromkeys(terms))
    wanted = smooth.replace(" ", "")
    for label in terms:
        if label.replace(" ", "") == wanted:
            return ("gp:" if label.startswith("gp(") else "smooth:") + label
    raise ValueError(
        f"The model has no smooth term '{smooth}' in the formula of '{dpar}'; its smooth "
        f"terms: {', '.join(terms) or 'none'}."
    )


def posterior_smooths(
    fit,
    smooth: str,
    newdata=None,
    dpar: str = "mu",
    ndraws: int | None = None,
    seed: int | None = None,
    draw_ids=None,
) -> np.ndarray:
    """Draws of one smooth or Gaussian-process term's contribution to a linear predictor
    (brms's ``posterior_smooths``): draws × rows, on the link scale, without the intercept.

    ``smooth`` names the term as written (``"s(x)"``, ``"t2(x, z)"``, ``"s(x, by = g)"``;
    brms's spelling without spaces works too); ``dpar`` picks another parameter's formula.
    """
    key = _smooth_key(fit, smooth, dpar)
    graph: dict = {}
    pdesign, new_levels, model = _prediction_model(fit, newdata, "~0", False, graph=graph)
    ids = _draw_ids(fit.settings.total_draws, ndraws, seed, draw_ids)
    trace = _trace(fit, pdesign, new_levels, ids, "uncertainty", np.random.default_rng(seed), model)
    raw = trace["posterior"].to_dataset()
    out = evaluate_on_draws(model, {"smooth": graph["terms"][(dpar, key)]}, raw)["smooth"]
    return np.broadcast_to(out, (len(ids), pdesign.nobs)).copy()


def _summary(x: np.ndarray, prob: float, robust: bool) -> pd.DataFrame:
    return stat_frame(x, list(range(x.shape[1])), prob, robust).reset_index(drop=True)


def fitted(
    fit,
    newdata=None,
    prob: float = 0.95,
    robust: bool = False,
    scale: str = "response",
    **kw,
) -> pd.DataFrame:
    """Summary of ``posterior_epred`` per row: Estimate, Est.Error, Q2.5, Q97.5;
    ``scale="linear"`` summarises the linear predictor (``posterior_linpred``) instead."""
    if scale not in ("response", "linear"):
        raise ValueError(f"scale must be 'response' or 'linear', got '{scale}'.")
    if scale == "linear":
        return _summary(posterior_linpred(fit, newdata, **kw), prob, robust)
    x = posterior_epred(fit, newdata, **kw)
    if x.ndim == 3:
        frames = {
            c: _summary(x[:, :, i], prob, robust)
            for i, c in enumerate(fit.design.response.categories)
        }
        return pd.concat(frames, axis=1)
    return _summary(x, prob, robust)


def predict(fit, newdata=None, prob: float = 0.95, robust: bool = False, **kw) -> pd.DataFrame:
    """Summary of ``posterior_predict`` per row: Estimate, Est.Error, Q2.5, Q97.5."""
    return _summary(posterior_predict(fit, newdata, **kw).astype(float), prob, robust)


def log_likelihood(
    fit, newdata=None, allow_new_levels: bool = False, seed: int | None = 0
) -> xr.Dataset:
    """Pointwise log-likelihood given the varying effects (draws × observations), as brms's
    ``log_lik`` computes it for ``loo``; with ``weights()`` each term is multiplied by its
    weight, as in brms. ``newdata`` (with the response) gives it for other rows (``kfold``);
    levels the fit has not seen take effects drawn from their group's distribution when
    ``allow_new_levels``."""
    observed = None
    if newdata is not None:  # the response and its additions (weights, cens) of the new rows
        observed = make_design(fit.design.formula, newdata, fit.family)
        if observed.nobs != len(newdata):
            raise ValueError(
                f"newdata has {len(newdata) - observed.nobs} rows with missing values in "
                "the response or the predictors; their log-likelihood is undefined."
            )
    pdesign, new_levels, model = _prediction_model(
        fit, newdata, None, allow_new_levels, observed=observed
    )
    ids = np.arange(fit.settings.total_draws)
    rng = np.random.default_rng(seed)
    trace = _trace(fit, pdesign, new_levels, ids, "uncertainty", rng, model)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = pm.compute_log_likelihood(trace, model=model, progressbar=False)
    ll = out["log_likelihood"].to_dataset()
    weights = pdesign.additions.get("weights")
    if weights is not None:
        w = np.asarray(weights, dtype=float)
        ll = ll.map(lambda v: v * w)
    chains, draws = fit.posterior.sizes["chain"], fit.posterior.sizes["draw"]
    return xr.Dataset(
        {
            k: xr.DataArray(
                v.values.reshape(chains, draws, *v.shape[2:]),
                dims=("chain", "draw", *v.dims[2:]),
            )
            for k, v in ll.data_vars.items()
        },
        coords={"chain": np.arange(chains), "draw": np.arange(draws)},
    )
