"""Gaussian-process terms ``gp()`` (brms's formula-gp.R).

``gp(x)``, ``gp(x, z)`` (isotropic; ``iso = FALSE`` gives a length scale per dimension),
``gp(x, by = g)`` (one GP per level of a factor; a numeric ``by`` multiplies), ``gp(x, k = 20,
c = 5/4)`` (brms's Hilbert-space approximation) and ``gp(x, scale = FALSE)``, with brms's data
(``bayesml.gp_basis``) and parameters: ``sdgp_gpx`` (class ``sdgp``), ``lscale_gpx`` (class
``lscale``, brms's data-driven inverse-gamma default) and the standard-normal ``zgp_gpx``.

The exact GP is ``chol(K + 1e-12 I) · zgp`` over the distinct covariate rows; at new data it is
drawn from its conditional given those values, as brms does. The approximate GP is
``Φ · (sqrt(spd) · zgp)`` and evaluates its basis functions at any x.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ..columns import DataError
from ..formula import FormulaError, PredictorFormula, SmoothTerm
from ..gp_basis import (
    GPBasis,
    GPSpec,
    cov_exp_quad,
    default_lscale_prior,
    gp_bases,
    spd_cov_exp_quad,
)
from ..latent import LatentPiece
from ..rvs import prior_rv
from .base import Parameter, by_levels_at, dpar_prefix, prior_dpar

__all__ = ["GPDesign", "GPPart", "gp_at", "gp_design", "gp_eta", "gp_parameters", "gp_spec"]


@dataclass(frozen=True)
class GPPart:
    """One GP (one by-level of a factor ``by``) on data: the rows it adds to (``rows``, with
    multipliers ``mult``), each row's distinct covariate row (``groups``), the distinct rows'
    covariates ``x`` (scaled; centred for the approximate GP), the basis functions ``phi`` of
    the approximate GP, and whether the data are new (the exact GP then conditions on the
    fitted rows)."""

    term: SmoothTerm
    basis: GPBasis
    rows: np.ndarray
    mult: np.ndarray
    groups: np.ndarray
    x: np.ndarray
    phi: np.ndarray | None
    new: bool
    lscale_priors: tuple[str, ...]  # brms's default prior per length scale


@dataclass(frozen=True)
class GPDesign:
    """The ``gp()`` terms of one predictor."""

    dpar: str
    parts: tuple[GPPart, ...]
    nobs: int

    def name(self, part: GPPart) -> str:
        """``gpx``, ``sigma_gpxga``: the suffix of the part's ``sdgp_``, ``lscale_``, ``zgp_``."""
        return f"{dpar_prefix(self.dpar)}{part.basis.label}"


_LOGICAL = {"TRUE": True, "T": True, "True": True, "FALSE": False, "F": False, "False": False}


def _number(term: SmoothTerm, option: str, text: str) -> float | tuple[float, ...]:
    values = text[2:-1].split(",") if text.startswith("c(") else [text]
    out = []
    for v in values:
        num, _, den = v.strip().partition("/")
        try:
            out.append(float(num) / (float(den) if den else 1.0))
        except ValueError:
            raise FormulaError(f"{term.label}: {option} must be a number, got {text}.") from None
    return out[0] if len(out) == 1 else tuple(out)


def _logical(term: SmoothTerm, option: str) -> bool:
    text = term.option(option, "TRUE")
    if text not in _LOGICAL:
        raise FormulaError(f"{term.label}: {option} must be TRUE or FALSE, got {text}.")
    return _LOGICAL[text]


def gp_spec(term: SmoothTerm) -> GPSpec:
    """The specification of a ``gp()`` call (brms's defaults: exact, scaled, isotropic)."""
    cov = term.option("cov", '"exp_quad"')
    if cov != '"exp_quad"':
        raise FormulaError(f'{term.label}: only cov = "exp_quad" is supported, got {cov}.')
    k = term.option("k")
    c = term.option("c")
    try:
        return GPSpec(
            variables=term.variables,
            k=None if k is None else int(_number(term, "k", k)),
            c=1.25 if c is None else _number(term, "c", c),
            scale=_logical(term, "scale"),
            iso=_logical(term, "iso"),
            by=term.option("by"),
            gr=_logical(term, "gr"),
        )
    except (ValueError, TypeError) as err:
        raise FormulaError(str(err)) from None


