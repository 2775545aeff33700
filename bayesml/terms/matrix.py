"""Model matrices through formulae with R's conventions, for every term kind.

R's column order (main effects, then interactions by degree), brms's column names
(``clean_name``), R's factor levels and polynomial contrasts (``bayesml.columns``), brms's
``Intercept`` term, and a check that every value is finite, naming the term and the rows.
One function evaluates a right-hand side on the data (``evaluate``) and the fitted terms on
new data (``evaluate_new``), so both go through the same column handling.
"""

from __future__ import annotations

import ast
import re

import numpy as np
import pandas as pd
from formulae import design_matrices, model_description
from formulae.transforms import register_stateful_transform

from .._rformat import r_num
from ..columns import (
    POLY,
    DataError,
    PolyContrast,
    first_rows,
    ordered_factors,
    r_levels,
    with_r_factors,
)
from ..formula import FormulaError

__all__ = [
    "FORMULA_NAMESPACE",
    "INTERCEPT_COLUMN",
    "Matrix",
    "clean_name",
    "eval_expression",
    "evaluate",
    "evaluate_new",
    "expression_columns",
    "formula_variables",
    "formulae_frame",
]

# Functions a brms user writes in formulas, available to formulae's evaluator.
FORMULA_NAMESPACE = {
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "exp": np.exp,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "inv_logit": lambda x: 1 / (1 + np.exp(-np.asarray(x))),
}


def factor(x) -> pd.Categorical:
    """R's ``factor(x)``: the values as a categorical with R's level order (numbers in numeric
    order, text as R sorts it); the first level is the reference."""
    series = pd.Series(np.asarray(x) if not isinstance(x, pd.Series) else x)
    # formulae keeps the category order of an ordered Categorical only (see with_r_factors)
    return pd.Categorical(series, categories=r_levels(series), ordered=True)


FORMULA_NAMESPACE["factor"] = factor

# R's scale(): formulae's own scale() divides by the sd with n in the denominator
RSCALE = "Rscale"


@register_stateful_transform
class RScale:
    """R's ``scale(x)``: centred at the data's mean and divided by its sd (n - 1), the same
    mean and sd on new data."""

    __transform_name__ = RSCALE

    def __init__(self):
        self.mean: float | None = None
        self.sd: float | None = None

    def __call__(self, x):
        x = np.asarray(x, dtype=float)
        if self.mean is None:
            self.mean = float(np.mean(x))
            self.sd = float(np.std(x, ddof=1))
        return (x - self.mean) / self.sd


# formulae's own names in a design: R's polynomial contrasts for ordered factors
_FORMULAE_NAMESPACE = {**FORMULA_NAMESPACE, POLY: PolyContrast()}
# brms's `0 + Intercept` term is evaluated as this column of ones (formulae reserves the name)
INTERCEPT_COLUMN = "brmsIntercept"

_RENAME = [("+", "P"), ("-", "M"), ("*", "MU"), ("/", "D"), ("^", "E"), ("=", "EQ"), ("$", "USD")]


def clean_name(name: str) -> str:
    """brms's coefficient names: drop brackets, spaces, quotes; spell out operators."""
    name = re.sub(r"[()\[\]\s,\"'?]", "", name)
    for old, new in _RENAME:
        name = name.replace(old, new)
    return name


class Matrix:
    """An evaluated right-hand side: columns in R's order with brms's names."""

    def __init__(self, values: np.ndarray, names: tuple[str, ...], intercept: bool, terms):
        self.values = values
        self.names = names  # brms's names (clean_name)
        self.intercept = intercept  # formulae added an intercept column (named "Intercept")
        self.terms = terms  # formulae's design, to evaluate new data

    def term_variables(self) -> list[list[str]]:
        """The data columns of each term, in R's order (``x``, ``x:z`` → [[x], [x, z]])."""
        if self.terms is None:
            return []
        out = []
        for term in self.terms.terms.values():
            names = [c.name for c in getattr(term, "components", [])]
            if names and names != [INTERCEPT_COLUMN]:
                out.append([_POLY_NAME.sub(lambda m: m.group(1), n) for n in names])
        return out

    def without_intercept(self) -> tuple[np.ndarray, tuple[str, ...]]:
        """The columns other than formulae's intercept."""
        keep = [i for i, n in enumerate(self.names) if not (self.intercept and n == "Intercept")]
        return self.values[:, keep], tuple(self.names[i] for i in keep)


