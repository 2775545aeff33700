"""How group-level effects enter a model (``bayesml.effects``): the covariance inverse the marginal
likelihood uses, and the non-centred square root of correlated blocks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import io_toposort

from bayesml import bf, make_model
from bayesml.effects import UNROLLED_INVERSE_MAX, centring_pattern, cov_inverse


def _random_block(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([n, seed])
    A = rng.normal(size=(n, n + 3))
    C = A @ A.T
    R = C / np.sqrt(np.outer(np.diag(C), np.diag(C)))
    return rng.uniform(0.3, 3.0, size=n), np.linalg.cholesky(R)


@pytest.mark.parametrize("n", [2, 3, 5, UNROLLED_INVERSE_MAX, UNROLLED_INVERSE_MAX + 1])
def test_the_inverse_and_log_determinant_are_those_of_the_covariance(n):
    sd_value, L_value = _random_block(n, 1)
    sd, L = pt.dvector("sd"), pt.tensor("L", shape=(n, n), dtype="float64")
    inverse, logdet = cov_inverse(sd, L)
    f = pytensor.function([sd, L], [inverse, logdet], mode="FAST_COMPILE")
    got_inverse, got_logdet = f(sd_value, L_value)
    cov = np.diag(sd_value) @ L_value @ L_value.T @ np.diag(sd_value)
    np.testing.assert_allclose(got_inverse, np.linalg.inv(cov), rtol=1e-10, atol=1e-12)
    assert got_logdet == pytest.approx(np.linalg.slogdet(cov)[1], rel=1e-12)


@pytest.mark.parametrize("n, mode", [(2, "NUMBA"), (4, "FAST_COMPILE")])
def test_the_unrolled_gradient_matches_the_lapack_one_and_calls_no_blas(n, mode):
    sd_value, L_value = _random_block(n, 2)
    weights = np.random.default_rng(3).normal(size=(n, n))
    sd, L = pt.dvector("sd"), pt.tensor("L", shape=(n, n), dtype="float64")
    L_unknown = pt.dmatrix("L_unknown")  # no static size: the LAPACK path
    grads = []
    for matrix in (L, L_unknown):
        inverse, logdet = cov_inverse(sd, matrix)
        cost = pt.sum(inverse * weights) + logdet
        f = pytensor.function([sd, matrix], pt.grad(cost, [sd, matrix]), mode=mode)
        grads.append(f(sd_value, L_value))
        ops = {type(node.op).__name__ for node in io_toposort([], f.maker.fgraph.outputs)}
        if matrix is L:
            assert not ops & {"SolveTriangular", "Dot", "Dot22", "Gemm", "Gemv"}, ops
        else:
            assert "SolveTriangular" in ops
    for unrolled, lapack in zip(*grads, strict=True):
        # the lower triangle is what the correlation transform feeds
        np.testing.assert_allclose(np.tril(unrolled), np.tril(lapack), rtol=1e-9, atol=1e-11)


def _slopes_data(k: int, seed: int) -> pd.DataFrame:
    """60 rows, 12 groups, k - 1 predictors whose means are far from zero."""
    rng = np.random.default_rng([k, seed])
    d = pd.DataFrame({f"x{i}": rng.normal(loc=2.0 * i, size=60) for i in range(1, k)})
    d["g"] = [f"g{i % 12:02d}" for i in range(60)]
    d["y"] = rng.poisson(2.0, size=60)
    return d


@pytest.mark.parametrize("k", [2, 3, UNROLLED_INVERSE_MAX + 1])
def test_correlated_effects_keep_brms_covariance_with_centred_coordinates(k):
    d = _slopes_data(k, 1)
    slopes = " + ".join(f"x{i}" for i in range(1, k))
    bm = make_model(f"y ~ 1 + ({slopes} | g)", d, group_effects="noncentred")
    model = bm.model
    assert {"sd_1_signed", "L_1_signed", "z_1"} <= {v.name for v in model.free_RVs}
    rng = np.random.default_rng(k)
    point = model.initial_point()
    point["sd_1_signed"] = rng.uniform(0.3, 2.0, k) * rng.choice([-1.0, 1.0], k)
    corr = next(n for n in point if n.startswith("L_1_signed"))
    point[corr] = rng.normal(size=point[corr].shape)
    # r[level] = W z[:, level]: unit vectors in the first k levels give W's columns
    z = np.zeros((k, 12))
    z[:, :k] = np.eye(k)
    point["z_1"] = z
    outputs = model.replace_rvs_by_values([model["r_1"], model["sd_1"], model["L_1"]])
    f = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")
    r, sd, L = f(point)
    W = r[:k].T
    sigma = np.diag(sd) @ L @ L.T @ np.diag(sd)
    np.testing.assert_allclose(W @ W.T, sigma, rtol=1e-10, atol=1e-12)
    assert np.all(sd > 0) and np.allclose(np.diag(L @ L.T), 1.0)
    # in the coordinates of the centred design (A r, A = I + E) the root is triangular:
    # the intercept at the centre is the first standardised effect alone
    A = np.eye(k)
    A[0, 1:] = d[[f"x{i}" for i in range(1, k)]].mean().to_numpy()
    C = A @ W
    np.testing.assert_allclose(np.triu(C, 1), 0.0, atol=1e-10)
    assert np.all(np.diag(C) > 0)
    assert np.isfinite(model.compile_dlogp()(point)).all()


def test_only_plain_columns_of_correlated_blocks_with_an_intercept_are_centred(sleep):
    def pattern(formula, data=sleep, **kw):
        return centring_pattern(make_model(formula, data, **kw).design.blocks[0])

    assert pattern("Reaction ~ Days + (Days | Subject)").tolist() == [[0, 1], [0, 0]]
    assert pattern("Reaction ~ Days + (0 + Days | Subject)") is None
    assert pattern("Reaction ~ Days + (Days || Subject)") is None
    assert pattern("Reaction ~ Days + (0 + Days + I(Days^2) | Subject)") is None
    # one block across two predictors: each predictor's columns on its own intercept
    both = bf("Reaction ~ Days + (Days |p| Subject)", sigma="~ Days + (Days |p| Subject)")
    assert pattern(both).tolist() == [[0, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 1], [0, 0, 0, 0]]


def test_new_data_of_the_same_shape_keep_the_compiled_model():
    from bayesml.sampling import model_fingerprint

    d = _slopes_data(3, 1)
    shifted = d.assign(x1=d["x1"] + 5.0, x2=d["x2"] * 2.0)
    formula = "y ~ 1 + (x1 + x2 | g)"
    models = [make_model(formula, data, family="poisson").model for data in (d, shifted)]
    means = [m["Zmean_1"].get_value() for m in models]
    assert means[1][1] == pytest.approx(means[0][1] + 5.0)
    assert means[1][2] == pytest.approx(means[0][2] * 2.0)
    # the means are data, not constants of the graph
    assert model_fingerprint(models[0]) == model_fingerprint(models[1])


def test_intercept_blocks_add_their_effects_without_a_design_column():
    from scipy import stats

    d = _slopes_data(2, 2)
    bm = make_model("y ~ x1 + (1 | g)", d, family="poisson")
    model = bm.model
    assert "Z_1" not in {v.name for v in model.data_vars}
    rng = np.random.default_rng(3)
    point = {k: rng.normal(size=np.shape(v)) for k, v in model.initial_point().items()}
    outputs = model.replace_rvs_by_values([model["Intercept"], model["b"], model["r_1"]])
    icpt, b, r = model.compile_fn(outputs, inputs=model.value_vars, on_unused_input="ignore")(point)
    fixed = bm.design.fixed
    eta = icpt + fixed.Xc @ b + r[bm.design.blocks[0].index, 0]
    expected = stats.poisson.logpmf(d["y"], np.exp(eta)).sum()
    loglik = model.compile_fn(model.logp(vars=model.observed_RVs), on_unused_input="ignore")
    assert loglik(point) == pytest.approx(expected, rel=1e-10)
