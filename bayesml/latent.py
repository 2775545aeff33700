"""Smooth and Gaussian-process coefficients integrated out of a Gaussian likelihood.

The penalised block of a smooth (``s_sx_1 = sds · zs``), the coefficients of an approximate GP
(``sqrt(spd) · zgp``) and the values of an exact GP (``chol(K) · zgp``) enter mu as
``Z · A(θ) · z`` with ``z ~ N(0, I)``: ``Z`` a constant design (n × R), ``A`` a factor the
parameters give (a scale per column, or a matrix). In a Gaussian model with identity link they
integrate out as varying effects do (``bayesml.marginal``): ``y ~ N(eta, V + B Bᵀ)`` with
``B = [Z_1 A_1, Z_2 A_2, ...]`` (n × Q). Woodbury's identity in the standardised coordinates
needs only ``M = I + Bᵀ V⁻¹ B`` (Q × Q), which is never ill-conditioned — no inverse of a GP's
covariance appears — so NUTS explores the sds, length scales, sigma and the unpenalised
coefficients alone, without the funnel between a scale and its coefficients.

After sampling, ``z`` is drawn from its exact conditional, one draw per posterior draw, by
Matheron's rule: ``z = z₀ + Bᵀ Σ⁻¹ (r − B z₀ − e₀)`` with ``z₀ ~ N(0, I)``, ``e₀ ~ N(0, V)``,
``Σ = V + B Bᵀ`` and ``r`` the residual of the rest of the predictor. The joint draws are
draws from the posterior brms samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt

from .cholesky_terms import logdet_and_quad

__all__ = ["LatentPiece", "draw_latent", "latent_columns", "latent_loglik"]


@dataclass(frozen=True)
class LatentPiece:
    """Standard-normal coefficients ``name`` (dimension ``dim``) entering mu as ``Z · A · z``;
    ``factor`` is ``A``: a scalar or vector (a scale per column of ``Z``) or a matrix (R × Q).
    ``scaled`` names the variable holding ``A · z`` for a scalar or vector ``A`` (brms's
    ``s_sx_1``), filled after sampling with ``z``."""

    name: str
    dim: str
    Z: np.ndarray
    factor: pt.TensorVariable
    scaled: str | None = None


def latent_columns(piece: LatentPiece) -> pt.TensorVariable:
    """``B = Z · A`` of one piece (n × Q)."""
    if piece.factor.ndim == 0:
        return piece.Z * piece.factor
    if piece.factor.ndim == 1:
        return piece.Z * piece.factor[None, :]
    return pt.dot(piece.Z, piece.factor)


def latent_loglik(resid, v, pieces: list[LatentPiece]) -> pt.TensorVariable:
    """``log N(resid | 0, V + B Bᵀ)`` by Woodbury in standardised coordinates.

    ``v`` is the residual variance: a scalar, or one per observation.
    """
    B = pt.concatenate([latent_columns(p) for p in pieces], axis=1)
    n = resid.shape[0]
    if v.ndim == 0:
        Bv, logdet_v, quad = B / v, n * pt.log(v), pt.sum(resid**2) / v
    else:
        Bv, logdet_v, quad = B / v[:, None], pt.sum(pt.log(v)), pt.sum(resid**2 / v)
    M = pt.eye(B.shape[1]) + pt.dot(B.T, Bv)
    logdet_m, correction = logdet_and_quad(M[None], pt.dot(Bv.T, resid)[None])
    return -0.5 * (n * np.log(2 * np.pi) + logdet_v + logdet_m + quad - correction)


def draw_latent(
    resid: np.ndarray,
    v: np.ndarray,
    columns: list[np.ndarray],
    rng: np.random.Generator,
    chunk: int = 200,
) -> list[np.ndarray]:
    """Exact conditional draws of every piece's ``z``, one per posterior draw.

    Parameters
    ----------
    resid : (S, n) y minus the rest of the predictor, per draw
    v : (S,) or (S, n) residual variances
    columns : per piece, (S, n, Q_k) its ``B`` per draw

    Returns
    -------
    list of (S, Q_k) arrays
    """
    S, n = resid.shape
    sizes = [c.shape[2] for c in columns]
    out = np.zeros((S, sum(sizes)))
    for start in range(0, S, chunk):
        sl = slice(start, min(S, start + chunk))
        B = np.concatenate([c[sl] for c in columns], axis=2)  # (s, n, Q)
        vv = v[sl][:, None] if v.ndim == 1 else v[sl]  # (s, 1) or (s, n)
        z0 = rng.standard_normal((B.shape[0], B.shape[2]))
        e0 = rng.standard_normal((B.shape[0], n)) * np.sqrt(vv)
        r = resid[sl] - np.einsum("snq,sq->sn", B, z0) - e0
        Bv = B / vv[:, :, None]
        M = np.eye(B.shape[2])[None] + np.einsum("snq,snp->sqp", B, Bv)
        # Σ⁻¹ r = V⁻¹ r − V⁻¹ B M⁻¹ Bᵀ V⁻¹ r
        c = np.linalg.solve(M, np.einsum("snq,sn->sq", Bv, r)[..., None])[..., 0]
        w = r / vv - np.einsum("snq,sq->sn", Bv, c)
        out[sl] = z0 + np.einsum("snq,sn->sq", B, w)
    return np.split(out, np.cumsum(sizes)[:-1], axis=1)
