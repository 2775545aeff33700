"""Stage 2 — terms + data into design matrices (the ``make_standata`` of bayesml).

One ``PredictorDesign`` per distributional parameter with a formula (``mu`` first): its
population-level effects (``bayesml.terms.population``), monotonic effects
(``bayesml.terms.monotonic``) and offsets; the group-level blocks of all formulas
(``bayesml.terms.group``); the response and its addition terms — after checking every column
the model uses and dropping rows with missing values. ``new_data_design`` evaluates the fitted
terms on new data through the same term functions.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from formulae import design_matrices

from ._rformat import r_num
from .additions import addition_columns, check_against_response, column_values, read_additions
from .columns import (
    DataError,
    as_pandas,
    check_column_names,
    check_column_types,
    first_rows,
)
from .families import FAMILIES, Family, ResponseData, get_family
from .formula import BrmsFormula, FormulaError, PredictorFormula, parse_formula
from .terms import PREDICTOR_TERMS
from .terms.category import with_thresholds
from .terms.group import GroupBlock, group_blocks, group_blocks_at
from .terms.matrix import (
    FORMULA_NAMESPACE,
    expression_columns,
    formula_variables,
    formulae_frame,
)
from .terms.monotonic import MonotonicDesign
from .terms.population import FixedDesign, collinear_columns

__all__ = [
    "DataWarning",
    "Design",
    "FixedDesign",
    "GroupBlock",
    "PredictorDesign",
    "collinear_columns",
    "formula_columns",
    "make_design",
    "new_data_design",
]


class DataWarning(UserWarning):
    """Rows were excluded or data were changed on the way into the model."""


@dataclass
class PredictorDesign:
    """The terms of one distributional parameter's linear predictor, evaluated on data:
    ``terms`` holds one design per kind of term (``bayesml.terms.PREDICTOR_TERMS``)."""

    dpar: str
    terms: dict[str, object]
    offset: np.ndarray | None = None  # sum of offset(...) terms

    @property
    def fixed(self) -> FixedDesign:
        return self.terms["population"]

    @property
    def monotonic(self) -> tuple[MonotonicDesign, ...]:
        return self.terms.get("monotonic", ())


@dataclass
class Design:
    """Everything the model needs from formula and data.

    ``predictors`` holds one ``PredictorDesign`` per parameter with a formula, ``mu`` first;
    ``fixed`` and ``offset`` are mu's.
    """

    formula: BrmsFormula
    data: pd.DataFrame
    y: np.ndarray
    predictors: dict[str, PredictorDesign]
    blocks: tuple[GroupBlock, ...]
    additions: dict[str, np.ndarray] = field(default_factory=dict)
    n_dropped: int = 0
    response: ResponseData | None = None  # the response as the family's likelihood codes it
    rows: np.ndarray | None = None  # each row's number in the data as passed (from 1)

    @property
    def main(self) -> PredictorDesign:
        """mu's predictor (categorical models: the first category's, mu2)."""
        return next(iter(self.predictors.values()))

    @property
    def fixed(self) -> FixedDesign:
        return self.main.fixed

    @property
    def offset(self) -> np.ndarray | None:
        return self.main.offset

    @property
    def dpars(self) -> tuple[str, ...]:
        """The distributional parameters other than mu that have a formula."""
        return tuple(d for d in self.predictors if d != "mu")

    @property
    def fixed_dpars(self) -> dict[str, float]:
        """Parameters fixed to a value in ``bf()`` (``quantile = 0.9``)."""
        return dict(self.formula.fixed_dpars)

    @property
    def not_estimated(self) -> tuple[str, ...]:
        """Parameters other than mu that are not one estimated number: those with a formula
        and those fixed in ``bf()``."""
        return (*self.dpars, *self.fixed_dpars)

    @property
    def nobs(self) -> int:
        return len(self.y)

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.group for b in self.blocks))

    def blocks_of(self, group: str) -> tuple[GroupBlock, ...]:
        return tuple(b for b in self.blocks if b.group == group)

    def group_coefs(self, group: str) -> tuple[str, ...]:
        return tuple(c for b in self.blocks_of(group) for c in b.coefs)


def formula_columns(
    f: BrmsFormula,
    response: bool = True,
    additions: tuple[str, ...] | None = None,
    group_terms: tuple | None = None,
) -> dict[str, str]:
    """Data columns the formula uses, each with the term that uses it (for messages).

    ``response=False`` leaves out the response; ``additions`` keeps only those addition
    terms (new data need ``trials`` and ``se`` but no response or weights); ``group_terms``
    keeps only those group-level terms (``re_formula``).
    """
    needed: dict[str, str] = {}
    if response:
        for v in formula_variables(f.response, "response", f.text):
            needed.setdefault(v, f.response)
    for p in f.predictors:
        _predictor_columns(p, f.text, needed, group_terms)
    for a in f.additions:
        if additions is not None and a.name not in additions:
            continue
        for v in addition_columns(a, f.text):
            needed.setdefault(v, f"{a.name}({', '.join(a.args) or dict(a.kwargs)})")
    return needed


def _predictor_columns(
    p: PredictorFormula, formula: str, needed: dict[str, str], group_terms=None
) -> None:
    if p.fixed.strip() not in ("0", "-1", "1"):
        for v in formula_variables(p.fixed, "population-level terms", formula):
            needed.setdefault(v, p.fixed)
    for expr in p.category_specific:
        for v in formula_variables(expr, "category-specific term", formula):
            needed.setdefault(v, f"cs({expr})")
    for sm in p.smooths:
        for v in (*sm.variables, sm.option("by")):
            if v is not None:
                needed.setdefault(v, sm.label)
    for m in p.monotonic:
        for v in m.variables:
            needed.setdefault(v, m.label)
        if m.covariate:
            for v in formula_variables(m.covariate, "monotonic term", formula):
                needed.setdefault(v, m.label)
    for t in p.group_terms:
        if group_terms is not None and t not in group_terms:
            continue
        if t.expr.strip() not in ("1", "0", "-1"):
            for v in formula_variables(t.expr, "group-level term", formula):
                needed.setdefault(v, t.text)
        for v in t.group_vars:
            needed.setdefault(v, t.text)
    for off in p.offsets:
        for v in expression_columns(off, "offset", formula):
            needed.setdefault(v, f"offset({off})")


def _check_dpars(f: BrmsFormula, fam: Family) -> None:
    """Every parameter with a formula is one the family has."""
    for p in f.dpars:
        try:
            fam.dpar(p.dpar)
        except KeyError as err:
            raise FormulaError(f"{err.args[0]} (formula '{p.text}')", f.text) from None
    for name, value in f.fixed_dpars:
        try:
            d = fam.dpar(name)
        except KeyError as err:
            raise FormulaError(f"{err.args[0]} ({name} = {value:g})", f.text) from None
        lb = -np.inf if d.lb is None else d.lb
        ub = np.inf if d.ub is None or isinstance(d.ub, str) else d.ub
        if not lb < value < ub:
            raise FormulaError(
                f"{name} = {value:g} lies outside the values '{name}' can take "
                f"(between {lb:g} and {ub:g}, bounds excluded).",
                f.text,
            )


def _category_specific(predictors: dict, fam: Family, response, f: BrmsFormula) -> None:
    """cs() terms get one coefficient per threshold; only sratio, cratio and acat have them."""
    cs = predictors["mu"].terms.get("category") if "mu" in predictors else None
    varying = [t.text for t in f.all_group_terms if t.category_specific]
    if (cs is not None or varying) and not fam.category_specific:
        written = [f"cs({e})" for e in f.category_specific] + varying
        allowed = ", ".join(n for n, x in FAMILIES.items() if x.category_specific)
        raise FormulaError(
            f"Category-specific effects ({', '.join(written)}) are not supported for family "
            f"'{fam.name}'; they are for {allowed}.",
            f.text,
        )
    if cs is None:
        return
    if not fam.category_specific:
        allowed = ", ".join(n for n, x in FAMILIES.items() if x.category_specific)
        raise FormulaError(
            f"Category-specific effects ({', '.join(f'cs({e})' for e in f.category_specific)}) "
            f"are not supported for family '{fam.name}'; they are for {allowed}.",
            f.text,
        )
    predictors["mu"].terms["category"] = with_thresholds(cs, response.n_thresholds)


def make_design(
    formula: str | BrmsFormula, data: pd.DataFrame, family: str | Family = "gaussian"
) -> Design:
    """Build design matrices and level indices for a formula (brms's ``make_standata``).

    Parameters
    ----------
    formula : str or BrmsFormula
        A formula string, or ``bf(...)`` with formulas for distributional parameters.
    data : pandas.DataFrame
    family : str or Family
        Checks the response (and ``trials``/``se``) against the family's rule and codes it
        for the likelihood (``Design.response``).

    Returns
    -------
    Design

    Raises
    ------
    FormulaError
        The formula cannot be read or evaluated, or models a parameter the family lacks.
    KeyError
        A column named in the formula is missing (the message lists the available ones).
    ResponseError
        The response does not suit the family (the message names the column and the rule).
    DataError
        Values the model cannot use (infinite, log(0), negative weights, ...), by row.

    Notes
    -----
    Rows with a missing value in any column the model uses are dropped, with a
    ``DataWarning`` giving the count, as brms does.
    """
    f = parse_formula(formula)
    fam = get_family(family)
    data = as_pandas(data)
    _check_dpars(f, fam)
    needed = formula_columns(f)
    _claim_intercept(needed, data, f)
    check_column_names(data, needed)
    check_column_types(data, needed)

    used = list(needed)
    complete = data[used].notna().all(axis=1).to_numpy() if used else np.ones(len(data), bool)
    n_dropped = int((~complete).sum())
    if n_dropped:
        na_cols = [c for c in used if data[c].isna().any()]
        warnings.warn(
            f"Rows containing NAs were excluded from the model: {n_dropped} of {len(data)} rows "
            f"(missing values in {', '.join(na_cols)}).",
            DataWarning,
            stacklevel=2,
        )
    # the model keeps the columns it uses, as brms's model frame (fit$data) does
    df = data.loc[complete, used].reset_index(drop=True)
    rows = np.flatnonzero(complete) + 1
    if len(df) == 0:
        na_cols = [c for c in used if data[c].isna().any()]
        raise ValueError(
            "No rows left after excluding rows with missing values: every row misses a value "
            f"in {', '.join(map(str, na_cols))}."
        )
    frame = formulae_frame(df, used)
    y = _response(f, df)
    if fam.category_dpar is not None:  # categorical: one predictor per non-reference category
        raw = df[f.response] if f.response in df.columns else y
        categories = fam.prepare_response(f.response, raw, {}, rows).categories
        f = f.with_category_predictors(fam.category_dpar_names(categories))
    predictors = {
        p.dpar: PredictorDesign(
            p.dpar,
            {k.name: k.build(p, df, frame, f.text, rows) for k in PREDICTOR_TERMS.values()},
            _offset(p.offsets, df, f.text, rows),
        )
        for p in f.predictors
    }
    if fam.ordinal:  # the thresholds take the place of mu's intercept
        mu = predictors["mu"].fixed
        if not mu.intercept:
            raise FormulaError(
                f"Family '{fam.name}' estimates thresholds in place of the intercept; remove "
                "'0 +' / '- 1' from the formula.",
                f.text,
            )
        mu.thresholds = True
    additions = read_additions(f, df, rows)
    # the family sees the column itself, so that ordered categories keep their order
    raw_y = df[f.response] if f.response in df.columns else y
    _check_finite_response(f.response, raw_y, rows)
    fam.check_additions(tuple(a.name for a in f.additions))
    response = fam.prepare_response(f.response, raw_y, additions, rows)
    check_against_response(additions, response.y, f.response, rows)
    _category_specific(predictors, fam, response, f)
    blocks = group_blocks(f, df, frame, rows, response.n_thresholds)
    return Design(f, df, y, predictors, blocks, additions, n_dropped, response, rows)


def _claim_intercept(needed: dict[str, str], data: pd.DataFrame, f: BrmsFormula) -> None:
    """brms's ``Intercept`` term (``0 + Intercept``: the uncentred intercept as a
    population-level effect) is no data column; a column of that name would make the formula
    mean two things."""
    if "Intercept" not in needed or needed["Intercept"] not in (p.fixed for p in f.predictors):
        return
    if "Intercept" in data.columns:
        raise FormulaError(
            "The data has a column named 'Intercept', and in a formula 'Intercept' is brms's "
            "intercept term (as in '0 + Intercept'); rename the column.",
            f.text,
        )
    del needed["Intercept"]


def _check_finite_response(name: str, y, rows: np.ndarray) -> None:
    arr = np.asarray(y)
    if arr.dtype.kind not in "fc":
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(
            f"The response '{name}' is {r_num(arr[np.argmax(bad)])} in {int(bad.sum())} of "
            f"{len(arr)} rows ({first_rows(bad, rows)}); every value must be a finite number."
        )


def _response(f: BrmsFormula, df: pd.DataFrame) -> np.ndarray:
    if f.response in df.columns:
        s = df[f.response]
        if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            return s.to_numpy()
        return s.to_numpy(dtype=float)
    try:
        dm = design_matrices(
            f"{f.response} ~ 1", df, na_action="pass", extra_namespace=FORMULA_NAMESPACE
        )
    except Exception as err:
        raise FormulaError(f"Cannot evaluate the response '{f.response}': {err}", f.text) from err
    return np.asarray(dm.response.design_matrix, dtype=float).ravel()


def _offset(offsets, df: pd.DataFrame, formula: str, rows: np.ndarray) -> np.ndarray | None:
    """The sum of a predictor's ``offset(...)`` terms, or None without any."""
    if not offsets:
        return None
    return sum(column_values(o, df, f"offset({o})", formula, rows) for o in offsets)


