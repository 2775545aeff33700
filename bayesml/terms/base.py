"""What every term kind shares: the parameters it declares and how brms names them.

A ``Parameter`` is one entry of the parameter registry (``bayesml.parameters``): brms's name in
the output, the prior row it takes (class, coef, group, dpar), the summary section and row label
it is printed under, and where its draws live in the PyMC model (variable and position). Every
consumer — prior tables, the model, its readable code, the summary, ``fit.idata`` names, prior
draws and predictions — reads these entries; no brms name is formatted anywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..columns import DataError, first_rows

__all__ = ["Parameter", "by_levels_at", "dpar_prefix", "dpar_suffix", "prior_dpar"]


def dpar_prefix(dpar: str) -> str:
    """brms's prefix of a distributional parameter's names: ``""`` for mu, ``"sigma_"``."""
    return "" if dpar == "mu" else f"{dpar}_"


def dpar_suffix(dpar: str) -> str:
    """The suffix of model variables and brms's centred intercepts: ``""``, ``"_sigma"``."""
    return "" if dpar == "mu" else f"_{dpar}"


def prior_dpar(dpar: str) -> str:
    """The ``dpar`` column of brms's prior tables: empty for mu."""
    return "" if dpar == "mu" else dpar


@dataclass(frozen=True)
class Parameter:
    """One parameter of a model, as brms names, priors and prints it.

    Attributes
    ----------
    name : str
        brms's output name (``b_sigma_x``, ``sd_g__sigma_Intercept``, ``simo_mom1[2]``).
    class_, coef, group, dpar : str
        Its prior row (``dpar`` as the prior table writes it: empty for mu).
    var : str
        The PyMC model variable holding its draws.
    index : tuple
        ``(dimension, label)`` pairs that pick it out of ``var`` (empty: ``var`` is scalar).
    section : str
        Summary section: ``"group"``, ``"population"``, ``"simplex"``, ``"family"``, or ``""``
        for parameters the summary does not print (the centred intercepts).
    label : str
        Its row label in that section (``sigma_x``, ``sd(sigma_Intercept)``).
    kind : str
        ``"draw"``: read from ``var`` at ``index``; ``"cor"``: a correlation computed from the
        Cholesky factor ``var`` (``index`` holds the two positions).
    block : int
        The group-level block of an sd or correlation (0: none).
    default : str
        The default prior its term gives it (brms's ``dirichlet(1)`` for simplexes; empty:
        the prior tables' rules for its class).
    """

    name: str
    class_: str
    coef: str = ""
    group: str = ""
    dpar: str = ""
    var: str = ""
    index: tuple = ()
    section: str = ""
    label: str = ""
    kind: str = "draw"
    block: int = 0
    default: str = ""


def by_levels_at(label: str, by: str, known: list[str], newdata, rows) -> None:
    """New data's values of a smooth's or GP's factor ``by`` must be levels the model has
    (one smooth per level was fitted); the message names the term, column and rows."""
    unknown = ~newdata[by].astype(str).isin([str(k) for k in known]).to_numpy()
    if unknown.any():
        raise DataError(
            f"newdata: {label}: the by-variable '{by}' has values the model does not know "
            f"({first_rows(unknown, rows)}); known: {', '.join(map(str, known))}."
        )
