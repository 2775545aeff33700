"""The fused Cholesky operation of the marginal likelihood: values against NumPy's linear
algebra, gradients against finite differences, in every backend that samples."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad
from pytensor.graph.traversal import io_toposort

from bayesml.cholesky_terms import (
    FUSED_SIZES,
    CholeskyTerms,
    cholesky_terms,
    conditional_draws,
    logdet_and_quad,
    register_jax,
)

MODES = ["NUMBA", "FAST_COMPILE"]  # Numba kernel; NumPy ``perform`` (Python linker)


def _problem(C=5, Q=4, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(C, Q, Q))
    M = A @ np.swapaxes(A, -1, -2) + 0.5 * np.eye(Q)
    return M, rng.normal(size=(C, Q))


def _expected(M, z):
    logdet = np.linalg.slogdet(M)[1].sum()
    x = np.linalg.solve(M, z[..., None])[..., 0]
    return logdet, np.sum(z * x), np.linalg.inv(M), x


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(1, 2), (5, 4), (3, 17)])
def test_values_equal_numpy_linear_algebra(mode, shape):
    M, z = _problem(*shape)
    Mv, zv = pt.tensor3("M"), pt.matrix("z")
    fn = pytensor.function([Mv, zv], CholeskyTerms()(Mv, zv, pt.zeros_like(zv, "int64")), mode=mode)
    for got, want in zip(fn(M, z), _expected(M, z), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def _envelope(M: np.ndarray) -> np.ndarray:
    """Each row's first non-zero column (the diagonal at the latest)."""
    return np.argmax((M != 0) | np.eye(M.shape[-1], dtype=bool), axis=-1)


def _nested_problem(C=4, classes=(3, 1, 6, 0), seed=3):
    """Components shaped as a nested design's (``marginal._node_degrees``' order): per class
    a 2 × 2 block, the school's 2 effects last, coupled to every class; padded to one Q with
    identity rows, as batches are; plus a banded component (rows of L⁻¹ reach further left
    than the rows of M) and a dense one."""
    rng = np.random.default_rng(seed)
    Q = 2 * max(classes) + 2
    M = np.zeros((C + 2, Q, Q))
    for c, n in enumerate(classes):
        q = 2 * n + 2
        B = np.zeros((q, q))
        for k in range(n):
            A = rng.normal(size=(2, 2))
            B[2 * k : 2 * k + 2, 2 * k : 2 * k + 2] = A @ A.T + np.eye(2)
        coupling = rng.normal(scale=0.3, size=(2 * n, 2))
        B[: 2 * n, 2 * n :] = coupling
        B[2 * n :, : 2 * n] = coupling.T
        B[2 * n :, 2 * n :] = (4.0 * n + 2.0) * np.eye(2) + 0.5
        M[c, :q, :q] = B
        M[c, q:, q:] = np.eye(Q - q)
    off = rng.normal(scale=0.4, size=Q - 1)
    M[C] = 2.0 * np.eye(Q) + np.diag(off, 1) + np.diag(off, -1)
    A = rng.normal(size=(Q, Q))
    M[C + 1] = A @ A.T + 0.5 * np.eye(Q)
    assert np.all(np.linalg.eigvalsh(M) > 0)
    return M, rng.normal(size=(C + 2, Q))


