"""Stage 3 — the priors of a model: brms 2.18's defaults and user priors checked against them.

The default table is derived from the parameter registry (``bayesml.parameters``): flat ``b``,
a data-driven Student-t for mu's centred ``Intercept`` and the defaults of brms's
``def_dprior`` for other predicted parameters' intercepts, half Student-t for ``sd`` and for
``sigma`` with the response's scale, ``lkj(1)`` for correlations, ``dirichlet(1)`` for the
simplexes of monotonic effects, the family table's defaults for its parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from ._rformat import r_call, r_collate, r_mad, r_num, r_round
from .design import Design, make_design
from .families import FAMILIES, LINKS, ZERO_SHIFT_LINKS, Family, get_family
from .formula import BrmsFormula
from .parameters import Registry, model_parameters
from .priors import (
    CORRELATION_DISTRIBUTIONS,
    SIMPLEX_DISTRIBUTIONS,
    PriorError,
    PriorRow,
    PriorSpec,
    PriorTable,
    as_specs,
    parse_prior,
)
from .terms.base import prior_dpar

__all__ = [
    "default_priors",
    "get_prior",
    "improper_classes",
    "set_priors",
    "validate_prior",
]


def _default_scale(y: np.ndarray, link_name: str) -> tuple[float, float]:
    """brms's ``def_scale_prior``: (location, scale) of the Student-t defaults.

    Transform y by the link (zeros → 0.1 first for log-type links), round median and mad to
    one decimal; the scale is never below 2.5. Links without a data transform, and
    factor-like responses, keep (0, 2.5).
    """
    link = LINKS[link_name]
    arr = np.asarray(y)
    if link.data is None or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        return 0.0, 2.5
    y = arr.astype(float)
    if link.name in ZERO_SHIFT_LINKS:
        y = np.where(y == 0, 0.1, y)
    with np.errstate(all="ignore"):
        yl = link.data(y)
    loc, scale = 0.0, 2.5
    s = r_round(r_mad(yl), 1)
    if math.isfinite(s):
        scale = max(2.5, s)
    m = r_round(float(np.median(yl)), 1)
    if math.isfinite(m):
        loc = m
    return loc, scale


def _bound(x: float | str | None) -> str:
    """A bound as the prior table prints it (a data symbol such as ``min_Y`` as it is)."""
    if x is None:
        return ""
    return x if isinstance(x, str) else r_num(x)


def default_priors(design: Design, family: Family, registry: Registry | None = None) -> PriorTable:
    """brms 2.18's default prior table for a design and family (its parameter registry)."""
    registry = registry or model_parameters(design, family)
    loc, scale = _default_scale(design.y, family.prior_link.name)
    if design.offset is not None:
        # brms subtracts the mean offset from the location without rounding again
        loc = loc - float(np.mean(design.offset))
    loc = loc + 0.0  # a negative zero would print as "-0"; R prints 0
    scale_prior = r_call("student_t", (3, 0, scale))
    rows: list[PriorRow] = []
    if family.category_dpar is not None:  # brms's generic rows of categorical models
        rows += [PriorRow(class_="b"), PriorRow(class_="Intercept")]
    params = list(registry)
    for p in params:
        if p.class_ == "b":
            rows.append(PriorRow(class_="b", dpar=p.dpar))
            rows.append(PriorRow(class_="b", coef=p.coef, dpar=p.dpar, source="(vectorized)"))
        elif p.default and p.class_ != "lscale":  # a term's own default (simplexes of mo())
            rows.append(PriorRow(p.default, p.class_, coef=p.coef, dpar=p.dpar))
        elif p.class_ == "sd":
            rows.append(PriorRow(scale_prior, "sd", dpar=p.dpar, lb="0"))
            grp = dict(group=p.group, dpar=p.dpar, lb="0", source="(vectorized)")
            rows.append(PriorRow("", "sd", **grp))
            rows.append(PriorRow("", "sd", coef=p.coef, **grp))
        elif p.class_ in ("sds", "sdgp"):  # smooths and GPs: brms's sd default
            rows.append(PriorRow(scale_prior, p.class_, dpar=p.dpar, lb="0"))
            rows.append(PriorRow("", p.class_, coef=p.coef, dpar=p.dpar, lb="0",
                                 source="(vectorized)"))  # fmt: skip
        elif p.class_ == "lscale":  # a data-driven inverse gamma per GP (brms)
            rows.append(PriorRow("", "lscale", dpar=p.dpar, lb="0"))
            rows.append(PriorRow(p.default, "lscale", coef=p.coef, dpar=p.dpar, lb="0"))
        elif p.class_ == "cor":
            rows.append(PriorRow("lkj(1)", "cor"))
            rows.append(PriorRow("", "cor", group=p.group, source="(vectorized)"))
    # intercepts: thresholds, mu's data-driven prior, other parameters' brms defaults
    if family.ordinal:
        rows.append(PriorRow(r_call("student_t", (3, 0, 2.5)), "Intercept"))
        rows += [
            PriorRow("", "Intercept", coef=p.coef, source="(vectorized)")
            for p in params
            if p.class_ == "Intercept" and p.coef
            and p.section == "population"
        ]  # fmt: skip
    for dpar, pred in design.predictors.items():
        if not pred.fixed.sampled_intercept:
            continue
        if dpar == "mu":
            prior = r_call("student_t", (3, loc, scale))
        else:
            prior = _dpar_intercept_prior(design, family, dpar)
        rows.append(PriorRow(prior, "Intercept", dpar=prior_dpar(dpar)))
    for d in family.estimated_dpars(design.formula.additions, design.not_estimated):
        prior = scale_prior if d.default == "scale" else d.default
        rows.append(PriorRow(prior, d.name, lb=_bound(d.lb), ub=_bound(d.ub)))
    return PriorTable(rows).sorted()


