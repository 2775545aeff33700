"""Data columns as the model reads them: checks of names, types and values, and R's factor
semantics for categorical columns.

Every check runs before anything is compiled or sampled and names the column, the formula term
that uses it and the first offending row (rows count from 1 in the data as passed, as R counts
them).

Categorical columns follow R's factors, as brms sees them: a pandas ``Categorical`` keeps its
category order (the first category is the reference level), unused categories are dropped (as
R's model frame drops unused levels), text columns are sorted as R sorts text, and an ordered
``Categorical`` gets R's orthogonal polynomial contrasts (``.L``, ``.Q``, ``.C``, ``^4``, ...).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from formulae.categorical import ContrastMatrix, Encoding

from ._rformat import r_collate

__all__ = [
    "DataError",
    "as_pandas",
    "MissingColumnError",
    "POLY",
    "PolyContrast",
    "check_column_names",
    "check_column_types",
    "first_rows",
    "is_factor",
    "ordered_factors",
    "r_levels",
    "row_text",
    "with_r_factors",
]


def as_pandas(data, argument: str = "data") -> pd.DataFrame:
    """A pandas DataFrame of ``data``: pandas as it is; polars, pyarrow and any other table
    narwhals reads, converted column by column.

    Text categories without a declared order (polars ``Categorical``, pyarrow dictionaries)
    become text, so that their levels are sorted as R sorts a character column; a polars
    ``Enum`` keeps its declared order (the first value is the reference level) as an unordered
    pandas ``Categorical``, R's ``factor(x, levels = ...)``; polynomial contrasts come from an
    ordered pandas ``Categorical``.
    """
    if isinstance(data, pd.DataFrame):
        return data
    import narwhals as nw

    try:
        frame = nw.from_native(data, eager_only=True)
    except TypeError:
        raise TypeError(
            f"{argument} must be a pandas, polars or pyarrow table, got {type(data).__name__}."
        ) from None
    unordered = [name for name, dtype in frame.schema.items() if dtype == nw.Categorical]
    enums = [name for name, dtype in frame.schema.items() if dtype == nw.Enum]
    if unordered:
        frame = frame.with_columns(nw.col(*unordered).cast(nw.String))
    out = frame.to_pandas()
    for name in enums:  # R's factor(x, levels = ...): treatment contrasts, not polynomial
        out[name] = out[name].cat.as_unordered()
    return out


class MissingColumnError(KeyError):
    """A column the formula uses is not in the data (the message lists the ones there)."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


class DataError(ValueError):
    """Values in the data that the model cannot use; the message names column, term and rows."""


def is_factor(s: pd.Series) -> bool:
    """Whether R would treat the column as a factor: text or a pandas Categorical."""
    return isinstance(s.dtype, pd.CategoricalDtype) or (
        not pd.api.types.is_bool_dtype(s.dtype)
        and not pd.api.types.is_numeric_dtype(s.dtype)
        and not pd.api.types.is_datetime64_any_dtype(s.dtype)
    )


def r_levels(s: pd.Series) -> list:
    """The levels R's ``factor()`` gives a column, unused ones dropped.

    A Categorical keeps its category order; numbers sort numerically; text sorts as R sorts it
    in an English locale (case-insensitive first, lower case first on ties).
    """
    present = s.dropna()
    if isinstance(s.dtype, pd.CategoricalDtype):
        used = set(present)
        return [c for c in s.cat.categories if c in used]
    uniq = pd.unique(present)
    if pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
        return sorted(uniq)
    return sorted(uniq, key=lambda v: r_collate(str(v)))


def with_r_factors(df: pd.DataFrame, columns) -> pd.DataFrame:
    """A copy of ``df`` whose factor columns are ordered Categoricals with R's levels.

    formulae keeps the category order of an ordered Categorical and sorts everything else with
    Python's rules, so this is how R's level order (and reference level) reaches it.
    """
    out = df.copy()
    for col in columns:
        if col in out.columns and is_factor(out[col]):
            levels = r_levels(out[col])
            out[col] = pd.Categorical(out[col], categories=levels, ordered=True)
    return out


def ordered_factors(df: pd.DataFrame, columns) -> list[str]:
    """Columns that are ordered Categoricals (R's ordered factors: polynomial contrasts)."""
    return [
        c
        for c in columns
        if c in df.columns and isinstance(df[c].dtype, pd.CategoricalDtype) and df[c].cat.ordered
    ]


def _poly_names(k: int) -> list[str]:
    names = [".L", ".Q", ".C"]
    return [names[i] if i < 3 else f"^{i + 1}" for i in range(k - 1)]


