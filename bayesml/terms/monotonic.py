"""Monotonic effects ``mo(x)`` (brms's formula-sp.R, Bürkner & Charpentier 2020).

An ordinal predictor with values 0..D enters as ``bsp · mo(ζ, x)`` where
``mo(ζ, x) = D · Σ_{k ≤ x} ζ_k`` and ζ is a simplex (``simo``, dirichlet(1) by default): the
effect rises (or falls) by ``bsp`` per step on average, with step sizes the data decide. brms's
names: ``bsp_mox`` (class ``b``, coef ``mox``) and ``simo_mox1[k]`` (class ``simo``, coef
``mox1``); an interaction ``mo(x):z`` multiplies by ``z`` (``bsp_mox:z``, ``simo_mox:z1``), and
``(mo(x) | g)`` lets ``bsp`` vary over ``g``.

The column inside ``mo()`` holds whole numbers (shifted so the smallest is 0, as brms does) or
an ordered categorical (its category codes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ..columns import DataError, first_rows
from ..formula import MonotonicTerm, PredictorFormula
from ..priors import PriorError, parse_prior
from ..rvs import coefficient_vector
from .base import Parameter, dpar_prefix, dpar_suffix, prior_dpar
from .matrix import Matrix, clean_name, evaluate, evaluate_new

__all__ = [
    "MonotonicDesign",
    "monotonic_at",
    "monotonic_coef",
    "monotonic_designs",
    "monotonic_eta",
    "monotonic_parameters",
]


def monotonic_coef(term: MonotonicTerm) -> str:
    """brms's coefficient name of a monotonic term: ``mo(m):z`` → ``mom:z``."""
    return clean_name(term.label)


@dataclass
class MonotonicDesign:
    """One monotonic term of one predictor, evaluated on data.

    ``values`` hold each ``mo()`` variable as 0..D, ``steps`` its D, ``shift`` what was
    subtracted (the training minimum; None for ordered categoricals, whose categories are kept
    in ``categories``), ``covariate`` the rest of an interaction (None: 1).
    """

    term: MonotonicTerm
    dpar: str
    values: tuple[np.ndarray, ...]
    steps: tuple[int, ...]
    shift: tuple[float | None, ...]
    categories: tuple[tuple | None, ...]
    covariate: np.ndarray | None
    covariate_terms: Matrix | None
    first_simplex: int  # number of the term's first simplex among the predictor's (from 1)

    @property
    def coef(self) -> str:
        return monotonic_coef(self.term)

    @property
    def simplex_labels(self) -> tuple[str, ...]:
        """brms's simplex names: the coefficient and the call's position, ``mom:z1``."""
        return tuple(f"{self.coef}{k}" for k in range(1, len(self.values) + 1))

    def simplex_vars(self) -> tuple[str, ...]:
        """The model's simplex variables: ``simo_1``, ``simo_sigma_2``, ..."""
        px = dpar_prefix(self.dpar)
        n = len(self.values)
        return tuple(f"simo_{px}{self.first_simplex + k}" for k in range(n))


def _codes(s: pd.Series, term: MonotonicTerm, formula: str, rows, shift=None, categories=None):
    """A mo() column as codes 0..D (with what was subtracted, and the categories)."""
    var = s.name
    where = f"'{var}' (in {term.label})"
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not s.cat.ordered:
            raise DataError(
                f"mo() needs whole numbers or an ordered categorical; column {where} is an "
                "unordered categorical. Make it ordered: pd.Categorical(..., ordered=True)."
            )
        cats = tuple(s.cat.categories) if categories is None else categories
        codes = pd.Categorical(s, categories=cats, ordered=True).codes.astype(float)
        if (codes < 0).any():
            bad = codes < 0
            raise DataError(
                f"Column {where} has categories the model does not know ({first_rows(bad, rows)})."
            )
        return codes, None, cats
    if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        raise DataError(
            f"mo() needs whole numbers or an ordered categorical; column {where} holds "
            f"{s.dtype} values."
        )
    x = s.to_numpy(dtype=float)
    frac = x != np.round(x)
    if frac.any():
        raise DataError(
            f"mo() needs whole numbers or an ordered categorical; column {where} has "
            f"{int(frac.sum())} value(s) that are not whole ({first_rows(frac, rows)}, e.g. "
            f"{x[np.argmax(frac)]})."
        )
    shift = float(x.min()) if shift is None else shift
    return x - shift, shift, None


def _covariate(term: MonotonicTerm, frame, formula, rows, fitted: Matrix | None = None):
    if not term.covariate:
        return None, None
    if fitted is None:
        m = evaluate(f"0 + {term.covariate}", frame, formula, "monotonic term", rows)
    else:
        m = evaluate_new(fitted, frame, "monotonic term", rows)
    if m.values.shape[1] != 1:
        raise DataError(
            f"The monotonic term {term.label} interacts mo() with '{term.covariate}', which "
            f"has {m.values.shape[1]} columns; mo() interacts with numeric columns only."
        )
    return m.values[:, 0], m


