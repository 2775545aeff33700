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

from ._rformat import r_num
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


def _check_columns(needed: dict[str, str], data: pd.DataFrame) -> None:
    for col, where in needed.items():
        if col not in data.columns:
            avail = ", ".join(map(str, data.columns))
            raise KeyError(
                f"Column '{col}' (used in formula term '{where}') is not in the data. "
                f"Available columns: {avail}."
            )


def _r_order(terms: dict) -> list[str]:
    """R's model.matrix orders terms by degree (main effects, then 2-way interactions, ...)."""
    names = list(terms)
    return sorted(names, key=lambda k: len(getattr(terms[k], "components", [])))


def _evaluate(expr: str, data: pd.DataFrame, formula: str, where: str):
    """Evaluate an RHS with formulae; return (matrix, brms column names, has_intercept, design)."""
    try:
        dm = design_matrices(expr, data, na_action="pass", extra_namespace=FORMULA_NAMESPACE)
    except FormulaError:
        raise
    except Exception as err:
        raise FormulaError(f"Cannot evaluate {where} '{expr}': {err}", formula) from err
    common = dm.common
    if common is None:
        return np.zeros((len(data), 0)), (), False, None
    mat, names, has_int = _ordered(common)
    return mat, names, has_int, common


def _ordered(common) -> tuple[np.ndarray, tuple[str, ...], bool]:
    """formulae's matrix with columns in R's order and brms's names."""
    mat = np.asarray(common.design_matrix, dtype=float)
    cols, names, has_int = [], [], False
    for term in _r_order(common.terms):
        if term == "Intercept":
            has_int = True
        sl = common.slices[term]
        idx = range(sl.start, sl.stop)
        cols.extend(idx)
        names.extend(common.as_dataframe().columns[i] for i in idx)
    return mat[:, cols], tuple(clean_name(n) for n in names), has_int


def _level_labels(data: pd.DataFrame, cols: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Grouping factor as integer index and level names (numeric columns become factors)."""

    def label(v) -> str:
        if isinstance(v, float | np.floating):
            return r_num(v)
        return str(v)

    def ordered_levels(s: pd.Series) -> list:
        if isinstance(s.dtype, pd.CategoricalDtype):
            return [c for c in s.cat.categories if c in set(s)]
        uniq = pd.unique(s)
        if pd.api.types.is_numeric_dtype(s):
            return sorted(uniq)
        return sorted(uniq, key=str)

    if len(cols) == 1:
        s = data[cols[0]]
        levels = ordered_levels(s)
        names = [label(v) for v in levels]
        lookup = {v: i for i, v in enumerate(levels)}
        index = np.fromiter((lookup[v] for v in s), dtype=np.int64, count=len(s))
        return index, tuple(names)
    pasted = ["_".join(label(v) for v in row) for row in zip(*(data[c] for c in cols), strict=True)]
    names = sorted(set(pasted))
    lookup = {v: i for i, v in enumerate(names)}
    return np.array([lookup[v] for v in pasted], dtype=np.int64), tuple(names)


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
    _check_columns(needed, data)

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
    if len(df) == 0:
        raise ValueError("No rows left after excluding rows with missing values.")

    y = _response(f, df)

    X, names, has_int, fixed_terms = _evaluate(f.fixed, df, f.text, "population-level terms")
    keep = (
        [i for i, n in enumerate(names) if n != "Intercept"] if has_int else list(range(len(names)))
    )
    Xk = X[:, keep]
    coefs = tuple(names[i] for i in keep)
    means = Xk.mean(axis=0) if has_int else np.zeros(len(keep))
    fixed = FixedDesign(Xk, coefs, has_int, means, fixed_terms)

    blocks: list[GroupBlock] = []
    seen: dict[str, dict[str, str]] = {}
    for i, t in enumerate(f.group_terms, start=1):
        Z, znames, _, zterms = _evaluate(t.expr, df, f.text, "group-level term")
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
    additions = _additions(f, df)
    # the family sees the column itself, so that ordered categories keep their order
    raw_y = df[f.response] if f.response in df.columns else y
    response = fam.prepare_response(f.response, raw_y, additions)
    return Design(
        f,
        df,
        y,
        fixed,
        tuple(blocks),
        additions,
        n_dropped,
        response=response,
        offset=_offset(f, df),
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


def _additions(f: BrmsFormula, df: pd.DataFrame) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for a in f.additions:
        if not a.args:
            raise FormulaError(f"Addition term {a.name}() needs an argument.", f.text)
        out[a.name] = _column(a.args[0], df, f"{a.name}({a.args[0]})", f.text)
    return out


def _column(expr: str, df: pd.DataFrame, where: str, formula: str) -> np.ndarray:
    """An expression of columns (or a number) as one float per row."""
    value = eval_expression(expr, df, where, formula)
    return np.broadcast_to(np.asarray(value, dtype=float), (len(df),)).copy()


def _offset(f: BrmsFormula, df: pd.DataFrame) -> np.ndarray | None:
    """The sum of the formula's ``offset(...)`` terms, or None without any."""
    if not f.offsets:
        return None
    return sum(_column(o, df, f"offset({o})", f.text) for o in f.offsets)


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
    _check_columns(needed, newdata)
    df = newdata.reset_index(drop=True)
    missing = [c for c in needed if df[c].isna().any()]
    if missing:
        raise ValueError(f"newdata has missing values in {', '.join(missing)}.")
    n = len(df)
    fx = design.fixed
    if fx.terms is not None:
        try:
            X, names, has_int = _ordered(fx.terms.evaluate_new_data(df))
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
            Z, _, _ = _ordered(blk.terms.evaluate_new_data(df))
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
        a.name: _column(a.args[0], df, f"{a.name}({a.args[0]})", f.text)
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
            offset=_offset(f, df),
        ),
        new_levels,
    )