def new_data_design(
    design: Design,
    newdata: pd.DataFrame,
    blocks: tuple[GroupBlock, ...] | None = None,
    allow_new_levels: bool = False,
) -> tuple[Design, dict[int, tuple[str, ...]]]:
    """The fitted model's design evaluated on new data (brms's ``newdata``).

    Population-level columns are centred with the training means; grouping levels are
    looked up among the training levels. Levels the model has not seen are appended after
    them, each its own level, when ``allow_new_levels`` (else an error names them).

    Parameters
    ----------
    design : Design
        The fitted model's design.
    newdata : pandas.DataFrame
    blocks : tuple of GroupBlock, optional
        The group-level blocks to keep (``re_formula``); all by default.

    Returns
    -------
    (Design, {block id: new level names})
    """
    f = design.formula
    blocks = design.blocks if blocks is None else blocks
    # new data need no response, weights or censoring, but trials, se, rate and trunc bounds
    kept_terms = tuple(t for b in blocks for t, _ in b.terms)
    needed = formula_columns(f, False, ("trials", "se", "rate", "trunc"), kept_terms)
    _claim_intercept(needed, newdata, f)
    check_column_names(newdata, needed)
    check_column_types(newdata, needed)
    df = newdata.reset_index(drop=True)
    missing = [c for c in needed if df[c].isna().any()]
    if missing:
        raise ValueError(f"newdata has missing values in {', '.join(missing)}.")
    rows = np.arange(1, len(df) + 1)
    predictors = {
        d: PredictorDesign(
            d,
            {k: PREDICTOR_TERMS[k].at(term, df, rows) for k, term in p.terms.items()},
            _offset(f_pred.offsets, df, f.text, rows),
        )
        for (d, p), f_pred in zip(design.predictors.items(), f.predictors, strict=True)
    }
    new_blocks, new_levels = group_blocks_at(blocks, df, rows, allow_new_levels)
    additions = read_additions(f, df, rows, names=("trials", "se", "rate", "trunc"))
    response = None
    if design.response is not None:
        response = ResponseData(
            np.zeros(len(df), dtype=design.response.y.dtype),
            trials=additions["trials"].astype(np.int64) if "trials" in additions else None,
            se=additions.get("se"),
            categories=design.response.categories,
            rate=additions.get("rate"),
        )
    out = Design(f, df, np.zeros(len(df)), predictors, new_blocks, additions, 0, response, rows)
    return out, new_levels
