"""Stage 4 — design + priors + family into a PyMC model (the ``make_stancode`` of bayesml).

The parameterisation is brms's: the population-level design is centred and ``Intercept`` is
the intercept of the centred model; varying effects are non-centred,
``r_k = (diag(sd_k) · L_k · z_k)ᵀ`` with ``L_k`` an LKJ Cholesky factor (uncorrelated blocks
have no ``L_k``). Variable names follow brms's Stan code (``Intercept``, ``b``, ``sd_1``,
``L_1``, ``z_1``, ``r_1``, ``sigma``); the results stage renames them to brms's output names.

How the group-level effects enter the likelihood is a strategy (``GROUP_EFFECTS``), so that a
model can use another parameterisation without touching the rest of the builder.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ._rformat import r_num
from .design import Design, GroupBlock, clean_name, make_design
from .families import Family, get_family
from .priors import (
    DISTRIBUTIONS,
    PriorDist,
    PriorError,
    PriorRow,
    PriorTable,
    default_priors,
    parse_prior,
)

__all__ = ["BrmsModel", "GROUP_EFFECTS", "build_model", "make_model", "model_code"]


def prior_rv(name: str, row: PriorRow, **shape) -> pt.TensorVariable:
    """A PyMC random variable for a prior row, honouring its bounds like brms.

    A symmetric prior centred at 0 with ``lb = 0`` becomes its half distribution (what brms's
    truncation amounts to); other bounds truncate the distribution.
    """
    dist = parse_prior(row.prior)
    lb = float(row.lb) if row.lb else None
    ub = float(row.ub) if row.ub else None
    if dist is None:
        if lb == 0.0 and ub is None:
            return pm.HalfFlat(name, **shape)
        if lb is None and ub is None:
            return pm.Flat(name, **shape)
        raise PriorError(f"A flat prior with bounds [{lb}, {ub}] is not supported for '{name}'.")
    if dist.name not in DISTRIBUTIONS:
        raise PriorError(f"Prior '{dist}' cannot be used for parameter '{name}'.")
    info = DISTRIBUTIONS[dist.name]
    lo, hi = info.support
    needs_lb = lb is not None and lb > lo
    needs_ub = ub is not None and ub < hi
    if not needs_lb and not needs_ub:
        return info.build(*dist.args)(name, **shape)
    if (
        lb == 0.0
        and not needs_ub
        and info.symmetric_half is not None
        and dist.args[info.location] == 0
    ):
        return info.symmetric_half(name, *dist.args, **shape)
    return pm.Truncated(name, info.dist(*dist.args), lower=lb, upper=ub, **shape)


def _coefficient_vector(
    name: str, class_: str, coefs: tuple[str, ...], dim: str, priors: PriorTable, group: str = ""
) -> pt.TensorVariable:
    """One vector RV when all coefficients share a prior, else one RV per coefficient."""
    rows = [priors.resolve(class_, c, group) for c in coefs]
    if all((r.prior, r.lb, r.ub) == (rows[0].prior, rows[0].lb, rows[0].ub) for r in rows):
        return prior_rv(name, rows[0], dims=dim)
    parts = [prior_rv(f"{name}_{c}", r) for c, r in zip(coefs, rows, strict=True)]
    return pm.Deterministic(name, pt.stack(parts), dims=dim)


def noncentred_effects(block: GroupBlock, priors: PriorTable) -> pt.TensorVariable:
    """brms's non-centred varying effects for one block; returns r (levels × coefs)."""
    k = block.id
    coef_dim = f"coef_{k}"
    sd = _coefficient_vector(f"sd_{k}", "sd", block.coefs, coef_dim, priors, block.group)
    z = pm.Normal(f"z_{k}", 0.0, 1.0, dims=(coef_dim, block.group))
    if block.has_cor:
        eta = _lkj_eta(priors, block.group)
        L = pm.LKJCorr(f"L_{k}", n=len(block.coefs), eta=eta)
        r = (pt.diag(sd) @ L @ z).T
    else:
        r = (sd[:, None] * z).T
    return pm.Deterministic(f"r_{k}", r, dims=(block.group, coef_dim))


def _lkj_eta(priors: PriorTable, group: str) -> float:
    row = priors.resolve("cor", "", group)
    dist = parse_prior(row.prior)
    if dist is None or dist.name not in ("lkj", "lkj_corr_cholesky"):
        raise PriorError(f"Correlations of group '{group}' need an lkj prior, got '{row.prior}'.")
    return dist.args[0]


