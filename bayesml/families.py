"""The declarative family table: response distributions, links and distributional parameters.

Each family is one ``Family`` row; the model builder, the prior defaults and the summary read
the row instead of branching on family names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

__all__ = ["Family", "Link", "DistParam", "FAMILIES", "LINKS", "get_family"]


@dataclass(frozen=True)
class Link:
    """A link function ``g`` with its inverse; ``data`` applies g to the response (numpy)."""

    name: str
    inverse: Callable  # pytensor: linear predictor -> mean
    data: Callable | None  # numpy: response -> link scale; None where brms does not transform


LINKS: dict[str, Link] = {
    "identity": Link("identity", lambda eta: eta, lambda y: y),
    "log": Link("log", pt.exp, np.log),
    "inverse": Link("inverse", lambda eta: 1 / eta, lambda y: 1 / y),
    "sqrt": Link("sqrt", pt.sqr, np.sqrt),
    "logit": Link("logit", pt.sigmoid, None),
    "probit": Link("probit", lambda eta: 0.5 * (1 + pt.erf(eta / np.sqrt(2))), None),
    "cloglog": Link("cloglog", lambda eta: 1 - pt.exp(-pt.exp(eta)), None),
}

# brms replaces zeros before log-type links when computing default priors (def_scale_prior).
ZERO_SHIFT_LINKS = frozenset({"log", "inverse", "1/mu^2"})


@dataclass(frozen=True)
class DistParam:
    """A distributional parameter other than ``mu`` (brms's 'dpar').

    ``default`` names the rule for its default prior: ``"scale"`` is brms's
    ``student_t(3, 0, S)`` with S from the response; anything else is a fixed prior string.
    """

    name: str
    default: str
    lb: float | None = None
    ub: float | None = None


@dataclass(frozen=True)
class Family:
    """One row of the family table."""

    name: str
    links: tuple[str, ...]
    dpars: tuple[DistParam, ...]
    likelihood: Callable  # (name, mu, dpars: dict, observed, design, shape) -> RV
    aliases: tuple[str, ...] = ()
    link: str = ""  # chosen link; empty means the first (default) one

    @property
    def link_name(self) -> str:
        return self.link or self.links[0]

    @property
    def mu_link(self) -> Link:
        return LINKS[self.link_name]

    def with_link(self, link: str | None) -> Family:
        if link is None:
            return self
        if link not in self.links:
            raise ValueError(
                f"Link '{link}' is not available for family '{self.name}'; "
                f"allowed: {', '.join(self.links)}."
            )
        return Family(self.name, self.links, self.dpars, self.likelihood, self.aliases, link)

    def links_line(self) -> str:
        """The summary's ``Links:`` text (brms 2.18 lists every dpar)."""
        parts = [f"mu = {self.link_name}"] + [f"{d.name} = identity" for d in self.dpars]
        return "; ".join(parts)


def _gaussian(name, mu, dpars, observed, design, shape):
    return pm.Normal(name, mu=mu, sigma=dpars["sigma"], observed=observed, shape=shape)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family(
            "gaussian",
            ("identity", "log", "inverse"),
            (DistParam("sigma", "scale", lb=0.0),),
            _gaussian,
            aliases=("normal",),
        ),
    ]
}


def get_family(family: str | Family, link: str | None = None) -> Family:
    """Look a family up by name or alias (case-insensitive), optionally with a link.

    Raises
    ------
    ValueError
        Unknown family (the known ones are listed) or a link the family does not allow.
    """
    if isinstance(family, Family):
        return family.with_link(link)
    key = str(family).strip()
    for f in FAMILIES.values():
        if key == f.name or key in f.aliases or key.lower() in (f.name.lower(), *f.aliases):
            return f.with_link(link)
    raise ValueError(f"Unknown family '{family}'; known families: {', '.join(FAMILIES)}.")
