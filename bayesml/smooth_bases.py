"""Bases of smooth terms ``s()`` and ``t2()`` as brms 2.18 builds them with mgcv, in numpy.

brms turns a smooth into a mixed-model term: ``mgcv::smoothCon(term, data, absorb.cons = TRUE,
diagonal.penalty = TRUE)`` builds mgcv's basis and ``mgcv::smooth2random(sm, type = 2)`` splits
it into unpenalised columns (``Xs``: population-level coefficients ``bs_``) and penalised
blocks (``Zs_<i>_<j>``: coefficients ``zs ~ N(0, 1)`` times a standard deviation ``sds``). For
new data brms evaluates ``PredictMat`` and applies the same transforms (``s2rPred``). This
module ports those steps of mgcv 1.8-41 for the bases ``tp`` (thin plate regression splines,
any number of covariates), ``cr``, ``cs``, ``cc`` and ``ps``, ``t2`` tensor products of 1-D
margins, and numeric and factor ``by`` variables. A ``SmoothBasis`` keeps every transform;
``fixed(data)`` and ``random(data)`` evaluate mgcv's prediction matrix and apply them, for the
data the basis was built from and for new data alike.

The steps, in mgcv's order:

1. the basis constructor (``smooth.construct.*``): model matrix, penalties, knots. ``tp`` puts
   a knot at every unique covariate combination, truncates the eigen-decomposition of the
   radial-basis matrix with mgcv's own Lanczos iteration (``Rlanczos``: same start vector and
   stopping rule, so the same approximate eigenvectors) and absorbs the polynomial side
   condition by mgcv's Householder ``QT``; ``cr`` puts knots at quantiles of the unique
   values, ``cc`` at ``place.knots``, ``ps`` equally spaced beyond the range; ``cs`` shrinks
   the null space of the ``cr`` penalty; ``t2`` puts each margin in ``nat.param`` type 3
   form and multiplies the penalised (r) and unpenalised (n) parts out, one penalty per
   penalised group;
2. ``smoothCon``: penalties scaled (``scale.penalty``); the sum-to-zero constraint absorbed
   by R's (LINPACK) Householder QR (``t2``: on its unpenalised group only; none for a
   non-constant numeric ``by``); the ``by`` multiplier (a factor gives one smooth per level);
   ``diagonal.penalty`` (``nat.param`` type 2: the penalty becomes ``diag(1, …, 1, 0, …, 0)``,
   computed from the first level of a factor ``by`` and shared by all levels);
3. ``smooth2random``: the penalised columns form the block, the others the unpenalised part
   (``t2``: one block per penalty, each column divided by the square root of its penalty).

What matches brms and why some of it cannot
-------------------------------------------
Every penalised block (``cs`` aside, see below) is brms's up to a rotation of its columns:
``Z Zᵀ`` agrees to 1e-11 relative or better on the reference specs (4e-9 for a 3-D ``tp`` with
110 columns). ``tp`` on the original data differs from brms by the residual of mgcv's Lanczos
step, since brms uses the constructor's matrix there and the prediction matrix elsewhere,
which we use throughout. ``Z Zᵀ`` is all the likelihood and the ``sds`` posterior depend on.

The unpenalised columns always span brms's space. Their individual columns depend on how
R's ``eigen`` (LAPACK ``dsyevr``) returns a basis of a penalty's null space, which is decided
partly by structure and partly by rounding (brms's columns can change with the BLAS/LAPACK
build R uses). ``_r_eigen`` reproduces the structural part (see ``_lapack_null_basis``:
``dsyevr`` tridiagonalises by Householder reflections from the first coordinate, splits the
tridiagonal matrix where it is negligible and makes each eigenvector positive at its twist
index, its largest element), and where rounding decides it takes the rounding-free limit,
ordered and oriented by the covariates (``_canonical``). Hence, for the specs of
tools/brms_smooth_reference.R:

* exactly brms's columns (to ~1e-13): ``s(x)`` with ``tp`` (the null vector splits off as a
  1 × 1 block, so the reduction fixes it; 42 of 42 random data sets agreed with R), ``cr``
  and ``ps`` (sign by the twist index: 79 of 84 random data sets each agreed with R using
  reference LAPACK; in the others R's sign flips with rounding-level changes of the penalty,
  so no port can follow it), factor ``by`` (as its basis, per level) and numeric ``by`` (the
  null space is exact rows of zeros);
* up to sign: ``t2``. The null space of each ``cr`` margin's penalty is two-dimensional; its
  two vectors are fixed, but their order is that of two rounding-level eigenvalues. We take
  the order of the tridiagonal blocks (brms's for ``x`` here, not for ``z``);
* the span only: ``s(x, z)``. The reduction meets a column of rounding-level numbers, so brms's
  two columns are a rounding-determined rotation (here about 1.5°, with signs flipped) of
  what it would be without rounding; we return that limit, the columns proportional to
  ``x - mean(x)`` and ``z - mean(z)``, each increasing in its covariate;
* ``cs`` has no unpenalised columns, but its shrunken penalty gives its two null directions
  0.1 and 0.01 of the smallest eigenvalue in the order of the rounding-level eigenvalues
  above; we take the block order, which is brms's for the reference data (and for about
  half of random data sets, so ``cs`` matches brms's ``Z Zᵀ`` only then).

Not ported: ``tp`` with more than 2000 unique covariate combinations (mgcv then samples knots
with R's random number generator), other bases (``ts``, ``cp``, ``re``, ``mrf``, ``gp``, ...),
the options ``m``, ``xt``, ``fx``, ``pc``, ``full``/``ord`` of ``t2``, and ``te()``. ``k``
larger than the number of unique covariate values is refused for every basis (mgcv only warns
for ``ps``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import linalg
from scipy.interpolate import BSpline

__all__ = ["SmoothBasis", "SmoothSpec", "smooth_bases"]

_EPS = float(np.finfo(float).eps)
_BASES = ("tp", "cr", "cs", "cc", "ps")
_MAX_KNOTS = 2000  # mgcv's xt$max.knots for tp


@dataclass(frozen=True)
class SmoothSpec:
    """One ``s()`` or ``t2()`` call.

    ``k`` and ``bs`` default as in mgcv: ``s()`` is ``tp`` with ``k = 10`` for one covariate
    and ``30`` for two; ``cr``, ``cs``, ``cc`` and ``ps`` have ``k = 10``; ``t2()`` has ``cr``
    margins with ``k = 5`` each.
    """

    kind: str
    variables: tuple[str, ...]
    k: int | tuple[int, ...] | None = None
    bs: str | tuple[str, ...] | None = None
    by: str | None = None

    @property
    def label(self) -> str:
        """mgcv's label of the smooth without its ``by`` part: ``s(x)``, ``t2(x,z)``."""
        return f"{self.kind}({','.join(self.variables)})"


@dataclass(frozen=True)
class _Design:
    """Everything needed to evaluate one smooth (one by-level) on any data."""

    raw: _RawBasis
    variables: tuple[str, ...]
    by: str | None
    by_level: str | None
    categories: tuple[str, ...] | None  # all levels of a factor by
    constraint: np.ndarray  # p × q: absorbs the identifiability constraint
    fixed_map: np.ndarray  # q × n_fixed
    block_maps: tuple[np.ndarray, ...]  # q × size each
    label: str


