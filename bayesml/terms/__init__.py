"""Kinds of terms of a linear predictor, one module each (as brms's formula-*.R files).

Every kind of term that belongs to one predictor is registered in ``PREDICTOR_TERMS`` with four
functions: its design from the data, the same design on new data (one code path: the second
reuses what the first learned), the parameters it declares (``Parameter`` entries of the
registry) and its part of the linear predictor in the PyMC model. Adding a kind of term is a
new module plus one entry here. Group-level blocks span predictors (brms's correlation IDs) and
have strategies of their own (``bayesml.effects``); they live in ``terms.group``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .category import (
    category_specific_at,
    category_specific_design,
    category_specific_eta,
    category_specific_parameters,
)
from .gp import gp_at, gp_design, gp_eta, gp_parameters
from .monotonic import monotonic_at, monotonic_designs, monotonic_eta, monotonic_parameters
from .population import population_at, population_design, population_eta, population_parameters
from .smooth import smooth_at, smooth_design, smooth_eta, smooth_parameters

__all__ = ["PREDICTOR_TERMS", "TermKind"]


@dataclass(frozen=True)
class TermKind:
    """One kind of predictor term and the four functions every kind provides.

    ``build(formula_part, data, frame, formula_text, rows)`` → design;
    ``at(design, newdata, rows)`` → the design on new data;
    ``parameters(design)`` → ``{role: [Parameter, ...]}``;
    ``eta(design, priors, model)`` → (part of the linear predictor, extras by name).
    ``latent``: the kind has coefficients a Gaussian likelihood can integrate out (smooths,
    GPs); its ``eta`` then takes ``latent=[]`` and appends ``bayesml.latent.LatentPiece``s
    there instead of adding those coefficients to the predictor.
    """

    name: str
    build: Callable
    at: Callable
    parameters: Callable
    eta: Callable
    latent: bool = False


PREDICTOR_TERMS: dict[str, TermKind] = {
    k.name: k
    for k in (
        TermKind(
            "population",
            lambda pf, df, frame, formula, rows: population_design(pf, frame, formula, rows),
            population_at,
            population_parameters,
            population_eta,
        ),
        TermKind("monotonic", monotonic_designs, monotonic_at, monotonic_parameters, monotonic_eta),
        TermKind(
            "category",
            category_specific_design,
            category_specific_at,
            category_specific_parameters,
            category_specific_eta,
        ),
        TermKind("smooth", smooth_design, smooth_at, smooth_parameters, smooth_eta, True),
        TermKind("gp", gp_design, gp_at, gp_parameters, gp_eta, True),
    )
}
