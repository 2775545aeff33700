"""Smooth terms ``s()`` and ``t2()`` (brms's formula-sm.R), as mgcv builds them.

mgcv's basis of a smooth (``bayesml.smooth_bases``) splits into an unpenalised part, whose
coefficients are population-level effects (``bs_sx_1``, class ``b``, coef ``sx_1``), and
penalised blocks whose coefficients are varying effects with a standard deviation of their
own: ``s_sx_1[k] = sds_sx_1 · zs_sx_1[k]`` with ``zs ~ N(0, 1)`` (class ``sds``; its prior
coef is the call as written, ``s(x)``). brms's names: ``sx`` for ``s(x)``, ``sxz`` for
``s(x, z)``, ``t2xz`` for ``t2(x, z)``, ``sxga`` for level ``a`` of ``s(x, by = g)``; the
blocks are numbered from 1 (``t2`` has three). New data evaluate the same basis (mgcv's
``PredictMat``), so predictions and conditional effects draw the smooth at any x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ..columns import DataError, is_factor, r_levels
from ..formula import FormulaError, PredictorFormula, SmoothTerm
from ..latent import LatentPiece
from ..rvs import coefficient_vector, prior_rv, signed_prior
from ..smooth_bases import SmoothBasis, SmoothSpec, smooth_bases
from .base import Parameter, by_levels_at, dpar_prefix, dpar_suffix, prior_dpar
from .matrix import clean_name

__all__ = [
    "SmoothDesign",
    "SmoothPart",
    "smooth_at",
    "smooth_design",
    "smooth_eta",
    "smooth_parameters",
    "smooth_spec",
]


@dataclass(frozen=True)
class SmoothPart:
    """One smooth (one by-level of a factor ``by``) of a term, evaluated on data.

    ``name`` is brms's (``sx``, ``sxga``); ``Xs`` the unpenalised columns, named
    ``fixed_coefs`` (``sx_1``); ``Zs`` one matrix per penalised block.
    """

    term: SmoothTerm
    basis: SmoothBasis
    name: str
    Xs: np.ndarray
    Zs: tuple[np.ndarray, ...]
    fixed_coefs: tuple[str, ...]


@dataclass(frozen=True)
class SmoothDesign:
    """The smooth terms of one predictor (``parts`` in the formula's order)."""

    dpar: str
    parts: tuple[SmoothPart, ...]

    @property
    def fixed_coefs(self) -> tuple[str, ...]:
        return tuple(c for p in self.parts for c in p.fixed_coefs)

    @property
    def coef_dim(self) -> str:
        return f"bs{dpar_suffix(self.dpar)}_coef"

    def block_name(self, part: SmoothPart, j: int) -> str:
        """``sx_1``, ``sigma_t2xz_3``: the suffix of a block's ``sds_``, ``zs_``, ``s_``."""
        return f"{dpar_prefix(self.dpar)}{part.name}_{j}"


def _int_values(text: str, term: SmoothTerm, option: str) -> int | tuple[int, ...]:
    values = text[2:-1].split(",") if text.startswith("c(") else [text]
    try:
        out = tuple(int(float(v)) for v in values)
    except ValueError:
        raise FormulaError(f"{term.label}: {option} must be a whole number, got {text}.") from None
    return out[0] if len(out) == 1 else out


def _str_values(text: str) -> str | tuple[str, ...]:
    values = text[2:-1].split(",") if text.startswith("c(") else [text]
    out = tuple(v.strip().strip('"') for v in values)
    return out[0] if len(out) == 1 else out


def smooth_spec(term: SmoothTerm) -> SmoothSpec:
    """The basis specification of an ``s()``/``t2()`` call."""
    k = term.option("k")
    bs = term.option("bs")
    return SmoothSpec(
        kind=term.function,
        variables=term.variables,
        k=None if k is None else _int_values(k, term, "k"),
        bs=None if bs is None else _str_values(bs),
        by=term.option("by"),
    )


def _smooth_name(term: SmoothTerm, level: str | None) -> str:
    """brms's smooth label: function and variables (and by variable and level) run together."""
    by = term.option("by")
    name = term.function + "".join(term.variables) + (by or "")
    return clean_name(name + (level or ""))


def _columns(term: SmoothTerm, df: pd.DataFrame, levels: dict | None = None) -> dict:
    """The term's columns as the basis reads them: numbers, or a factor ``by`` as a
    Categorical with R's levels (the training ones for new data)."""
    out = {}
    for v in term.variables:
        s = df[v]
        if is_factor(s) or pd.api.types.is_bool_dtype(s.dtype):
            raise DataError(
                f"{term.label}: column '{v}' holds {s.dtype} values; smooth terms take numeric "
                f"covariates (a factor belongs in by =, as in s(x, by = {v}))."
            )
        out[v] = s.to_numpy(dtype=float)
    by = term.option("by")
    if by is not None:
        s = df[by]
        if is_factor(s):
            cats = levels[by] if levels else r_levels(s)
            out[by] = pd.Categorical(s.astype(object), categories=cats)
        else:
            out[by] = s.to_numpy(dtype=float)
    return out


def _part(term: SmoothTerm, basis: SmoothBasis, data: dict) -> SmoothPart:
    Xs = basis.fixed(data)
    Zs = tuple(basis.random(data))
    label = clean_name(basis.label)
    fixed = tuple(f"{label}_{i}" for i in range(1, Xs.shape[1] + 1))
    return SmoothPart(term, basis, _smooth_name(term, basis.by_level), Xs, Zs, fixed)


def _check_by_levels(term: SmoothTerm, df: pd.DataFrame) -> None:
    """A factor ``by`` whose declared categories include levels without rows is refused by
    name (mgcv would build a smooth of zeros for it)."""
    by = term.option("by")
    if by is None or not isinstance(df[by].dtype, pd.CategoricalDtype):
        return
    empty = [c for c in df[by].cat.categories if not (df[by] == c).any()]
    if empty:
        raise DataError(
            f"{term.label}: the by-variable '{by}' has categories with no rows in the data "
            f"({', '.join(map(str, empty))}); a smooth per level needs data at every level. Drop "
            f"them first: data['{by}'] = data['{by}'].cat.remove_unused_categories()."
        )


def smooth_design(
    pf: PredictorFormula, df: pd.DataFrame, frame, formula: str, rows
) -> SmoothDesign:
    """The ``s()``/``t2()`` terms of one predictor, from the data."""
    parts: list[SmoothPart] = []
    for term in pf.smooths:
        if term.function == "gp":
            continue
        _check_by_levels(term, df)
        data = _columns(term, df)
        spec = smooth_spec(term)
        try:
            bases = smooth_bases(spec, data)
        except ValueError as err:  # named by the term as written
            raise DataError(str(err).replace(f"{spec.label}:", f"{term.label}:", 1)) from None
        parts += [_part(term, b, data) for b in bases]
    return SmoothDesign(pf.dpar, tuple(parts))


def smooth_at(design: SmoothDesign, newdata: pd.DataFrame, rows: np.ndarray) -> SmoothDesign:
    """The fitted smooths on new data: the same bases, evaluated at the new values."""
    parts = []
    for p in design.parts:
        by = p.term.option("by")
        levels = None
        if by is not None and p.basis.by_level is not None:
            known = [q.basis.by_level for q in design.parts if q.term == p.term]
            levels = {by: known}
            by_levels_at(p.term.label, by, known, newdata, rows)
        data = _columns(p.term, newdata, levels)
        try:
            parts.append(_part(p.term, p.basis, data))
        except ValueError as err:
            raise DataError(f"newdata: {err}") from None
    return SmoothDesign(design.dpar, tuple(parts))


def smooth_parameters(design: SmoothDesign) -> dict[str, list[Parameter]]:
    """``{"smooth_fixed": [bs_sx_1, ...], "smooth_sds": [sds_sx_1, ...], "smooth_effects":
    [s_sx_1[1], ...]}`` (the last not printed by the summary)."""
    px, dp = dpar_prefix(design.dpar), prior_dpar(design.dpar)
    out: dict[str, list[Parameter]] = {"smooth_fixed": [], "smooth_sds": [], "smooth_effects": []}
    for c in design.fixed_coefs:
        out["smooth_fixed"].append(
            Parameter(
                f"bs_{px}{c}",
                "b",
                coef=c,
                dpar=dp,
                var=f"bs{dpar_suffix(design.dpar)}",
                index=((design.coef_dim, c),),
                section="population",
                label=f"{px}{c}",
            )
        )
    for p in design.parts:
        for j in range(1, len(p.Zs) + 1):
            name = design.block_name(p, j)
            out["smooth_sds"].append(
                Parameter(
                    f"sds_{name}",
                    "sds",
                    coef=p.term.label,
                    dpar=dp,
                    var=f"sds_{name}",
                    section="smooth",
                    label=f"sds({name})",
                )
            )
            # s_ as brms keeps them; zs_ (brms drops them) for predictions to read
            out["smooth_effects"] += [
                Parameter(
                    f"{kind}_{name}[{k + 1}]",
                    kind,
                    coef=p.term.label,
                    dpar=dp,
                    var=f"{kind}_{name}",
                    index=((f"zs_{name}_dim", k),),
                )
                for kind in ("s", "zs")
                for k in range(p.Zs[j - 1].shape[1])
            ]
    return out


def _signed_sds(name: str, row):
    """A block's sd for an integrated likelihood, which sees only its square: a signed scale
    ``s`` with ``sds = |s|`` where the prior has a signed form (as for varying effects,
    ``bayesml.effects.signed_hyperparameters``), so the sampler passes through small sds on
    their natural scale; else the sd itself."""
    build = signed_prior(row)
    if build is None:
        return prior_rv(f"sds_{name}", row)
    s = build(f"sds_{name}_signed")
    pm.Deterministic(f"sds_{name}", pt.abs(s))
    return s


def smooth_eta(design: SmoothDesign, priors, model: pm.Model, latent: list | None = None):
    """Add the smooths' coefficients to the model; return their part of the predictor and,
    under ``"smooth:<term>"``, each term's own part (its unpenalised and penalised pieces).
    With ``latent`` (a list), the penalised blocks go there as ``LatentPiece``s to be
    integrated out instead of entering the predictor."""
    if not design.parts:
        return 0.0, {}
    dp = prior_dpar(design.dpar)
    sfx = dpar_suffix(design.dpar)
    coefs = design.fixed_coefs
    if coefs:
        model.add_coord(design.coef_dim, coefs)
        Xs = np.column_stack([p.Xs for p in design.parts if p.Xs.shape[1]])
        Xd = pm.Data(f"Xs{sfx}", Xs, dims=("obs", design.coef_dim))
        bs = coefficient_vector(f"bs{sfx}", "b", coefs, design.coef_dim, priors, dpar=dp)
    terms: dict[str, object] = {}  # each term's part (posterior_smooths reads it)
    start = 0
    for p in design.parts:
        part = 0.0
        if p.Xs.shape[1]:
            stop = start + p.Xs.shape[1]
            part = pt.dot(Xd[:, start:stop], bs[start:stop])
            start = stop
        for j, Z in enumerate(p.Zs, start=1):
            name = design.block_name(p, j)
            dim = f"zs_{name}_dim"
            model.add_coord(dim, list(range(1, Z.shape[1] + 1)))
            row = priors.resolve("sds", p.term.label, dpar=dp)
            if latent is not None:  # integrated out of a Gaussian likelihood
                latent.append(LatentPiece(f"zs_{name}", dim, Z, _signed_sds(name, row),
                                          f"s_{name}"))  # fmt: skip
                continue
            sds = prior_rv(f"sds_{name}", row)
            zs = pm.Normal(f"zs_{name}", 0.0, 1.0, dims=dim)
            s = pm.Deterministic(f"s_{name}", sds * zs, dims=dim)
            part = part + pt.dot(pm.Data(f"Zs_{name}", Z, dims=("obs", dim)), s)
        key = f"smooth:{p.term.label}"
        terms[key] = terms.get(key, 0.0) + part
    return sum(terms.values()) if terms else 0.0, terms