@dataclass(frozen=True)
class SmoothBasis:
    """One smooth of a term (one per level of a factor ``by``), as brms uses it.

    ``label`` is mgcv's (``s(x)``, ``s(x):ga``, ``s(x):z``, ``t2(x,z)``), ``n_fixed`` the
    number of unpenalised columns and ``block_sizes`` the columns of each penalised block
    (brms's ``knots_<i>``).
    """

    label: str
    by_level: str | None
    n_fixed: int
    block_sizes: tuple[int, ...]
    _design: _Design = field(repr=False, compare=False)

    def fixed(self, data: Mapping[str, np.ndarray]) -> np.ndarray:
        """The unpenalised columns (brms's ``Xs``) at ``data``.

        Parameters
        ----------
        data
            Column name to 1-D array: the covariates, and the ``by`` variable if any.

        Returns
        -------
        numpy.ndarray
            ``n × n_fixed``.
        """
        return self._design_matrix(data) @ self._design.fixed_map

    def random(self, data: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """The penalised blocks (brms's ``Zs_<i>_<j>``) at ``data``.

        Parameters
        ----------
        data
            Column name to 1-D array: the covariates, and the ``by`` variable if any.

        Returns
        -------
        list of numpy.ndarray
            One ``n × size`` array per block.
        """
        X = self._design_matrix(data)
        return [X @ m for m in self._design.block_maps]

    def _design_matrix(self, data: Mapping[str, np.ndarray]) -> np.ndarray:
        """mgcv's ``PredictMat``: the basis times the ``by`` multiplier, constraint absorbed."""
        d = self._design
        cols = [_covariate(data, v, d.label) for v in d.variables]
        X = d.raw.predict(cols)
        if d.by is not None:
            X = _by_multiplier(data, d)[:, None] * X
        return X @ d.constraint


def smooth_bases(spec: SmoothSpec, data: Mapping[str, np.ndarray]) -> list[SmoothBasis]:
    """Build brms's bases of a smooth term from data.

    Parameters
    ----------
    spec
        The ``s()``/``t2()`` call.
    data
        Column name to 1-D array: float arrays for the covariates and a numeric ``by``, a
        ``pandas.Categorical`` for a factor ``by`` (its categories are the levels, in order).

    Returns
    -------
    list of SmoothBasis
        One per level of a factor ``by`` (levels in order; an ordered factor's first level
        has none, as in mgcv), else one.

    Raises
    ------
    ValueError
        For an unknown basis, a non-numeric or missing covariate value, ``k`` larger than the
        number of unique covariate values, or a level of a factor ``by`` without rows.
    """
    label = _check_spec(spec)
    cols = [_covariate(data, v, label) for v in spec.variables]
    by = _by_values(spec, data, label)
    if by is not None and by.values.size != cols[0].size:
        raise ValueError(f"{label}: by-variable {by.name} has a different length than the data.")
    built = _construct(spec, cols, label)
    return _smooth_con(spec, built, by, cols, label)


# -- input checks --------------------------------------------------------------------------------


def _check_spec(spec: SmoothSpec) -> str:
    """Validate the call; return its label for messages."""
    label = spec.label
    if spec.kind not in ("s", "t2"):
        raise ValueError(f"{label}: unknown smooth kind '{spec.kind}'; use 's' or 't2'.")
    if not spec.variables:
        raise ValueError(f"{label}: a smooth needs at least one covariate.")
    if len(set(spec.variables)) != len(spec.variables):
        raise ValueError(f"{label}: repeated covariates are not allowed in a smooth.")
    for b in _margin_values(spec.bs, len(spec.variables)) if spec.bs is not None else ():
        if b not in _BASES:
            raise ValueError(f"{label}: unknown basis bs = '{b}'; supported: {', '.join(_BASES)}.")
    if spec.kind == "s" and not isinstance(spec.bs, str | None):
        raise ValueError(f"{label}: s() takes one basis, got bs = {spec.bs!r}.")
    bs = spec.bs or "tp"
    if spec.kind == "s" and len(spec.variables) > 1 and bs != "tp":
        raise ValueError(
            f"{label}: bs = '{bs}' handles one covariate; use bs = 'tp' or t2() for several."
        )
    return label


def _margin_values(value, n: int) -> tuple:
    """A per-margin option given once or per margin."""
    if isinstance(value, tuple | list):
        return tuple(value)
    return (value,) * n


def _covariate(
    data: Mapping[str, np.ndarray], name: str, label: str, role: str = "covariate"
) -> np.ndarray:
    """A numeric column as floats, refusing absent, non-numeric and missing values."""
    if name not in data:
        raise ValueError(f"{label}: column '{name}' is not in the data.")
    values = data[name]
    if isinstance(values, pd.Categorical) or isinstance(
        getattr(values, "dtype", None), pd.CategoricalDtype
    ):
        raise ValueError(f"{label}: {role} '{name}' must be numeric, not a factor.")
    arr = np.asarray(values)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        raise ValueError(f"{label}: {role} '{name}' must be numeric, got {arr.dtype} values.")
    arr = arr.astype(float).ravel()
    if np.isnan(arr).any():
        raise ValueError(f"{label}: {role} '{name}' has missing values (NaN).")
    if not np.isfinite(arr).all():
        raise ValueError(f"{label}: {role} '{name}' has infinite values.")
    return arr


@dataclass(frozen=True)
class _By:
    """The ``by`` variable at the data a basis is built from."""

    name: str
    values: np.ndarray  # numeric values, or level labels as str objects
    levels: tuple[str, ...] | None  # factor levels that get a smooth; None for numeric
    categories: tuple[str, ...] | None = None  # all levels of a factor


def _by_values(spec: SmoothSpec, data: Mapping[str, np.ndarray], label: str) -> _By | None:
    """Read the ``by`` variable; a factor's levels must all have rows."""
    if spec.by is None:
        return None
    if spec.by not in data:
        raise ValueError(f"{label}: by-variable '{spec.by}' is not in the data.")
    values = data[spec.by]
    if not _is_factor(values):
        arr = _covariate(data, spec.by, label, "by-variable")
        return _By(spec.by, arr, None)
    cat = pd.Categorical(values)
    if (cat.codes < 0).any():
        raise ValueError(f"{label}: by-variable {spec.by} has missing values.")
    levels = tuple(str(c) for c in cat.categories)
    labels = np.asarray(cat.categories.astype(str))[cat.codes]
    for lev in levels:
        if not (labels == lev).any():
            raise ValueError(f"{label}: level '{lev}' of by-variable {spec.by} has no rows.")
    keep = levels[1:] if cat.ordered and len(levels) > 1 else levels
    return _By(spec.by, labels.astype(object), keep, levels)


def _is_factor(values) -> bool:
    dtype = getattr(values, "dtype", None)
    if isinstance(values, pd.Categorical) or isinstance(dtype, pd.CategoricalDtype):
        return True
    arr = np.asarray(values)
    return arr.dtype == object or arr.dtype.kind in "USb"


def _by_multiplier(data: Mapping[str, np.ndarray], d: _Design) -> np.ndarray:
    """The ``by`` multiplier at (new) data: the numeric values, or a level's 0/1 dummy."""
    if d.by_level is None:
        return _covariate(data, d.by, d.label, "by-variable")
    if d.by not in data:
        raise ValueError(f"{d.label}: by-variable '{d.by}' is not in the data.")
    values = data[d.by]
    cat = pd.Categorical(values)
    if (cat.codes < 0).any():
        raise ValueError(
            f"{d.label}: by-variable {d.by} has values that are missing or not among its "
            f"levels {', '.join(d.categories)}."
        )
    labels = np.asarray(cat.categories.astype(str))[cat.codes]
    unknown = sorted(set(labels) - set(d.categories))
    if unknown:
        raise ValueError(
            f"{d.label}: value '{unknown[0]}' of by-variable {d.by} is not one of its levels "
            f"{', '.join(d.categories)}."
        )
    return (labels == d.by_level).astype(float)


# -- raw bases (mgcv's smooth.construct and Predict.matrix) ----------------------------------


class _RawBasis:
    """A basis before constraints: ``predict`` is mgcv's ``Predict.matrix``."""

    def predict(self, cols: list[np.ndarray]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class _Built:
    """A constructed basis: the constructor's model matrix on the data and its penalties.

    ``constraint`` is mgcv's ``C``: ``None`` for the default sum-to-zero constraint,
    else a 1 × p row (``t2``'s null-space constraint) or an int column to drop.
    """

    raw: _RawBasis
    X: np.ndarray
    S: tuple[np.ndarray, ...]
    rank: tuple[int, ...]
    null_dim: int
    constraint: np.ndarray | int | None = None


def _construct(spec: SmoothSpec, cols: list[np.ndarray], label: str) -> _Built:
    """The basis constructor for the call (mgcv's ``smooth.construct``)."""
    if spec.kind == "t2":
        return _t2_build(spec, cols, label)
    k = spec.k
    if isinstance(k, tuple | list):
        if len(k) != 1:
            raise ValueError(f"{label}: s() takes one k, got {k!r}.")
        k = k[0]
    k = None if k is None else int(k)
    return _margin_build(spec.bs or "tp", cols, k, label, spec.variables)


def _margin_build(
    bs: str, cols: list[np.ndarray], k: int | None, label: str, names: Sequence[str]
) -> _Built:
    builders: dict[str, Callable[..., _Built]] = {
        "tp": _tprs_build,
        "cr": _cr_build,
        "cs": _cs_build,
        "cc": _cc_build,
        "ps": _ps_build,
    }
    return builders[bs](cols, k, label, names)


def _too_few(label: str, name: str, n_unique: int, k: int, what: str = "k") -> ValueError:
    return ValueError(
        f"{label}: covariate '{name}' has {n_unique} unique values, too few for a basis of "
        f"dimension {what} = {k}; reduce k."
    )


def _min_k(k: int, lowest: int, label: str) -> int:
    """mgcv raises a too small ``k`` to the smallest possible one, with a warning."""
    if k < lowest:
        warnings.warn(
            f"{label}: basis dimension k = {k} increased to the minimum possible, {lowest}.",
            stacklevel=4,
        )
        return lowest
    return k


# thin plate regression splines (tp) ------------------------------------------------------------


def _tps_order(d: int) -> int:
    """mgcv's default penalty order: the smallest m with 2m > d + 1."""
    m = 0
    while 2 * m < d + 2:
        m += 1
    return m


def _poly_powers(d: int, m: int) -> list[tuple[int, ...]]:
    """Powers of the null-space polynomials of a d-dimensional tps (mgcv's order)."""
    M = math.comb(m + d - 1, d)
    index, out = [0] * d, []
    for _ in range(M):
        out.append(tuple(index))
        total = sum(index)
        if total < m - 1:
            index[0] += 1
            continue
        total -= index[0]
        index[0] = 0
        for j in range(1, d):
            index[j] += 1
            total += 1
            if total == m:
                total -= index[j]
                index[j] = 0
            else:
                break
    return out


def _eta_const(m: int, d: int) -> float:
    """The constant of the tps radial basis function (mgcv's ``eta_const``)."""
    d2 = d // 2
    if d % 2 == 0:
        f = -1.0 if (m + 1 + d2) % 2 else 1.0
        f /= 2.0 ** (2 * m - 1) * math.pi**d2
        return f / (math.factorial(m - 1) * math.factorial(m - d2))
    f = math.sqrt(math.pi)
    for i in range(m - (d - 1) // 2):
        f /= -0.5 - i
    f /= 4.0**m * math.pi**d2 * math.sqrt(math.pi)
    return f / math.factorial(m - 1)


def _eta(r2: np.ndarray, m: int, d: int) -> np.ndarray:
    """The tps radial basis at squared distances ``r2``."""
    f = _eta_const(m, d)
    out = np.zeros_like(r2)
    pos = r2 > 0
    r = r2[pos]
    if d % 2 == 0:
        out[pos] = f * 0.5 * np.log(r) * r ** (m - d // 2)
    else:
        out[pos] = f * r ** (m - d // 2 - 1) * np.sqrt(r)
    return out


def _poly(x: np.ndarray, powers: list[tuple[int, ...]]) -> np.ndarray:
    """The null-space polynomials at the rows of ``x`` (n × d)."""
    return np.column_stack([np.prod(x ** np.array(p), axis=1) for p in powers])


def _sq_dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return sum((a[:, [j]] - b[:, j][None, :]) ** 2 for j in range(a.shape[1]))


@dataclass(frozen=True)
class _Tprs(_RawBasis):
    shift: np.ndarray
    knots: np.ndarray  # unique covariate combinations (shifted), nu × d
    uz: np.ndarray  # (nu + M) × k
    m: int

    def predict(self, cols: list[np.ndarray]) -> np.ndarray:
        x = np.column_stack(cols) - self.shift
        d = x.shape[1]
        b = np.hstack([_eta(_sq_dist(x, self.knots), self.m, d), _poly(x, _poly_powers(d, self.m))])
        return b @ self.uz


def _tprs_build(cols: list[np.ndarray], k: int | None, label: str, names: Sequence[str]) -> _Built:
    """mgcv's ``smooth.construct.tp.smooth.spec`` and ``tprs_setup`` (knots at the data)."""
    d = len(cols)
    m = _tps_order(d)
    powers = _poly_powers(d, m)
    M = len(powers)
    k = M + (8, 27, 100)[min(d, 3) - 1] if k is None else _min_k(k, M + 1, label)
    shift = np.array([c.mean() for c in cols])
    x = np.column_stack(cols) - shift
    knots, index = np.unique(x, axis=0, return_inverse=True)
    if knots.shape[0] > _MAX_KNOTS:
        raise ValueError(
            f"{label}: more than {_MAX_KNOTS} unique covariate combinations; mgcv then picks "
            "knots at random with R's generator, which is not supported."
        )
    if knots.shape[0] < k:
        if d == 1:
            raise _too_few(label, names[0], knots.shape[0], k)
        raise ValueError(
            f"{label}: covariates {', '.join(names)} have {knots.shape[0]} unique "
            f"combinations, too few for a basis of dimension k = {k}; reduce k."
        )
    E = _eta(_sq_dist(knots, knots), m, d)
    T = _poly(knots, powers)
    if knots.shape[0] == k:
        X1, S, uz = _tprs_pure_knot(E, T)
    else:
        X1, S, uz = _tprs_truncated(E, T, k)
    X = X1[index.ravel()]
    w = np.sqrt(np.mean(X**2, axis=0))
    X, uz, S = X / w, uz / w, S / np.outer(w, w)
    S = (S + S.T) / 2
    raw = _Tprs(shift, knots, uz, m)
    return _Built(raw, X, (S,), (k - M,), M)


def _tprs_truncated(E: np.ndarray, T: np.ndarray, k: int):
    """The eigen-truncated basis ``[U diag(v) Z, T]``, its penalty and ``UZ``."""
    nu, M = T.shape
    U, v = _lanczos(E, k, _EPS**0.7)
    Q = _householder_product(_qt_vectors(T.T @ U), k)
    X1 = (U * v) @ Q
    X1[:, k - M :] = T
    S = Q.T @ (v[:, None] * Q)
    S[:, k - M :] = 0.0
    S[k - M :, :] = 0.0
    uz = np.zeros((nu + M, k))
    uz[:nu, : k - M] = U @ Q[:, : k - M]
    uz[nu:, k - M :] = np.eye(M)
    return X1, S, uz


def _tprs_pure_knot(E: np.ndarray, T: np.ndarray):
    """As many knots as basis functions: no eigen step (mgcv's ``pure_knot``)."""
    nu, M = T.shape
    Q = _householder_product(_qt_vectors(T.T.copy()), nu)
    S = Q.T @ E @ Q
    S[:, nu - M :] = 0.0
    S[nu - M :, :] = 0.0
    uz = np.zeros((nu + M, nu))
    uz[:nu, : nu - M] = Q[:, : nu - M]
    uz[nu:, nu - M :] = np.eye(M)
    X1 = np.hstack([E, T]) @ uz
    return X1, S, uz


def _qt_vectors(A: np.ndarray) -> list[np.ndarray]:
    """mgcv's ``QT``: Householder vectors u_i with ``A Q = [0, R]``, ``Q = Π (I - u_i u_iᵀ)``;
    row i of A is rotated into its element ``k - i - 1``."""
    A = np.array(A, dtype=float)
    r, c = A.shape
    out = []
    for i in range(r):
        n = c - i
        p = A[i, :n].copy()
        big = np.max(np.abs(p))
        if big:
            p /= big
        lsq = math.sqrt(float(p @ p))
        if p[n - 1] < 0:
            lsq = -lsq
        p[n - 1] += lsq
        g = 1.0 / (lsq * p[n - 1]) if lsq else 0.0
        for j in range(i + 1, r):
            A[j, :n] -= g * float(p @ A[j, :n]) * p
        u = np.zeros(c)
        u[:n] = p * math.sqrt(g)
        out.append(u)
    return out


def _householder_product(us: list[np.ndarray], k: int) -> np.ndarray:
    """``Q = (I - u_1 u_1ᵀ)(I - u_2 u_2ᵀ)...`` as a k × k matrix."""
    Q = np.eye(k)
    for u in us:
        Q -= np.outer(Q @ u, u)
    return Q


def _lanczos(A: np.ndarray, k: int, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """The k largest-magnitude eigenpairs of symmetric A as mgcv's ``Rlanczos`` finds them.

    Same start vector, full re-orthogonalisation, the same convergence checks and the same
    order of the result (the largest positive eigenvalues, then the most negative ones), so
    the Ritz vectors are mgcv's to rounding (up to sign).
    """
    n = A.shape[0]
    f_check = min(max(k // 2, 10), max(n // 10, 1))
    q = np.zeros((n, n + 1))
    q[:, 0] = _lanczos_start(n)
    a, b = np.zeros(n), np.zeros(n)
    for j in range(n):
        z = A @ q[:, j]
        a[j] = q[:, j] @ z
        z -= a[j] * q[:, j] + (b[j - 1] * q[:, j - 1] if j else 0.0)
        if j:
            for _ in range(2):
                z -= q[:, : j + 1] @ (q[:, : j + 1].T @ z)
        b[j] = math.sqrt(float(z @ z))
        if j < n - 1:
            q[:, j + 1] = z / b[j]
        if (j >= k and j % f_check == 0) or j == n - 1:
            d, v = _tridiag_eigen(a[: j + 1], b[:j])
            done = _lanczos_converged(d, np.abs(b[j] * v[j, :]), k, tol)
            if done is not None:
                return _ritz(q[:, : j + 1], d, v, done)
    return _ritz(q[:, :n], d, v, (k, 0))


def _lanczos_start(n: int) -> np.ndarray:
    """mgcv's "somewhat randomised" start vector (a small linear congruential generator)."""
    jran, out = 1, np.empty(n)
    for i in range(n):
        jran = (jran * 106 + 1283) % 6075
        out[i] = jran / 6075 - 0.5
    return out / math.sqrt(float(out @ out))


def _tridiag_eigen(d: np.ndarray, e: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending) and eigenvectors of a symmetric tridiagonal matrix."""
    if d.size == 1:
        return d.copy(), np.ones((1, 1))
    w, v = linalg.eigh_tridiagonal(d, e)
    return w[::-1], v[:, ::-1]


def _lanczos_converged(d: np.ndarray, err: np.ndarray, k: int, tol: float):
    """mgcv's test for the k largest-magnitude Ritz values (its index slip kept: a value
    from the bottom end is checked against ``err[ni]``); returns (top, bottom) counts."""
    j = d.size - 1
    max_err = max(abs(d[0]), abs(d[j])) * tol
    top = bottom = 0
    while top + bottom < k:
        if abs(d[top]) >= abs(d[j - bottom]):
            if err[top] > max_err:
                return None
            top += 1
        else:
            if err[bottom] > max_err:
                return None
            bottom += 1
    return top, bottom


def _ritz(q: np.ndarray, d: np.ndarray, v: np.ndarray, counts: tuple[int, int]):
    top, bottom = counts
    j = d.size
    idx = list(range(top)) + [j - bottom + i for i in range(bottom)]
    return q @ v[:, idx], d[idx]


# cubic regression splines (cr, cs) -------------------------------------------------------------


def _r_seq01(n: int) -> np.ndarray:
    """R's ``seq(0, 1, length = n)``."""
    if n == 1:
        return np.zeros(1)
    by = 1.0 / (n - 1)
    out = np.arange(n) * by
    out[-1] = 1.0
    return out


def _r_quantile(sorted_x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's default (type 7) quantiles of sorted values."""
    index = (sorted_x.size - 1) * probs
    lo = np.floor(index).astype(int)
    hi = np.minimum(lo + 1, sorted_x.size - 1)
    h = index - lo
    return np.where(h > 0, (1 - h) * sorted_x[lo] + h * sorted_x[hi], sorted_x[lo])


@dataclass(frozen=True)
class _Cr(_RawBasis):
    knots: np.ndarray
    F: np.ndarray  # nk × nk: row j maps the values at the knots to the 2nd derivative at knot j

    def predict(self, cols: list[np.ndarray]) -> np.ndarray:
        return _cr_matrix(cols[0], self.knots, self.F)


def _cr_penalty(xk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mgcv's ``getFS``: second derivatives at the knots ``F`` and the penalty ``S``."""
    nk = xk.size
    h = np.diff(xk)
    D = np.zeros((nk - 2, nk))
    for i in range(nk - 2):
        D[i, i], D[i, i + 2] = 1 / h[i], 1 / h[i + 1]
        D[i, i + 1] = -D[i, i] - D[i, i + 2]
    B = np.diag((h[:-1] + h[1:]) / 3) + np.diag(h[1:-1] / 6, 1) + np.diag(h[1:-1] / 6, -1)
    BinvD = linalg.solve(B, D, assume_a="pos")
    F = np.zeros((nk, nk))
    F[1:-1] = BinvD
    return F, D.T @ BinvD


def _cr_matrix(x: np.ndarray, xk: np.ndarray, F: np.ndarray) -> np.ndarray:
    """mgcv's ``crspl``: the cubic regression spline basis (linear beyond the knots)."""
    nk = xk.size
    j = np.clip(np.searchsorted(xk, x, side="left") - 1, 0, nk - 2)
    h = xk[j + 1] - xk[j]
    am, ap = xk[j + 1] - x, x - xk[j]
    cm = am * (am * am / h - h) / 6
    cp = ap * (ap * ap / h - h) / 6
    X = cm[:, None] * F[j] + cp[:, None] * F[j + 1]
    rows = np.arange(x.size)
    X[rows, j] += am / h
    X[rows, j + 1] += ap / h
    low, high = x < xk[0], x > xk[-1]
    if low.any():
        X[low] = _cr_extrapolate(x[low] - xk[0], xk[1] - xk[0], F[0], F[1], nk, 0)
    if high.any():
        X[high] = _cr_extrapolate(x[high] - xk[-1], xk[-1] - xk[-2], F[-2], F[-1], nk, nk - 2)
    return X


def _cr_extrapolate(dx, h, f0, f1, nk: int, j: int) -> np.ndarray:
    """Linear continuation beyond the end knots (mgcv's ``crspl`` extrapolation)."""
    if j == 0:
        X = (-dx * h / 3)[:, None] * f0 + (-dx * h / 6)[:, None] * f1
        X[:, 0] += 1 - dx / h
        X[:, 1] += dx / h
    else:
        X = (dx * h / 6)[:, None] * f0 + (dx * h / 3)[:, None] * f1
        X[:, nk - 2] += -dx / h
        X[:, nk - 1] += 1 + dx / h
    return X


def _cr_knots(x: np.ndarray, k: int | None, label: str, name: str, lowest: int = 3):
    """``k`` knots at quantiles of the unique values (mgcv's ``cr``)."""
    k = 10 if k is None else _min_k(k, lowest, label)
    xu = np.unique(x)
    if xu.size < k:
        raise _too_few(label, name, xu.size, k)
    return _r_quantile(xu, _r_seq01(k))


def _cr_build(cols, k, label, names) -> _Built:
    xk = _cr_knots(cols[0], k, label, names[0])
    F, S = _cr_penalty(xk)
    raw = _Cr(xk, F)
    return _Built(raw, raw.predict(cols), ((S + S.T) / 2,), (xk.size - 2,), 2)


def _cs_build(cols, k, label, names) -> _Built:
    """``cr`` with its null space shrunk: the two null eigenvalues become 0.1 and 0.01 times
    the smallest positive one (mgcv's ``cs``)."""
    xk = _cr_knots(cols[0], k, label, names[0])
    F, S = _cr_penalty(xk)
    S = (S + S.T) / 2
    w, V, _ = _r_eigen(S, xk.size - 2)
    w[-2] = w[-3] * 0.1
    w[-1] = w[-2] * 0.1
    S = (V * w) @ V.T
    raw = _Cr(xk, F)
    return _Built(raw, raw.predict(cols), (S,), (xk.size,), 0)


# cyclic cubic regression splines (cc) ----------------------------------------------------------


def _place_knots(x: np.ndarray, nk: int) -> np.ndarray:
    """mgcv's ``place.knots``: nk knots spread evenly through the sorted unique values."""
    xs = np.unique(x)
    n = xs.size
    if nk == 2:
        return np.array([xs[0], xs[-1]])
    delta = (n - 1) / (nk - 1)
    steps = delta * np.arange(1, nk - 1)
    lbi = np.floor(steps).astype(int)  # 0-based index of the value below
    frac = steps - lbi
    inner = xs[lbi] * (1 - frac) + xs[lbi + 1] * frac
    return np.concatenate([[xs[0]], inner, [xs[-1]]])


def _cc_bd(xk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """mgcv's cyclic ``B`` and ``D`` (``getBD``)."""
    h = np.diff(xk)
    n = h.size
    B, D = np.zeros((n, n)), np.zeros((n, n))
    for i in range(n):
        prev = (i - 1) % n
        B[i, i] = (h[prev] + h[i]) / 3
        B[i, (i + 1) % n] = h[i] / 6
        B[i, prev] = h[prev] / 6
        D[i, i] = -(1 / h[prev] + 1 / h[i])
        D[i, (i + 1) % n] = 1 / h[i]
        D[i, prev] = 1 / h[prev]
    return B, D


@dataclass(frozen=True)
class _Cc(_RawBasis):
    knots: np.ndarray
    BD: np.ndarray

    def predict(self, cols: list[np.ndarray]) -> np.ndarray:
        xk, BD = self.knots, self.BD
        x = _cwrap(xk[0], xk[-1], cols[0])
        n = xk.size
        up = np.maximum(np.searchsorted(xk, x, side="left"), 1)  # knots[up - 1] < x <= knots[up]
        lo = up - 1
        h = xk[up] - xk[lo]
        r_up = np.where(up == n - 1, 0, up)
        am, ap = xk[up] - x, x - xk[lo]
        X = (
            BD[lo] * (am**3 / (6 * h))[:, None]
            + BD[r_up] * (ap**3 / (6 * h))[:, None]
            - BD[lo] * (h * am / 6)[:, None]
            - BD[r_up] * (h * ap / 6)[:, None]
        )
        rows = np.arange(x.size)
        X[rows, lo] += am / h
        X[rows, r_up] += ap / h
        return X


def _cwrap(x0: float, x1: float, x: np.ndarray) -> np.ndarray:
    """Map values outside [x0, x1] into it periodically (mgcv's ``cwrap``)."""
    h = x1 - x0
    x = x.copy()
    above, below = x > x1, x < x0
    x[above] = x0 + np.mod(x[above] - x1, h)
    x[below] = x1 - np.mod(x0 - x[below], h)
    return x


def _cc_build(cols, k, label, names) -> _Built:
    k = 10 if k is None else _min_k(k, 4, label)
    n_unique = np.unique(cols[0]).size
    if n_unique < k:
        raise _too_few(label, names[0], n_unique, k)
    xk = _place_knots(cols[0], k)
    B, D = _cc_bd(xk)
    BD = linalg.solve(B, D)
    S = D.T @ BD
    raw = _Cc(xk, BD)
    return _Built(raw, raw.predict(cols), ((S + S.T) / 2,), (k - 2,), 1)


# P-splines (ps) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ps(_RawBasis):
    knots: np.ndarray

    def predict(self, cols: list[np.ndarray]) -> np.ndarray:
        t, x = self.knots, cols[0]
        nb = t.size - 4
        spline = BSpline(t, np.eye(nb), 3, extrapolate=False)
        lo, hi = t[3], t[-4]
        X = np.zeros((x.size, nb))
        inside = (x >= lo) & (x <= hi)
        X[inside] = spline(x[inside])
        for end, mask in ((lo, x < lo), (hi, x > hi)):
            if mask.any():
                value, slope = spline(end), spline.derivative()(end)
                X[mask] = value + (x[mask] - end)[:, None] * slope
        return X


def _ps_build(cols, k, label, names) -> _Built:
    """Cubic B-splines on equally spaced knots with a second-order difference penalty."""
    k = 10 if k is None else k
    if k - 2 <= 0:
        raise ValueError(f"{label}: basis dimension k = {k} is too small for a cubic P-spline.")
    x = cols[0]
    n_unique = np.unique(x).size
    if n_unique < k:
        raise _too_few(label, names[0], n_unique, k)
    nk = k - 2
    xl, xu = x.min(), x.max()
    xr = xu - xl
    xl, xu = xl - xr * 0.001, xu + xr * 0.001
    dx = (xu - xl) / (nk - 1)
    t = _r_seq(xl - dx * 3, xu + dx * 3, nk + 6)
    raw = _Ps(t)
    Dm = np.diff(np.eye(k), n=2, axis=0)
    return _Built(raw, raw.predict(cols), (Dm.T @ Dm,), (k - 2,), 2)


def _r_seq(start: float, end: float, n: int) -> np.ndarray:
    """R's ``seq(start, end, length = n)``."""
    by = (end - start) / (n - 1)
    out = start + np.arange(n) * by
    out[-1] = end
    return out


# -- eigen-decompositions as R's eigen() (LAPACK dsyevr) returns them ------------------------


def _r_eigen(S: np.ndarray, rank: int | None = None):
    """Eigenvalues (descending) and eigenvectors of symmetric ``S`` as R's ``eigen``
    (LAPACK ``dsyevr``) returns them, and which eigenvectors' orientation rounding decides.

    Exactly diagonal matrices, trailing rows and columns of exact zeros and 2 × 2 matrices are
    reproduced exactly. Otherwise the non-null eigenvectors (the ``rank`` largest; signs as
    scipy gives them) and the null space are computed separately: the null space as LAPACK
    finds it (``_lapack_null_basis``). ``free[j]`` marks a null eigenvector whose orientation
    (or, within a block of several, whose rotation) depends on rounding in LAPACK.
    """
    p = S.shape[0]
    free = np.zeros(p, dtype=bool)
    if not np.any(S - np.diag(np.diag(S))):
        return (*_r_eigen_diagonal(np.diag(S)), free)
    if p == 2:
        return (*_dlaev2_eigen(S), free)
    zero = _trailing_zero_rows(S)
    if zero:
        w1, V1, free1 = _r_eigen(S[: p - zero, : p - zero], rank)
        V = np.zeros((p, p))
        V[: p - zero, : p - zero] = V1
        V[p - zero :, p - zero :] = np.eye(zero)[::-1]
        return np.concatenate([w1, np.zeros(zero)]), V, np.r_[free1, np.zeros(zero, bool)]
    w, V = linalg.eigh(S)
    w, V = w[::-1], V[:, ::-1].copy()
    if rank is not None and rank < p:
        V[:, rank:], free[rank:] = _lapack_null_basis(S, p - rank)
    return w, V, free


def _r_eigen_diagonal(diag: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """LAPACK on a diagonal matrix: every element is its own block, ordered by a selection
    sort (ties keep the earlier element first) into ascending order, which R reverses."""
    order = list(range(diag.size))
    values = list(diag)
    for j in range(len(values) - 1):
        best, low = None, values[j]
        for jj in range(j + 1, len(values)):
            if values[jj] < low:
                best, low = jj, values[jj]
        if best is not None:
            values[j], values[best] = values[best], values[j]
            order[j], order[best] = order[best], order[j]
    order = order[::-1]
    return diag[order].astype(float), np.eye(diag.size)[:, order]


def _trailing_zero_rows(S: np.ndarray) -> int:
    """How many trailing rows (and columns) of ``S`` are exactly zero."""
    p, zero = S.shape[0], 0
    while zero < p - 1 and not np.any(S[p - zero - 1]) and not np.any(S[:, p - zero - 1]):
        zero += 1
    return zero


def _dlaev2_eigen(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R's ``eigen`` of a 2 × 2 symmetric matrix: LAPACK ``dlaev2`` via ``dstemr``."""
    a, b, c = float(S[0, 0]), float(S[1, 0]), float(S[1, 1])
    sm, df, tb = a + c, a - c, b + b
    adf, ab = abs(df), abs(tb)
    acmx, acmn = (a, c) if abs(a) > abs(c) else (c, a)
    if adf > ab:
        rt = adf * math.sqrt(1 + (ab / adf) ** 2)
    elif adf < ab:
        rt = ab * math.sqrt(1 + (adf / ab) ** 2)
    else:
        rt = ab * math.sqrt(2.0)
    if sm != 0:
        rt1 = 0.5 * (sm + math.copysign(rt, sm))
        rt2 = (acmx / rt1) * acmn - (b / rt1) * b
        sgn1 = 1 if sm > 0 else -1
    else:
        rt1, rt2, sgn1 = 0.5 * rt, -0.5 * rt, 1
    cs, sgn2 = (df + rt, 1) if df >= 0 else (df - rt, -1)
    if abs(cs) > ab:
        ct = -tb / cs
        sn1 = 1 / math.sqrt(1 + ct * ct)
        cs1 = ct * sn1
    elif ab == 0:
        cs1, sn1 = 1.0, 0.0
    else:
        tn = -cs / tb
        cs1 = 1 / math.sqrt(1 + tn * tn)
        sn1 = tn * cs1
    if sgn1 == sgn2:
        cs1, sn1 = -sn1, cs1
    big, small = np.array([cs1, sn1]), np.array([-sn1, cs1])
    if rt1 < rt2:  # dstemr orders the pair ascending, swapping the vectors with the values
        rt1, rt2, big, small = rt2, rt1, small, big
    return np.array([rt1, rt2]), np.column_stack([big, small])


def _lapack_null_basis(S: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``dim`` null eigenvectors of ``S`` as LAPACK's ``dsyevr`` finds them.

    ``dsyevr`` reduces ``S`` to tridiagonal form ``T = Qᵀ S Q`` by Householder reflections
    from the first coordinate on (``_tridiagonalize``), splits ``T`` where an off-diagonal
    element is negligible and solves each block (``dstemr``). A null vector alone in its block
    is then determined up to sign, and ``dstemr`` makes it positive where it is largest (its
    "twist index"; for a 1 × 1 block the vector is exactly ``Q e_i``). Where rounding decides
    (a reflection built from a negligible column, or several null vectors in one block) the
    vectors are the rounding-free limit and are marked free. Null vectors are returned
    block by block, as ``dstemr`` returns them when the blocks' rounding-level eigenvalues
    fall in that order (which is R's order for mgcv's ``cr`` penalty and for ``cs``).
    """
    d, e, Q, noisy_from = _tridiagonalize(S)
    tol = 64 * _EPS * max(np.max(np.abs(d)), np.max(np.abs(e), initial=0.0))
    cuts = [0, *[i + 1 for i in range(e.size) if abs(e[i]) <= tol], d.size]
    pairs = []
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        w, z = _tridiag_eigen(d[lo:hi], e[lo : hi - 1])
        pairs += [(w[j], lo, hi, z[:, j]) for j in range(w.size)]
    chosen = sorted(sorted(pairs, key=lambda t: abs(t[0]))[:dim], key=lambda t: t[1])
    per_block = {}
    for _, lo, _, _ in chosen:
        per_block[lo] = per_block.get(lo, 0) + 1
    V, free = np.zeros((S.shape[0], dim)), np.zeros(dim, dtype=bool)
    for j, (_, lo, hi, z) in enumerate(chosen):
        big = np.argmax(np.abs(z))
        V[:, j] = Q[:, lo:hi] @ (z if z[big] > 0 else -z)
        free[j] = per_block[lo] > 1 or hi > noisy_from
    return V, free


def _tridiagonalize(S: np.ndarray):
    """LAPACK's reduction of symmetric S to tridiagonal form (``dsytd2``, lower triangle):
    diagonal, off-diagonal and ``Q = H_1 H_2 ...`` (``H = I - tau v vᵀ``). A reflection
    built from a negligible column (rounding only) is skipped; ``noisy_from`` is the first
    column of ``Q`` such a reflection would have rotated (``n`` if none)."""
    A = np.array(S, dtype=float)
    n = A.shape[0]
    Q, e = np.eye(n), np.zeros(max(n - 1, 0))
    tol = 64 * _EPS * np.max(np.abs(A))
    noisy_from = n
    for i in range(n - 1):
        alpha, x = A[i + 1, i], A[i + 2 :, i]
        xnorm = float(np.linalg.norm(x))
        if 0 < xnorm and math.hypot(alpha, xnorm) <= tol:
            noisy_from = min(noisy_from, i + 1)
        if xnorm == 0 or math.hypot(alpha, xnorm) <= tol:
            e[i] = alpha
            continue
        beta = -math.copysign(math.hypot(alpha, xnorm), alpha)
        tau = (beta - alpha) / beta
        v = np.concatenate([[1.0], x / (alpha - beta)])
        B = A[i + 1 :, i + 1 :]
        p = tau * (B @ v)
        w = p - 0.5 * tau * (p @ v) * v
        A[i + 1 :, i + 1 :] = B - np.outer(v, w) - np.outer(w, v)
        Q[:, i + 1 :] -= tau * np.outer(Q[:, i + 1 :] @ v, v)
        e[i] = beta
    return np.diag(A).copy(), e, Q, noisy_from


def _canonical(columns: np.ndarray, covariates: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Order and signs for null-space columns whose orientation LAPACK leaves to rounding: the
    column most correlated with the first covariate first, increasing in it, then the same for
    the next covariate; columns left over keep their order and get a positive sum."""
    cols = columns - columns.mean(axis=0)
    covs = covariates - covariates.mean(axis=0)
    scale = np.outer(np.linalg.norm(cols, axis=0), np.linalg.norm(covs, axis=0)) + 1e-300
    corr = (cols.T @ covs) / scale
    left, order, signs = list(range(columns.shape[1])), [], []
    for j in range(covs.shape[1]):
        best = max(left, key=lambda i: abs(corr[i, j]), default=None)
        if best is None or abs(corr[best, j]) < 1e-8:
            continue
        order.append(best)
        signs.append(np.sign(corr[best, j]))
        left.remove(best)
    for i in left:
        order.append(i)
        signs.append(-1.0 if columns[:, i].sum() < 0 else 1.0)
    return order, np.array(signs)


# -- nat.param: the penalty made diagonal ----------------------------------------------------


@dataclass(frozen=True)
class _NatParam:
    X: np.ndarray
    P: np.ndarray  # X_new = X_old @ P
    D: np.ndarray


def _nat_param(
    X: np.ndarray, S: np.ndarray, rank: int, covariates: np.ndarray, type3: bool = False
) -> _NatParam:
    """mgcv's ``nat.param`` (``type = 2``, or ``3`` with ``unit.fnorm`` for ``t2`` margins):
    reparameterise so that the penalty is ``diag(1, ..., 1, 0, ..., 0)``.

    Null-space columns are scaled to the average size of the penalised ones. A null space
    whose orientation LAPACK leaves to rounding (see ``_r_eigen``) is ordered and oriented by
    ``_canonical`` against the covariates (n × d).
    """
    w, V, free = _r_eigen(S, rank)
    p = S.shape[0]
    if free.any():
        idx = np.flatnonzero(free)
        order, signs = _canonical(X @ V[:, idx], covariates)
        if not type3:  # smooth2random then reverses the null columns (_r_eigen_diagonal)
            order, signs = order[::-1], signs[::-1]
        V[:, idx] = V[:, idx[order]] * signs
    E = np.ones(p)
    E[:rank] = np.sqrt(w[:rank])
    XU = X @ V
    col_norm = np.sum(XU**2, axis=0) / E**2
    E[rank:] = np.sqrt(col_norm[rank:] / np.mean(col_norm[:rank]))
    P, Xn = V / E, XU / E
    if type3:
        Xn, P = _nat_param_type3(Xn, P, rank)
    return _NatParam(Xn, P, np.ones(rank))


def _nat_param_type3(X: np.ndarray, P: np.ndarray, rank: int):
    """``type = 3``: the null space rotated to the principal axes of its centred columns
    (largest last), then all columns scaled to unit mean square (``unit.fnorm``)."""
    X, P = X.copy(), P.copy()
    p = X.shape[1]
    if rank < p - 1:
        ind = np.arange(rank, p)
        Xc = X[:, ind] - X[:, ind].mean(axis=0)
        _, um, _ = _r_eigen(Xc.T @ Xc)
        X[:, ind[::-1]] = X[:, ind] @ um
        P[:, ind[::-1]] = P[:, ind] @ um
    scale = 1 / math.sqrt(float(np.mean(X[:, :rank] ** 2)))
    X[:, :rank] *= scale
    P[:rank, :] *= scale  # rows, as mgcv (equal to scalef below, so a uniform scaling)
    if rank < p:
        scalef = 1 / math.sqrt(float(np.mean(X[:, rank:] ** 2)))
        X[:, rank:] *= scalef
        P[rank:, :] *= scalef
    return X, P


# -- t2 tensor products ----------------------------------------------------------------------


@dataclass(frozen=True)
class _T2(_RawBasis):
    margins: tuple[_RawBasis, ...]
    P: tuple[np.ndarray, ...]
    ranks: tuple[int, ...]

    def predict(self, cols: list[np.ndarray]) -> np.ndarray:
        Xm = [m.predict([c]) @ P for m, P, c in zip(self.margins, self.P, cols, strict=True)]
        return _t2_model_matrix(Xm, self.ranks)[0]


def _t2_model_matrix(Xm: list[np.ndarray], ranks: Sequence[int]):
    """mgcv's ``t2.model.matrix`` (``full = FALSE``): row-wise products of the penalised
    (``r``) and unpenalised (``n``) parts of the margins, grouped by which parts they take;
    returns the matrix, the column counts of the penalised groups and their labels."""
    groups = [(Xm[0][:, : ranks[0]], "r")]
    if ranks[0] < Xm[0].shape[1]:
        groups.append((Xm[0][:, ranks[0] :], "n"))
    has_null = ranks[0] < Xm[0].shape[1]
    for X, r in zip(Xm[1:], ranks[1:], strict=True):
        pen, null = X[:, :r], X[:, r:]
        new = [(_row_kron(G, pen), lab + "r") for G, lab in groups]
        if null.shape[1]:
            new += [(_row_kron(G, null), lab + "n") for G, lab in groups]
        else:
            has_null = False
        groups = new
    sizes = [G.shape[1] for G, _ in groups]
    labels = [lab for _, lab in groups]
    if has_null:
        sizes, labels = sizes[:-1], labels[:-1]
    return np.hstack([G for G, _ in groups]), tuple(sizes), tuple(labels)


def _row_kron(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Row-wise Kronecker product: column ``j * B.cols + l`` is ``A[:, j] * B[:, l]``."""
    return (A[:, :, None] * B[:, None, :]).reshape(A.shape[0], -1)


def _t2_options(spec: SmoothSpec, label: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    n = len(spec.variables)
    bs = _margin_values(spec.bs or "cr", n)
    k = (5,) * n if spec.k is None else _margin_values(spec.k, n)
    if len(bs) != n:
        warnings.warn(f"{label}: bs has the wrong length and is ignored.", stacklevel=4)
        bs = ("cr",) * n
    if len(k) != n or any(int(v) < 3 for v in k):
        warnings.warn(f"{label}: k too small or of the wrong length; reset to 5.", stacklevel=4)
        k = (5,) * n
    return bs, tuple(int(v) for v in k)


def _t2_build(spec: SmoothSpec, cols: list[np.ndarray], label: str) -> _Built:
    """mgcv's ``smooth.construct.t2.smooth.spec``: margins in ``nat.param`` type 3 form,
    one penalty per penalised group, the constraint on the unpenalised group only."""
    bs, ks = _t2_options(spec, label)
    raws, Ps, ranks, Xm = [], [], [], []
    for b, k, c, name in zip(bs, ks, cols, spec.variables, strict=True):
        m = _margin_build(b, [c], k, label, (name,))
        nat = _nat_param(m.X, m.S[0], m.rank[0], c[:, None], type3=True)
        raws.append(m.raw)
        Ps.append(nat.P)
        ranks.append(m.rank[0])
        Xm.append(nat.X)
    X, sizes, _ = _t2_model_matrix(Xm, ranks)
    edges = np.concatenate([[0], np.cumsum(sizes)])
    S = tuple(
        np.diag(((np.arange(X.shape[1]) >= lo) & (np.arange(X.shape[1]) < hi)).astype(float))
        for lo, hi in zip(edges[:-1], edges[1:], strict=True)
    )
    null_dim = X.shape[1] - int(edges[-1])
    if null_dim == 0:
        constraint: np.ndarray | int | None = np.zeros((0, X.shape[1]))
    elif null_dim == 1:
        constraint = X.shape[1] - 1
    else:
        constraint = np.concatenate([np.zeros(int(edges[-1])), X[:, edges[-1] :].sum(axis=0)])
    raw = _T2(tuple(raws), tuple(Ps), tuple(ranks))
    return _Built(raw, X, S, tuple(sizes), null_dim, constraint)


# -- smoothCon and smooth2random ---------------------------------------------------------------


def _linpack_householder(c: np.ndarray) -> np.ndarray:
    """The orthogonal factor of R's (LINPACK) QR of the column ``c``: ``I - u uᵀ / u_1``."""
    nrm = float(np.linalg.norm(c))
    if c[0] != 0:
        nrm = math.copysign(nrm, c[0])
    u = c / nrm
    u[0] += 1.0
    return np.eye(c.size) - np.outer(u, u) / u[0]


def _constraint_matrix(built: _Built) -> np.ndarray:
    """``Z`` (p × q) with ``X Z`` mgcv's constrained model matrix (``absorb.cons``)."""
    p = built.X.shape[1]
    C = built.constraint
    if C is None:
        C = built.X.mean(axis=0)
    if isinstance(C, int | np.integer):
        return np.delete(np.eye(p), int(C), axis=1)
    if C.size == 0:
        return np.eye(p)
    C = np.ravel(C)
    indi = np.flatnonzero(C)
    if indi.size == p:
        return _linpack_householder(C)[:, 1:]
    Z = np.eye(p)
    Z[:, indi] = 0.0
    Z[np.ix_(indi, indi[:-1])] = _linpack_householder(C[indi])[:, 1:]
    return np.delete(Z, indi[-1], axis=1)


def _by_varies(values: np.ndarray) -> bool:
    """mgcv drops the centring constraint for a numeric ``by`` that is not constant."""
    return values.size > 1 and np.std(values, ddof=1) > np.mean(values) * _EPS * 1000


def _single_penalty_maps(X: np.ndarray, S: np.ndarray, rank: int, covariates: np.ndarray):
    """``diagonal.penalty`` then ``smooth2random``: maps from the constrained columns to the
    unpenalised columns and to the one penalised block."""
    q = S.shape[0]
    P = np.eye(q)
    S11 = S[0, 0]
    target = np.diag(np.r_[np.full(rank, S11), np.zeros(q - rank)])
    if np.max(np.abs(S - target)) > abs(S11) * _EPS**0.8:
        nat = _nat_param(X, S, rank, covariates)
        P, S = nat.P, np.diag(np.r_[nat.D, np.zeros(q - rank)])
    w, U, _ = _r_eigen(S)
    p_rank = min(rank, q)
    UD = U / np.sqrt(np.r_[w[:p_rank], np.ones(q - p_rank)])
    return P @ UD[:, p_rank:], (P @ UD[:, :p_rank],)


def _multi_penalty_maps(S: Sequence[np.ndarray]):
    """``smooth2random`` for ``t2``: each penalty's columns, scaled by it, form a block; the
    columns no penalty touches are unpenalised."""
    q = S[0].shape[0]
    used = np.zeros(q, dtype=bool)
    blocks = []
    for s in S:
        d = np.diag(s)
        indi = np.flatnonzero(d)
        M = np.zeros((q, indi.size))
        M[indi, np.arange(indi.size)] = 1 / np.sqrt(d[indi])
        blocks.append(M)
        used[indi] = True
    return np.eye(q)[:, ~used], tuple(blocks)


def _smooth_con(
    spec: SmoothSpec, built: _Built, by: _By | None, cols: list[np.ndarray], label: str
) -> list[SmoothBasis]:
    """mgcv's ``smoothCon`` (scaled penalties, constraint absorbed, ``by``, diagonal
    penalty) and ``smooth2random``: one ``SmoothBasis`` per smooth."""
    X = built.X
    maXX = float(np.max(np.sum(np.abs(X), axis=1))) ** 2
    S = [s * maXX / float(np.max(np.sum(np.abs(s), axis=0))) for s in built.S]
    uncentred = by is not None and by.levels is None and _by_varies(by.values)
    Z = np.eye(X.shape[1]) if uncentred else _constraint_matrix(built)
    S = [Z.T @ s @ Z for s in S]
    rank = tuple(min(r, Z.shape[1]) for r in built.rank)
    levels: list[str | None] = list(by.levels) if by is not None and by.levels else [None]
    first = _level_multiplier(by, levels[0], X.shape[0])
    if len(S) == 1:
        XZ = first[:, None] * (X @ Z)
        fixed, blocks = _single_penalty_maps(XZ, S[0], rank[0], np.column_stack(cols))
    else:
        fixed, blocks = _multi_penalty_maps(S)
    out = []
    for level in levels:
        name = label if by is None else f"{label}:{by.name}{level or ''}"
        design = _Design(
            built.raw,
            spec.variables,
            None if by is None else by.name,
            level,
            None if by is None else by.categories,
            Z,
            fixed,
            blocks,
            name,
        )
        sizes = tuple(b.shape[1] for b in blocks)
        out.append(SmoothBasis(name, level, fixed.shape[1], sizes, design))
    return out


def _level_multiplier(by: _By | None, level: str | None, n: int) -> np.ndarray:
    """The ``by`` multiplier at the data the basis is built from."""
    if by is None:
        return np.ones(n)
    if level is None:
        return by.values.astype(float)
    return (by.values == level).astype(float)