# Strategies for the group-level part; each adds its parameters and returns r per block.
GROUP_EFFECTS: dict[str, Callable[[GroupBlock, PriorTable], pt.TensorVariable]] = {
    "noncentred": noncentred_effects,
}


@dataclass
class BrmsModel:
    """A compiled model: the PyMC model together with what it was built from."""

    design: Design
    family: Family
    priors: PriorTable
    model: pm.Model
    group_effects: str = "noncentred"

    def code(self) -> str:
        """Readable description of the generated model (the Stan-code analogue)."""
        return _describe(self)

    @property
    def response_name(self) -> str:
        return _observed_name(self.design)


# Names the builder uses for its own variables; a response with one of them gets a suffix.
_RESERVED = re.compile(r"^(Y|Xc|b|Intercept|b_Intercept|sigma|(sd|z|L|r|Z|J)_\d+)$")


def _observed_name(design: Design) -> str:
    name = clean_name(design.formula.response) or "y"
    return f"{name}_obs" if _RESERVED.match(name) else name


def build_model(
    design: Design,
    family: Family,
    priors: PriorTable,
    group_effects: str = "noncentred",
) -> pm.Model:
    """Build the PyMC model for a design, family and prior table."""
    fx = design.fixed
    coords: dict[str, tuple[str, ...]] = {"obs": tuple(range(design.nobs))}
    if fx.coefs:
        coords["b_coef"] = fx.coefs
    for blk in design.blocks:
        coords[blk.group] = blk.levels
        coords[f"coef_{blk.id}"] = blk.coefs
    strategy = GROUP_EFFECTS[group_effects]
    with pm.Model(coords=coords) as model:
        eta = 0.0
        if fx.coefs:
            Xc = pm.Data("Xc", fx.Xc, dims=("obs", "b_coef"))
            b = _coefficient_vector("b", "b", fx.coefs, "b_coef", priors)
            eta = eta + pt.dot(Xc, b)
        if fx.intercept:
            intercept = prior_rv("Intercept", priors.resolve("Intercept"))
            eta = eta + intercept
        for blk in design.blocks:
            r = strategy(blk, priors)
            Z = pm.Data(f"Z_{blk.id}", blk.Z, dims=("obs", f"coef_{blk.id}"))
            J = pm.Data(f"J_{blk.id}", blk.index, dims="obs")
            eta = eta + (Z * r[J]).sum(axis=1)
        mu = family.mu_link.inverse(eta) if not isinstance(eta, float) else eta
        dpars = {d.name: prior_rv(d.name, priors.resolve(d.name)) for d in family.dpars}
        y = pm.Data("Y", design.y, dims="obs")
        family.likelihood(_observed_name(design), mu, dpars, y, design, y.shape)
        if fx.intercept:
            if fx.coefs:
                pm.Deterministic("b_Intercept", intercept - pt.dot(np.asarray(fx.means), b))
            else:
                pm.Deterministic("b_Intercept", intercept + 0.0)
    return model


def make_model(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    prior: PriorTable | None = None,
    group_effects: str = "noncentred",
) -> BrmsModel:
    """Compile a formula into a PyMC model with brms's priors and parameterisation.

    Parameters
    ----------
    formula : str
    data : pandas.DataFrame
    family : str or Family
    prior : PriorTable, optional
        Defaults to brms's default priors (``get_prior``).
    group_effects : str
        Parameterisation of the varying effects; ``"noncentred"`` (brms's) by default.

    Returns
    -------
    BrmsModel
        ``.model`` is the ``pymc.Model``: add to it or sample it with ``bayesml.sample``.
    """
    fam = get_family(family)
    design = make_design(formula, data)
    priors = prior if prior is not None else default_priors(design, fam)
    return BrmsModel(
        design, fam, priors, build_model(design, fam, priors, group_effects), group_effects
    )


def model_code(formula: str, data: pd.DataFrame, family: str | Family = "gaussian") -> str:
    """The generated model in readable form (brms's ``make_stancode``)."""
    return make_model(formula, data, family).code()


def _prior_text(row: PriorRow) -> str:
    dist: PriorDist | None = parse_prior(row.prior)
    text = "flat" if dist is None else str(dist)
    bounds = []
    if row.lb:
        bounds.append(f"lower={row.lb}")
    if row.ub:
        bounds.append(f"upper={row.ub}")
    return text + (f"  <{', '.join(bounds)}>" if bounds else "")


