"""The parameter registry: every parameter of a model, once, in brms's order.

Built from the terms of a design and the family (``model_parameters``). Prior tables
(``bayesml.model_priors``), the model's readable code, the summary's sections, the brms names
in ``fit.idata``, prior draws and predictions all read it, so a parameter's brms name, prior
row, label and model variable are written down in one place: where its term declares it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .design import Design
from .families import Family
from .terms import PREDICTOR_TERMS
from .terms.base import Parameter
from .terms.group import group_parameters

__all__ = ["Parameter", "Registry", "model_parameters"]


@dataclass
class Registry:
    """The parameters of a model in brms's output order."""

    parameters: list[Parameter]

    def __iter__(self):
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    def section(self, section: str) -> list[Parameter]:
        return [p for p in self.parameters if p.section == section]

    def of_var(self, var: str) -> list[Parameter]:
        """The parameters whose draws live in model variable ``var``."""
        return [p for p in self.parameters if p.var == var and p.kind == "draw"]

    def covariance(self, block: int) -> tuple[list[Parameter], dict[tuple[int, int], Parameter]]:
        """A group-level block's sds (in its coefficient order) and correlations by the two
        coefficients' positions."""
        mine = [p for p in self.parameters if p.block == block]
        sds = [p for p in mine if p.class_ == "sd"]
        return sds, {p.index: p for p in mine if p.kind == "cor"}

    def get(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


def _thresholds(design: Design) -> tuple[list[Parameter], list[Parameter]]:
    """Ordinal thresholds: brms's ``b_Intercept[k]`` and the centred ``Intercept[k]``."""
    n = design.response.n_thresholds if design.response is not None else 0
    uncentred = [
        Parameter(
            f"b_Intercept[{k}]",
            "Intercept",
            coef=str(k),
            var="b_Intercept",
            index=(("thres", str(k)),),
            section="population",
            label=f"Intercept[{k}]",
        )
        for k in range(1, n + 1)
    ]
    centred = [
        Parameter(
            f"Intercept[{k}]",
            "Intercept",
            coef=str(k),
            var="Intercept",
            index=(("thres", str(k)),),
        )
        for k in range(1, n + 1)
    ]
    return uncentred, centred


def model_parameters(design: Design, family: Family) -> Registry:
    """The registry of a design and family.

    brms's order (its ``reorder_pars``): population-level intercepts (thresholds first), slopes
    of every predictor, unpenalised smooth coefficients, special (monotonic) slopes, group-level
    sds and correlations, smooth sds, Gaussian-process sds and length scales, family parameters
    estimated as one number, simplexes, centred intercepts, smooth coefficients.
    """
    roles: dict[str, list[Parameter]] = {}
    for p in design.predictors.values():
        for kind, term in p.terms.items():
            for role, params in PREDICTOR_TERMS[kind].parameters(term).items():
                roles.setdefault(role, []).extend(params)
    thresholds, centred_thresholds = [], []
    if family.ordinal:
        thresholds, centred_thresholds = _thresholds(design)
    dpars = []
    for d in family.estimated_dpars(design.formula.additions, design.not_estimated):
        dpars.append(Parameter(d.name, d.name, var=d.name, section="family", label=d.name))
        if d.raw_name:  # brms keeps the unbounded parameter too (tmp_xi)
            dpars.append(Parameter(d.raw_name, d.name, var=d.raw_name))
    out = (
        thresholds
        + roles.get("intercept", [])
        + roles.get("slopes", [])
        + roles.get("smooth_fixed", [])
        + roles.get("special", [])
        + roles.get("category", [])
        + group_parameters(design.blocks, design.groups)
        + roles.get("smooth_sds", [])
        + roles.get("gp_sd", [])
        + roles.get("gp_lscale", [])
        + dpars
        + roles.get("simplexes", [])
        + centred_thresholds
        + roles.get("centred", [])
        + roles.get("smooth_effects", [])
        + roles.get("gp_effects", [])
    )
    return Registry(out)
