"""Population-level effects sampled at the mean of their varying effects (a change of the
sampler's coordinates that leaves brms's model unchanged).

With non-centred varying effects the likelihood sees group ``j``'s coefficient only as
``b + r_j``. Where the groups' data determine their coefficients well, ``b`` can move only with
every ``r_j`` moving the opposite way: a narrow ridge in ``(b, z)`` whose direction changes with
the sds. Neither a diagonal nor a low-rank mass matrix follows it (the Poisson
``y ~ x + (x | g)`` of tests/test_scale.py, ``b_x``'s bulk ESS; the intercepts of
``(1 |p| g)`` models). The sampler therefore draws ``b' = b + mean_j(r_j)`` for every
population column that a non-centred block repeats (the same column of the data), and the
model computes ``b = b' − mean_j(r_j)``. The likelihood takes ``b`` and the varying effects
as the unshifted model does. The map from ``(b', z, sd, L)`` to ``(b, z, sd, L)`` is a shift
with unit Jacobian, and ``b``'s priors are evaluated at ``b`` itself, so the posterior is
brms's exactly.

The centred intercept moves with the slopes' shifts too:
``Intercept = Intercept' − mean(r_Intercept) − means_X · (b' − b)``, because
``Xc = X − means_X``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytensor.tensor as pt

from .rvs import real_line_prior
from .terms.base import prior_dpar
from .terms.group import GroupBlock
from .terms.population import FixedDesign

__all__ = [
    "MeanShift",
    "effect_means",
    "mean_shift_plan",
    "population_shifts",
]


@dataclass
class MeanShift:
    """Which block columns one predictor's population-level effects are shifted by (the plan
    keys each by its predictor).

    ``slopes[c]`` lists ``(block id, column)`` pairs whose mean shifts slope ``c`` (its
    position in ``FixedDesign.coefs``); ``intercept`` those that shift the intercept.
    """

    slopes: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    intercept: list[tuple[int, int]] = field(default_factory=list)

    def columns(self) -> set[tuple[int, int]]:
        """Every ``(block id, column)`` pair whose mean shifts the intercept or a slope."""
        out = set(self.intercept)
        for pairs in self.slopes.values():
            out.update(pairs)
        return out


def _shiftable(fixed: FixedDesign, priors) -> bool:
    """Whether a predictor's intercept and slopes can be computed values: every prior flat or
    on the whole real line without bounds (evaluated at the computed value), no thresholds."""
    if fixed.thresholds or not (fixed.coefs or fixed.sampled_intercept):
        return False
    dp = prior_dpar(fixed.dpar)
    rows = [priors.resolve("b", c, "", dp) for c in fixed.coefs]
    if fixed.sampled_intercept:
        rows.append(priors.resolve("Intercept", dpar=dp))
    return all(real_line_prior(r) for r in rows)


def _pairs(fixed: FixedDesign, block: GroupBlock) -> tuple[dict[int, list], list]:
    """The block's plain columns of ``fixed``'s predictor that repeat one of its population
    columns exactly (the intercept: a column of ones)."""
    slopes: dict[int, list] = {}
    intercept: list = []
    for j in block.columns_of(fixed.dpar):
        if block.monotonic[j] is not None or block.thresholds[j] is not None:
            continue
        name = block.prior_coefs[j]
        if name == "Intercept":
            if fixed.sampled_intercept and block.unit_column(j):
                intercept.append((block.id, j))
        elif name in fixed.coefs:
            c = fixed.coefs.index(name)
            if np.array_equal(np.asarray(block.Z[:, j], float), fixed.X[:, c]):
                slopes.setdefault(c, []).append((block.id, j))
    return slopes, intercept


def mean_shift_plan(fixed_designs: dict, blocks: list[GroupBlock], priors) -> dict[str, MeanShift]:
    """The shifts of each predictor (``{dpar: FixedDesign}``) by the non-centred ``blocks``;
    predictors with nothing to shift are left out."""
    plan: dict[str, MeanShift] = {}
    for dpar, fixed in fixed_designs.items():
        if not _shiftable(fixed, priors):
            continue
        shift = MeanShift()
        for block in blocks:
            slopes, intercept = _pairs(fixed, block)
            for c, pairs in slopes.items():
                shift.slopes.setdefault(c, []).extend(pairs)
            shift.intercept.extend(intercept)
        if shift.columns():
            plan[dpar] = shift
    return plan


def effect_means(effects: dict) -> dict[int, pt.TensorVariable]:
    """Each block's effects averaged over its levels (``{block id: r}`` → ``{block id: mean}``)."""
    return {k: r.mean(axis=0) for k, r in effects.items()}


def shift_matrix(shift: MeanShift, block: int, size: int, n_coefs: int) -> np.ndarray:
    """Which of one block's ``size`` columns shift the intercept (column 0) and each slope
    (column ``1 + c``): a 0/1 matrix, so that the shifts are one product per block."""
    out = np.zeros((size, 1 + n_coefs))
    for k, j in shift.intercept:
        if k == block:
            out[j, 0] = 1.0
    for c, pairs in shift.slopes.items():
        for k, j in pairs:
            if k == block:
                out[j, 1 + c] = 1.0
    return out


def population_shifts(shift: MeanShift, n_coefs: int, means: dict, sizes: dict):
    """``(b' − b, mean of the intercept's effects)`` of one predictor: the slopes' shifts as a
    vector (zero where nothing is shifted; None without slopes) and the intercept's own shift,
    from the blocks' mean effects (``effect_means``) and numbers of columns (``sizes``)."""
    blocks = sorted({k for k, _ in shift.columns()})
    total = sum(pt.dot(means[k], shift_matrix(shift, k, sizes[k], n_coefs)) for k in blocks)
    total = pt.specify_shape(total, (1 + n_coefs,))  # static shapes keep Xc · b elementwise
    return (total[1:] if n_coefs else None), total[0]
