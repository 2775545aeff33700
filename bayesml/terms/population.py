"""Population-level effects of one predictor (brms's ``b`` and ``Intercept``).

The design matrix comes from formulae in R's column order with brms's names; with an intercept
it is centred (brms's ``Xc``) and the model samples the intercept of the centred predictors
(``Intercept``, ``Intercept_sigma``), from which ``b_Intercept = Intercept - means · b``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt

from ..formula import PredictorFormula
from ..rvs import coefficient_vector, prior_logp, prior_rv, same_prior
from ..transforms import LinearCoefficients, ScaledCoefficient
from .base import Parameter, dpar_prefix, dpar_suffix, prior_dpar
from .matrix import Matrix, evaluate, evaluate_new

__all__ = [
    "Collinearity",
    "FixedDesign",
    "coefficient_map",
    "collinear_columns",
    "population_at",
    "population_design",
    "population_eta",
    "population_parameters",
    "population_unshift",
]


@dataclass
class FixedDesign:
    """Population-level design of one predictor without the intercept column.

    ``X`` is uncentred; with an intercept the model uses ``X - means`` (brms's ``Xc``) and
    recovers ``b_Intercept = Intercept - means @ b``.
    """

    X: np.ndarray
    coefs: tuple[str, ...]
    intercept: bool
    means: np.ndarray
    terms: Matrix | None = None  # the evaluated terms, to evaluate new data
    dpar: str = "mu"
    thresholds: bool = False  # ordinal thresholds take the intercept's place (mu of cumulative)
    # the sampler's coordinates of the slopes (coefficient_map with and without mixing);
    # None: from this design's Xc. A refit on new data keeps the first fit's (update()).
    coordinates: tuple[np.ndarray, np.ndarray] | None = None
    # the model samples the intercept and slopes shifted by their varying effects' means
    # (bayesml.mean_shift) and computes them later (population_unshift)
    mean_shift: bool = False

    def coordinate_map(self, mix: bool) -> np.ndarray:
        """``A`` of the slopes' coordinates ``u = A b`` (``coefficient_map``)."""
        if self.coordinates is not None:
            return self.coordinates[0 if mix else 1]
        return coefficient_map(self.Xc, mix)

    @property
    def sampled_intercept(self) -> bool:
        """Whether the model samples an intercept of its own for this predictor."""
        return self.intercept and not self.thresholds

    @property
    def Xc(self) -> np.ndarray:
        return self.X - self.means if self.intercept else self.X

    @property
    def b_var(self) -> str:
        """Model variable of the slopes: ``b``, ``b_sigma``."""
        return f"b{dpar_suffix(self.dpar)}"

    @property
    def intercept_var(self) -> str:
        """Model variable of the centred intercept: ``Intercept``, ``Intercept_sigma``."""
        return f"Intercept{dpar_suffix(self.dpar)}"

    @property
    def coef_dim(self) -> str:
        return f"{self.b_var}_coef"


def population_design(
    pf: PredictorFormula, frame: pd.DataFrame, formula: str, rows: np.ndarray
) -> FixedDesign:
    """The population-level design of one predictor from the data."""
    m = evaluate(pf.fixed, frame, formula, "population-level term", rows)
    return _design(m, pf.dpar)


def population_at(fixed: FixedDesign, newdata: pd.DataFrame, rows: np.ndarray) -> FixedDesign:
    """The fitted design on new data: same columns, centred with the training means."""
    if fixed.terms is None:
        return replace(fixed, X=np.zeros((len(newdata), 0)))
    m = evaluate_new(fixed.terms, newdata, "population-level term", rows)
    X, _ = m.without_intercept()
    return replace(fixed, X=X)


def _design(m: Matrix, dpar: str) -> FixedDesign:
    X, coefs = m.without_intercept()
    means = X.mean(axis=0) if m.intercept else np.zeros(len(coefs))
    return FixedDesign(X, coefs, m.intercept, means, m, dpar)


def population_parameters(fixed: FixedDesign) -> dict[str, list[Parameter]]:
    """The predictor's parameters: ``{"intercept": [b_Intercept], "slopes": [b_x, ...],
    "centred": [Intercept]}`` (brms lists every intercept before every slope)."""
    px, dp = dpar_prefix(fixed.dpar), prior_dpar(fixed.dpar)
    out: dict[str, list[Parameter]] = {"intercept": [], "slopes": [], "centred": []}
    if fixed.sampled_intercept:
        out["intercept"].append(
            Parameter(
                f"b_{px}Intercept",
                "Intercept",
                dpar=dp,
                var=f"b_{px}Intercept",
                section="population",
                label=f"{px}Intercept",
            )
        )
        out["centred"].append(
            Parameter(fixed.intercept_var, "Intercept", dpar=dp, var=fixed.intercept_var)
        )
    for c in fixed.coefs:
        out["slopes"].append(
            Parameter(
                f"b_{px}{c}",
                "b",
                coef=c,
                dpar=dp,
                var=fixed.b_var,
                index=((fixed.coef_dim, c),),
                section="population",
                label=f"{px}{c}",
            )
        )
    return out


def population_eta(fixed: FixedDesign, priors, model: pm.Model):
    """Add the slopes (and the intercept) to the model; return their part of the linear
    predictor and ``{"b": slopes, "intercept": centred intercept}`` (None where absent).

    With ``fixed.mean_shift`` the model samples shifted values without priors and the part is
    zero (``{"shifted": (slopes, intercept, Xc)}``); ``population_unshift`` then adds the
    parameters themselves, their priors and their part of the predictor."""
    dp = prior_dpar(fixed.dpar)
    b = Xc = None
    if fixed.coefs:
        model.add_coord(fixed.coef_dim, fixed.coefs)
        Xc = pm.Data(f"Xc{dpar_suffix(fixed.dpar)}", fixed.Xc, dims=("obs", fixed.coef_dim))
        rows = [priors.resolve("b", c, "", dp) for c in fixed.coefs]
        transforms = _coefficient_transforms(fixed, mix=same_prior(rows))
        if fixed.mean_shift:
            b = pm.Flat(f"{fixed.b_var}_shifted", dims=fixed.coef_dim, transform=transforms[0])
        else:
            b = coefficient_vector(
                fixed.b_var, "b", fixed.coefs, fixed.coef_dim, priors, dpar=dp,
                transforms=transforms,
            )  # fmt: skip
    icpt = None
    if fixed.sampled_intercept:
        if fixed.mean_shift:
            icpt = pm.Flat(f"{fixed.intercept_var}_shifted")
        else:
            icpt = prior_rv(fixed.intercept_var, priors.resolve("Intercept", dpar=dp))
    if fixed.mean_shift:
        return pt.zeros(fixed.X.shape[0]), {"shifted": (b, icpt, Xc)}
    _uncentred_intercept(fixed, icpt, b)
    return _population_part(fixed, Xc, b, icpt), {"b": b, "intercept": icpt}


def _population_part(fixed: FixedDesign, Xc, b, icpt):
    """``Xc · b + Intercept``, leaving out what the predictor lacks."""
    eta = pt.zeros(fixed.X.shape[0])
    if b is not None:
        eta = eta + pt.dot(Xc, b)
    if icpt is not None:
        eta = eta + icpt
    return eta


def _design_means(fixed: FixedDesign):
    """The population columns' means as data, so that new data of the same shape reuse a
    compiled model."""
    return pm.Data(f"Xmeans{dpar_suffix(fixed.dpar)}", np.asarray(fixed.means, float))


def _uncentred_intercept(fixed: FixedDesign, icpt, b, means=None):
    """brms's b_Intercept: the intercept of the uncentred predictors."""
    if icpt is None:
        return
    shift = 0.0
    if b is not None:
        means = _design_means(fixed) if means is None else means
        shift = pt.dot(means, b)
    pm.Deterministic(f"b_{dpar_prefix(fixed.dpar)}Intercept", icpt - shift)


def population_unshift(fixed: FixedDesign, priors, shifted: tuple, slope_shift, icpt_shift):
    """The slopes and intercept of a predictor sampled shifted (``population_eta`` with
    ``mean_shift``): ``b = b' − slope_shift`` and ``Intercept = Intercept' − icpt_shift −
    means_X · slope_shift`` as the model's ``b`` and ``Intercept``, their priors evaluated at
    those values (``bayesml.mean_shift``). Returns their part of the linear predictor,
    ``Xc · b + Intercept`` (the unshifted model's, so that the varying effects enter as they
    are), and ``{"b": ..., "intercept": ...}``."""
    b_free, icpt_free, Xc = shifted
    dp = prior_dpar(fixed.dpar)
    b = icpt = None
    terms = []
    if b_free is not None:
        b = pm.Deterministic(
            fixed.b_var,
            pt.specify_shape(b_free - slope_shift, (len(fixed.coefs),)),
            dims=fixed.coef_dim,
        )
        rows = [priors.resolve("b", c, "", dp) for c in fixed.coefs]
        if same_prior(rows):
            terms.append(prior_logp(rows[0], b))
        else:
            terms += [prior_logp(r, b[i]) for i, r in enumerate(rows)]
    means = None
    if icpt_free is not None:
        drift = icpt_shift
        if b is not None:
            means = _design_means(fixed)
            drift = drift + pt.dot(means, slope_shift)
        icpt = pm.Deterministic(fixed.intercept_var, icpt_free - drift)
        terms.append(prior_logp(priors.resolve("Intercept", dpar=dp), icpt))
    pm.Potential(f"population_prior{dpar_suffix(fixed.dpar)}", pt.sum(pt.stack(terms)))
    _uncentred_intercept(fixed, icpt, b, means)
    return _population_part(fixed, Xc, b, icpt), {"b": b, "intercept": icpt}


def coefficient_map(Xc: np.ndarray, mix: bool = True) -> np.ndarray:
    """The matrix ``A`` of the sampler's coordinates ``u = A b`` for slopes on the design
    ``Xc``: the R factor of ``Xc``'s QR decomposition over √n, so that ``Xc b = Q √n u`` with
    unit-RMS columns ``Q √n`` (brms's ``decomp = "QR"`` idea, as a change of coordinates that
    keeps every prior on ``b``). Without ``mix`` (slopes with priors of their own), or where
    the design is (nearly) rank deficient, the diagonal of column RMS values instead; a
    column of zeros keeps scale 1.
    """
    n, k = Xc.shape
    rms = np.sqrt((Xc**2).mean(axis=0)) if n else np.ones(k)
    rms = np.where(rms > 0, rms, 1.0)
    if mix and k > 1 and n >= k:
        R = np.linalg.qr(Xc / rms, mode="r") / np.sqrt(n)
        d = np.abs(np.diag(R))
        if d.min() > 1e-6 * d.max():
            R = R * np.sign(np.diag(R))[:, None]  # positive diagonal
            return R * rms  # R of Xc itself: the column scaling commutes with QR
    return np.diag(rms)


def _coefficient_transforms(fixed: FixedDesign, mix: bool) -> tuple:
    """The slopes' change of coordinates (``coefficient_map``) as PyMC transforms: one for
    the vector of slopes, one per slope for slopes with priors of their own."""
    A = fixed.coordinate_map(mix)
    return LinearCoefficients(A), [ScaledCoefficient(A[i, i]) for i in range(len(fixed.coefs))]


@dataclass(frozen=True)
class Collinearity:
    """A population-level column that the others (and the intercept) determine exactly."""

    column: str
    depends_on: tuple[str, ...]  # the columns it is a combination of (empty: it is constant)
    weights: tuple[float, ...]  # column = sum(weights * depends_on) after centring


def collinear_columns(fixed: FixedDesign, tol: float = 1e-7) -> list[Collinearity]:
    """Columns of the population-level design that are exact linear combinations of others
    (after centring when the model has an intercept, so a constant column shows up as one).

    A pivoted QR decomposition finds the rank, as lme4 does before it drops columns; each
    column beyond the rank is then written in terms of the independent ones.
    """
    from scipy.linalg import lstsq, qr

    M = fixed.Xc
    if M.shape[1] == 0:
        return []
    norms = np.linalg.norm(M, axis=0)
    scale = np.where(norms > 0, norms, 1.0)
    _, R, piv = qr(M / scale, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int((diag > tol * max(diag.max(), 1.0)).sum()) if len(diag) else 0
    indep, dep = piv[:rank], piv[rank:]
    out = []
    for j in dep:
        if norms[j] <= tol * max(norms.max(), 1.0) or rank == 0:
            out.append(Collinearity(fixed.coefs[j], (), ()))
            continue
        coef = lstsq(M[:, indep], M[:, j])[0]
        keep = np.abs(coef) * norms[indep] > 1e-8 * norms[j]
        out.append(
            Collinearity(
                fixed.coefs[j],
                tuple(fixed.coefs[i] for i in indep[keep]),
                tuple(float(c) for c in coef[keep]),
            )
        )
    return out
