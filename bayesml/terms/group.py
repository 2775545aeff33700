"""Group-level (varying) effects: brms's ``(terms | group)`` blocks.

A block holds the coefficients that vary over one grouping factor and share a covariance: one
term ``(x | g)``, or every term with the same correlation ID (``(1 |p| g)`` in the formulas of
mu and sigma). Its parameters are brms's ``sd_<g>__<coef>``, ``cor_<g>__<a>__<b>`` and the
effects ``r_<g>[level, coef]`` (``r_<g>__<dpar>`` for another parameter's coefficients). How the
effects enter the model (non-centred, integrated out, given) is the business of
``bayesml.effects``; this module builds the blocks from data and from new data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .._rformat import r_collate, r_num
from ..columns import r_levels
from ..formula import BrmsFormula, FormulaError, GroupTerm
from .base import Parameter, dpar_prefix, prior_dpar
from .matrix import Matrix, evaluate, evaluate_new
from .monotonic import monotonic_coef

__all__ = [
    "GroupBlock",
    "effects_name",
    "group_blocks",
    "group_blocks_at",
    "group_parameters",
    "level_labels",
]


@dataclass
class GroupBlock:
    """One block of varying effects.

    ``id`` numbers blocks from 1 in formula order, as brms's Stan code does (``sd_1``,
    ``z_1``, ``L_1``). ``coefs`` are brms's names with the parameter prefix (``Intercept``,
    ``sigma_Intercept``, ``mom``); ``dpars`` give the predictor of each coefficient and
    ``prior_coefs`` its name in the prior table; ``monotonic`` names, per coefficient, the
    population-level ``mo()`` term whose value it multiplies (None: the column of ``Z``).
    """

    id: int
    group: str
    coefs: tuple[str, ...]
    correlated: bool
    Z: np.ndarray
    index: np.ndarray
    levels: tuple[str, ...]
    term: GroupTerm
    terms: tuple = ()  # per source term: (GroupTerm, Matrix of its formulae part)
    dpars: tuple[str, ...] = ()
    prior_coefs: tuple[str, ...] = ()
    monotonic: tuple[str | None, ...] = ()
    # per coefficient: the threshold k a (cs(1) | g) effect shifts (None: it enters eta)
    thresholds: tuple[int | None, ...] = ()

    def __post_init__(self):
        m = len(self.coefs)
        self.dpars = self.dpars or ("mu",) * m
        self.prior_coefs = self.prior_coefs or self.coefs
        self.monotonic = self.monotonic or (None,) * m
        self.thresholds = self.thresholds or (None,) * m

    @property
    def has_thresholds(self) -> bool:
        return any(k is not None for k in self.thresholds)

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def has_cor(self) -> bool:
        return self.correlated and len(self.coefs) > 1

    @property
    def coef_dim(self) -> str:
        return f"coef_{self.id}"

    @property
    def has_monotonic(self) -> bool:
        return any(m is not None for m in self.monotonic)

    def unit_column(self, j: int) -> bool:
        """Whether coefficient ``j`` is an intercept: its column of ``Z`` is all ones, in any
        data, so that the model adds ``r[J, j]`` without multiplying."""
        return (
            self.prior_coefs[j] == "Intercept"
            and self.monotonic[j] is None
            and self.thresholds[j] is None
            and bool(np.all(self.Z[:, j] == 1.0))
        )

    @property
    def intercepts_only(self) -> bool:
        """Whether every coefficient is an intercept (``unit_column``): ``(1 | g)``."""
        return all(self.unit_column(j) for j in range(len(self.coefs)))

    def columns_of(self, dpar: str) -> list[int]:
        """Positions of the coefficients that enter ``dpar``'s predictor."""
        return [j for j, d in enumerate(self.dpars) if d == dpar]


def effects_name(group: str, dpar: str = "mu") -> str:
    """brms's name of a group's varying effects: ``r_g`` (mu's), ``r_g__sigma``."""
    return f"r_{group}" if dpar == "mu" else f"r_{group}__{dpar}"