def monotonic_designs(
    pf: PredictorFormula, df: pd.DataFrame, frame: pd.DataFrame, formula: str, rows
) -> tuple[MonotonicDesign, ...]:
    """The monotonic terms of one predictor, from the data."""
    out = []
    first = 1
    for term in pf.monotonic:
        values, steps, shifts, cats = [], [], [], []
        for var in term.variables:
            codes, shift, categories = _codes(df[var], term, formula, rows)
            d = int(codes.max())
            if d < 1:
                raise DataError(
                    f"The monotonic term {term.label}: column '{var}' takes a single value, so "
                    "it has no steps to estimate."
                )
            values.append(codes.astype(np.int64))
            steps.append(d)
            shifts.append(shift)
            cats.append(categories)
        cov, cov_terms = _covariate(term, frame, formula, rows)
        out.append(
            MonotonicDesign(
                term, pf.dpar, tuple(values), tuple(steps), tuple(shifts), tuple(cats), cov,
                cov_terms, first,
            )
        )  # fmt: skip
        first += len(term.variables)
    return tuple(out)


def monotonic_at(
    designs: tuple[MonotonicDesign, ...], newdata: pd.DataFrame, rows: np.ndarray
) -> tuple[MonotonicDesign, ...]:
    """The fitted monotonic terms on new data: training shift, categories and steps."""
    out = []
    for d in designs:
        values = []
        for var, shift, cats, steps in zip(
            d.term.variables, d.shift, d.categories, d.steps, strict=True
        ):
            codes, _, _ = _codes(newdata[var], d.term, "", rows, shift, cats)
            bad = (codes < 0) | (codes > steps)
            if bad.any():
                raise DataError(
                    f"newdata: column '{var}' of {d.term.label} leaves the fitted range 0..{steps} "
                    f"after shifting ({first_rows(bad, rows)})."
                )
            values.append(codes.astype(np.int64))
        cov, _ = _covariate(d.term, newdata, "", rows, d.covariate_terms)
        out.append(
            MonotonicDesign(
                d.term, d.dpar, tuple(values), d.steps, d.shift, d.categories, cov,
                d.covariate_terms, d.first_simplex,
            )
        )  # fmt: skip
    return tuple(out)


def monotonic_parameters(designs: tuple[MonotonicDesign, ...]) -> dict[str, list[Parameter]]:
    """``{"special": [bsp_...], "simplexes": [simo_...[k], ...]}`` (brms lists the
    monotonic slopes after every other population-level effect)."""
    out: dict[str, list[Parameter]] = {"special": [], "simplexes": []}
    for d in designs:
        px, dp = dpar_prefix(d.dpar), prior_dpar(d.dpar)
        out["special"].append(
            Parameter(
                f"bsp_{px}{d.coef}",
                "b",
                coef=d.coef,
                dpar=dp,
                var=f"bsp{dpar_suffix(d.dpar)}",
                index=((f"bsp{dpar_suffix(d.dpar)}_coef", d.coef),),
                section="population",
                label=f"{px}{d.coef}",
            )
        )
        for label, var, steps in zip(d.simplex_labels, d.simplex_vars(), d.steps, strict=True):
            for k in range(1, steps + 1):
                out["simplexes"].append(
                    Parameter(
                        f"simo_{px}{label}[{k}]",
                        "simo",
                        coef=label,
                        dpar=dp,
                        var=var,
                        index=((f"{var}_dim", k - 1),),
                        section="simplex",
                        label=f"{px}{label}[{k}]",
                        default="dirichlet(1)",
                    )
                )
    return out


def _dirichlet(name: str, steps: int, row) -> pt.TensorVariable:
    dist = parse_prior(row.prior)
    if dist is None or dist.name != "dirichlet":
        raise PriorError(
            f"The simplex '{name}' needs a dirichlet prior, got '{row.prior or 'flat'}'."
        )
    alpha = np.broadcast_to(np.asarray(dist.args, dtype=float), (steps,))
    if len(dist.args) not in (1, steps):
        raise PriorError(
            f"The simplex '{name}' has {steps} elements; its prior {dist} gives "
            f"{len(dist.args)} concentrations (give 1 or {steps})."
        )
    return pm.Dirichlet(name, a=alpha, dims=f"{name}_dim")


def monotonic_eta(designs: tuple[MonotonicDesign, ...], priors, model: pm.Model):
    """Add the simplexes and ``bsp`` to the model; return the predictor's part and, per term
    label, the term's monotonic value (which varying ``mo()`` effects multiply)."""
    if not designs:
        return 0.0, {}
    dpar = designs[0].dpar
    dp = prior_dpar(dpar)
    dim = f"bsp{dpar_suffix(dpar)}_coef"
    model.add_coord(dim, [d.coef for d in designs])
    bsp = coefficient_vector(
        f"bsp{dpar_suffix(dpar)}", "b", tuple(d.coef for d in designs), dim, priors, dpar=dp
    )
    eta, values = 0.0, {}
    for j, d in enumerate(designs):
        value = 1.0
        for var, label, x, steps in zip(
            d.simplex_vars(), d.simplex_labels, d.values, d.steps, strict=True
        ):
            model.add_coord(f"{var}_dim", list(range(1, steps + 1)))
            simplex = _dirichlet(var, steps, priors.resolve("simo", label, dpar=dp))
            cum = pt.concatenate([pt.zeros(1), pt.cumsum(simplex)])
            codes = pm.Data(f"Xmo{var[4:]}", x, dims="obs")  # brms's Stan code: Xmo_1
            value = value * steps * cum[codes]
        if d.covariate is not None:
            value = value * pm.Data(f"Csp{dpar_suffix(dpar)}_{j + 1}", d.covariate, dims="obs")
        values[d.term.label] = value
        eta = eta + bsp[j] * value
    return eta, values