def formula_variables(expr: str, what: str, formula: str) -> list[str]:
    """The data columns a formulae expression uses."""
    try:
        names = model_description(_power_in_calls(expr)).var_names
    except Exception as err:  # formulae's parse errors have several types
        raise FormulaError(f"Cannot read {what} '{expr}': {err}", formula) from err
    return sorted(n for n in names if n and n not in FORMULA_NAMESPACE)


def formulae_frame(df: pd.DataFrame, columns) -> pd.DataFrame:
    """The data as formulae evaluates it: factor columns with R's levels, and the column of
    ones behind brms's ``Intercept`` term."""
    out = with_r_factors(df, columns)
    out[INTERCEPT_COLUMN] = 1.0
    out.attrs["ordered_factors"] = ordered_factors(df, columns)
    return out


def _formulae_expression(expr: str, data: pd.DataFrame) -> str:
    """brms's terms in formulae's words: ``Intercept`` as a column of ones, ordered factors with
    R's polynomial contrasts."""
    expr = re.sub(r"(?<![\w.`])Intercept(?![\w.(`])", INTERCEPT_COLUMN, expr)
    expr = re.sub(r"(?<![\w.`])scale\(", f"{RSCALE}(", expr)
    expr = _power_in_calls(expr)
    for col in data.attrs.get("ordered_factors", ()):
        if re.fullmatch(r"[A-Za-z][\w.]*", str(col)):
            expr = re.sub(rf"(?<![\w.`]){re.escape(col)}(?![\w.(`])", f"C({col}, {POLY})", expr)
    return expr


def _power_in_calls(expr: str) -> str:
    """R's ``^`` in formulae's words, ``**``: a power inside a call (``I(x^2)``) and the
    interactions of a sum outside one (``(a + b)^2``: main effects and two-way interactions),
    the two meanings R gives it."""
    return expr.replace("^", "**")


_POLY_NAME = re.compile(rf"C\((.+?), {POLY}\)(?:\[([^\]]*)\])?")
# formulae numbers poly()'s columns from 0, R from 1
_POLY_COLUMN = re.compile(r"^(poly\(.*\))\[(\d+)\]$")


def _user_text(name: str) -> str:
    """A formulae term or column name as the user wrote it (``x.L`` for an ordered factor,
    ``I(x^2)``, ``scale(x)``, ``poly(x, 2)1``)."""
    name = _POLY_NAME.sub(lambda m: m.group(1) + (m.group(2) or ""), name)
    name = name.replace(INTERCEPT_COLUMN, "Intercept").replace(f"{RSCALE}(", "scale(")
    name = name.replace(" ** ", "^").replace("**", "^")
    poly = _POLY_COLUMN.match(name)
    if poly:
        name = f"{poly[1]}{int(poly[2]) + 1}"
    return name


def _r_order(terms: dict) -> list[str]:
    """R's model.matrix orders terms by degree (main effects, then 2-way interactions, ...)."""
    names = list(terms)
    return sorted(names, key=lambda k: len(getattr(terms[k], "components", [])))


def _ordered(common) -> tuple[np.ndarray, tuple[str, ...], bool]:
    """formulae's matrix with columns in R's order and the user's names."""
    mat = np.asarray(common.design_matrix, dtype=float)
    cols, names, has_int = [], [], False
    columns = common.as_dataframe().columns
    for term in _r_order(common.terms):
        if term == "Intercept":
            has_int = True
        sl = common.slices[term]
        idx = range(sl.start, sl.stop)
        cols.extend(idx)
        names.extend(_user_text(columns[i]) for i in idx)
    return mat[:, cols], tuple(names), has_int