def poly_contrasts(k: int) -> np.ndarray:
    """R's ``contr.poly(k)``: orthonormal polynomial contrasts of the scores 1..k (k × k-1)."""
    scores = np.arange(1, k + 1, dtype=float)
    X = np.vander(scores - scores.mean(), k, increasing=True)
    Q, R = np.linalg.qr(X)
    Z = Q * np.sign(np.diag(R))
    return Z[:, 1:]


class PolyContrast(Encoding):
    """R's polynomial contrasts for ordered factors, as a formulae encoding."""

    def code_with_intercept(self, levels):
        # without an intercept R codes the first factor with one indicator per level
        return ContrastMatrix(np.eye(len(levels)), [str(v) for v in levels])

    def code_without_intercept(self, levels):
        return ContrastMatrix(poly_contrasts(len(levels)), _poly_names(len(levels)))


POLY = "Rpoly"  # the name PolyContrast has in formulae's namespace


def row_text(rows: np.ndarray, i: int) -> str:
    """``"row 12"``: the data row (counted from 1) of position ``i`` among the rows in use."""
    return f"row {int(rows[i])}"


def first_rows(mask: np.ndarray, rows: np.ndarray, limit: int = 3) -> str:
    """The first offending rows, e.g. ``"rows 3, 9, 11, ..."``."""
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(int(rows[i])) for i in idx[:limit])
    more = ", ..." if len(idx) > limit else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


def check_column_names(data: pd.DataFrame, needed: dict[str, str]) -> None:
    """Every column the formula uses exists once.

    Raises
    ------
    KeyError
        A missing column (the message names the term and lists the available columns).
    ValueError
        A column name used twice in the data.
    """
    for col, where in needed.items():
        if col not in data.columns:
            avail = ", ".join(map(str, data.columns))
            raise MissingColumnError(
                f"Column '{col}' (used in formula term '{where}') is not in the data. "
                f"Available columns: {avail}."
            )
    dup = data.columns[data.columns.duplicated()]
    used_dup = [c for c in dict.fromkeys(dup) if c in needed]
    if used_dup:
        c = used_dup[0]
        n = int((data.columns == c).sum())
        raise ValueError(
            f"The data has {n} columns named '{c}' (used in formula term '{needed[c]}'); "
            "column names must be unique."
        )


_UNSUPPORTED_KINDS = {
    "M": "dates or times (datetime64)",
    "m": "time spans (timedelta64)",
    "c": "complex numbers",
}


def check_column_types(data: pd.DataFrame, needed: dict[str, str]) -> None:
    """Every used column holds numbers, booleans, text or categories, of one kind.

    Raises
    ------
    TypeError
        Dates, time spans, periods, intervals, complex numbers, or a column mixing value types
        (numbers and text, say); the message names the column, its term and example rows.
    """
    for col, where in needed.items():
        s = data[col]
        kind = getattr(s.dtype, "kind", "O")
        what = _UNSUPPORTED_KINDS.get(kind)
        if what is None and isinstance(s.dtype, pd.PeriodDtype | pd.IntervalDtype):
            what = f"{s.dtype.name} values"
        if what is None and isinstance(s.dtype, pd.DatetimeTZDtype):
            what = "dates or times (datetime64)"
        if what is not None:
            raise TypeError(
                f"Column '{col}' (used in formula term '{where}') holds {what}, which a model "
                "cannot use directly; convert it to numbers (e.g. days since a start date) or "
                "to text categories."
            )
        if s.dtype == object:
            _check_one_type(col, where, s)


def _check_one_type(col: str, where: str, s: pd.Series) -> None:
    present = s[s.notna()]
    kinds = present.map(_value_kind)
    found = list(dict.fromkeys(kinds))
    if len(found) <= 1:
        if found == ["other"]:
            v = present.iloc[0]
            raise TypeError(
                f"Column '{col}' (used in formula term '{where}') holds {type(v).__name__} "
                f"objects such as {v!r} (row {int(np.flatnonzero(s.notna())[0]) + 1}); a model "
                "needs numbers, booleans, text or categories."
            )
        return
    pos = {k: int(np.flatnonzero(s.notna())[np.argmax(kinds.to_numpy() == k)]) for k in found}
    examples = ", ".join(f"{k} in row {pos[k] + 1} ({s.iloc[pos[k]]!r})" for k in found)
    raise TypeError(
        f"Column '{col}' (used in formula term '{where}') mixes value types: {examples}. "
        f"Make it all numbers or all text (e.g. df['{col}'].astype(str))."
    )


def _value_kind(v) -> str:
    if isinstance(v, bool | np.bool_):
        return "booleans"
    if isinstance(v, int | float | np.integer | np.floating):
        return "numbers"
    if isinstance(v, str):
        return "text"
    return "other"