def _dpar_intercept_prior(design: Design, family: Family, dpar: str) -> str:
    """brms's ``def_dprior`` of a predicted parameter's intercept."""
    d = family.dpar(dpar)
    if d.intercept_prior != "scale":
        return d.intercept_prior
    _, scale = _default_scale(design.y, d.link)
    return r_call("student_t", (3, 0, scale))


def get_prior(
    formula: str | BrmsFormula,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    prior: PriorSpec | Iterable[PriorSpec] | None = None,
) -> PriorTable:
    """The prior table brms's ``get_prior`` shows for a model, before fitting.

    Parameters
    ----------
    formula : str or BrmsFormula
        brms/lme4 formula, e.g. ``"Reaction ~ Days + (Days | Subject)"``, or
        ``bf("y ~ x", sigma="~ x")``.
    data : pandas.DataFrame
    family : str or Family
    prior : PriorSpec or list of PriorSpec, optional
        User priors (``prior("normal(0, 1)", class_="b", coef="Days") + ...``); they replace
        the defaults they name and are marked ``user``.

    Returns
    -------
    PriorTable
        Prints identically to brms 2.18.
    """
    fam = get_family(family)
    design = make_design(formula, data, fam)
    table = default_priors(design, fam)
    return set_priors(table, prior, design, fam) if prior is not None else table


def _class_support(class_: str, family: Family) -> tuple[float, float]:
    """The natural bounds of a class's parameters."""
    if class_ in ("sd", "sds", "sdgp", "lscale"):
        return 0.0, math.inf
    if class_ in ("cor", "simo"):
        return (-1.0, 1.0) if class_ == "cor" else (0.0, 1.0)
    for d in family.dpars:
        if d.name == class_:
            return (
                -math.inf if d.lb is None else d.lb,
                math.inf if d.ub is None else d.ub,
            )
    return -math.inf, math.inf


def _valid(rows: list[str]) -> str:
    return ", ".join(f"'{r}'" for r in rows) if rows else "none"


def _check_class(spec: PriorSpec, rows: list[PriorRow], fam: Family, where: str) -> None:
    """The class (and parameter) exists in the model and the distribution suits it."""
    classes = list(dict.fromkeys(r.class_ for r in rows))
    dist = parse_prior(spec.prior)
    if spec.class_ not in classes:
        dpars_anywhere = {d.name for f in FAMILIES.values() for d in f.dpars}
        if spec.class_ in dpars_anywhere:
            own = [d.name for d in fam.dpars]
            raise PriorError(
                f"Family '{fam.name}' has no parameter '{spec.class_}' ({where}); "
                f"its distributional parameters: {', '.join(own) or 'none'}."
            )
        raise PriorError(
            f"Unknown prior class '{spec.class_}' ({where}); classes in this model: "
            f"{', '.join(classes)}."
        )
    if spec.dpar and spec.dpar not in {r.dpar for r in rows if r.class_ == spec.class_}:
        have = sorted({r.dpar for r in rows if r.dpar})
        raise PriorError(
            f"Parameter '{spec.dpar}' has no '{spec.class_}' priors in this model ({where}); "
            f"parameters with a formula of their own: {_valid(have)}."
        )
    special = {"cor": CORRELATION_DISTRIBUTIONS, "simo": SIMPLEX_DISTRIBUTIONS}
    for cls, names in special.items():
        if dist is not None and dist.name in names and spec.class_ != cls:
            kind = "correlation matrices" if cls == "cor" else "simplexes"
            raise PriorError(
                f"'{dist.name}' is a prior for {kind} (class '{cls}'), not for class "
                f"'{spec.class_}' ({where})."
            )
        if spec.class_ == cls and (dist is None or dist.name not in names):
            kind, need = (
                ("correlation matrices", "lkj") if cls == "cor" else ("simplexes", "dirichlet")
            )
            raise PriorError(f"The only supported prior for {kind} is '{need}' ({where}).")


