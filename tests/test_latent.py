"""Smooth and GP coefficients integrated out of a Gaussian likelihood (bayesml.latent): the
density equals the dense multivariate normal, and the draws after sampling follow the exact
conditional."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import stats

from bayesml.latent import LatentPiece, draw_latent, latent_columns, latent_loglik


def _pieces(rng, n: int):
    Z1 = rng.normal(size=(n, 4))
    Z2 = rng.normal(size=(n, 3))
    A2 = np.tril(rng.normal(size=(3, 3)))
    return [
        LatentPiece("zs_a", "a_dim", Z1, pt.as_tensor_variable(1.7)),
        LatentPiece("zgp_b", "b_dim", Z2, pt.as_tensor_variable(A2)),
        LatentPiece("zgp_c", "c_dim", Z1[:, :2], pt.as_tensor_variable(np.array([0.5, 2.0]))),
    ]


def _dense_B(pieces) -> np.ndarray:
    return np.concatenate([latent_columns(p).eval() for p in pieces], axis=1)


@pytest.mark.parametrize("heteroscedastic", [False, True])
def test_density_equals_the_dense_multivariate_normal(heteroscedastic):
    rng = np.random.default_rng(1)
    n = 30
    pieces = _pieces(rng, n)
    resid = rng.normal(size=n) * 3
    v = rng.uniform(0.5, 2, n) if heteroscedastic else np.float64(0.8)
    got = latent_loglik(pt.as_tensor_variable(resid), pt.as_tensor_variable(v), pieces).eval()
    B = _dense_B(pieces)
    cov = np.diag(np.broadcast_to(v, (n,))) + B @ B.T
    want = stats.multivariate_normal(np.zeros(n), cov).logpdf(resid)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_density_has_a_gradient_through_the_factors():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(10, 3))
    s = pt.dscalar("s")
    loglik = latent_loglik(pt.as_tensor_variable(rng.normal(size=10)), pt.as_tensor_variable(1.0),
                           [LatentPiece("zs", "d", Z, s)])  # fmt: skip
    f = pytensor.function([s], [loglik, pytensor.grad(loglik, s)])
    (a, g), (b, _) = f(0.7), f(0.7 + 1e-6)
    np.testing.assert_allclose(g, (b - a) / 1e-6, rtol=1e-4)


def test_draws_follow_the_exact_conditional():
    """z | r ~ N(Bᵀ Σ⁻¹ r, I − Bᵀ Σ⁻¹ B): mean and covariance of 40,000 draws within their
    Monte Carlo error (5 standard errors)."""
    rng = np.random.default_rng(3)
    n = 12
    pieces = _pieces(rng, n)
    B = _dense_B(pieces)
    resid = rng.normal(size=n) * 2
    v = 0.6
    S = 40_000
    cols, start = [], 0
    for p in pieces:
        q = latent_columns(p).eval().shape[1]
        cols.append(np.broadcast_to(B[:, start : start + q], (S, n, q)))
        start += q
    z = np.concatenate(
        draw_latent(np.broadcast_to(resid, (S, n)), np.full(S, v), cols, rng), axis=1
    )
    sigma = v * np.eye(n) + B @ B.T
    mean = B.T @ np.linalg.solve(sigma, resid)
    cov = np.eye(B.shape[1]) - B.T @ np.linalg.solve(sigma, B)
    se = np.sqrt(np.diag(cov) / S)
    assert np.all(np.abs(z.mean(axis=0) - mean) < 5 * se)
    emp = np.cov(z, rowvar=False)
    se_cov = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / S)
    assert np.all(np.abs(emp - cov) < 5 * se_cov + 1e-12)
