"""Stage 2 — terms + data into design matrices (the ``make_standata`` of bayesml).

Builds the population-level matrix ``X`` (intercept column removed, centring means kept, as
brms does), one ``GroupBlock`` per group-level term (``Z`` columns, level index, level names)
and the response, after dropping rows with missing values in any column the model uses.
"""

from __future__ import annotations

import ast
import re
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
from formulae import design_matrices, model_description

from ._rformat import r_collate, r_num
from .columns import (
    POLY,
    DataError,
    PolyContrast,
    check_column_names,
    check_column_types,
    first_rows,
    ordered_factors,
    r_levels,
    with_r_factors,
)
from .families import Family, ResponseData, get_family
from .formula import BrmsFormula, FormulaError, GroupTerm, parse_formula

__all__ = ["Design", "FixedDesign", "GroupBlock", "make_design", "clean_name"]


class DataWarning(UserWarning):
    """Rows were excluded or data were changed on the way into the model."""


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


@dataclass
class FixedDesign:
    """Population-level design without the intercept column.

    ``X`` is uncentred; with an intercept the model uses ``X - means`` (brms's ``Xc``) and
    recovers ``b_Intercept = Intercept - means @ b``.
    """

    X: np.ndarray
    coefs: tuple[str, ...]
    intercept: bool
    means: np.ndarray
    terms: object | None = None  # formulae's design, to evaluate new data

    @property
    def Xc(self) -> np.ndarray:
        return self.X - self.means if self.intercept else self.X


@dataclass
class GroupBlock:
    """One group-level term: its coefficients vary by the levels of ``group``.

    ``id`` numbers blocks from 1 in formula order, as brms's Stan code does (``sd_1``,
    ``z_1``, ``L_1``); several blocks can share a group.
    """

    id: int
    group: str
    coefs: tuple[str, ...]
    correlated: bool
    Z: np.ndarray
    index: np.ndarray
    levels: tuple[str, ...]
    term: GroupTerm
    terms: object | None = None

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def has_cor(self) -> bool:
        return self.correlated and len(self.coefs) > 1


@dataclass
class Design:
    """Everything the model needs from formula and data."""

    formula: BrmsFormula
    data: pd.DataFrame
    y: np.ndarray
    fixed: FixedDesign
    blocks: tuple[GroupBlock, ...]
    additions: dict[str, np.ndarray] = field(default_factory=dict)
    n_dropped: int = 0
    response: ResponseData | None = None  # the response as the family's likelihood codes it
    offset: np.ndarray | None = None  # sum of offset(...) terms
    rows: np.ndarray | None = None  # each row's number in the data as passed (from 1)

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


def _variables(expr: str, what: str, formula: str) -> list[str]:
    try:
        names = model_description(expr).var_names
    except Exception as err:  # formulae's parse errors have several types
        raise FormulaError(f"Cannot read {what} '{expr}': {err}", formula) from err
    return sorted(n for n in names if n and n not in FORMULA_NAMESPACE)


def _r_order(terms: dict) -> list[str]:
    """R's model.matrix orders terms by degree (main effects, then 2-way interactions, ...)."""
    names = list(terms)
    return sorted(names, key=lambda k: len(getattr(terms[k], "components", [])))


def _evaluate(
    expr: str, data: pd.DataFrame, formula: str, where: str, rows: np.ndarray | None = None
):
    """Evaluate an RHS with formulae; return (matrix, brms column names, has_intercept, design).

    ``data`` is a frame from ``formulae_frame``. With ``rows`` (the data's row numbers), a
    column that is not finite in some row (``log(0)``, say) is an error naming the term.
    """
    expr = formulae_expression(expr, data)
    try:
        with np.errstate(all="ignore"):  # log(0) and the like are reported below, by row
            dm = design_matrices(expr, data, na_action="pass", extra_namespace=_FORMULAE_NAMESPACE)
    except FormulaError:
        raise
    except Exception as err:
        reason = str(err)
        if isinstance(err, KeyError) and err.args and err.args[0] not in data.columns:
            known = ", ".join(f"{f}()" for f in FORMULA_NAMESPACE)
            reason = f"'{err.args[0]}' is neither a column nor a known function ({known})"
        raise FormulaError(
            f"Cannot evaluate {where} '{_user_text(expr)}': {reason}.", formula
        ) from err
    common = dm.common
    if common is None:
        return np.zeros((len(data), 0)), (), False, None
    mat, raw, has_int = _ordered(common)
    if rows is not None:
        _check_finite(mat, raw, rows, where)
    return mat, tuple(clean_name(n) for n in raw), has_int, common


_POLY_NAME = re.compile(rf"C\((.+?), {POLY}\)(?:\[([^\]]*)\])?")


