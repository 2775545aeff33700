"""The group-level covariance inverse the marginal likelihood uses (``effects.cov_inverse``)."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import io_toposort

from bayesml.effects import UNROLLED_INVERSE_MAX, cov_inverse


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