def _check_finite(mat: np.ndarray, names, rows: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(mat)
    if not bad.any():
        return
    j = int(np.flatnonzero(bad.any(axis=0))[0])
    col = bad[:, j]
    value = mat[np.argmax(col), j]
    raise DataError(
        f"The {where} '{names[j]}' is {r_num(value)} in {int(col.sum())} of "
        f"{len(col)} rows ({first_rows(col, rows)}); every value must be a finite number."
    )


def evaluate(expr: str, frame: pd.DataFrame, formula: str, where: str, rows: np.ndarray) -> Matrix:
    """Evaluate a right-hand side on the data (a frame from ``formulae_frame``).

    Raises
    ------
    FormulaError
        The expression cannot be evaluated (an unknown function, say).
    DataError
        A column is not finite in some row (``log(0)``), naming the term and the rows.
    """
    expr = _formulae_expression(expr, frame)
    try:
        with np.errstate(all="ignore"):  # log(0) and the like are reported below, by row
            dm = design_matrices(expr, frame, na_action="pass", extra_namespace=_FORMULAE_NAMESPACE)
    except FormulaError:
        raise
    except Exception as err:
        reason = str(err)
        if isinstance(err, KeyError) and err.args and err.args[0] not in frame.columns:
            known = ", ".join(f"{f}()" for f in FORMULA_NAMESPACE)
            reason = f"'{err.args[0]}' is neither a column nor a known function ({known})"
        raise FormulaError(
            f"Cannot evaluate {where} '{_user_text(expr)}': {reason}.", formula
        ) from err
    common = dm.common
    if common is None:
        return Matrix(np.zeros((len(frame), 0)), (), False, None)
    mat, raw, has_int = _ordered(common)
    _check_finite(mat, raw, rows, where)
    return Matrix(mat, tuple(clean_name(n) for n in raw), has_int, common)


def evaluate_new(fitted: Matrix, newdata: pd.DataFrame, where: str, rows: np.ndarray) -> Matrix:
    """The fitted terms of ``fitted`` on new data (training levels, contrasts and names)."""
    if fitted.terms is None:
        return Matrix(np.zeros((len(newdata), 0)), (), False, None)
    frame = newdata.assign(**{INTERCEPT_COLUMN: 1.0})
    try:
        with np.errstate(all="ignore"):
            common = fitted.terms.evaluate_new_data(frame)
    except ValueError as err:
        raise ValueError(f"newdata does not fit the {where}s: {err}") from None
    mat, raw, has_int = _ordered(common)
    _check_finite(mat, raw, rows, f"{where} (in newdata)")
    return Matrix(mat, fitted.names, has_int, fitted.terms)


# -- arithmetic expressions of columns (addition-term arguments, offsets) ----------------------

_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.Name,
    ast.Constant,
    ast.Call,
    ast.Load,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.Pow,
    ast.USub,
    ast.UAdd,
)


def _parse_expression(expr: str, where: str, formula: str) -> ast.Expression:
    # R's ^ is Python's **
    try:
        tree = ast.parse(expr.replace("^", "**"), mode="eval")
    except SyntaxError as err:
        raise FormulaError(f"Cannot read {where} '{expr}'.", formula) from err
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise FormulaError(
                f"Cannot read {where} '{expr}': only column names, numbers, + - * / ^ and "
                f"functions ({', '.join(FORMULA_NAMESPACE)}) are allowed.",
                formula,
            )
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in FORMULA_NAMESPACE
        ):
            raise FormulaError(f"Unknown function in {where} '{expr}'.", formula)
    return tree


def expression_columns(expr: str, where: str, formula: str) -> list[str]:
    """Data columns an arithmetic expression such as ``m + (n - m)`` uses."""
    tree = _parse_expression(expr, where, formula)
    funcs = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call)}
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return sorted(names - funcs)


def eval_expression(expr: str, df: pd.DataFrame, where: str, formula: str) -> np.ndarray:
    """Evaluate an arithmetic expression of columns (addition-term arguments, offsets)."""
    tree = _parse_expression(expr, where, formula)
    cols = {c: df[c].to_numpy(dtype=float) for c in expression_columns(expr, where, formula)}
    code = compile(tree, "<formula>", "eval")
    return eval(code, {"__builtins__": {}}, {**FORMULA_NAMESPACE, **cols})  # noqa: S307 - checked AST