def _user_text(name: str) -> str:
    """A formulae term or column name as the user wrote it (``x.L`` for an ordered factor)."""
    name = _POLY_NAME.sub(lambda m: m.group(1) + (m.group(2) or ""), name)
    return name.replace(INTERCEPT_COLUMN, "Intercept")


def formulae_frame(df: pd.DataFrame, columns) -> pd.DataFrame:
    """The data as formulae evaluates it: factor columns with R's levels, and the column of
    ones behind brms's ``Intercept`` term."""
    out = with_r_factors(df, columns)
    out[INTERCEPT_COLUMN] = 1.0
    out.attrs["ordered_factors"] = ordered_factors(df, columns)
    return out


def formulae_expression(expr: str, data: pd.DataFrame) -> str:
    """brms's terms in formulae's words: ``Intercept`` as a column of ones, ordered factors with
    R's polynomial contrasts."""
    expr = re.sub(r"(?<![\w.`])Intercept(?![\w.(`])", INTERCEPT_COLUMN, expr)
    for col in data.attrs.get("ordered_factors", ()):
        if re.fullmatch(r"[A-Za-z][\w.]*", str(col)):
            expr = re.sub(rf"(?<![\w.`]){re.escape(col)}(?![\w.(`])", f"C({col}, {POLY})", expr)
    return expr


def _check_finite(mat: np.ndarray, names, rows: np.ndarray, where: str) -> None:
    bad = ~np.isfinite(mat)
    if not bad.any():
        return
    j = int(np.flatnonzero(bad.any(axis=0))[0])
    col = bad[:, j]
    value = mat[np.argmax(col), j]
    raise DataError(
        f"The {where} '{_user_text(names[j])}' is {r_num(value)} in {int(col.sum())} of "
        f"{len(col)} rows ({first_rows(col, rows)}); every value must be a finite number."
    )


def _ordered(common) -> tuple[np.ndarray, tuple[str, ...], bool]:
    """formulae's matrix with columns in R's order and formulae's names."""
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


