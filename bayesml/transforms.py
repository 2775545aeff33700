"""Transforms the sampler sees: Stan's for Cholesky factors of correlation matrices, and a
linear map that puts population-level coefficients on the scale of their predictors.

PyMC's default transform for ``LKJCorr`` normalises the rows of an unconstrained lower
triangle, so a correlation is ``y / sqrt(1 + y²)`` of its free parameter: under ``lkj(1)`` the
free parameter has tails like ``|y|⁻³``, and correlations near ±1 (common when an sd is weakly
identified) sit far out in a heavy tail that NUTS explores slowly. Stan (and so brms) maps
each canonical partial correlation through ``tanh`` instead, whose tails are exponential. This
module gives PyMC that transform, so the sampler sees brms's geometry.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pymc.logprob.transforms import Transform

__all__ = ["CPCCholeskyCorr", "LinearCoefficients", "ScaledCoefficient"]


class CPCCholeskyCorr(Transform):
    """Cholesky factor ``L`` of an ``n × n`` correlation matrix ↔ ``n(n-1)/2`` reals.

    Row ``i`` of ``L`` is built from canonical partial correlations ``z = tanh(y)``
    (Stan's ``cholesky_corr_constrain``): ``L[i, 0] = z``, ``L[i, j] = z · sqrt(1 - Σ_{l<j}
    L[i, l]²)``, ``L[i, i] = sqrt(1 - Σ_{l<i} L[i, l]²)``; the free values are ordered row by
    row.
    """

    name = "cpc_cholesky_corr"
    ndim_supp = 1

    def __init__(self, n: int):
        self.n = int(n)

    def _rows(self, y):
        """Elements of L (list of rows of scalars) and the Jacobian's square-root terms."""
        z = pt.tanh(y)
        zero = pt.zeros_like(z[..., 0]) if self.n > 1 else pt.zeros_like(y)
        one = zero + 1.0
        rows = [[one] + [zero] * (self.n - 1)]
        log_scale = zero
        k = 0
        for i in range(1, self.n):
            row, ss = [], zero
            for j in range(i):
                if j == 0:
                    x = z[..., k]
                else:
                    log_scale = log_scale + 0.5 * pt.log1p(-ss)
                    x = z[..., k] * pt.sqrt(1.0 - ss)
                k += 1
                row.append(x)
                ss = ss + x**2
            row.append(pt.sqrt(1.0 - ss))
            rows.append(row + [zero] * (self.n - 1 - i))
        return rows, z, log_scale

    def backward(self, value, *inputs):
        rows, _, _ = self._rows(pt.as_tensor(value))
        return pt.stack([pt.stack(r, axis=-1) for r in rows], axis=-2)

    def forward(self, value, *inputs):
        L = pt.as_tensor(value)
        out = []
        for i in range(1, self.n):
            ss = pt.zeros_like(L[..., 0, 0])
            for j in range(i):
                x = L[..., i, j]
                out.append(pt.arctanh(x / pt.sqrt(1.0 - ss)))
                ss = ss + x**2
        return pt.stack(out, axis=-1)

    def log_jac_det(self, value, *inputs):
        _, z, log_scale = self._rows(pt.as_tensor(value))
        return pt.sum(pt.log1p(-(z**2)), axis=-1) + log_scale


class LinearCoefficients(Transform):
    """Coefficients ``b`` ↔ ``u = A b`` for a fixed invertible matrix ``A``.

    With ``A`` the R factor of the centred design's QR decomposition scaled to unit-RMS
    columns, ``X b = Q √n u``: each free value moves the predictor by about one unit whatever
    the scale of its column (a predictor in the hundreds, a polynomial's correlated powers).
    The map is exact and its Jacobian constant, so the posterior of ``b`` (priors included)
    is unchanged; only the sampler's coordinates are.
    """

    name = "designmap"  # no underscore: PyMC splits value names on "_"
    ndim_supp = 1

    def __init__(self, A):
        # constants: a transform sees only its variable's own graph inputs, not model data
        A = np.asarray(A, dtype=float)
        self.A = pt.as_tensor(A)
        self.A_inv = pt.as_tensor(np.linalg.inv(A))
        self.log_det = float(-np.linalg.slogdet(A)[1])

    def forward(self, value, *inputs):
        return pt.dot(pt.as_tensor(value), self.A.T)

    def backward(self, value, *inputs):
        return pt.dot(pt.as_tensor(value), self.A_inv.T)

    def log_jac_det(self, value, *inputs):
        value = pt.as_tensor(value)
        return pt.zeros_like(value[..., 0]) + self.log_det


class ScaledCoefficient(Transform):
    """One coefficient ``b`` ↔ ``u = s b`` (``s > 0``), for coefficients with priors of their
    own, where ``LinearCoefficients`` cannot mix them."""

    name = "designscale"

    def __init__(self, scale: float):
        self.scale = float(scale)

    def forward(self, value, *inputs):
        return pt.as_tensor(value) * self.scale

    def backward(self, value, *inputs):
        return pt.as_tensor(value) / self.scale

    def log_jac_det(self, value, *inputs):
        return pt.zeros_like(pt.as_tensor(value)) - np.log(self.scale)
