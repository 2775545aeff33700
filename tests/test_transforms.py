"""Stan's tanh (canonical partial correlation) transform for LKJ Cholesky factors, and the
population-level slopes' change of coordinates to their design's scale."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from scipy import stats

from bayesml import make_model, prior
from bayesml.terms.population import coefficient_map
from bayesml.transforms import CPCCholeskyCorr, LinearCoefficients, ScaledCoefficient


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


def _unscaled_frame(seed=0, n=60):
    rng = np.random.default_rng(seed)
    x = rng.uniform(400, 550, n)
    return pd.DataFrame(
        {"y": rng.poisson(3, n), "x": x, "x2": x**2 / 1000, "w": rng.normal(0, 0.01, n)}
    )


def test_coefficient_map_orthonormalises_the_centred_design():
    d = _unscaled_frame()
    X = d[["x", "x2", "w"]].to_numpy()
    Xc = X - X.mean(0)
    A = coefficient_map(Xc)
    assert np.allclose(np.tril(A, -1), 0) and np.all(np.diag(A) > 0)
    Q = Xc @ np.linalg.inv(A)  # the design in the sampler's coordinates
    assert np.allclose(Q.T @ Q / len(Q), np.eye(3), atol=1e-10)
    # without mixing (slopes with priors of their own): each column's RMS
    assert np.allclose(coefficient_map(Xc, mix=False), np.diag(np.sqrt((Xc**2).mean(0))))
    # a column of zeros keeps scale 1 and the map stays diagonal
    Z = np.column_stack([Xc[:, 0], np.zeros(len(Xc))])
    assert np.allclose(coefficient_map(Z), np.diag([np.sqrt((Xc[:, 0] ** 2).mean()), 1.0]))


def test_linear_map_round_trip_and_constant_jacobian():
    A = np.array([[2.0, 0.5, -1.0], [0.0, 0.3, 0.2], [0.0, 0.0, 40.0]])
    tr = LinearCoefficients(A)
    b = np.array([0.1, -2.0, 0.003])
    u = tr.forward(b).eval()
    assert np.allclose(u, A @ b)
    assert np.allclose(tr.backward(u).eval(), b)
    assert float(tr.log_jac_det(u).eval()) == pytest.approx(-np.log(np.linalg.det(A)))
    s = ScaledCoefficient(43.0)
    assert float(s.forward(2.0).eval()) == pytest.approx(86.0)
    assert float(s.log_jac_det(86.0).eval()) == pytest.approx(-np.log(43.0))


@pytest.mark.parametrize(
    "priors",
    [None, prior("normal(0, 0.5)", class_="b"), prior("student_t(3, 0, 2)", class_="b", coef="x")],
)
def test_slopes_density_in_the_sampler_coordinates_is_the_prior_of_b(priors):
    """The model's log density at the sampler's values u equals brms's prior of b = A⁻¹u plus
    the constant log|det A⁻¹|: the change of coordinates leaves the posterior of b as it was."""
    d = _unscaled_frame(1)
    m = make_model("y ~ x + x2 + w", d, "poisson", prior=priors)
    model = m.model
    free = {v.name: model.rvs_to_transforms.get(v) for v in model.free_RVs}
    Xc = m.design.fixed.Xc
    point = model.initial_point()
    rng = np.random.default_rng(2)
    point = {k: v + rng.normal(0, 0.5, np.shape(v)) for k, v in point.items()}
    logp = model.compile_logp(vars=[v for v in model.free_RVs if v.name.startswith("b")])
    if "b" in free:  # one prior for all slopes: the QR map
        assert isinstance(free["b"], LinearCoefficients)
        A = coefficient_map(Xc)
        u = point["b_designmap__"]
        b = np.linalg.solve(A, u)
        row = m.priors.resolve("b", "x")
        jac = -np.log(np.linalg.det(A))
        if row.prior:
            expected = stats.norm(0, 0.5).logpdf(b).sum() + jac
        else:
            expected = jac  # flat
    else:  # a prior per slope: each scaled by its column's RMS
        rms = np.sqrt((Xc**2).mean(0))
        assert [type(free[f"b_{c}"]) for c in ("x", "x2", "w")] == [ScaledCoefficient] * 3
        b = np.array([point[f"b_{c}_designscale__"] for c in ("x", "x2", "w")]) / rms
        expected = stats.t(3, 0, 2).logpdf(b[0]) - np.log(rms).sum()
    assert logp(point) == pytest.approx(expected, rel=1e-8)


def test_bounded_slopes_keep_their_own_transform():
    d = _unscaled_frame(2)
    m = make_model("y ~ x", d, "poisson", prior=prior("normal(0, 1)", class_="b", lb=0))
    tr = m.model.rvs_to_transforms[m.model["b"]]
    assert not isinstance(tr, (LinearCoefficients, ScaledCoefficient))