def _check_bounds(spec: PriorSpec, fam: Family, where: str) -> None:
    if (spec.lb or spec.ub) and spec.coef:
        raise PriorError(
            f"Bounds apply to a whole class: give lb/ub without coef ({where}), as in brms."
        )
    lo, hi = _class_support(spec.class_, fam)
    for label, value in (("lb", spec.lb), ("ub", spec.ub)):
        if value and not lo <= float(value) <= hi:
            raise PriorError(
                f"Bound {label} = {value} contradicts class '{spec.class_}', whose "
                f"parameters lie in [{r_num(lo)}, {r_num(hi)}] ({where})."
            )
    if spec.lb and spec.ub and float(spec.lb) >= float(spec.ub):
        raise PriorError(f"lb must be below ub ({where}).")


def set_priors(
    table: PriorTable, prior, design: Design | None = None, family: Family | None = None
) -> PriorTable:
    """Put user priors into a prior table, checking each against the model (brms's
    ``validate_prior``).

    Raises
    ------
    PriorError
        Unknown class; a coefficient, group or parameter the model does not have (the valid
        ones are listed); ``lkj`` on a class other than ``cor``, ``dirichlet`` on a class
        other than ``simo``, or another distribution on them; bounds that contradict the class
        or are given with ``coef``; a prior on a parameter the family does not have.
    """
    fam = family or get_family("gaussian")
    rows = list(table.rows)
    for spec in as_specs(prior):
        where = f"prior '{spec}'"
        _check_class(spec, rows, fam, where)
        _check_bounds(spec, fam, where)
        in_class = [r for r in rows if r.class_ == spec.class_ and r.dpar == spec.dpar]
        if spec.group and spec.group not in {r.group for r in in_class if r.group}:
            groups = sorted({r.group for r in in_class if r.group})
            raise PriorError(
                f"Group '{spec.group}' has no '{spec.class_}' parameters in this model "
                f"({where}); valid groups: {_valid(groups)}."
            )
        match = [r for r in in_class if r.coef == spec.coef and r.group == spec.group]
        if not match:
            coefs = sorted(
                {r.coef for r in in_class if r.coef and r.group == spec.group}, key=r_collate
            )
            scope = f" in group '{spec.group}'" if spec.group else ""
            raise PriorError(
                f"Coefficient '{spec.coef}' is not a '{spec.class_}' parameter{scope} of this "
                f"model ({where}); valid coefficients: {_valid(coefs)}."
            )
        old = match[0]
        new = replace(
            old,
            prior=spec.prior,
            source="user",
            lb=spec.lb or old.lb,
            ub=spec.ub or old.ub,
        )
        rows[rows.index(old)] = new
    return PriorTable(rows).sorted()


def validate_prior(
    prior,
    formula: str | BrmsFormula,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
) -> PriorTable:
    """Check user priors against a model and return the table the model will use.

    Printed like brms 2.18's ``validate_prior`` (correlations as ``lkj_corr_cholesky`` rows of
    class ``L``; user rows marked ``user``).
    """
    fam = get_family(family)
    design = make_design(formula, data, fam)
    return set_priors(default_priors(design, fam), prior, design, fam).as_fitted()


def improper_classes(table: PriorTable, design: Design, family: Family) -> list[str]:
    """Parameters whose prior is flat (improper), as brms names them for prior-only sampling."""
    out = []
    for p in model_parameters(design, family):
        if p.kind == "cor" or (p.class_ == "Intercept" and family.ordinal and p.coef):
            continue
        if p.section == "" and p.class_ != "Intercept":
            continue
        if parse_prior(table.resolve(p.class_, p.coef, p.group, p.dpar).prior) is None:
            out.append(p.class_)
    return list(dict.fromkeys(out))
