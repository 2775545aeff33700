"""Category-specific effects ``cs(x)`` of the sequential ordinal families (brms's formula-cs.R).

In ``sratio``, ``cratio`` and ``acat`` models a predictor inside ``cs()`` gets one coefficient
per threshold: brms subtracts ``x · bcs[k]`` from threshold k (``Intercept - mucs``). brms's
names: ``bcs_x[k]`` (class ``b``, coef ``x``: one prior for all thresholds of a column), summary
rows ``x[k]`` after the thresholds. The columns are not centred (brms does not centre ``Xcs``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from ..formula import FormulaError, PredictorFormula
from ..rvs import prior_rv, same_prior
from .base import Parameter
from .matrix import Matrix, evaluate, evaluate_new

__all__ = [
    "CategorySpecificDesign",
    "category_specific_at",
    "category_specific_design",
    "category_specific_eta",
    "category_specific_parameters",
    "with_thresholds",
]

COEF_DIM = "cs_coef"


@dataclass
class CategorySpecificDesign:
    """The ``cs()`` columns of mu's predictor; ``n_thresholds`` is set once the response's
    categories are known (``with_thresholds``)."""

    dpar: str
    matrix: Matrix
    n_thresholds: int = 0

    @property
    def coefs(self) -> tuple[str, ...]:
        return self.matrix.names

    @property
    def X(self) -> np.ndarray:
        return self.matrix.values


def category_specific_design(pf: PredictorFormula, df, frame, formula: str, rows):
    """The design of a predictor's ``cs()`` terms (None without any)."""
    if not pf.category_specific:
        return None
    if pf.dpar != "mu":
        raise FormulaError(
            f"Category-specific effects cs() belong to mu's formula, not to {pf.dpar}'s.", formula
        )
    expr = "0 + " + " + ".join(pf.category_specific)
    return CategorySpecificDesign(pf.dpar, evaluate(expr, frame, formula, "cs() term", rows))


def with_thresholds(design: CategorySpecificDesign | None, n: int):
    """The design once the number of thresholds is known."""
    return None if design is None else replace(design, n_thresholds=n)


def category_specific_at(design: CategorySpecificDesign | None, newdata, rows):
    if design is None:
        return None
    return replace(design, matrix=evaluate_new(design.matrix, newdata, "cs() term", rows))


def category_specific_parameters(design: CategorySpecificDesign | None) -> dict:
    if design is None:
        return {}
    return {
        "category": [
            Parameter(
                f"bcs_{c}[{k}]", "b", coef=c, var="bcs",
                index=((COEF_DIM, c), ("thres", str(k))),
                section="population", label=f"{c}[{k}]",
            )
            for c in design.coefs
            for k in range(1, design.n_thresholds + 1)
        ]
    }  # fmt: skip


def category_specific_eta(design: CategorySpecificDesign | None, priors, model: pm.Model):
    """No part of eta: returns ``{"mucs": rows × thresholds}``, what the thresholds lose."""
    if design is None:
        return 0.0, {}
    model.add_coord(COEF_DIM, design.coefs)
    rows = [priors.resolve("b", c) for c in design.coefs]
    if same_prior(rows):
        bcs = prior_rv("bcs", rows[0], dims=(COEF_DIM, "thres"))
    else:
        parts = [
            prior_rv(f"bcs_{c}", r, dims="thres") for c, r in zip(design.coefs, rows, strict=True)
        ]
        bcs = pm.Deterministic("bcs", pt.stack(parts), dims=(COEF_DIM, "thres"))
    Xcs = pm.Data("Xcs", np.asarray(design.X, dtype=float), dims=("obs", COEF_DIM))
    return 0.0, {"mucs": pt.dot(Xcs, bcs)}