def _part(term: SmoothTerm, basis: GPBasis, df: pd.DataFrame, new: bool, priors) -> GPPart:
    rows, mult = basis.rows(df)
    x = basis.covariates(df)
    phi = basis.eigenfunctions(df) if basis.index is not None else None
    return GPPart(term, basis, rows, mult, basis.groups(df), x, phi, new, priors)


def gp_design(pf: PredictorFormula, df: pd.DataFrame, frame, formula: str, rows) -> GPDesign:
    """The ``gp()`` terms of one predictor, from the data."""
    parts: list[GPPart] = []
    for term in pf.smooths:
        if term.function != "gp":
            continue
        spec = gp_spec(term)
        try:
            bases = gp_bases(spec, df)
            priors = {p.coef: p.text for p in default_lscale_prior(spec, df)}
        except ValueError as err:
            raise DataError(str(err)) from None
        for b in bases:
            lscale = tuple(priors[c] for c in b.lscale_coefs)
            parts.append(_part(term, b, df, False, lscale))
    return GPDesign(pf.dpar, tuple(parts), len(df))


def gp_at(design: GPDesign, newdata: pd.DataFrame, rows: np.ndarray) -> GPDesign:
    """The fitted GPs on new data: stored scaling, centring and boundary."""
    parts = []
    for p in design.parts:
        by = p.term.option("by")
        if p.basis.by_level is not None:
            known = [q.basis.by_level for q in design.parts if q.term == p.term]
            by_levels_at(p.term.label, by, known, newdata, rows)
        try:
            parts.append(_part(p.term, p.basis, newdata, True, p.lscale_priors))
        except ValueError as err:
            raise DataError(f"newdata: {err}") from None
    return GPDesign(design.dpar, tuple(parts), len(newdata))


def gp_parameters(design: GPDesign) -> dict[str, list[Parameter]]:
    """``{"gp_sd": [sdgp_gpx], "gp_lscale": [lscale_gpx], "gp_effects": [zgp_gpx[1], ...]}``."""
    dp = prior_dpar(design.dpar)
    out: dict[str, list[Parameter]] = {"gp_sd": [], "gp_lscale": [], "gp_effects": []}
    for p in design.parts:
        name = design.name(p)
        out["gp_sd"].append(
            Parameter(
                f"sdgp_{name}",
                "sdgp",
                coef=p.basis.label,
                dpar=dp,
                var=f"sdgp_{name}",
                section="gp",
                label=f"sdgp({name})",
            )  # fmt: skip
        )
        many = len(p.basis.lscale_coefs) > 1
        for d, (coef, prior) in enumerate(zip(p.basis.lscale_coefs, p.lscale_priors, strict=True)):
            suffix = f"[{d + 1}]" if many else ""
            out["gp_lscale"].append(
                Parameter(
                    f"lscale_{name}{suffix}",
                    "lscale",
                    coef=coef,
                    dpar=dp,
                    var=f"lscale_{name}",
                    index=((f"lscale_{name}_dim", d),) if many else (),
                    section="gp",
                    label=f"lscale({name}){suffix}",
                    default=prior,
                )  # fmt: skip
            )
        size = len(p.basis.index) if p.basis.index is not None else len(p.basis.x_fit)
        out["gp_effects"] += [
            Parameter(
                f"zgp_{name}[{k + 1}]",
                "zgp",
                coef=p.basis.label,
                dpar=dp,
                var=f"zgp_{name}",
                index=((f"zgp_{name}_dim", k),),
            )  # fmt: skip
            for k in range(size)
        ]
    return out


def _lscale(design: GPDesign, p: GPPart, priors, model: pm.Model):
    name, dp = design.name(p), prior_dpar(design.dpar)
    rows = [priors.resolve("lscale", c, dpar=dp) for c in p.basis.lscale_coefs]
    if len(rows) == 1:
        return prior_rv(f"lscale_{name}", rows[0])
    dim = f"lscale_{name}_dim"
    model.add_coord(dim, list(range(1, len(rows) + 1)))
    parts = [prior_rv(f"lscale_{name}_{d + 1}", r) for d, r in enumerate(rows)]
    return pm.Deterministic(f"lscale_{name}", pt.stack(parts), dims=dim)