@pytest.mark.parametrize("mode", MODES)
def test_nested_components_skip_their_zeros_and_equal_numpy(mode):
    """With the matrices' envelopes, the loops skip the zeros left of each row's first
    non-zero (a class's rows after the classes before it) and the inverse is computed inside
    the envelope only; the other outputs must not change, nor the inverse where M is not
    structurally zero."""
    M, z = _nested_problem()
    env = _envelope(M)
    assert env.max() > 0 and env[-1].max() == 0  # nested and banded rows start late; dense at 0
    Mv, zv, ev = pt.tensor3("M"), pt.matrix("z"), pt.lmatrix("e")
    fn = pytensor.function([Mv, zv, ev], CholeskyTerms()(Mv, zv, ev), mode=mode)
    col = np.arange(M.shape[-1])
    inside = (col >= env[..., None]) & (col <= col[:, None])  # row i: env[i] <= j <= i
    inside = inside | np.swapaxes(inside, -1, -2)
    logdet, quad, inverse, solution = fn(M, z, env)
    want = _expected(M, z)
    for got, expected in zip((logdet, quad, solution), (want[0], want[1], want[3]), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(inverse[inside], want[2][inside], rtol=1e-10, atol=1e-12)
    # the dense envelope gives the whole inverse; one component at a time as well (the work
    # arrays are reused across components)
    for c in range(len(M)):
        one = fn(M[c : c + 1], z[c : c + 1], np.zeros_like(env[c : c + 1]))
        np.testing.assert_allclose(one[2][0], want[2][c], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_through_a_nested_envelope_matches_finite_differences(mode):
    """Only the envelope of M⁻¹ reaches the gradient: M is structurally zero outside it."""
    rng = np.random.default_rng(6)
    pattern = _nested_problem(C=2, classes=(3, 2))[0][:2] != 0
    env = _envelope(pattern)
    z0 = rng.normal(size=pattern.shape[:2])
    W0 = rng.normal(scale=0.3, size=pattern.shape)

    def cost(W, z):
        # free entries on the nested pattern, made symmetric and diagonally dominant
        S = pt.where(pattern, W + pt.swapaxes(W, -1, -2), 0.0)
        M = S + (pt.abs(S).sum(-1)[..., None] + 1.0) * pt.eye(pattern.shape[-1])
        logdet, quad = cholesky_terms(M, z, env)
        return 0.3 * logdet - 0.7 * quad

    verify_grad(cost, [W0, z0], rng=rng, mode=mode, abs_tol=1e-6, rel_tol=1e-6)


def test_nested_draws_equal_numpys():
    M, z = _nested_problem(seed=4)
    eps = np.random.default_rng(5).normal(size=z.shape)
    L = np.linalg.cholesky(M)
    expected = np.linalg.solve(
        np.swapaxes(L, -1, -2), (np.linalg.solve(L, z[..., None])[..., 0] + eps)[..., None]
    )[..., 0]
    np.testing.assert_allclose(conditional_draws(M, z, eps), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_matches_finite_differences(mode):
    M, z = _problem(C=3, Q=3, seed=1)
    rng = np.random.default_rng(2)
    P0 = np.linalg.cholesky(M)

    def cost(P, z):
        # a symmetric positive-definite M built from free entries, as the model builds it
        logdet, quad = cholesky_terms(P @ pt.swapaxes(P, -1, -2) + 0.5 * pt.eye(3), z)
        return 0.3 * logdet - 0.7 * quad

    verify_grad(cost, [P0, z], rng=rng, mode=mode, abs_tol=1e-6, rel_tol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_a_matrix_that_is_not_positive_definite_gives_nan(mode):
    M, z = _problem(C=3, Q=3)
    M[1] = -M[1]
    Mv, zv = pt.tensor3("M"), pt.matrix("z")
    logdet, quad = cholesky_terms(Mv, zv)
    values = pytensor.function([Mv, zv], [logdet, quad], mode=mode)(M, z)
    assert np.isnan(values).all()


def test_only_the_first_two_outputs_are_differentiable():
    Mv, zv = pt.tensor3("M"), pt.matrix("z")
    _, _, inverse, _ = CholeskyTerms()(Mv, zv, pt.zeros_like(zv, "int64"))
    with pytest.raises(NotImplementedError, match="first two outputs"):
        pytensor.grad(inverse.sum(), Mv)


def test_jax_implementation_agrees_with_numba():
    pytest.importorskip("jax")
    register_jax()
    M, z = _problem(C=4, Q=3, seed=3)
    Mv, zv = pt.tensor3("M"), pt.matrix("z")
    logdet, quad = cholesky_terms(Mv, zv)
    cost = logdet - quad
    outputs = [logdet, quad, *pytensor.grad(cost, [Mv, zv])]
    got = pytensor.function([Mv, zv], outputs, mode="JAX")(M, z)
    want = pytensor.function([Mv, zv], outputs, mode="NUMBA")(M, z)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("size", [1, 3, 41])
def test_logdet_and_quad_agree_on_either_path(size):
    # sizes in FUSED_SIZES take the fused loop, others PyTensor's Cholesky and solve
    M, z = _problem(C=3, Q=size, seed=4)
    Mv, zv = pt.tensor3("M"), pt.matrix("z")
    logdet, quad = logdet_and_quad(Mv, zv, size=size)
    ops = {type(n.op).__name__ for n in io_toposort([Mv, zv], [quad])}
    assert ("CholeskyTerms" in ops) == (size in FUSED_SIZES)
    got = pytensor.function([Mv, zv], [logdet, quad], mode="NUMBA")(M, z)
    np.testing.assert_allclose(got, _expected(M, z)[:2], rtol=1e-10)


def test_conditional_draws_are_numpys_cholesky_and_solves():
    from bayesml.cholesky_terms import conditional_draws

    rng = np.random.default_rng(11)
    A = rng.normal(size=(5, 7, 4, 6))
    M = A @ np.swapaxes(A, -1, -2) + np.eye(4)
    z, eps = rng.normal(size=(5, 7, 4)), rng.normal(size=(5, 7, 4))
    L = np.linalg.cholesky(M)
    y1 = np.linalg.solve(L, z[..., None])
    expected = np.linalg.solve(np.swapaxes(L, -1, -2), y1 + eps[..., None])[..., 0]
    np.testing.assert_allclose(conditional_draws(M, z, eps), expected, rtol=1e-12, atol=1e-12)
    # with ε = 0 the draw is the conditional mean M⁻¹z
    np.testing.assert_allclose(
        conditional_draws(M, z, np.zeros_like(z)), np.linalg.solve(M, z[..., None])[..., 0],
        rtol=1e-10, atol=1e-12,
    )  # fmt: skip
    M[2, 3] = -np.eye(4)  # one matrix that is not positive definite
    with pytest.raises(np.linalg.LinAlgError, match="not positive definite"):
        conditional_draws(M, z, eps)


def test_the_compiled_draws_are_chosen_where_numpy_would_take_longer_than_loading_them():
    from bayesml.marginal import compiled_draws_pay_off

    assert not compiled_draws_pay_off(4000, 18, 2)  # sleepstudy: NumPy 0.04 s
    assert compiled_draws_pay_off(4000, 107, 20)  # classroom's schools: 4.2 s against 0.7 s
    assert compiled_draws_pay_off(4000, 160, 2)  # mathach's schools: 0.30 s against 0.02 s
    assert compiled_draws_pay_off(4000, 1, 80)  # blp's crossed component: 0.42 s against 0.26 s
    assert not compiled_draws_pay_off(4000, 1, 200)  # LAPACK's blocked code is faster
