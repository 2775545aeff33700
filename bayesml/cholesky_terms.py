"""Log-determinants and quadratic forms of a batch of small positive-definite matrices, as
one PyTensor operation with its gradient.

The marginal likelihood of integrated-out varying effects needs, per connected component c,
``log|M_c|`` and ``z_cᵀ M_c⁻¹ z_c`` for matrices of a few to a few dozen rows. Built from
PyTensor's batched Cholesky factorisation and triangular solves, their value and gradient take
some twenty LAPACK calls per component and several batched operations (two of which PyTensor
runs in Numba's object mode); here one loop over the components computes the factor, both
terms and what the gradient needs (``M⁻¹`` inside M's structural envelope, and ``M⁻¹z``),
skipping the structural zeros of nested designs, with

    d log|M| = tr(M⁻¹ dM),    d zᵀM⁻¹z = 2 (M⁻¹z)ᵀ dz − (M⁻¹z)ᵀ dM (M⁻¹z).

Implementations: NumPy (``perform``, PyTensor's Python and C backends), Numba (nutpie's
default backend) and JAX (``register_jax``, for nutpie's and numpyro's JAX backends). A matrix
that is not numerically positive definite gives NaN terms, which the samplers reject.
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from numba.extending import register_jitable
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

__all__ = [
    "FUSED_SIZES",
    "CholeskyTerms",
    "cholesky_terms",
    "conditional_draws",
    "logdet_and_quad",
    "register_jax",
]

# Matrix sizes for which the fused loop replaces PyTensor's LAPACK-based graph. Log density and
# gradient as nutpie calls them, at the sampler's first point (bench_gradient.py): it wins for
# small blocks (classroom_uncorr, 6-20 effects per component: 983 us with LAPACK, 140 us fused),
# not for a crossed design's single large component (blp_crossed, 56 and 80: 208 us with
# LAPACK, 292 us fused), nor for 1 x 1 blocks (alcohol: 9.2 against 9.1 us).
FUSED_SIZES = range(2, 41)


class CholeskyTerms(Op):
    """``(M, z, envelope) -> (Σ_c log|M_c|, Σ_c z_cᵀ M_c⁻¹ z_c, M⁻¹, M⁻¹z)`` for ``M`` of shape
    ``(C, Q, Q)`` (symmetric positive definite), ``z`` of shape ``(C, Q)`` and ``envelope``
    (``(C, Q)`` integers): row i of ``M_c`` is structurally zero left of column
    ``envelope[c, i]`` (zeros give the dense case).

    The last two outputs serve the gradient, which is defined for costs that depend on the
    first two only. ``M⁻¹`` is exact inside the envelope (and its mirror); outside it the
    Numba kernel leaves zeros, which the gradient never reads with a non-zero weight
    (``dM`` is zero there), while NumPy and JAX fill in the whole inverse.
    """

    __props__ = ()

    def make_node(self, M, z, envelope):
        M = pt.as_tensor_variable(M).astype("float64")
        z = pt.as_tensor_variable(z).astype("float64")
        envelope = pt.as_tensor_variable(envelope).astype("int64")
        if M.type.ndim != 3 or z.type.ndim != 2 or envelope.type.ndim != 2:
            raise TypeError(
                "CholeskyTerms takes M of shape (C, Q, Q), z and envelope of shape (C, Q)"
            )
        outputs = [pt.dscalar(), pt.dscalar(), M.type(), z.type()]
        return Apply(self, [M, z, envelope], outputs)

    def perform(self, node, inputs, output_storage):
        logdet, quad, inverse, solution = _numpy_terms(*inputs[:2])
        for storage, value in zip(output_storage, (logdet, quad, inverse, solution), strict=True):
            storage[0] = value

    def infer_shape(self, fgraph, node, shapes):
        return [(), (), shapes[0], shapes[1]]

    def connection_pattern(self, node):
        return [[True] * 4, [True] * 4, [False] * 4]

    def pullback(self, inputs, outputs, cotangents):
        g_logdet, g_quad, g_inverse, g_solution = cotangents
        if not (isinstance(g_inverse.type, DisconnectedType)
                and isinstance(g_solution.type, DisconnectedType)):  # fmt: skip
            raise NotImplementedError("CholeskyTerms differentiates its first two outputs only")
        _, _, inverse, x = outputs
        g_M, g_z = pt.zeros_like(inverse), pt.zeros_like(x)
        if not isinstance(g_logdet.type, DisconnectedType):
            g_M = g_M + g_logdet * inverse
        if not isinstance(g_quad.type, DisconnectedType):
            g_M = g_M - g_quad * x[:, :, None] * x[:, None, :]
            g_z = g_z + 2 * g_quad * x
        return [g_M, g_z, DisconnectedType()()]


def cholesky_terms(M, z, envelope=None) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """``Σ_c log|M_c|`` and ``Σ_c z_cᵀ M_c⁻¹ z_c`` (see ``CholeskyTerms``); without an
    ``envelope``, the matrices are taken as dense."""
    if envelope is None:
        envelope = pt.zeros_like(z, dtype="int64")
    logdet, quad, _, _ = CholeskyTerms()(M, z, envelope)
    return logdet, quad


def logdet_and_quad(
    M, z, size: int | None = None, envelope: np.ndarray | None = None
) -> tuple[pt.TensorVariable, pt.TensorVariable]:
    """``Σ_c log|M_c|`` and ``Σ_c z_cᵀ M_c⁻¹ z_c`` for ``M`` (C, Q, Q) and ``z`` (C, Q): the fused
    operation for sizes in ``FUSED_SIZES`` (given M's structural ``envelope``, see
    ``CholeskyTerms``), PyTensor's Cholesky factorisation and triangular solve otherwise.
    ``size`` is Q when ``M``'s static shape does not say it."""
    size = size if size is not None else M.type.shape[-1]
    if size in FUSED_SIZES:
        return cholesky_terms(M, z, envelope)
    chol = pt.linalg.cholesky(M)
    a = pt.linalg.solve_triangular(chol, z[..., None], lower=True)[..., 0]
    # the diagonal by masking: the gradient stays elementwise
    diag = (chol * pt.eye(chol.shape[-1])).sum(-1)
    return 2 * pt.sum(pt.log(diag)), pt.sum(a**2)