def level_labels(data: pd.DataFrame, cols: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
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


def _block_keys(f: BrmsFormula) -> list[list[GroupTerm]]:
    """Terms grouped into blocks: one per term, or one per (group, ID), in formula order."""
    blocks: list[list[GroupTerm]] = []
    by_id: dict[tuple[str, str], list[GroupTerm]] = {}
    for t in f.all_group_terms:
        if t.id:
            key = (t.group, t.id)
            if key not in by_id:
                by_id[key] = []
                blocks.append(by_id[key])
            by_id[key].append(t)
        else:
            blocks.append([t])
    return blocks


def _term_columns(
    t: GroupTerm, m: Matrix, mono_labels: dict[str, list[str]], formula: str, n_thresholds: int
) -> tuple[list[str], list[str], list[np.ndarray], list[str | None], list[int | None]]:
    """Names (prefixed, prior), data columns, mo() links and thresholds of one term's
    coefficients; ``(cs(1) | g)`` has one ``Intercept[k]`` per threshold, as brms names them."""
    px = dpar_prefix(t.dpar)
    names, prior, cols, mono, thres = [], [], [], [], []
    for j, c in enumerate(m.names):
        for k in range(1, n_thresholds + 1) if t.category_specific else (None,):
            label = c if k is None else f"{c}[{k}]"
            names.append(f"{px}{label}")
            prior.append(label)
            cols.append(m.values[:, j])
            mono.append(None)
            thres.append(k)
    for mt in t.monotonic:
        coef = monotonic_coef(mt)
        if mt.label not in mono_labels.get(t.dpar, ()):
            raise FormulaError(
                f"The group-level term {t.text} has {mt.label}, which the population-level "
                f"part of the formula lacks; brms's special group-level terms need the same "
                "population-level term.",
                formula,
            )
        names.append(f"{px}{coef}")
        prior.append(coef)
        cols.append(np.ones(m.values.shape[0]))
        mono.append(mt.label)
        thres.append(None)
    return names, prior, cols, mono, thres


def group_blocks(
    f: BrmsFormula, df: pd.DataFrame, frame: pd.DataFrame, rows: np.ndarray, n_thresholds: int = 0
) -> tuple[GroupBlock, ...]:
    """The blocks of every formula, from the data (``n_thresholds``: an ordinal model's, for
    ``(cs(1) | g)`` terms)."""
    mono_labels = {p.dpar: [m.label for m in p.monotonic] for p in f.predictors}
    blocks: list[GroupBlock] = []
    owner: dict[str, dict[str, str]] = {}
    for k, terms in enumerate(_block_keys(f), start=1):
        names, prior, cols, mono, dpars, sources, thres = [], [], [], [], [], [], []
        for t in terms:
            m = evaluate(t.expr, frame, f.text, "group-level term", rows)
            n, p, c, mo, th = _term_columns(t, m, mono_labels, f.text, n_thresholds)
            if not n:
                raise FormulaError(f"Group-level term {t.text} has no effects.", f.text)
            seen = owner.setdefault(t.group, {})
            for name in n:
                if name in seen:
                    raise FormulaError(
                        f"Duplicated group-level effect '{name}' for group '{t.group}' "
                        f"(in {seen[name]} and {t.text}).",
                        f.text,
                    )
                seen[name] = t.text
            names += n
            prior += p
            cols += c
            mono += mo
            thres += th
            dpars += [t.dpar] * len(n)
            sources.append((t, m))
        first = terms[0]
        index, levels = level_labels(df, first.group_vars)
        blocks.append(
            GroupBlock(
                k,
                first.group,
                tuple(names),
                first.correlated,
                np.column_stack(cols),
                index,
                levels,
                first,
                tuple(sources),
                tuple(dpars),
                tuple(prior),
                tuple(mono),
                tuple(thres),
            )
        )
    return tuple(blocks)


def group_blocks_at(
    blocks: tuple[GroupBlock, ...],
    newdata: pd.DataFrame,
    rows: np.ndarray,
    allow_new_levels: bool,
) -> tuple[tuple[GroupBlock, ...], dict[int, tuple[str, ...]]]:
    """The fitted blocks on new data: same columns; levels looked up among the training
    levels, unseen ones appended (each its own level) when ``allow_new_levels``."""
    out, new_levels = [], {}
    for blk in blocks:
        cols = []
        n_thres = max((k for k in blk.thresholds if k is not None), default=0)
        for t, m in blk.terms:
            values = evaluate_new(m, newdata, "group-level term", rows).values
            repeat = n_thres if t.category_specific else 1
            cols += [values[:, j] for j in range(values.shape[1]) for _ in range(repeat)]
            cols += [np.ones(len(newdata))] * len(t.monotonic)
        Z = np.column_stack(cols) if cols else np.ones((len(newdata), 1))
        raw_index, labels = level_labels(newdata, blk.term.group_vars)
        lookup = {lv: i for i, lv in enumerate(blk.levels)}
        unseen = tuple(lv for lv in labels if lv not in lookup)
        if unseen and not allow_new_levels:
            shown = ", ".join(unseen[:10]) + (", ..." if len(unseen) > 10 else "")
            raise ValueError(
                f"newdata has levels of '{blk.group}' that the model has not seen: {shown}. "
                "Pass allow_new_levels=True to predict for them."
            )
        lookup.update({lv: blk.n_levels + i for i, lv in enumerate(unseen)})
        index = np.array([lookup[labels[i]] for i in raw_index], dtype=np.int64)
        out.append(replace(blk, Z=Z, index=index, levels=blk.levels + unseen))
        new_levels[blk.id] = unseen
    return tuple(out), new_levels


def group_parameters(blocks: tuple[GroupBlock, ...], groups: tuple[str, ...]) -> list[Parameter]:
    """sd and cor parameters of every group, in brms's order (per group: sds of each block,
    then correlations)."""
    out: list[Parameter] = []
    for g in groups:
        mine = [b for b in blocks if b.group == g]
        for b in mine:
            for j, c in enumerate(b.coefs):
                out.append(
                    Parameter(
                        f"sd_{g}__{c}",
                        "sd",
                        coef=b.prior_coefs[j],
                        group=g,
                        dpar=prior_dpar(b.dpars[j]),
                        var=f"sd_{b.id}",
                        index=((b.coef_dim, c),),
                        section="group",
                        label=f"sd({c})",
                        block=b.id,
                    )
                )
        for b in mine:
            if not b.has_cor:
                continue
            for j in range(1, len(b.coefs)):
                for i in range(j):
                    a, c = b.coefs[i], b.coefs[j]
                    out.append(
                        Parameter(
                            f"cor_{g}__{a}__{c}",
                            "cor",
                            group=g,
                            var=f"L_{b.id}",
                            index=(i, j),
                            section="group",
                            label=f"cor({a},{c})",
                            kind="cor",
                            block=b.id,
                        )
                    )
    return out