def _level_labels(data: pd.DataFrame, cols: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Grouping factor as integer index and level names, in R's factor order (numeric columns
    become factors; ``a:b`` pastes the values with ``_`` and sorts the result as text)."""

    def label(v) -> str:
        if isinstance(v, float | np.floating):
            return r_num(v)
        return str(v)

    if len(cols) == 1:
        s = data[cols[0]]
        levels = r_levels(s)
        names = [label(v) for v in levels]
        lookup = {v: i for i, v in enumerate(levels)}
        index = np.fromiter((lookup[v] for v in s), dtype=np.int64, count=len(s))
        return index, tuple(names)
    pasted = ["_".join(label(v) for v in row) for row in zip(*(data[c] for c in cols), strict=True)]
    names = sorted(set(pasted), key=r_collate)
    lookup = {v: i for i, v in enumerate(names)}
    return np.array([lookup[v] for v in pasted], dtype=np.int64), tuple(names)


@dataclass(frozen=True)
class Collinearity:
    """A population-level column that the others (and the intercept) determine exactly."""

    column: str
    depends_on: tuple[str, ...]  # the columns it is a combination of (empty: it is constant)
    weights: tuple[float, ...]  # column = sum(weights * depends_on) after centring


def collinear_columns(fixed: FixedDesign, tol: float = 1e-7) -> list[Collinearity]:
    """Columns of the population-level design that are exact linear combinations of others
    (after centring when the model has an intercept, so a constant column shows up as one).

    A pivoted QR decomposition finds the rank, as lme4 does before it drops columns; each
    column beyond the rank is then written in terms of the independent ones.
    """
    from scipy.linalg import lstsq, qr

    M = fixed.Xc
    if M.shape[1] == 0:
        return []
    norms = np.linalg.norm(M, axis=0)
    scale = np.where(norms > 0, norms, 1.0)
    _, R, piv = qr(M / scale, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int((diag > tol * max(diag.max(), 1.0)).sum()) if len(diag) else 0
    indep, dep = piv[:rank], piv[rank:]
    out = []
    for j in dep:
        if norms[j] <= tol * max(norms.max(), 1.0) or rank == 0:
            out.append(Collinearity(fixed.coefs[j], (), ()))
            continue
        coef = lstsq(M[:, indep], M[:, j])[0]
        keep = np.abs(coef) * norms[indep] > 1e-8 * norms[j]
        out.append(
            Collinearity(
                fixed.coefs[j],
                tuple(fixed.coefs[i] for i in indep[keep]),
                tuple(float(c) for c in coef[keep]),
            )
        )
    return out


def _needed_columns(
    f: BrmsFormula, group_terms, response: bool, additions: tuple[str, ...] | None = None
) -> dict[str, str]:
    """Data columns the formula uses, each with the term that uses it (for messages)."""
    needed: dict[str, str] = {}
    if response:
        for v in _variables(f.response, "response", f.text):
            needed.setdefault(v, f.response)
    if f.fixed.strip() not in ("0", "-1", "1"):
        for v in _variables(f.fixed, "population-level terms", f.text):
            needed.setdefault(v, f.fixed)
    for t in group_terms:
        if t.expr.strip() not in ("1", "0", "-1"):
            for v in _variables(t.expr, "group-level term", f.text):
                needed.setdefault(v, t.text)
        for v in t.group_vars:
            needed.setdefault(v, t.text)
    for a in f.additions:
        if additions is not None and a.name not in additions:
            continue
        for arg in a.args:
            for v in expression_columns(arg, f"{a.name}() argument", f.text):
                needed.setdefault(v, f"{a.name}({arg})")
    for off in f.offsets:
        for v in expression_columns(off, "offset", f.text):
            needed.setdefault(v, f"offset({off})")
    return needed


def make_design(
    formula: str | BrmsFormula, data: pd.DataFrame, family: str | Family = "gaussian"
) -> Design:
    """Build design matrices and level indices for a formula (brms's ``make_standata``).

    Parameters
    ----------
    formula : str or BrmsFormula
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
        The formula cannot be read or evaluated.
    KeyError
        A column named in the formula is missing (the message lists the available ones).
    ResponseError
        The response does not suit the family (the message names the column and the rule).

    Notes
    -----
    Rows with a missing value in any column the model uses are dropped, with a
    ``DataWarning`` giving the count, as brms does.
    """
    f = parse_formula(formula)
    fam = get_family(family)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    needed = _needed_columns(f, f.group_terms, response=True)
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
    fixed = _fixed_design(f, frame, rows)
    blocks = _group_blocks(f, df, frame, rows)
    additions = _additions(f, df, rows)
    # the family sees the column itself, so that ordered categories keep their order
    raw_y = df[f.response] if f.response in df.columns else y
    _check_finite_response(f.response, raw_y, rows)
    response = fam.prepare_response(f.response, raw_y, additions, rows)
    return Design(
        f,
        df,
        y,
        fixed,
        blocks,
        additions,
        n_dropped,
        response=response,
        offset=_offset(f, df, rows),
        rows=rows,
    )


def _claim_intercept(needed: dict[str, str], data: pd.DataFrame, f: BrmsFormula) -> None:
    """brms's ``Intercept`` term (``0 + Intercept``: the uncentred intercept as a
    population-level effect) is no data column; a column of that name would make the formula
    mean two things."""
    if "Intercept" not in needed or needed["Intercept"] != f.fixed:
        return
    if "Intercept" in data.columns:
        raise FormulaError(
            "The data has a column named 'Intercept', and in a formula 'Intercept' is brms's "
            "intercept term (as in '0 + Intercept'); rename the column.",
            f.text,
        )
    del needed["Intercept"]


def _fixed_design(f: BrmsFormula, frame: pd.DataFrame, rows: np.ndarray) -> FixedDesign:
    X, names, has_int, terms = _evaluate(f.fixed, frame, f.text, "population-level term", rows)
    keep = [i for i, n in enumerate(names) if n != "Intercept"] if has_int else range(len(names))
    keep = list(keep)
    Xk = X[:, keep]
    means = Xk.mean(axis=0) if has_int else np.zeros(len(keep))
    return FixedDesign(Xk, tuple(names[i] for i in keep), has_int, means, terms)


def _group_blocks(
    f: BrmsFormula, df: pd.DataFrame, frame: pd.DataFrame, rows: np.ndarray
) -> tuple[GroupBlock, ...]:
    blocks: list[GroupBlock] = []
    seen: dict[str, dict[str, str]] = {}
    for i, t in enumerate(f.group_terms, start=1):
        Z, znames, _, zterms = _evaluate(t.expr, frame, f.text, "group-level term", rows)
        if Z.shape[1] == 0:
            raise FormulaError(f"Group-level term {t.text} has no effects.", f.text)
        owner = seen.setdefault(t.group, {})
        for c in znames:
            if c in owner:
                raise FormulaError(
                    f"Duplicated group-level effect '{c}' for group '{t.group}' "
                    f"(in {owner[c]} and {t.text}).",
                    f.text,
                )
            owner[c] = t.text
        index, levels = _level_labels(df, t.group_vars)
        blocks.append(GroupBlock(i, t.group, znames, t.correlated, Z, index, levels, t, zterms))
    return tuple(blocks)


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


def _additions(f: BrmsFormula, df: pd.DataFrame, rows: np.ndarray) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for a in f.additions:
        if not a.args:
            raise FormulaError(f"Addition term {a.name}() needs an argument.", f.text)
        where = f"{a.name}({a.args[0]})"
        out[a.name] = _column(a.args[0], df, where, f.text, rows)
        if a.name == "weights":
            _check_weights(out[a.name], where, rows)
    return out


def _check_weights(w: np.ndarray, where: str, rows: np.ndarray) -> None:
    """brms's weights multiply each row's log-likelihood: non-negative, not all zero."""
    neg = w < 0
    if neg.any():
        raise DataError(
            f"The {where} term has {int(neg.sum())} negative weight(s) "
            f"({first_rows(neg, rows)}, e.g. {r_num(w[np.argmax(neg)])}); weights must be >= 0."
        )
    if not (w > 0).any():
        raise DataError(
            f"Every weight in {where} is 0, so no row informs the model; weights must include "
            "positive values."
        )


def _column(
    expr: str, df: pd.DataFrame, where: str, formula: str, rows: np.ndarray | None = None
) -> np.ndarray:
    """An expression of columns (or a number) as one finite float per row."""
    with np.errstate(all="ignore"):
        value = eval_expression(expr, df, where, formula)
    out = np.broadcast_to(np.asarray(value, dtype=float), (len(df),)).copy()
    bad = ~np.isfinite(out)
    if bad.any():
        shown = first_rows(bad, rows) if rows is not None else "some rows"
        raise DataError(
            f"The term {where} is {r_num(out[np.argmax(bad)])} in {int(bad.sum())} of {len(out)} "
            f"rows ({shown}); every value must be a finite number."
        )
    return out


def _offset(f: BrmsFormula, df: pd.DataFrame, rows: np.ndarray | None = None) -> np.ndarray | None:
    """The sum of the formula's ``offset(...)`` terms, or None without any."""
    if not f.offsets:
        return None
    return sum(_column(o, df, f"offset({o})", f.text, rows) for o in f.offsets)


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
    # new data need no response and no weights, but trials and se where the family uses them
    needed = _needed_columns(
        f, [b.term for b in blocks], response=False, additions=("trials", "se")
    )
    _claim_intercept(needed, newdata, f)
    check_column_names(newdata, needed)
    check_column_types(newdata, needed)
    df = newdata.reset_index(drop=True)
    missing = [c for c in needed if df[c].isna().any()]
    if missing:
        raise ValueError(f"newdata has missing values in {', '.join(missing)}.")
    n = len(df)
    rows = np.arange(1, n + 1)
    frame = df.assign(**{INTERCEPT_COLUMN: 1.0})
    fx = design.fixed
    if fx.terms is not None:
        try:
            X, names, has_int = _ordered(fx.terms.evaluate_new_data(frame))
        except ValueError as err:
            raise ValueError(f"newdata does not fit the population-level terms: {err}") from None
        keep = (
            [i for i, nm in enumerate(names) if nm != "Intercept"] if has_int else range(len(names))
        )
        X = X[:, list(keep)]
    else:
        X = np.zeros((n, 0))
    fixed = FixedDesign(X, fx.coefs, fx.intercept, fx.means, fx.terms)
    new_blocks, new_levels = [], {}
    for blk in blocks:
        if blk.terms is not None:
            Z, _, _ = _ordered(blk.terms.evaluate_new_data(frame))
        else:
            Z = np.ones((n, 1))
        raw_index, labels = _level_labels(df, blk.term.group_vars)
        lookup = {lv: i for i, lv in enumerate(blk.levels)}
        unseen = tuple(lv for lv in labels if lv not in lookup)
        if unseen and not allow_new_levels:
            shown = ", ".join(unseen[:10]) + (", ..." if len(unseen) > 10 else "")
            raise ValueError(
                f"newdata has levels of '{blk.group}' that the model has not seen: {shown}. "
                "Pass allow_new_levels=True to predict for them."
            )
        extended = blk.levels + unseen
        lookup.update({lv: blk.n_levels + i for i, lv in enumerate(unseen)})
        index = np.array([lookup[labels[i]] for i in raw_index], dtype=np.int64)
        new_blocks.append(replace(blk, Z=Z, index=index, levels=extended))
        new_levels[blk.id] = unseen
    additions = {
        a.name: _column(a.args[0], df, f"{a.name}({a.args[0]})", f.text, rows)
        for a in f.additions
        if a.name in ("trials", "se")
    }
    y = np.zeros(n)
    response = None
    if design.response is not None:
        response = ResponseData(
            np.zeros(n, dtype=design.response.y.dtype),
            trials=additions["trials"].astype(np.int64) if "trials" in additions else None,
            se=additions.get("se"),
            categories=design.response.categories,
        )
    return (
        Design(
            f,
            df,
            y,
            fixed,
            tuple(new_blocks),
            additions,
            0,
            response=response,
            offset=_offset(f, df, rows),
            rows=rows,
        ),
        new_levels,
    )