def _numpy_terms(M: np.ndarray, z: np.ndarray):
    C, Q = z.shape
    try:
        L = np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        nan = np.full((C, Q), np.nan)
        return np.array(np.nan), np.array(np.nan), np.full((C, Q, Q), np.nan), nan
    diag = np.diagonal(L, axis1=-2, axis2=-1)
    eye = np.broadcast_to(np.eye(Q), (C, Q, Q))
    Linv = np.linalg.solve(L, eye)
    inverse = np.swapaxes(Linv, -1, -2) @ Linv
    a = (Linv @ z[..., None])[..., 0]
    solution = (inverse @ z[..., None])[..., 0]
    return (np.array(2 * np.sum(np.log(diag))), np.array(np.sum(a**2)), inverse, solution)


@register_jitable
def _envelope_into(A, first):
    """``first[i]``: the first column j ≤ i with ``A[i, j] != 0``. The Cholesky factor is zero
    left of it (no fill-in outside the envelope), so the loops may skip those entries."""
    Q = A.shape[0]
    for i in range(Q):
        f = i
        for j in range(i):
            if A[i, j] != 0.0:
                f = j
                break
        first[i] = f


@register_jitable
def _cholesky_into(A, L, first):
    """Writes the Cholesky factor of A (Q × Q) into the lower triangle of L (zeros left of
    the envelope), given A's envelope ``first`` (``_envelope_into``, or a structural one that
    contains it); False when A is not numerically positive definite (or holds NaN).
    Compiled into the kernels below."""
    Q = A.shape[0]
    for j in range(Q):
        s = A[j, j]
        for k in range(first[j], j):
            s -= L[j, k] * L[j, k]
        if not s > 0.0:
            return False
        d = np.sqrt(s)
        L[j, j] = d
        for i in range(j + 1, Q):
            if first[i] > j:
                L[i, j] = 0.0
                continue
            s = A[i, j]
            for k in range(max(first[i], first[j]), j):
                s -= L[i, k] * L[j, k]
            L[i, j] = s / d
    return True


def _terms_loop(M, z, envelope):
    """The Numba kernel: per component, the Cholesky factor L, a = L⁻¹z and x = L⁻ᵀa by
    substitutions, and M⁻¹ inside the envelope by Takahashi's recurrence (from ``LᵀM⁻¹ =
    L⁻¹``, whose upper triangle is zero off the diagonal), each loop skipping the zeros
    outside the envelope: a nested design's component (its classes' effects first, their
    school's last, ``marginal._node_degrees``) costs O(Q²) instead of O(Q³)."""
    C, Q = z.shape
    inverse = np.zeros((C, Q, Q))
    solution = np.empty((C, Q))
    L = np.zeros((Q, Q))
    a = np.empty(Q)
    d = np.empty(Q)  # 1 / L[i, i]: multiplications instead of divisions in the loops
    logdet = 0.0
    quad = 0.0
    for c in range(C):
        first = envelope[c]
        if not _cholesky_into(M[c], L, first):
            inverse.fill(np.nan)
            solution.fill(np.nan)
            return np.array(np.nan), np.array(np.nan), inverse, solution
        for j in range(Q):
            logdet += 2.0 * np.log(L[j, j])
            d[j] = 1.0 / L[j, j]
        for i in range(Q):
            s = z[c, i]
            for k in range(first[i], i):
                s -= L[i, k] * a[k]
            a[i] = s * d[i]
            quad += a[i] * a[i]
        x = solution[c]
        for i in range(Q):
            x[i] = a[i]
        for k in range(Q - 1, -1, -1):  # by columns of Lᵀ: row k of L, within its envelope
            x[k] *= d[k]
            for i in range(first[k], k):
                x[i] -= L[k, i] * x[k]
        # column i of M⁻¹ from the last, each from the diagonal up to the envelope:
        # Σ_k L[k, j] Z[k, i] = δ_ij / L[j, j], over the k > j whose rows reach column j
        Z = inverse[c]
        for i in range(Q - 1, -1, -1):
            for j in range(i, first[i] - 1, -1):
                s = 0.0
                for k in range(j + 1, Q):
                    if first[k] <= j:
                        s += L[k, j] * Z[k, i]
                value = (d[i] - s) * d[i] if j == i else -s * d[j]
                Z[j, i] = value
                Z[i, j] = value
    return np.array(logdet), np.array(quad), inverse, solution


