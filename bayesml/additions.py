"""brms's addition terms on the response, read from the data and checked.

``trials(n)``, ``weights(w)``, ``se(s)``, ``cens(c)``/``cens(c, y2)``, ``trunc(lb = , ub = )``
and ``rate(r)``: each is read by one function of ``READERS`` into named arrays (one value per
row) that the family's response rule and likelihood use. Every check names the term, the rows
and the rule: unknown censoring codes, an upper interval end not above the response, data
outside truncation bounds, negative rates or weights.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._rformat import r_num
from .columns import DataError, first_rows
from .formula import AdditionTerm, BrmsFormula, FormulaError
from .terms.matrix import eval_expression, expression_columns

__all__ = [
    "CENSORING",
    "READERS",
    "addition_columns",
    "column_values",
    "check_against_response",
    "read_additions",
]

# brms's censoring codes: text or numbers
CENSORING = {"left": -1, "none": 0, "right": 1, "interval": 2}


def column_values(
    expr: str, df: pd.DataFrame, where: str, formula: str, rows: np.ndarray
) -> np.ndarray:
    """An expression of columns (or a number) as one finite float per row."""
    with np.errstate(all="ignore"):
        value = eval_expression(expr, df, where, formula)
    out = np.broadcast_to(np.asarray(value, dtype=float), (len(df),)).copy()
    bad = ~np.isfinite(out)
    if bad.any():
        raise DataError(
            f"The term {where} is {r_num(out[np.argmax(bad)])} in {int(bad.sum())} of {len(out)} "
            f"rows ({first_rows(bad, rows)}); every value must be a finite number."
        )
    return out


def _where(a: AdditionTerm) -> str:
    parts = [*a.args, *(f"{k} = {v}" for k, v in a.kwargs)]
    return f"{a.name}({', '.join(parts)})"


def _plain(a: AdditionTerm, df, formula, rows) -> dict[str, np.ndarray]:
    return {a.name: column_values(a.args[0], df, _where(a), formula, rows)}


def _weights(a: AdditionTerm, df, formula, rows) -> dict[str, np.ndarray]:
    """brms's weights multiply each row's log-likelihood: non-negative, not all zero."""
    w = column_values(a.args[0], df, _where(a), formula, rows)
    neg = w < 0
    if neg.any():
        raise DataError(
            f"The {_where(a)} term has {int(neg.sum())} negative weight(s) "
            f"({first_rows(neg, rows)}, e.g. {r_num(w[np.argmax(neg)])}); weights must be >= 0."
        )
    if not (w > 0).any():
        raise DataError(
            f"Every weight in {_where(a)} is 0, so no row informs the model; weights must include "
            "positive values."
        )
    return {"weights": w}


def _cens(a: AdditionTerm, df, formula, rows) -> dict[str, np.ndarray]:
    """Codes -1 (left), 0 (none), 1 (right), 2 (interval, with y2 the upper end)."""
    col = a.args[0]
    if col in df.columns:
        raw = df[col].to_numpy()
    else:
        raw = column_values(col, df, _where(a), formula, rows)
    codes = np.zeros(len(df), dtype=np.int64)
    bad = np.zeros(len(df), dtype=bool)
    for i, v in enumerate(raw):
        key = v.strip().lower() if isinstance(v, str) else v
        if isinstance(key, str) and key in CENSORING:
            codes[i] = CENSORING[key]
        elif not isinstance(key, str) and float(key) in (-1.0, 0.0, 1.0, 2.0):
            codes[i] = int(key)
        else:
            bad[i] = True
    if bad.any():
        raise DataError(
            f"The {_where(a)} term has {int(bad.sum())} unknown censoring code(s) "
            f"({first_rows(bad, rows)}, e.g. {raw[np.argmax(bad)]!r}); brms's codes are 'left', "
            "'none', 'right', 'interval' or -1, 0, 1, 2."
        )
    out = {"cens": codes}
    if (codes == 2).any():
        if len(a.args) < 2:
            raise FormulaError(
                f"{_where(a)}: interval-censored rows ({first_rows(codes == 2, rows)}) need the "
                "upper end as a second argument: cens(censored, y2).",
                formula,
            )
        y2 = np.full(len(df), np.nan)
        interval = codes == 2
        upper = df.loc[interval]
        y2[interval] = column_values(a.args[1], upper, _where(a), formula, rows[interval])
        out["y2"] = y2
    return out


def _trunc(a: AdditionTerm, df, formula, rows) -> dict[str, np.ndarray]:
    bounds = dict(a.kwargs)
    lb = column_values(bounds["lb"], df, _where(a), formula, rows) if "lb" in bounds else None
    ub = column_values(bounds["ub"], df, _where(a), formula, rows) if "ub" in bounds else None
    if lb is not None and ub is not None and (bad := lb >= ub).any():
        raise DataError(
            f"The {_where(a)} term has lower bounds not below the upper ones "
            f"({first_rows(bad, rows)})."
        )
    return {
        "lb": lb if lb is not None else np.full(len(df), -np.inf),
        "ub": ub if ub is not None else np.full(len(df), np.inf),
    }


def _rate(a: AdditionTerm, df, formula, rows) -> dict[str, np.ndarray]:
    r = column_values(a.args[0], df, _where(a), formula, rows)
    bad = r <= 0
    if bad.any():
        raise DataError(
            f"The {_where(a)} term has {int(bad.sum())} rate(s) that are not positive "
            f"({first_rows(bad, rows)}, e.g. {r_num(r[np.argmax(bad)])}); rates must be > 0."
        )
    return {"rate": r}


READERS = {
    "trials": _plain,
    "se": _plain,
    "weights": _weights,
    "cens": _cens,
    "trunc": _trunc,
    "rate": _rate,
}


def read_additions(
    f: BrmsFormula, df: pd.DataFrame, rows: np.ndarray, names=None
) -> dict[str, np.ndarray]:
    """The addition terms of a formula as arrays (``names``: only those terms)."""
    out: dict[str, np.ndarray] = {}
    for a in f.additions:
        if names is None or a.name in names:
            out.update(READERS[a.name](a, df, f.text, rows))
    return out


def addition_columns(a: AdditionTerm, formula: str) -> list[str]:
    """The data columns an addition term uses (its arguments, and trunc()'s bounds)."""
    cols: list[str] = []
    bounds = tuple(v for _, v in a.kwargs) if a.name == "trunc" else ()  # se(s, sigma = TRUE)
    for expr in (*a.args, *bounds):
        cols += expression_columns(expr, f"{a.name}() argument", formula)
    return cols


def check_against_response(additions: dict, y: np.ndarray, column: str, rows) -> None:
    """Checks that need the response: interval ends above it, values inside truncation
    bounds."""
    y = np.asarray(y, dtype=float) if np.asarray(y).dtype.kind in "iufb" else None
    if y is None:
        return
    if "y2" in additions:
        interval = additions["cens"] == 2
        bad = interval & ~(additions["y2"] > y)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"cens(): the upper end y2 must lie above the response '{column}' in "
                f"interval-censored rows; {int(bad.sum())} row(s) break this "
                f"({first_rows(bad, rows)}, e.g. {column} = {r_num(y[i])}, "
                f"y2 = {r_num(additions['y2'][i])})."
            )
    if "lb" in additions:
        bad = (y < additions["lb"]) | (y > additions["ub"])
        if bad.any():
            i = int(np.argmax(bad))
            raise DataError(
                f"trunc(): {int(bad.sum())} value(s) of the response '{column}' lie outside the "
                f"truncation bounds ({first_rows(bad, rows)}, e.g. {r_num(y[i])} outside "
                f"[{r_num(additions['lb'][i])}, {r_num(additions['ub'][i])}])."
            )
