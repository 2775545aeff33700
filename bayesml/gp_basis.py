"""The data of Gaussian-process terms ``gp()`` as brms 2.18 prepares it, and the GP pieces.

brms (``data_gp``/``.data_gp`` in data-predictor.R, ``gp()``/``tidy_gpef`` in formula-gp.R)
turns ``gp(x1, ..., xD, by, k, c, iso, gr, scale)`` into, per GP:

* the rows it applies to: all rows, or for a factor ``by`` one GP per level whose rows are
  those of the level (``Igp``, here 0-based) with multiplier 1 (``Cgp``); a numeric ``by``
  multiplies every row by its value (``Cgp``);
* auto-grouping (``gr = TRUE``, the default since brms 2.12.8, exact and approximate GPs
  alike): the GP is evaluated on the distinct covariate rows only, in order of first
  appearance (``Xgp``, ``Nsubgp``), and ``Jgp`` maps every row to its distinct row (here
  0-based). Rows are compared exactly (brms compares them printed to 15 digits);
* scaling (``scale = TRUE``): covariates divided by ``dmax``, the largest Euclidean distance
  between the (per-level) data points; new data use the stored ``dmax``. ``dmax`` must be > 0
  (brms: "Could not scale GP covariates");
* the exact GP uses the scaled covariates (``covariates``), covariance
  ``sdgp² exp(-|x_i - x_j|² / (2 lscale²))`` (per-dimension lscale when ``iso = FALSE``) and
  ``f = chol(K + 1e-12 I) · zgp`` (``gp_latent``). At new x brms draws from the GP's
  conditional given the fitted ``f`` (``gp_conditional``; nugget 1e-12 on the old points,
  1e-8 on the new ones);
* the approximate GP (``k`` given; Hilbert-space basis): the scaled covariates centred at the
  column means of the fitted distinct rows (``cmeans``), boundary ``L = c · max(1, range)``
  where the range (max - min) is taken over *all* centred columns together (brms's
  ``choose_L``; with ``scale = TRUE`` the range is ≤ 1, so ``L = c``), ``k^D`` basis functions
  with multi-indices in ``expand.grid`` order (first dimension fastest), eigenfunctions
  ``Π_d L_d^{-1/2} sin(m_d π (x_d + L_d) / (2 L_d))`` (``eigenfunctions``, brms's approximate
  ``Xgp``) and ``slambda[m, d] = m_d π / (2 L_d)``; ``f = Xgp · (spd_cov_exp_quad(slambda,
  sdgp, lscale) · zgp)``. New data use the stored ``cmeans`` and ``L``. (brms 2.18's
  ``standata(newdata=)`` recomputes ``L`` from the new data's range, which changes the basis
  when new x reach beyond ``max(1, fitted range)``; brms >= 2.19 stores ``L`` as done here.)

Names (brms's, ``rename``d): ``label`` is the ``sdgp`` coef, ``"gp" + variables + by`` with
the level appended for a factor ``by`` (``gpx``, ``gpxz``, ``gpxga``); ``lscale_coefs`` are
the ``lscale`` coefs: the label, or label + variable per dimension when ``iso = FALSE``
(``gpxzx``, ``gpxzz``). The default lscale prior (``default_lscale_prior``, priors.R's
``def_lscale_prior``) is ``inv_gamma(shape, scale)`` with 1% of its mass below the smallest
positive and 1% above the largest distance between the fitted (scaled) points, the smallest
raised to at least 1% of the largest; per dimension when ``iso = FALSE``; per by-level;
rounded to 6 decimals as brms prints and uses it (``normal(0, 0.5)`` where no solution exists).

Differences from brms 2.18: ``c`` defaults to 5/4 (brms 2.18 requires it with ``k``; brms
>= 2.19 defaults to 5/4); contrast GPs (``cmc = FALSE``) and kernels other than exp_quad are
not supported; missing values are an error rather than dropped rows.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd
import pytensor.tensor as pt
from scipy import linalg, optimize, special
from scipy.spatial.distance import pdist

from .columns import DataError, first_rows, is_factor, r_levels

__all__ = [
    "GPBasis",
    "GPSpec",
    "LscalePrior",
    "cov_exp_quad",
    "default_lscale_prior",
    "gp_approx_latent",
    "gp_bases",
    "gp_conditional",
    "gp_latent",
    "spd_cov_exp_quad",
]

# brms's rename(): characters dropped or spelled out in parameter names
_RENAME = (
    *((ch, "") for ch in " ()[],\"'?"),
    ("+", "P"),
    ("-", "M"),
    ("*", "MU"),
    ("/", "D"),
    ("^", "E"),
    ("=", "EQ"),
)


def _rename(name: str) -> str:
    for old, new in _RENAME:
        name = name.replace(old, new)
    return name


def _r_number(v: float) -> str:
    return f"{v:.15g}"


@dataclass(frozen=True)
class GPSpec:
    """The arguments of one ``gp()`` term.

    Parameters
    ----------
    variables : tuple of str
        The covariate columns (``gp(x, z)`` → ``("x", "z")``).
    k : int or None
        Basis functions per dimension of the approximate GP; None for the exact GP.
    c : float or tuple of float
        Boundary factor of the approximate GP, one value or one per dimension.
    scale : bool
        Divide the covariates by their largest Euclidean distance.
    iso : bool
        One length-scale for all dimensions (ignored for one variable).
    by : str or None
        A factor column (one GP per level) or numeric column (multiplies the GP).
    gr : bool
        Evaluate the GP on distinct covariate rows only (brms's auto-grouping).
    """

    variables: tuple[str, ...]
    k: int | None = None
    c: float | tuple[float, ...] = 1.25
    scale: bool = True
    iso: bool = True
    by: str | None = None
    gr: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.variables, str):
            object.__setattr__(self, "variables", (self.variables,))
        object.__setattr__(self, "variables", tuple(self.variables))
        if not self.variables:
            raise ValueError("gp(): at least one variable is needed")
        if len(self.variables) == 1:
            object.__setattr__(self, "iso", True)
        if self.k is not None and (isinstance(self.k, bool) or int(self.k) != self.k):
            raise ValueError(f"{self.term}: 'k' must be a whole number")
        if self.k is not None and self.k < 1:
            raise ValueError(f"{self.term}: 'k' must be positive")
        c = np.atleast_1d(np.asarray(self.c, dtype=float))
        if c.size not in (1, len(self.variables)):
            raise ValueError(
                f"{self.term}: 'c' must be of the same length as the number of covariates"
            )
        if np.any(~(c > 0)):
            raise ValueError(f"{self.term}: 'c' must be positive")

    @property
    def term(self) -> str:
        """The call as brms would show it, for messages: ``gp(x, z, by = g, k = 20)``."""
        args = list(self.variables)
        if self.by is not None:
            args.append(f"by = {self.by}")
        if self.k is not None:
            c = np.atleast_1d(np.asarray(self.c, dtype=float))
            args.append(f"k = {self.k}")
            text = ", ".join(_r_number(v) for v in c)
            args.append(f"c = {text}" if c.size == 1 else f"c = c({text})")
        if not self.iso:
            args.append("iso = FALSE")
        if not self.scale:
            args.append("scale = FALSE")
        if not self.gr:
            args.append("gr = FALSE")
        return "gp(" + ", ".join(args) + ")"

    @property
    def label(self) -> str:
        """brms's label of the term: ``gp`` + variables + by (``gpxz``, ``gpxg``)."""
        return "gp" + _rename("".join(self.variables) + (self.by or ""))

    def c_per_dim(self) -> np.ndarray:
        """``c`` repeated to one value per dimension."""
        c = np.atleast_1d(np.asarray(self.c, dtype=float))
        return np.broadcast_to(c, (len(self.variables),)).copy()


def _series(data: Mapping, col: str, term: str) -> pd.Series:
    try:
        values = data[col]
    except (KeyError, IndexError):
        raise DataError(f"{term}: column '{col}' not found in the data") from None
    return values.reset_index(drop=True) if isinstance(values, pd.Series) else pd.Series(values)


def _numeric(data: Mapping, col: str, term: str) -> np.ndarray:
    s = _series(data, col, term)
    if (
        isinstance(s.dtype, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(s.dtype)
        or not pd.api.types.is_numeric_dtype(s.dtype)
    ):
        raise DataError(
            f"{term}: column '{col}' is not numeric (brms: Predictors of Gaussian processes "
            "should be numeric vectors)"
        )
    x = s.to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(x)
    if bad.any():
        rows = first_rows(bad, np.arange(1, len(x) + 1))
        raise DataError(f"{term}: column '{col}' has missing or infinite values ({rows})")
    return x


def _covariate_matrix(spec: GPSpec, data: Mapping) -> np.ndarray:
    cols = [_numeric(data, v, spec.term) for v in spec.variables]
    return np.column_stack(cols)


def _factor_values(spec: GPSpec, data: Mapping) -> pd.Series | None:
    """The ``by`` column as text when it is a factor (text, Categorical or logical), else None."""
    s = _series(data, spec.by, spec.term)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.map({True: "TRUE", False: "FALSE"})
    if not is_factor(s):
        return None
    if s.isna().any():
        rows = first_rows(s.isna().to_numpy(), np.arange(1, len(s) + 1))
        raise DataError(f"{spec.term}: column '{spec.by}' has missing values ({rows})")
    return s


def _unique_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows in order of first appearance and each row's index among them (0-based)."""
    if len(x) == 0:
        return x, np.zeros(0, dtype=int)
    _, first, inverse = np.unique(x, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return x[first[order]], rank[np.ravel(inverse)]


def _multi_index(k: int, d: int) -> np.ndarray:
    """R's ``expand.grid(1:k, ..., 1:k)``: k^d × d, first column varying fastest."""
    grid = np.array(list(itertools.product(range(1, k + 1), repeat=d)), dtype=float)
    return grid[:, ::-1].reshape(-1, d)


@dataclass(frozen=True, eq=False)
class GPBasis:
    """One GP of a term (one per level of a factor ``by``) with what new data need.

    Attributes
    ----------
    spec : GPSpec
        The term.
    label : str
        brms's ``sdgp`` coef (``gpx``, ``gpxz``, ``gpxga``).
    lscale_coefs : tuple of str
        brms's ``lscale`` coefs: ``(label,)``, or one per dimension when ``iso = FALSE``.
    by_level : str or None
        The level of a factor ``by`` this GP belongs to.
    dmax : float or None
        The stored scaling (None when ``scale = FALSE``).
    cmeans : ndarray
        Column means of the fitted distinct scaled rows (the approximate GP's centre).
    x_fit : ndarray
        The fitted distinct rows, scaled, not centred (brms's ``Xgp_prior``; the exact GP's
        ``Xgp``, which predictions at new x condition on).
    L : ndarray or None
        Approximate GP: the boundary per dimension.
    index : ndarray or None
        Approximate GP: the multi-indices (k^D × D, from 1).
    """

    spec: GPSpec
    label: str
    lscale_coefs: tuple[str, ...]
    by_level: str | None
    dmax: float | None
    cmeans: np.ndarray = field(repr=False)
    x_fit: np.ndarray = field(repr=False)
    L: np.ndarray | None = None
    index: np.ndarray | None = field(default=None, repr=False)

    @property
    def slambda(self) -> np.ndarray | None:
        """Approximate GP: square roots of the eigenvalues, k^D × D (None for exact GPs)."""
        if self.index is None:
            return None
        return self.index * np.pi / (2 * self.L)

    def rows(self, data: Mapping) -> tuple[np.ndarray, np.ndarray]:
        """The rows this GP adds to (``Igp``, 0-based) and their multipliers (``Cgp``).

        All rows with multiplier 1 without ``by``; the rows of the level with multiplier 1 for
        a factor ``by``; all rows with the ``by`` values for a numeric ``by``.
        """
        n = len(_series(data, self.spec.variables[0], self.spec.term))
        if self.spec.by is None:
            return np.arange(n), np.ones(n)
        if self.by_level is not None:
            level = _factor_values(self.spec, data)
            if level is None:
                raise DataError(f"{self.spec.term}: column '{self.spec.by}' is not a factor")
            idx = np.flatnonzero(level.astype(str).to_numpy() == self.by_level)
            return idx, np.ones(len(idx))
        return np.arange(n), _numeric(data, self.spec.by, self.spec.term)

    def _scaled(self, data: Mapping) -> np.ndarray:
        x = _covariate_matrix(self.spec, data)[self.rows(data)[0]]
        return x / self.dmax if self.dmax is not None else x

    def groups(self, data: Mapping) -> np.ndarray:
        """``Jgp``: for each row of ``rows(data)``, its distinct covariate row (0-based)."""
        x = self._scaled(data)
        return _unique_rows(x)[1] if self.spec.gr else np.arange(len(x))

    def covariates(self, data: Mapping) -> np.ndarray:
        """Scaled covariates of this GP's rows, distinct rows only when ``gr`` (n × D).

        The exact GP's ``Xgp``; for the approximate GP centred at the stored ``cmeans``.
        """
        x = self._scaled(data)
        if self.spec.gr:
            x = _unique_rows(x)[0]
        return x - self.cmeans if self.index is not None else x

    def eigenfunctions(self, data: Mapping) -> np.ndarray:
        """Approximate GP: the basis functions at the (distinct) rows, n × k^D (brms's Xgp)."""
        if self.index is None:
            raise ValueError(f"{self.spec.term}: eigenfunctions need an approximate GP (k)")
        x = self.covariates(data)
        phase = (x[:, None, :] + self.L) * self.slambda[None, :, :]
        return np.prod(np.sin(phase), axis=2) / np.sqrt(np.prod(self.L))


def _dmax(x: np.ndarray, spec: GPSpec, where: str) -> float:
    dist = pdist(x, "sqeuclidean") if len(x) > 1 else np.zeros(0)
    dmax = float(np.sqrt(dist.max())) if dist.size else 0.0
    if not dmax > 0:
        raise DataError(
            f"{where}: Could not scale GP covariates ({len(x)} distinct point(s)). "
            "Please set scale = False."
        )
    return dmax


def _make_basis(spec: GPSpec, x: np.ndarray, label: str, level: str | None) -> GPBasis:
    """A GP from the covariate rows it applies to (unscaled, duplicates included)."""
    where = spec.term if level is None else f"{spec.term}, level '{level}' of '{spec.by}'"
    if spec.gr:
        x = _unique_rows(x)[0]
    dmax = _dmax(x, spec, where) if spec.scale else None
    if dmax is not None:
        x = x / dmax
    if len(x) == 0:
        raise DataError(f"{where}: no rows")
    cmeans = x.mean(axis=0)
    coefs = (label,) if spec.iso else tuple(label + v for v in spec.variables)
    L = index = None
    if spec.k is not None:
        centred = x - cmeans
        L = spec.c_per_dim() * max(1.0, float(centred.max() - centred.min()))
        index = _multi_index(int(spec.k), x.shape[1])
    return GPBasis(spec, label, coefs, level, dmax, cmeans, x, L, index)


def gp_bases(spec: GPSpec, data: Mapping) -> list[GPBasis]:
    """The GPs of a ``gp()`` term on the fitted data: one per level of a factor ``by``.

    Parameters
    ----------
    spec : GPSpec
        The term.
    data : mapping of column name to values
        A DataFrame or dict of arrays.

    Returns
    -------
    list of GPBasis
        One GP, or one per level of a factor ``by`` (R's level order, unused levels dropped).
    """
    x = _covariate_matrix(spec, data)
    if spec.by is None:
        return [_make_basis(spec, x, spec.label, None)]
    levels = _factor_values(spec, data)
    if levels is None:
        _numeric(data, spec.by, spec.term)
        return [_make_basis(spec, x, spec.label, None)]
    text = levels.astype(str).to_numpy()
    out = []
    for level in r_levels(levels):
        name = str(level)
        label = spec.label + _rename(name)
        out.append(_make_basis(spec, x[text == name], label, name))
    return out


class LscalePrior(NamedTuple):
    """brms's default prior of one length-scale: ``inv_gamma(shape, scale)`` on ``coef``.

    ``shape`` and ``scale`` are None where brms falls back to ``normal(0, 0.5)``.
    """

    coef: str
    shape: float | None
    scale: float | None

    @property
    def text(self) -> str:
        """The prior as brms prints it."""
        if self.shape is None:
            return "normal(0, 0.5)"
        return f"inv_gamma({self.shape:.15g}, {self.scale:.15g})"


def _inv_gamma_tails(lb: float, ub: float, plb: float = 0.01, pub: float = 0.01):
    """(shape, scale) of the inverse gamma with P(X < lb) = plb and P(X > ub) = pub.

    With X = scale / G, G ~ Gamma(shape, 1): scale / lb is G's 1 - plb quantile and
    scale / ub its pub quantile, so the shape solves a one-dimensional equation.
    Returns None where there is no solution (e.g. lb == ub).
    """
    target = np.log(ub / lb)

    def gap(log_shape: float) -> float:
        a = np.exp(log_shape)
        with np.errstate(divide="ignore"):
            return np.log(special.gammainccinv(a, plb) / special.gammaincinv(a, pub)) - target

    # brms caps ub / lb at 100, which needs a shape above 1.49; the bracket covers far more
    lo, hi = np.log(0.1), np.log(1e9)
    if not (np.isfinite(target) and target > 0 and gap(lo) > 0 and gap(hi) < 0):
        return None
    log_shape = optimize.brentq(gap, lo, hi, xtol=1e-15, rtol=1e-15, maxiter=500)
    shape = float(np.exp(log_shape))
    return shape, float(lb * special.gammainccinv(shape, plb))


def _lscale_prior(coef: str, x: np.ndarray) -> LscalePrior:
    dist = pdist(x, "sqeuclidean") if len(x) > 1 else np.zeros(0)
    positive = dist[dist > 0]
    if not positive.size:
        return LscalePrior(coef, None, None)
    ub = float(np.sqrt(dist.max()))
    lb = max(float(np.sqrt(positive.min())), 0.01 * ub)
    pars = _inv_gamma_tails(lb, ub)
    if pars is None:
        return LscalePrior(coef, None, None)
    return LscalePrior(coef, round(pars[0], 6), round(pars[1], 6))


def default_lscale_prior(spec: GPSpec, data: Mapping) -> list[LscalePrior]:
    """brms's default length-scale priors of a ``gp()`` term (priors.R's ``def_lscale_prior``).

    Parameters
    ----------
    spec : GPSpec
        The term.
    data : mapping of column name to values
        The fitted data.

    Returns
    -------
    list of LscalePrior
        ``(coef, shape, scale)`` of ``inv_gamma``, rounded to 6 decimals as brms prints them:
        one per GP (by-level), or one per dimension and GP when ``iso = False`` (dimensions
        varying fastest), in brms's order.
    """
    out = []
    for basis in gp_bases(spec, data):
        if spec.iso:
            out.append(_lscale_prior(basis.lscale_coefs[0], basis.x_fit))
        else:
            for d, coef in enumerate(basis.lscale_coefs):
                out.append(_lscale_prior(coef, basis.x_fit[:, [d]]))
    return out


def cov_exp_quad(x, sdgp, lscale, x_new=None):
    """brms's exponentiated-quadratic covariance ``sdgp² exp(-|x_i - x_j|² / (2 lscale²))``.

    Parameters
    ----------
    x : tensor-like, n × D (or length n for D = 1)
        Covariates.
    sdgp : scalar tensor-like
        Marginal standard deviation.
    lscale : scalar or length-D (or length-1) tensor-like
        Length-scale, one for all dimensions or one per dimension (``iso = FALSE``). A
        symbolic vector must have length D; a length-1 one broadcasts only when its length is
        known (a constant), so pass a scalar for an isotropic GP.
    x_new : tensor-like, optional
        Second set of points (m × D): the n × m cross-covariance.

    Returns
    -------
    TensorVariable
        n × n (or n × m) covariance.
    """
    xs = _as_matrix(x) / lscale
    ys = xs if x_new is None else _as_matrix(x_new) / lscale
    d2 = pt.sum(pt.sqr(xs[:, None, :] - ys[None, :, :]), axis=-1)
    return pt.sqr(sdgp) * pt.exp(-0.5 * d2)


def _as_matrix(x):
    x = pt.as_tensor_variable(x)
    return x[:, None] if x.ndim == 1 else x


def spd_cov_exp_quad(slambda, sdgp, lscale):
    """Per-basis-function scale of the approximate GP: ``sqrt`` of brms's spectral density.

    ``spd(ω) = sdgp² (√(2π))^D Π_d lscale_d exp(-½ Σ_d lscale_d² ω_d²)`` at ``ω = slambda[m]``
    (an isotropic lscale counts in every dimension); brms scales ``zgp`` by its square root.

    Parameters
    ----------
    slambda : tensor-like, k^D × D
        Square roots of the eigenvalues (``GPBasis.slambda``).
    sdgp : scalar tensor-like
        Marginal standard deviation.
    lscale : scalar or length-D (or length-1) tensor-like
        Length-scale(s).

    Returns
    -------
    TensorVariable
        Length k^D: ``sqrt(spd)``.
    """
    slambda = _as_matrix(slambda)
    ls = pt.ones((slambda.shape[1],)) * lscale
    d = pt.cast(slambda.shape[1], "float64")
    const = sdgp * (2 * np.pi) ** (d / 4) * pt.sqrt(pt.prod(ls))
    return const * pt.exp(-0.25 * pt.dot(pt.sqr(slambda), pt.sqr(ls)))


def gp_latent(x, sdgp, lscale, zgp, nug: float = 1e-12):
    """brms's exact GP at the (distinct) fitted rows: ``chol(K + nug I) · zgp``.

    Parameters
    ----------
    x : tensor-like, n × D
        ``GPBasis.covariates`` of the fitted data.
    sdgp, lscale : tensor-like
        As in ``cov_exp_quad``.
    zgp : tensor-like, length n
        Standard-normal latent variables.
    nug : float
        Jitter on the diagonal (brms's Stan code: 1e-12).

    Returns
    -------
    TensorVariable
        Length n.
    """
    cov = cov_exp_quad(x, sdgp, lscale)
    cov = cov + nug * pt.eye(cov.shape[0])
    return pt.dot(pt.linalg.cholesky(cov), zgp)


def gp_approx_latent(phi, slambda, sdgp, lscale, zgp):
    """brms's approximate GP: ``phi · (sqrt(spd) · zgp)`` (``phi`` from ``eigenfunctions``)."""
    return pt.dot(phi, spd_cov_exp_quad(slambda, sdgp, lscale) * zgp)


def _cov_np(x: np.ndarray, y: np.ndarray, sdgp: float, lscale) -> np.ndarray:
    xs, ys = np.atleast_2d(x.T).T / lscale, np.atleast_2d(y.T).T / lscale
    d2 = np.sum((xs[:, None, :] - ys[None, :, :]) ** 2, axis=-1)
    return sdgp**2 * np.exp(-0.5 * d2)


def gp_conditional(
    x_new: np.ndarray,
    x: np.ndarray,
    f: np.ndarray,
    sdgp: float,
    lscale,
    nug: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact GP at new points given its values at the fitted ones (one draw; numpy).

    brms's ``.predictor_gp_new``: with ``K = cov(x, x) + 1e-12 I``, the mean is
    ``k(x, x_new)ᵀ K⁻¹ f`` and the covariance ``cov(x_new, x_new) - k(x, x_new)ᵀ K⁻¹ k(x,
    x_new) + nug I``; brms draws one multivariate normal value from them per posterior draw.

    Parameters
    ----------
    x_new : ndarray, m × D
        ``GPBasis.covariates`` of new data (scaled with the stored ``dmax``).
    x : ndarray, n × D
        ``GPBasis.x_fit``.
    f : ndarray, length n
        The GP at ``x`` (``gp_latent`` of the draw).
    sdgp, lscale : float or ndarray
        The draw's parameters.
    nug : float
        Jitter on the new points' diagonal (brms: 1e-8).

    Returns
    -------
    mean, cov : ndarray
        Length m and m × m.
    """
    chol = linalg.cholesky(_cov_np(x, x, sdgp, lscale) + 1e-12 * np.eye(len(x)), lower=True)
    cross = linalg.solve_triangular(chol, _cov_np(x, x_new, sdgp, lscale), lower=True)
    alpha = linalg.solve_triangular(chol, np.asarray(f, dtype=float), lower=True)
    mean = cross.T @ alpha
    cov = _cov_np(x_new, x_new, sdgp, lscale) - cross.T @ cross + nug * np.eye(len(x_new))
    return mean, cov