def _draws_loop(M, z, eps):
    """The Numba kernel of ``conditional_draws`` for M (N, Q, Q), z and eps (N, Q): per
    matrix, the Cholesky factor L, then u = L⁻ᵀ(L⁻¹z + ε) by two triangular substitutions.
    Returns (u, ok)."""
    N, Q = z.shape
    u = np.empty((N, Q))
    L = np.zeros((Q, Q))
    y = np.empty(Q)
    first = np.empty(Q, dtype=np.int64)
    for n in range(N):
        _envelope_into(M[n], first)
        if not _cholesky_into(M[n], L, first):
            return u, False
        for i in range(Q):
            acc = z[n, i]
            for k in range(first[i], i):
                acc -= L[i, k] * y[k]
            y[i] = acc / L[i, i]
        for i in range(Q - 1, -1, -1):
            acc = y[i] + eps[n, i]
            for k in range(i + 1, Q):
                acc -= L[k, i] * u[n, k]
            u[n, i] = acc / L[i, i]
    return u, True


# compiled at its first call (then cached on disk)
_draws_kernel = numba.njit(cache=True)(_draws_loop)


def conditional_draws(M: np.ndarray, z: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """``M⁻¹z + L⁻ᵀε`` for a stack of symmetric positive-definite ``M`` (..., Q, Q) with
    Cholesky factors ``L``, ``z`` and standard-normal ``ε`` (..., Q): one draw from
    N(M⁻¹z, M⁻¹) per matrix. The same values as ``np.linalg.cholesky`` followed by two
    ``np.linalg.solve`` calls (up to rounding), without their LU factorisations of triangular
    matrices, in one compiled loop (cached on disk by Numba).

    Raises
    ------
    numpy.linalg.LinAlgError
        A matrix is not positive definite.
    """
    Q, shape = z.shape[-1], z.shape
    u, ok = _draws_kernel(
        np.ascontiguousarray(M, dtype=np.float64).reshape(-1, Q, Q),
        np.ascontiguousarray(z, dtype=np.float64).reshape(-1, Q),
        np.ascontiguousarray(eps, dtype=np.float64).reshape(-1, Q),
    )
    if not ok:
        raise np.linalg.LinAlgError("Matrix is not positive definite")
    return u.reshape(shape)


def _register_numba() -> None:
    from pytensor.link.numba.dispatch import basic as numba_basic

    kernel = numba_basic.numba_njit(_terms_loop)

    @numba_basic.register_funcify_default_op_cache_key(CholeskyTerms)
    def _numba_cholesky_terms(op, node=None, **kwargs):
        return kernel, 5  # the kernel's version, part of PyTensor's cache key


_register_numba()

_JAX_REGISTERED = False


def register_jax() -> None:
    """Teach PyTensor's JAX backend this operation (imports JAX; called when a JAX sampler is
    chosen)."""
    global _JAX_REGISTERED
    if _JAX_REGISTERED:
        return
    import jax.numpy as jnp
    from jax.lax.linalg import triangular_solve
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(CholeskyTerms)
    def _jax_cholesky_terms(op, **kwargs):
        def terms(M, z, envelope):  # the whole inverse: the envelope only saves work
            L = jnp.linalg.cholesky(M)
            diag = jnp.diagonal(L, axis1=-2, axis2=-1)
            a = triangular_solve(L, z[..., None], left_side=True, lower=True)[..., 0]
            eye = jnp.broadcast_to(jnp.eye(M.shape[-1]), M.shape)
            Linv = triangular_solve(L, eye, left_side=True, lower=True)
            inverse = jnp.swapaxes(Linv, -1, -2) @ Linv
            solution = (inverse @ z[..., None])[..., 0]
            return 2 * jnp.sum(jnp.log(diag)), jnp.sum(a**2), inverse, solution

        return terms

    _JAX_REGISTERED = True