def _exact_new(p: GPPart, sdgp, lscale, zgp, name: str, model: pm.Model):
    """The exact GP at new rows: a draw from its conditional given the fitted values
    ``chol(K) · zgp`` (brms's ``.predictor_gp_new``; jitter 1e-12 old, 1e-8 new)."""
    x_fit = p.basis.x_fit
    chol = pt.linalg.cholesky(cov_exp_quad(x_fit, sdgp, lscale) + 1e-12 * np.eye(len(x_fit)))
    cross = pt.linalg.solve_triangular(chol, cov_exp_quad(x_fit, sdgp, lscale, p.x), lower=True)
    mean = pt.dot(cross.T, zgp)
    cov = cov_exp_quad(p.x, sdgp, lscale) - pt.dot(cross.T, cross) + 1e-8 * np.eye(len(p.x))
    dim = f"zgpnew_{name}_dim"
    model.add_coord(dim, list(range(1, len(p.x) + 1)))
    noise = pm.Normal(f"zgpnew_{name}", 0.0, 1.0, dims=dim)
    return mean + pt.dot(pt.linalg.cholesky(cov), noise)


def _latent_piece(design: GPDesign, p: GPPart, sdgp, lscale, dim: str) -> LatentPiece:
    """The GP as ``Z · A · zgp``: Z maps rows to distinct points (or basis functions) with
    their multipliers; A is ``chol(K)`` (exact) or ``sqrt(spd)`` (approximate)."""
    name = design.name(p)
    if p.phi is not None:
        Z = np.zeros((design.nobs, p.phi.shape[1]))
        Z[p.rows] = p.mult[:, None] * p.phi[p.groups]
        factor = spd_cov_exp_quad(p.basis.slambda, sdgp, lscale)
    else:
        Z = np.zeros((design.nobs, len(p.x)))
        Z[p.rows, p.groups] = p.mult
        factor = pt.linalg.cholesky(cov_exp_quad(p.x, sdgp, lscale) + 1e-12 * np.eye(len(p.x)))
    return LatentPiece(f"zgp_{name}", dim, Z, factor)


def gp_eta(design: GPDesign, priors, model: pm.Model, latent: list | None = None):
    """Add the GPs to the model; return their part of the predictor and, under
    ``"gp:<term>"``, each term's part. With ``latent`` (a list), each GP goes there as a
    ``LatentPiece`` to be integrated out instead of entering the predictor."""
    if not design.parts:
        return 0.0, {}
    dp = prior_dpar(design.dpar)
    terms: dict[str, object] = {}
    for p in design.parts:
        name = design.name(p)
        sdgp = prior_rv(f"sdgp_{name}", priors.resolve("sdgp", p.basis.label, dpar=dp))
        lscale = _lscale(design, p, priors, model)
        dim = f"zgp_{name}_dim"
        size = len(p.basis.index) if p.phi is not None else len(p.basis.x_fit)
        model.add_coord(dim, list(range(1, size + 1)))
        if latent is not None and not p.new:
            latent.append(_latent_piece(design, p, sdgp, lscale, dim))
            continue
        zgp = pm.Normal(f"zgp_{name}", 0.0, 1.0, dims=dim)
        if p.phi is not None:
            scale = spd_cov_exp_quad(p.basis.slambda, sdgp, lscale)
            f = pt.dot(pm.Data(f"Xgp_{name}", p.phi), scale * zgp)
        elif p.new:
            f = _exact_new(p, sdgp, lscale, zgp, name, model)
        else:
            cov = cov_exp_quad(p.x, sdgp, lscale) + 1e-12 * np.eye(len(p.x))
            f = pt.dot(pt.linalg.cholesky(cov), zgp)
        part = pt.zeros(design.nobs)
        part = pt.inc_subtensor(part[p.rows], p.mult * f[p.groups])
        key = f"gp:{p.term.label}"
        terms[key] = terms.get(key, 0.0) + part
    return sum(terms.values()) if terms else 0.0, terms
