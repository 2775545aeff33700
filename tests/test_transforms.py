"""Stan's tanh (canonical partial correlation) transform for LKJ Cholesky factors."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import stats

from bayesml.transforms import CPCCholeskyCorr


def _functions(n):
    tr = CPCCholeskyCorr(n)
    y = pt.vector("y")
    L = tr.backward(y)
    lower = pt.stack([L[i, j] for i in range(1, n) for j in range(i)])
    f = pytensor.function([y], [L, tr.forward(L), tr.log_jac_det(y)])
    jac = pytensor.function([y], pytensor.gradient.jacobian(lower, y))
    return f, jac


@pytest.mark.parametrize("n", [2, 3, 4])
def test_transform_round_trip_and_jacobian(n):
    f, jac = _functions(n)
    y = np.random.default_rng(n).normal(0, 1.5, n * (n - 1) // 2)
    L, back, log_jac = f(y)
    assert np.allclose(np.triu(L, 1), 0)
    assert np.allclose(np.diag(L @ L.T), 1.0, atol=1e-12)  # a correlation matrix
    assert np.all(np.diag(L) > 0)
    assert np.allclose(back, y, atol=1e-10)
    # the strictly lower triangle determines L; its Jacobian's log-determinant
    assert log_jac == pytest.approx(np.log(abs(np.linalg.det(jac(y)))), rel=1e-10)


def test_two_by_two_correlation_is_tanh():
    f, _ = _functions(2)
    L, _, log_jac = f(np.array([0.7]))
    assert L[1, 0] == pytest.approx(np.tanh(0.7))
    assert log_jac == pytest.approx(np.log1p(-(np.tanh(0.7) ** 2)))


def test_nuts_under_the_transform_draws_the_lkj_prior():
    # lkj(1) on 3 x 3: each correlation r has (r + 1) / 2 ~ Beta(1.5, 1.5)
    with pm.Model() as model:
        L = pm.LKJCorr("L", n=3, eta=1.0, default_transform=CPCCholeskyCorr(3))
        R = L @ L.T
        pm.Deterministic("r10", R[1, 0])
        pm.Deterministic("r21", R[2, 1])
    idata = pm.sample(
        model=model,
        draws=2000,
        tune=500,
        chains=2,
        random_seed=3,
        progressbar=False,
        nuts_sampler="nutpie",
    )
    for name in ("r10", "r21"):
        r = idata.posterior[name].values.ravel()
        assert stats.kstest((r + 1) / 2, stats.beta(1.5, 1.5).cdf).pvalue > 0.01
