"""Interpreting a fit as marginaleffects does for brms: predictions, comparisons and slopes,
unit by unit or averaged (``avg_``), by groups, on grids of representative values, with
hypotheses on the estimates.

Every function computes the quantity draw by draw from ``posterior_epred`` (``type=
"response"``) or ``posterior_linpred`` (``type="link"``) and summarises it as
marginaleffects summarises Bayesian models: the posterior median as ``estimate`` and the
equal-tailed interval as ``conf.low``/``conf.high``. The draws behind every row are kept:
``posterior_draws(result)`` returns them (rows × draws), as marginaleffects'
``posterior_draws()`` does.

* numeric variables: ``comparisons`` compares ``x + 1`` with ``x`` (contrast ``"+1"``);
  ``slopes`` is the centred finite difference over a step of 1e-4 × the variable's range.
* categorical variables: each level against the reference level (contrast ``"b - a"``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .columns import as_pandas, is_factor, r_levels

__all__ = [
    "avg_comparisons",
    "avg_predictions",
    "avg_slopes",
    "comparisons",
    "datagrid",
    "posterior_draws",
    "predictions",
    "slopes",
]

DRAWS = "draws"  # the attrs key of a result's draws (rows × draws)


# -- grids -------------------------------------------------------------------------------------


def datagrid(data, **values) -> pd.DataFrame:
    """A grid of representative values (marginaleffects' ``datagrid``).

    Columns named in ``values`` take every combination of the values given; every other
    column is held at its mean (numbers) or its most frequent value (categories, text,
    booleans), as marginaleffects does.

    Parameters
    ----------
    data : Fit or DataFrame
        A fit (its data) or a table.
    **values
        Column → one value or a list of values.
    """
    frame = as_pandas(data.data if hasattr(data, "design") else data)
    unknown = [k for k in values if k not in frame.columns]
    if unknown:
        raise KeyError(f"datagrid: no column {', '.join(unknown)} in the data.")
    fixed = {}
    for col in frame.columns:
        if col in values:
            continue
        s = frame[col]
        if pd.api.types.is_bool_dtype(s) or is_factor(s):
            fixed[col] = s.mode(dropna=True).iloc[0]
        else:
            fixed[col] = float(s.mean())
    lists = {k: list(v) if _is_list(v) else [v] for k, v in values.items()}
    grid = pd.MultiIndex.from_product(list(lists.values()), names=list(lists)).to_frame(index=False)
    for col, value in fixed.items():
        grid[col] = value
    grid = grid[[c for c in frame.columns if c in grid.columns]]
    for col in frame.columns:  # categories keep their levels
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            grid[col] = pd.Categorical(grid[col], categories=frame[col].cat.categories,
                                       ordered=frame[col].cat.ordered)  # fmt: skip
    return grid


def _is_list(v) -> bool:
    return isinstance(v, Sequence | np.ndarray | pd.Series) and not isinstance(v, str)


# -- draws and their summaries -----------------------------------------------------------------


def _draws(fit, data: pd.DataFrame, type: str, **kw) -> np.ndarray:  # noqa: A002 - brms's name
    """Expected values (``response``) or the linear predictor (``link``), rows × draws."""
    if type == "response":
        x = fit.posterior_epred(data, **kw)
    elif type == "link":
        x = fit.posterior_linpred(data, **kw)
    else:
        raise ValueError(f"type must be 'response' or 'link', got '{type}'.")
    return np.asarray(x, dtype=float).T


def _summary(draws: np.ndarray, prob: float) -> pd.DataFrame:
    """marginaleffects' Bayesian summary of each row of draws: median and equal-tailed
    interval."""
    if not 0 < prob < 1:
        raise ValueError(f"prob must lie in (0, 1), got {prob}.")
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    return pd.DataFrame({
        "estimate": np.median(draws, axis=1),
        "conf.low": np.quantile(draws, lo, axis=1),
        "conf.high": np.quantile(draws, hi, axis=1),
    })  # fmt: skip


def _result(frame: pd.DataFrame, draws: np.ndarray, prob: float) -> pd.DataFrame:
    out = pd.concat([frame.reset_index(drop=True), _summary(draws, prob)], axis=1)
    out.attrs[DRAWS] = draws
    return out


def posterior_draws(result: pd.DataFrame) -> np.ndarray:
    """The draws behind each row of a result (rows × draws)."""
    try:
        return result.attrs[DRAWS]
    except KeyError:
        raise KeyError(
            "This table holds no draws (it is not a result of bayesml.interpret)."
        ) from None


def _average(keys: pd.DataFrame, draws: np.ndarray, by) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows averaged draw by draw, within groups of the ``by`` columns (all rows if None)."""
    if by is None or by is False:
        return pd.DataFrame(index=[0]), draws.mean(axis=0, keepdims=True)
    by = [by] if isinstance(by, str) else list(by)
    missing = [b for b in by if b not in keys.columns]
    if missing:
        raise KeyError(f"by: no column {', '.join(missing)}.")
    groups = keys[by].astype(object).apply(tuple, axis=1)
    order = list(dict.fromkeys(groups))  # first appearance, as marginaleffects
    labels = pd.DataFrame(order, columns=by)
    averaged = np.stack([draws[(groups == g).to_numpy()].mean(axis=0) for g in order])
    return labels, averaged


# -- hypotheses --------------------------------------------------------------------------------

_TERM = re.compile(r"\bb(\d+)\b")


def _hypothesis(result: pd.DataFrame, hypothesis: str | None, prob: float) -> pd.DataFrame:
    """A hypothesis on the estimates, ``"b1 - b2 = 0"`` (``b1`` is the first row), computed
    draw by draw."""
    if hypothesis is None:
        return result
    draws = posterior_draws(result)
    lhs, _, rhs = hypothesis.partition("=")
    expr = f"({lhs})" + (f" - ({rhs})" if rhs.strip() else "")
    used = [int(i) for i in _TERM.findall(expr)]
    if not used or max(used) > len(draws) or min(used) < 1:
        raise ValueError(
            f"hypothesis '{hypothesis}': refer to the estimates as b1 ... b{len(draws)}."
        )
    code = _TERM.sub(lambda m: f"b[{int(m[1]) - 1}]", expr)
    if re.search(r"[A-Za-z_]", re.sub(r"b\[\d+\]", "", code)):
        raise ValueError(f"hypothesis '{hypothesis}': only b1, b2, ..., numbers and + - * /.")
    value = eval(code, {"__builtins__": {}}, {"b": draws})  # noqa: S307 - checked above
    value = np.broadcast_to(np.asarray(value, dtype=float), draws.shape[1:])[None, :]
    return _result(pd.DataFrame({"term": [hypothesis.strip()]}), value, prob)


# -- predictions -------------------------------------------------------------------------------


def predictions(
    fit, newdata=None, by=None, type: str = "response", hypothesis: str | None = None,  # noqa: A002
    prob: float = 0.95, **kw,
) -> pd.DataFrame:  # fmt: skip
    """Predictions for each row of ``newdata`` (the fit's data if None): ``rowid``,
    ``estimate``, ``conf.low``, ``conf.high`` and the data's columns.

    ``by`` averages the predictions within groups of those columns; ``kw`` go to
    ``posterior_epred`` (``re_formula``, ``allow_new_levels``, ``ndraws``, ``seed``).
    """
    data = fit.data if newdata is None else as_pandas(newdata, "newdata")
    draws = _draws(fit, data, type, **kw)
    if by is not None and by is not False:
        keys, draws = _average(data.reset_index(drop=True), draws, by)
        return _hypothesis(_result(keys, draws, prob), hypothesis, prob)
    frame = data.reset_index(drop=True).copy()
    frame.insert(0, "rowid", np.arange(1, len(frame) + 1))
    return _hypothesis(_result(frame, draws, prob), hypothesis, prob)


def avg_predictions(
    fit, newdata=None, by=None, type: str = "response", hypothesis: str | None = None,  # noqa: A002
    prob: float = 0.95, **kw,
) -> pd.DataFrame:  # fmt: skip
    """Predictions averaged over the rows (within ``by`` groups), draw by draw."""
    data = fit.data if newdata is None else as_pandas(newdata, "newdata")
    keys, draws = _average(data.reset_index(drop=True), _draws(fit, data, type, **kw), by)
    return _hypothesis(_result(keys, draws, prob), hypothesis, prob)


# -- comparisons and slopes --------------------------------------------------------------------


def _focal(fit, variables) -> list[str]:
    """The variables to compare: those named, else the data columns of the population-level
    terms of the expected response's predictor."""
    if variables is None:
        terms = fit.design.fixed.terms
        seen = [v for term in (terms.term_variables() if terms else []) for v in term]
        variables = [v for v in dict.fromkeys(seen) if v in fit.data.columns]
        if not variables:
            raise ValueError("The model has no population-level predictor to compare.")
    names = [variables] if isinstance(variables, str) else list(variables)
    missing = [v for v in names if v not in fit.data.columns]
    if missing:
        raise KeyError(f"variables: no column {', '.join(missing)} in the fit's data.")
    return names


def _contrasts(fit, data: pd.DataFrame, variable: str, slope: bool, eps: float | None):
    """(label, lo data, hi data, step) for one variable: numbers +1 (or a centred eps step for
    slopes), categories each level against the reference level."""
    column = fit.data[variable]
    if is_factor(column) or pd.api.types.is_bool_dtype(column):
        if slope:
            raise ValueError(f"slopes: '{variable}' is categorical; use comparisons().")
        levels = r_levels(column)
        out = []
        for level in levels[1:]:
            lo, hi = data.copy(), data.copy()
            lo[variable], hi[variable] = levels[0], level
            if isinstance(column.dtype, pd.CategoricalDtype):
                for frame in (lo, hi):
                    frame[variable] = pd.Categorical(frame[variable],
                                                     categories=column.cat.categories)  # fmt: skip
            out.append((f"{level} - {levels[0]}", lo, hi, 1.0))
        return out
    x = data[variable].astype(float)
    if slope:
        values = fit.data[variable].astype(float)
        spread = float(values.max() - values.min())
        step = eps if eps is not None else (1e-4 * spread if spread else 1e-4)
        return [("dY/dX", data.assign(**{variable: x - step / 2}),
                 data.assign(**{variable: x + step / 2}), step)]  # fmt: skip
    return [("+1", data.assign(**{variable: x}), data.assign(**{variable: x + 1}), 1.0)]


def _compare(fit, variables, newdata, type, slope, eps, kw):  # noqa: A002
    data = (fit.data if newdata is None else as_pandas(newdata, "newdata")).reset_index(drop=True)
    frames, draws = [], []
    for variable in _focal(fit, variables):
        for label, lo, hi, step in _contrasts(fit, data, variable, slope, eps):
            both = _draws(fit, pd.concat([lo, hi], ignore_index=True), type, **kw)
            n = len(data)
            draws.append((both[n:] - both[:n]) / step)
            frame = data.copy()
            frame.insert(0, "contrast", label)
            frame.insert(0, "term", variable)
            frames.append(frame)
    return pd.concat(frames, ignore_index=True), np.concatenate(draws)


def comparisons(
    fit, variables=None, newdata=None, by=None, type: str = "response",  # noqa: A002
    hypothesis: str | None = None, prob: float = 0.95, **kw,
) -> pd.DataFrame:  # fmt: skip
    """Differences in the expected response when a variable changes, row by row: ``term``,
    ``contrast``, ``estimate``, ``conf.low``, ``conf.high`` and the data's columns."""
    frame, draws = _compare(fit, variables, newdata, type, False, None, kw)
    return _unit_level(frame, draws, by, hypothesis, prob)


def avg_comparisons(
    fit, variables=None, newdata=None, by=None, type: str = "response",  # noqa: A002
    hypothesis: str | None = None, prob: float = 0.95, **kw,
) -> pd.DataFrame:  # fmt: skip
    """Comparisons averaged over the rows (within ``by`` groups), draw by draw."""
    frame, draws = _compare(fit, variables, newdata, type, False, None, kw)
    return _hypothesis(_grouped(frame, draws, by, prob), hypothesis, prob)


def slopes(
    fit, variables=None, newdata=None, by=None, type: str = "response",  # noqa: A002
    eps: float | None = None, hypothesis: str | None = None, prob: float = 0.95, **kw,
) -> pd.DataFrame:  # fmt: skip
    """Derivatives of the expected response with respect to numeric variables, row by row
    (centred finite differences)."""
    frame, draws = _compare(fit, variables, newdata, type, True, eps, kw)
    return _unit_level(frame, draws, by, hypothesis, prob)


def avg_slopes(
    fit, variables=None, newdata=None, by=None, type: str = "response",  # noqa: A002
    eps: float | None = None, hypothesis: str | None = None, prob: float = 0.95, **kw,
) -> pd.DataFrame:  # fmt: skip
    """Slopes averaged over the rows (within ``by`` groups), draw by draw."""
    frame, draws = _compare(fit, variables, newdata, type, True, eps, kw)
    return _hypothesis(_grouped(frame, draws, by, prob), hypothesis, prob)


def _unit_level(frame, draws, by, hypothesis, prob) -> pd.DataFrame:
    """Row-by-row comparisons or slopes (``rowid`` numbers the data's rows within each term
    and contrast), or their averages within ``by`` groups."""
    if by is not None and by is not False:
        return _hypothesis(_grouped(frame, draws, by, prob), hypothesis, prob)
    n = frame[["term", "contrast"]].drop_duplicates().shape[0]
    frame.insert(0, "rowid", np.tile(np.arange(1, len(frame) // n + 1), n))
    return _hypothesis(_result(frame, draws, prob), hypothesis, prob)


def _grouped(frame: pd.DataFrame, draws: np.ndarray, by, prob: float) -> pd.DataFrame:
    """Average within term, contrast and the ``by`` columns."""
    extra = [] if by is None or by is False else ([by] if isinstance(by, str) else list(by))
    keys, averaged = _average(frame, draws, ["term", "contrast", *extra])
    return _result(keys, averaged, prob)