def _describe(bm: BrmsModel) -> str:
    d, fam, pr = bm.design, bm.family, bm.priors
    fx = d.fixed
    out = [
        f"// bayesml model for: {d.formula}",
        f"// family: {fam.name}({fam.link_name}); varying effects: {bm.group_effects}",
        "data {",
        f"  N = {d.nobs};  // observations",
        f"  Y[N];  // response '{d.formula.response}'",
    ]
    if fx.coefs:
        means = ", ".join(f"{m:.6g}" for m in fx.means)
        out.append(
            f"  Xc[N, {len(fx.coefs)}];  // population-level design, columns: {', '.join(fx.coefs)}"
        )
        if fx.intercept:
            out.append(f"  means_X = [{means}];  // Xc = X - means_X (centred for the Intercept)")
    for blk in d.blocks:
        out.append(f"  J_{blk.id}[N] in 1..{blk.n_levels};  // levels of '{blk.group}'")
        out.append(
            f"  Z_{blk.id}[N, {len(blk.coefs)}];  // group-level design: {', '.join(blk.coefs)}"
        )
    out.append("}")
    out.append("parameters {")
    if fx.coefs:
        out.append(f"  b[{len(fx.coefs)}];  // {', '.join(fx.coefs)}")
    if fx.intercept:
        out.append("  Intercept;  // intercept of the centred predictors")
    for blk in d.blocks:
        k, m = blk.id, len(blk.coefs)
        out.append(f"  sd_{k}[{m}] >= 0;  // group-level sds of '{blk.group}'")
        out.append(f"  z_{k}[{m}, {blk.n_levels}];  // standardised group-level effects")
        if blk.has_cor:
            out.append(f"  L_{k}[{m}, {m}];  // Cholesky factor of the correlation matrix")
    for dp in fam.dpars:
        out.append(
            f"  {dp.name}{'' if dp.lb is None else ' >= ' + r_num(dp.lb)};"
        )
    out.append("}")
    out.append("transformed parameters {")
    for blk in d.blocks:
        k = blk.id
        if blk.has_cor:
            out.append(
                f"  r_{k} = (diag(sd_{k}) * L_{k} * z_{k})';  // [{blk.n_levels}, {len(blk.coefs)}]"
            )
        else:
            out.append(f"  r_{k} = (diag(sd_{k}) * z_{k})';  // [{blk.n_levels}, {len(blk.coefs)}]")
    out.append("}")
    out.append("model {")
    terms = []
    if fx.intercept:
        terms.append("Intercept")
    if fx.coefs:
        terms.append("Xc * b")
    terms += [f"rows_dot(Z_{b.id}, r_{b.id}[J_{b.id}])" for b in d.blocks]
    lp = " + ".join(terms) or "0"
    mu = lp if fam.link_name == "identity" else f"inv_{fam.link_name}({lp})"
    out.append(f"  mu = {mu};")
    dp_args = ", ".join(dp.name for dp in fam.dpars)
    out.append(f"  Y ~ {fam.name}(mu{', ' + dp_args if dp_args else ''});")
    if fx.coefs:
        for c in fx.coefs:
            out.append(f"  b[{c}] ~ {_prior_text(pr.resolve('b', c))};")
    if fx.intercept:
        out.append(f"  Intercept ~ {_prior_text(pr.resolve('Intercept'))};")
    for blk in d.blocks:
        for c in blk.coefs:
            out.append(f"  sd_{blk.id}[{c}] ~ {_prior_text(pr.resolve('sd', c, blk.group))};")
        out.append(f"  to_vector(z_{blk.id}) ~ std_normal();")
        if blk.has_cor:
            eta = _lkj_eta(pr, blk.group)
            out.append(f"  L_{blk.id} ~ lkj_corr_cholesky({eta:g});")
    for dp in fam.dpars:
        out.append(f"  {dp.name} ~ {_prior_text(pr.resolve(dp.name))};")
    out.append("}")
    if fx.intercept:
        out.append("generated quantities {")
        out.append(
            "  b_Intercept = Intercept - dot(means_X, b);"
            if fx.coefs
            else "  b_Intercept = Intercept;"
        )
        out.append("}")
    return "\n".join(out)
