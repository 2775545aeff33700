"""The declarative family table: response distributions, links and distributional parameters.

Each family is one ``Family`` row: its links (default first), its distributional parameters
with bounds and default priors, the rule its response must follow, and the PyMC likelihood.
The design, the prior defaults, the model builder and the summary read the row instead of
branching on family names.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
from scipy import special

from . import densities
from .columns import r_levels
from .terms.matrix import clean_name

__all__ = [
    "FAMILIES",
    "LINKS",
    "CanonicalLikelihood",
    "DistParam",
    "Family",
    "Likelihood",
    "Link",
    "ResponseCodingWarning",
    "ResponseError",
    "family",
    "get_family",
]


class ResponseError(ValueError):
    """A response (or ``trials``/``se`` column) that the family cannot model."""


class ResponseCodingWarning(UserWarning):
    """A choice in coding the response that the user did not state (which text is a success)."""


# -- links -------------------------------------------------------------------------------


def _probit_inv(eta):
    return 0.5 * (1 + pt.erf(eta / np.sqrt(2)))


@dataclass(frozen=True)
class Link:
    """A link function ``g`` with its inverse; ``data`` applies g to the response (numpy)."""

    name: str
    inverse: Callable  # pytensor: linear predictor -> mean
    data: Callable | None  # numpy: response -> link scale; None where brms does not transform
    inverse_np: Callable | None = None  # numpy inverse, for summaries of draws


LINKS: dict[str, Link] = {
    "identity": Link("identity", lambda eta: eta, lambda y: y, lambda e: e),
    "log": Link("log", pt.exp, np.log, np.exp),
    "inverse": Link("inverse", lambda eta: 1 / eta, lambda y: 1 / y, lambda e: 1 / e),
    "sqrt": Link("sqrt", pt.sqr, np.sqrt, np.square),
    "logit": Link("logit", pt.sigmoid, None, special.expit),
    "probit": Link("probit", _probit_inv, None, special.ndtr),
    "cloglog": Link(
        "cloglog", lambda eta: 1 - pt.exp(-pt.exp(eta)), None, lambda e: -np.expm1(-np.exp(e))
    ),
    # gen_extreme_value's xi: xi = exp(eta) - 1
    "log1p": Link("log1p", pt.expm1, None, np.expm1),
    # von_mises: mu = 2 atan(eta) keeps the mean angle in (-pi, pi)
    "tan_half": Link("tan_half", lambda eta: 2 * pt.arctan(eta), None, lambda e: 2 * np.arctan(e)),
    # inverse.gaussian's default: eta = 1 / mu^2
    "1/mu^2": Link(
        "1/mu^2", lambda eta: 1 / pt.sqrt(eta), lambda y: 1 / y**2, lambda e: 1 / np.sqrt(e)
    ),
    # brms's link of student's nu: nu = 1 + exp(eta)
    "logm1": Link(
        "logm1", lambda eta: 1 + pt.exp(eta), lambda y: np.log(y - 1), lambda e: 1 + np.exp(e)
    ),
}

# brms replaces zeros before log-type links when computing default priors (def_scale_prior).
ZERO_SHIFT_LINKS = frozenset({"log", "inverse", "1/mu^2"})


# -- distributional parameters ------------------------------------------------------------


@dataclass(frozen=True)
class DistParam:
    """A distributional parameter other than ``mu`` (brms's 'dpar').

    ``default`` names the rule for its default prior when it is estimated as one number:
    ``"scale"`` is brms's ``student_t(3, 0, S)`` with S from the response; anything else is a
    fixed prior string. With a formula of its own it is a linear predictor through ``link``.
    ``fixed`` holds the value of a parameter that is not estimated (cumulative's ``disc``);
    ``dropped_by`` names an addition term that removes the parameter (``se`` removes
    ``sigma`` unless ``se(..., sigma = TRUE)``).
    """

    name: str
    default: str = ""
    lb: float | None = None
    ub: float | str | None = None  # "min_Y": the smallest response (shifted_lognormal's ndt)
    fixed: float | None = None
    dropped_by: str | None = None
    link: str = "log"  # its link when it has a formula of its own (brms's link_<dpar>)
    # default prior of its Intercept when predicted (brms's def_dprior): "scale" is the
    # data-driven student_t(3, 0, S) on the link scale of the response
    intercept_prior: str = "student_t(3, 0, 2.5)"
    # estimated on an unbounded scale under this name, then mapped into the values the data
    # allow by ``rescale(raw, y, likelihood)`` (gen_extreme_value's tmp_xi → xi)
    raw_name: str = ""
    rescale: Callable | None = None


# -- responses -----------------------------------------------------------------------------


@dataclass
class ResponseData:
    """The response as the likelihood uses it, with what the family needs beside it."""

    y: np.ndarray
    trials: np.ndarray | None = None
    se: np.ndarray | None = None
    categories: tuple[str, ...] = ()  # ordinal families: category labels, lowest first
    rate: np.ndarray | None = None  # rate(): the mean (and negbinomial's shape) scale with it

    @property
    def n_thresholds(self) -> int:
        return max(len(self.categories) - 1, 0)


def _is_numeric(y) -> bool:
    arr = np.asarray(y)
    return arr.dtype != object and np.issubdtype(arr.dtype, np.number) and arr.dtype != bool


def _first_bad(mask: np.ndarray, y: np.ndarray, rows: np.ndarray | None = None) -> str:
    """``"-3 in row 12"``: the first offending value and its row in the data (from 1)."""
    i = int(np.flatnonzero(mask)[0])
    row = i + 1 if rows is None else int(rows[i])
    return f"{_show(y[i])} in row {row}"


def _show(v) -> str:
    if isinstance(v, float | np.floating) and float(v).is_integer():
        return str(int(v))
    return str(v)


def _need_numeric(fam: str, col: str, y, what: str) -> np.ndarray:
    if not _is_numeric(y):
        raise ResponseError(
            f"Family '{fam}' needs {what}, but response '{col}' is not numeric "
            f"(values such as '{np.asarray(y)[0]}')."
        )
    return np.asarray(y, dtype=float)


def _reject(bad: np.ndarray, y: np.ndarray, need: str, col: str, what: str, rows) -> None:
    """Raise when any value breaks the family's rule, with the count and a first example."""
    if bad.any():
        raise ResponseError(
            f"{need}, but '{col}' has {int(bad.sum())} value(s) {what} "
            f"(e.g. {_first_bad(bad, y, rows)})."
        )


def _real(fam, col, y, adds, rows=None) -> ResponseData:
    return ResponseData(_need_numeric(fam, col, y, "real numbers"))


def _positive(fam, col, y, adds, rows=None) -> ResponseData:
    y = _need_numeric(fam, col, y, "positive real numbers")
    _reject(y <= 0, y, f"Family '{fam}' needs a response > 0", col, "<= 0", rows)
    return ResponseData(y)


def _unit_open(fam, col, y, adds, rows=None) -> ResponseData:
    y = _need_numeric(fam, col, y, "proportions")
    need = f"Family '{fam}' needs a response strictly between 0 and 1"
    _reject((y <= 0) | (y >= 1), y, need, col, "outside (0, 1)", rows)
    return ResponseData(y)


def _non_negative(fam, col, y, adds, rows=None) -> ResponseData:
    y = _need_numeric(fam, col, y, "non-negative real numbers")
    _reject(y < 0, y, f"Family '{fam}' needs a response >= 0", col, "< 0", rows)
    return ResponseData(y)


def _unit_with_zero(fam, col, y, adds, rows=None) -> ResponseData:
    y = _need_numeric(fam, col, y, "proportions")
    need = f"Family '{fam}' needs a response in [0, 1)"
    _reject((y < 0) | (y >= 1), y, need, col, "outside [0, 1)", rows)
    return ResponseData(y)


def _unit_closed(fam, col, y, adds, rows=None) -> ResponseData:
    y = _need_numeric(fam, col, y, "proportions")
    need = f"Family '{fam}' needs a response in [0, 1]"
    _reject((y < 0) | (y > 1), y, need, col, "outside [0, 1]", rows)
    return ResponseData(y)


def _angle(fam, col, y, adds, rows=None) -> ResponseData:
    y = _need_numeric(fam, col, y, "angles in radians")
    need = f"Family '{fam}' needs angles in [-pi, pi] (radians)"
    _reject((y < -np.pi) | (y > np.pi), y, need, col, "outside [-pi, pi]", rows)
    return ResponseData(y)


def _counts(fam, col, y, adds, rows=None) -> ResponseData:
    y = _need_numeric(fam, col, y, "non-negative integer counts")
    need = f"Family '{fam}' needs non-negative integer counts"
    _reject((y < 0) | (y != np.round(y)), y, need, col, "that are not", rows)
    return ResponseData(y.astype(np.int64))


def _binary(fam, col, y, adds, rows=None) -> ResponseData:
    arr = np.asarray(y)
    if arr.dtype == bool:
        return ResponseData(arr.astype(np.int64))
    s = pd.Series(y)
    categorical = isinstance(s.dtype, pd.CategoricalDtype)
    if categorical or not _is_numeric(arr):
        levels = list(s.cat.categories) if categorical else r_levels(s)
        if len(levels) != 2:
            raise ResponseError(
                f"Family '{fam}' needs a binary response: 0/1, true/false or two levels, "
                f"but '{col}' has {len(levels)} levels ({', '.join(map(str, levels[:5]))})."
            )
        if not categorical:
            # text: R's factor() sorts the values, and the second level is the success
            warnings.warn(
                f"Response '{col}' is text: '{levels[1]}' is coded 1 (success) and "
                f"'{levels[0]}' 0, as R orders the levels. To choose, pass booleans or a "
                f"pd.Categorical whose second category is the success.",
                ResponseCodingWarning,
                skip_file_prefixes=(os.path.dirname(__file__),),
            )
        # like R's factors: the first level is 0, the second 1
        return ResponseData((s == levels[1]).to_numpy().astype(np.int64))
    yf = arr.astype(float)
    bad = ~np.isin(yf, (0.0, 1.0))
    if bad.any():
        raise ResponseError(
            f"Family '{fam}' needs a response of 0s and 1s, but '{col}' has "
            f"{int(bad.sum())} other value(s) (e.g. {_first_bad(bad, yf, rows)})."
        )
    return ResponseData(yf.astype(np.int64))


def _binomial(fam, col, y, adds, rows=None) -> ResponseData:
    if "trials" not in adds:
        raise ResponseError(
            f"Family '{fam}' needs the number of trials: write '{col} | trials(n) ~ ...' "
            f"(n a column or a number), or lme4's 'cbind({col}, failures) ~ ...'."
        )
    y = _counts(fam, col, y, adds, rows).y
    n = np.asarray(adds["trials"], dtype=float)
    bad_n = (n < 0) | (n != np.round(n))
    if bad_n.any():
        raise ResponseError(
            f"trials() for family '{fam}' must be non-negative integers, got "
            f"{_first_bad(bad_n, n, rows)}."
        )
    over = y > n
    if over.any():
        i = int(np.flatnonzero(over)[0])
        raise ResponseError(
            f"Family '{fam}': successes '{col}' exceed trials in {int(over.sum())} row(s) "
            f"(e.g. row {i + 1 if rows is None else int(rows[i])}: {int(y[i])} successes of "
            f"{int(n[i])} trials)."
        )
    return ResponseData(y, trials=n.astype(np.int64))


def _ordinal(fam, col, y, adds, rows=None) -> ResponseData:
    s = pd.Series(y)
    if isinstance(s.dtype, pd.CategoricalDtype):
        if not s.cat.ordered:
            raise ResponseError(
                f"Family '{fam}' needs ordered categories; '{col}' is an unordered categorical. "
                "Make it ordered (pd.Categorical(..., ordered=True)) or code it as 1..K."
            )
        cats = tuple(str(c) for c in s.cat.categories)
        codes = s.cat.codes.to_numpy().astype(np.int64)
    elif _is_numeric(s.to_numpy()):
        yf = s.to_numpy(dtype=float)
        bad = (yf < 1) | (yf != np.round(yf))
        if bad.any():
            raise ResponseError(
                f"Family '{fam}' needs ordinal categories coded 1, 2, ..., K or an ordered "
                f"categorical, but '{col}' has {_first_bad(bad, yf, rows)}."
            )
        k = int(yf.max())
        cats = tuple(str(i) for i in range(1, k + 1))
        codes = yf.astype(np.int64) - 1
    else:
        raise ResponseError(
            f"Family '{fam}' needs ordinal categories coded 1, 2, ..., K or an ordered "
            f"categorical, but '{col}' holds text; make it pd.Categorical(..., ordered=True)."
        )
    if len(cats) < 3:
        raise ResponseError(
            f"Family '{fam}' needs at least 3 ordered categories, but '{col}' has "
            f"{len(cats)} ({', '.join(cats)}); use family 'bernoulli' for two."
        )
    return ResponseData(codes, categories=cats)


def _unordered(fam, col, y, adds, rows=None) -> ResponseData:
    """Categories: a categorical's in its order, numbers sorted, text as R sorts it; the first is
    the reference."""
    s = pd.Series(y)
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = tuple(str(c) for c in s.cat.categories)
        codes = s.cat.codes.to_numpy().astype(np.int64)
    else:
        levels = r_levels(s) if not _is_numeric(s.to_numpy()) else sorted(s.unique())
        cats = tuple(_show(v) for v in levels)
        codes = pd.Categorical(s, categories=levels).codes.astype(np.int64)
    if len(cats) < 2:
        raise ResponseError(
            f"Family '{fam}' needs at least 2 categories, but '{col}' has {len(cats)} "
            f"({', '.join(cats)})."
        )
    return ResponseData(codes, categories=cats)


# The rules a response can follow: each checks the response and codes it for the likelihood.
RESPONSES: dict[str, Callable[..., ResponseData]] = {
    "real": _real,  # real numbers
    "positive": _positive,  # > 0
    "non_negative": _non_negative,  # >= 0 (hurdle parts)
    "unit_with_zero": _unit_with_zero,  # [0, 1)
    "unit_closed": _unit_closed,  # [0, 1]
    "angle": _angle,  # [-pi, pi]
    "unit": _unit_open,  # in (0, 1)
    "count": _counts,  # non-negative integers
    "binary": _binary,  # 0/1, true/false or two levels
    "binomial": _binomial,  # successes out of trials(n)
    "ordinal": _ordinal,  # ordered categories 1..K
    "categorical": _unordered,  # unordered categories, the first the reference
}


# -- likelihoods -----------------------------------------------------------------------------


@dataclass
class Likelihood:
    """What a family's likelihood builder receives."""

    eta: pt.TensorVariable  # linear predictor (no thresholds)
    link: str
    dpars: dict[str, pt.TensorVariable]
    response: ResponseData
    shape: tuple
    thresholds: pt.TensorVariable | None = None
    etas: dict = field(default_factory=dict)  # every predictor's linear predictor

    @property
    def mu(self) -> pt.TensorVariable:
        """The mean, times ``rate()`` where given."""
        return self.per_rate(LINKS[self.link].inverse(self.eta))

    def per_rate(self, x):
        """``x`` times the rows' ``rate()`` (brms's rate denominator), or ``x``."""
        rate = self.response.rate
        return x if rate is None else x * pt.as_tensor_variable(rate)

    def sigma(self) -> pt.TensorVariable:
        """sigma, combined with known standard errors from ``se()`` when given."""
        se = self.response.se
        if se is None:
            return self.dpars["sigma"]
        if "sigma" in self.dpars:
            return pt.sqrt(self.dpars["sigma"] ** 2 + se**2)
        return pt.as_tensor_variable(se)


def _gaussian(L: Likelihood):
    return pm.Normal.dist(mu=L.mu, sigma=L.sigma(), shape=L.shape)


def _student(L: Likelihood):
    return pm.StudentT.dist(nu=L.dpars["nu"], mu=L.mu, sigma=L.sigma(), shape=L.shape)


def _lognormal(L: Likelihood):
    return pm.LogNormal.dist(mu=L.mu, sigma=L.dpars["sigma"], shape=L.shape)


def _bernoulli(L: Likelihood):
    if L.link == "logit":  # stable for large |eta|
        return pm.Bernoulli.dist(logit_p=L.eta, shape=L.shape)
    return pm.Bernoulli.dist(p=L.mu, shape=L.shape)


def _binomial_lik(L: Likelihood):
    n = pt.as_tensor_variable(L.response.trials)
    if L.link == "logit":
        return pm.Binomial.dist(n=n, logit_p=L.eta, shape=L.shape)
    return pm.Binomial.dist(n=n, p=L.mu, shape=L.shape)


def _beta_binomial(L: Likelihood):
    # brms: successes out of trials with probability Beta(mu·phi, (1 - mu)·phi)
    mu, phi = L.mu, L.dpars["phi"]
    n = pt.as_tensor_variable(L.response.trials)
    return pm.BetaBinomial.dist(alpha=mu * phi, beta=(1 - mu) * phi, n=n, shape=L.shape)


def _poisson(L: Likelihood):
    return pm.Poisson.dist(mu=L.mu, shape=L.shape)


def _negbinomial(L: Likelihood):
    # brms: Var = mu + mu^2 / shape; PyMC's alpha is that shape
    return pm.NegativeBinomial.dist(mu=L.mu, alpha=L.per_rate(L.dpars["shape"]), shape=L.shape)


def _geometric(L: Likelihood):
    # brms: negative binomial with shape 1 (times the rate)
    return pm.NegativeBinomial.dist(mu=L.mu, alpha=L.per_rate(1.0), shape=L.shape)


def _not_zi(L: Likelihood, name: str):
    """PyMC's psi is the probability of the count part: 1 - zi (or 1 - hu)."""
    return 1 - L.dpars[name]


def _zero_inflated_poisson(L: Likelihood):
    return pm.ZeroInflatedPoisson.dist(psi=_not_zi(L, "zi"), mu=L.mu, shape=L.shape)


def _zero_inflated_negbinomial(L: Likelihood):
    return pm.ZeroInflatedNegativeBinomial.dist(
        psi=_not_zi(L, "zi"), mu=L.mu, alpha=L.dpars["shape"], shape=L.shape
    )


def _zero_inflated_binomial(L: Likelihood):
    n = pt.as_tensor_variable(L.response.trials)
    return pm.ZeroInflatedBinomial.dist(psi=_not_zi(L, "zi"), n=n, p=L.mu, shape=L.shape)


def _zero_inflated_beta(L: Likelihood):
    return densities.zero_inflated_beta(L.mu, L.dpars["phi"], L.dpars["zi"], L.shape)


def _zero_one_inflated_beta(L: Likelihood):
    d = L.dpars
    return densities.zero_one_inflated_beta(L.mu, d["phi"], d["zoi"], d["coi"], L.shape)


def _hurdle_poisson(L: Likelihood):
    return pm.HurdlePoisson.dist(psi=_not_zi(L, "hu"), mu=L.mu, shape=L.shape)


def _hurdle_negbinomial(L: Likelihood):
    return pm.HurdleNegativeBinomial.dist(
        psi=_not_zi(L, "hu"), mu=L.mu, alpha=L.dpars["shape"], shape=L.shape
    )


def _hurdle_gamma(L: Likelihood):
    return densities.hurdle_continuous("gamma", L.mu, L.dpars["shape"], L.dpars["hu"], L.shape)


def _hurdle_lognormal(L: Likelihood):
    d = L.dpars
    return densities.hurdle_continuous("lognormal", L.mu, d["sigma"], d["hu"], L.shape)


def _exponential(L: Likelihood):
    return pm.Exponential.dist(lam=1 / L.mu, shape=L.shape)


def _weibull(L: Likelihood):
    # brms: scale = mu / Γ(1 + 1/shape), so that mu is the mean
    k = L.dpars["shape"]
    return pm.Weibull.dist(alpha=k, beta=L.mu / pt.exp(pt.gammaln(1 + 1 / k)), shape=L.shape)


def _skew_normal(L: Likelihood):
    # brms: mu and sigma are the mean and sd; alpha the skewness
    sigma, alpha = L.sigma(), L.dpars["alpha"]
    delta = alpha / pt.sqrt(1 + alpha**2)
    omega = sigma / pt.sqrt(1 - 2 / np.pi * delta**2)
    xi = L.mu - omega * delta * np.sqrt(2 / np.pi)
    return densities.skew_normal(xi, omega, alpha, L.shape)


def _shifted_lognormal(L: Likelihood):
    d = L.dpars
    return densities.shifted_lognormal(L.mu, d["sigma"], d["ndt"], L.shape)


def _exgaussian(L: Likelihood):
    # brms: mu is the mean, beta the exponential's scale (PyMC's nu)
    beta = L.dpars["beta"]
    return densities.exgaussian(L.mu, L.dpars["sigma"], beta, L.shape)


def _asym_laplace(L: Likelihood):
    d = L.dpars
    return densities.asym_laplace(L.mu, d["sigma"], d["quantile"], L.shape)


def _gen_extreme_value(L: Likelihood):
    return densities.gen_extreme_value(L.mu, L.dpars["sigma"], L.dpars["xi"], L.shape)


def _rescale_xi(tmp_xi, y, L: Likelihood):
    return densities.scale_xi(tmp_xi, y, L.mu, L.dpars["sigma"])


def _von_mises(L: Likelihood):
    return pm.VonMises.dist(mu=L.mu, kappa=L.dpars["kappa"], shape=L.shape)


def _inverse_gaussian(L: Likelihood):
    return pm.Wald.dist(mu=L.mu, lam=L.dpars["shape"], shape=L.shape)


def _frechet(L: Likelihood):
    return densities.frechet(L.mu, L.dpars["nu"], L.shape)


def _gamma(L: Likelihood):
    # brms: mean mu, shape alpha, so rate = shape / mu
    shape = L.dpars["shape"]
    return pm.Gamma.dist(alpha=shape, beta=shape / L.mu, shape=L.shape)


def _beta(L: Likelihood):
    mu, phi = L.mu, L.dpars["phi"]
    return pm.Beta.dist(alpha=mu * phi, beta=(1 - mu) * phi, shape=L.shape)


def _threshold_scores(L: Likelihood, sign: int = 1):
    """disc · (thres_k − eta) (``sign=1``) or disc · (eta − thres_k) (``sign=-1``), rows ×
    thresholds; category-specific effects ``cs()`` are subtracted from the thresholds, as in
    brms (``Intercept - mucs``)."""
    thr = L.thresholds if L.thresholds.ndim == 2 else L.thresholds[None, :]
    z = sign * (thr - L.eta[:, None])
    if "disc" in L.dpars:
        disc = pt.as_tensor_variable(L.dpars["disc"])
        z = z * (disc[:, None] if disc.ndim else disc)
    return z


def _category_probabilities(L: Likelihood):
    # P(y <= k) = F(disc · (thres_k - eta)), F the inverse link (brms's cumulative family)
    cdf = LINKS[L.link].inverse(_threshold_scores(L))
    return pt.concatenate([cdf[:, :1], cdf[:, 1:] - cdf[:, :-1], 1 - cdf[:, -1:]], axis=1)


def _ones(x):
    return pt.ones_like(x[:, :1])


def _sratio_probabilities(L: Likelihood):
    # P(y = k | y >= k) = F(disc · (thres_k - eta))
    q = LINKS[L.link].inverse(_threshold_scores(L))
    stay = pt.cumprod(1 - q, axis=1)
    return pt.concatenate([q, _ones(q)], axis=1) * pt.concatenate([_ones(q), stay], axis=1)


def _cratio_probabilities(L: Likelihood):
    # P(y > k | y >= k) = F(disc · (eta - thres_k))
    c = LINKS[L.link].inverse(_threshold_scores(L, -1))
    go = pt.cumprod(c, axis=1)
    return pt.concatenate([1 - c, _ones(c)], axis=1) * pt.concatenate([_ones(c), go], axis=1)


def _acat_probabilities(L: Likelihood):
    # adjacent categories: P(y = k + 1) / (P(y = k) + P(y = k + 1)) = F(disc · (eta - thres_k))
    d = _threshold_scores(L, -1)
    if L.link == "logit":  # brms's acat_logit: a softmax of cumulative sums
        scores = pt.concatenate([pt.zeros_like(d[:, :1]), pt.cumsum(d, axis=1)], axis=1)
        return pt.special.softmax(scores, axis=1)
    q = LINKS[L.link].inverse(d)
    ones = _ones(q)
    up = pt.concatenate([ones, pt.cumprod(q, axis=1)], axis=1)  # prod_{j<k} q_j
    down_rev = pt.cumprod((1 - q)[:, ::-1], axis=1)[:, ::-1]  # prod_{j>=k} (1 - q_j)
    down = pt.concatenate([down_rev, ones], axis=1)
    p = up * down
    return p / p.sum(axis=1, keepdims=True)


def _categories(p):
    p = pt.clip(p, 1e-12, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    return pm.Categorical.dist(p=p, shape=(p.shape[0],))


def _categorical_scores(L: Likelihood):
    """brms's categorical: rows × categories of (0, eta_mu2, ..., eta_muK)."""
    etas = [L.etas[name] for name in L.dpars if name.startswith("mu")]
    return pt.stack([pt.zeros_like(etas[0]), *etas], axis=1)


def _categorical_probabilities(L: Likelihood):
    return pt.special.softmax(_categorical_scores(L), axis=1)


def _categorical(L: Likelihood):
    scores = _categorical_scores(L)
    return pm.Categorical.dist(logit_p=scores, shape=(scores.shape[0],))


def _cumulative(L: Likelihood):
    return _categories(_category_probabilities(L))


def _sratio(L: Likelihood):
    return _categories(_sratio_probabilities(L))


def _cratio(L: Likelihood):
    return _categories(_cratio_probabilities(L))


def _acat(L: Likelihood):
    return _categories(_acat_probabilities(L))


# Expected value of the response (brms's posterior_epred), per family
def _mean_mu(L: Likelihood):
    return L.mu


def _mean_binomial(L: Likelihood):
    return L.mu * pt.as_tensor_variable(L.response.trials)


def _mean_lognormal(L: Likelihood):
    return pt.exp(L.mu + L.dpars["sigma"] ** 2 / 2)


def _mean_zero_inflated(L: Likelihood):
    return (1 - L.dpars["zi"]) * L.mu


def _mean_zero_inflated_binomial(L: Likelihood):
    return (1 - L.dpars["zi"]) * _mean_binomial(L)


def _mean_zero_one_inflated_beta(L: Likelihood):
    d = L.dpars
    return d["zoi"] * d["coi"] + (1 - d["zoi"]) * L.mu


def _mean_hurdle_poisson(L: Likelihood):
    return (1 - L.dpars["hu"]) * L.mu / (-pt.expm1(-L.mu))


def _mean_hurdle_negbinomial(L: Likelihood):
    shape = L.dpars["shape"]
    p0 = (shape / (L.mu + shape)) ** shape
    return (1 - L.dpars["hu"]) * L.mu / (1 - p0)


def _mean_hurdle(L: Likelihood):
    return (1 - L.dpars["hu"]) * L.mu


def _mean_hurdle_lognormal(L: Likelihood):
    return (1 - L.dpars["hu"]) * _mean_lognormal(L)


def _mean_shifted_lognormal(L: Likelihood):
    return _mean_lognormal(L) + L.dpars["ndt"]


def _mean_asym_laplace(L: Likelihood):
    q = L.dpars["quantile"]
    return L.mu + L.dpars["sigma"] * (1 - 2 * q) / (q * (1 - q))


# -- the table -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CanonicalLikelihood:
    """A family's log density at one link written on the linear predictor, with the
    response's own terms (log y!, log binomial coefficients) as data containers
    (``densities.glm_response_terms``): the same log density as PyMC's distribution at a
    fraction of its cost. Used for fitting and the log-likelihood; draws come from ``dist``.

    Attributes
    ----------
    link : str
        The link it applies to.
    kind : str
        Its name in ``densities.glm_response_terms`` (Stan's name of the density).
    dist : callable
        ``(Likelihood, containers) -> unnamed PyMC distribution``; ``containers`` maps the
        names of ``glm_response_terms`` to their data containers.
    """

    link: str
    kind: str
    dist: Callable[[Likelihood, dict], object]


def _poisson_log(L: Likelihood, data: dict):
    return densities.PoissonLog.dist(L.eta, data["Y_log_factorial"], shape=L.shape)


def _bernoulli_logit(L: Likelihood, data: dict):
    return densities.BernoulliLogit.dist(L.eta, shape=L.shape)


def _binomial_logit(L: Likelihood, data: dict):
    return densities.BinomialLogit.dist(
        L.eta, data["Y_trials"], data["Y_log_choose"], shape=L.shape
    )


@dataclass(frozen=True)
class Family:
    """One row of the family table.

    Attributes
    ----------
    name : str
        brms's name, as printed on the summary's Family line.
    links : tuple of str
        Allowed links for ``mu``, the default first.
    dpars : tuple of DistParam
        Distributional parameters besides ``mu``.
    response : str
        Key of ``RESPONSES``: the rule the response must follow.
    dist : callable
        ``Likelihood -> unnamed PyMC distribution``.
    additions : tuple of str
        Addition terms the family accepts (``weights`` everywhere).
    ordinal : bool
        Thresholds (class ``Intercept``, one per category boundary) replace the intercept.
    scale_link : str
        Link brms uses for the data-driven default priors when it is not the mu link
        (lognormal's log scale).
    """

    name: str
    links: tuple[str, ...]
    dpars: tuple[DistParam, ...]
    response: str
    dist: Callable[[Likelihood], object]
    additions: tuple[str, ...] = ("weights",)
    ordinal: bool = False
    scale_link: str = ""
    mean: Callable[[Likelihood], object] = _mean_mu  # brms's posterior_epred
    aliases: tuple[str, ...] = ()
    link: str = ""  # chosen link; empty means the first (default) one
    category_specific: bool = False  # cs() terms allowed (sratio, cratio, acat)
    # categorical: one predicted parameter per non-reference category, named mu<category>
    category_dpar: DistParam | None = None
    code_note: str = ""  # model code: what the likelihood line means ({link}: the link)
    ordered_thresholds: bool = True  # cumulative's thresholds increase; the others' need not
    canonical: CanonicalLikelihood | None = None  # the cheaper log density at one link

    @property
    def link_name(self) -> str:
        return self.link or self.links[0]

    def canonical_likelihood(
        self, response: ResponseData, additions=(), draws: bool = False
    ) -> CanonicalLikelihood | None:
        """The cheaper log density (``canonical``) where a model uses it: at its link, for a
        plain likelihood (no ``rate()``, ``cens()`` or ``trunc()``; ``additions`` holds the
        formula's addition terms by name) that is not drawn from; else None."""
        c = self.canonical
        if c is None or c.link != self.link_name or response.rate is not None or draws:
            return None
        if "cens" in additions or "lb" in additions:
            return None
        return c

    @property
    def mu_link(self) -> Link:
        return LINKS[self.link_name]

    @property
    def prior_link(self) -> Link:
        """Link whose scale the data-driven default priors use."""
        return LINKS[self.scale_link or self.link_name]

    def with_link(self, link: str | None) -> Family:
        if link is None:
            return self
        if link not in self.links:
            raise ValueError(
                f"Link '{link}' is not available for family '{self.name}'; "
                f"allowed: {', '.join(self.links)}."
            )
        return replace(self, link=link)

    def estimated_dpars(self, additions=(), predicted=()) -> tuple[DistParam, ...]:
        """Parameters estimated as one number each, given the formula's addition terms.

        ``additions`` are the formula's ``AdditionTerm`` s: ``se(s)`` removes ``sigma``,
        ``se(s, sigma = TRUE)`` keeps it. Parameters named in ``predicted`` have formulas of
        their own (linear predictors) and are left out.
        """
        out = []
        for d in self.dpars:
            if d.fixed is not None or d.name in predicted:
                continue
            term = next((a for a in additions if a.name == d.dropped_by), None)
            if term is not None and dict(term.kwargs).get(d.name, "FALSE").upper() not in (
                "TRUE",
                "T",
            ):
                continue
            out.append(d)
        return tuple(out)

    def category_dpar_names(self, categories: tuple[str, ...]) -> tuple[str, ...]:
        """brms's names of a categorical model's predicted parameters: ``mu2``, ``mu3``, ...
        (``mu`` + the category, the first category being the reference)."""
        if self.category_dpar is None:
            return ()
        return tuple(f"mu{clean_name(c)}" for c in categories[1:])

    def dpar(self, name: str) -> DistParam:
        """The distributional parameter ``name``.

        Raises
        ------
        KeyError
            The family has no such parameter (the message lists the ones it has).
        """
        for d in self.dpars:
            if d.name == name:
                return d
        if self.category_dpar is not None and name.startswith("mu") and name != "mu":
            return replace(self.category_dpar, name=name)
        own = ", ".join(d.name for d in self.dpars) or "none besides mu"
        raise KeyError(f"Family '{self.name}' has no parameter '{name}'; its parameters: {own}.")

    def links_line(self, predicted=()) -> str:
        """The summary's ``Links:`` text (brms 2.18 lists every dpar; a parameter with a
        formula of its own shows its link)."""
        if self.category_dpar is not None:
            return "; ".join(f"{d} = {self.link_name}" for d in predicted if d.startswith("mu"))
        parts = [f"mu = {self.link_name}"] + [
            f"{d.name} = {d.link if d.name in predicted else 'identity'}" for d in self.dpars
        ]
        return "; ".join(parts)

    def check_additions(self, names: tuple[str, ...]) -> None:
        """Every addition term of the formula is one the family accepts."""
        for base in names:
            if base not in self.additions:
                allowed = ", ".join(f"{a}()" for a in self.additions)
                raise ResponseError(
                    f"Addition term {base}() cannot be used with family '{self.name}' "
                    f"(it accepts: {allowed})."
                )

    def prepare_response(self, column: str, y, additions: dict, rows=None) -> ResponseData:
        """Check the response against the family's rule and code it for the likelihood.

        ``rows`` are the data's row numbers of the values (from 1), for messages."""
        data = RESPONSES[self.response](self.name, column, y, additions, rows)
        if "se" in additions:
            se = np.asarray(additions["se"], dtype=float)
            bad = se < 0
            if bad.any():
                raise ResponseError(
                    f"se() must be non-negative standard errors, got {_first_bad(bad, se, rows)}."
                )
            data.se = se
        if "rate" in additions:
            data.rate = np.asarray(additions["rate"], dtype=float)
        return data

    @property
    def has_categories(self) -> bool:
        """Whether the response is one of K categories (epred: a probability per category;
        predictions: the category number 1..K)."""
        return self.response in ("ordinal", "categorical")

    @property
    def discrete(self) -> bool:
        """Whether the response is a count (truncation bounds then include the bound)."""
        return self.response in ("count", "binomial")

    def __str__(self) -> str:
        return f"{self.name}(link = {self.link_name})"


_SIGMA = DistParam("sigma", "scale", lb=0.0, dropped_by="se", intercept_prior="scale")
_GAMMA_001 = "gamma(0.01, 0.01)"
_SHAPE = DistParam("shape", _GAMMA_001, lb=0.0)
_PHI = DistParam("phi", _GAMMA_001, lb=0.0)
_DISC = DistParam("disc", fixed=1.0, intercept_prior="normal(0, 1)")
_NU = DistParam("nu", "gamma(2, 0.1)", lb=1.0, link="logm1", intercept_prior="normal(2.7, 0.8)")


def _probability(name: str) -> DistParam:
    """zi, hu, zoi, coi, quantile: beta(1, 1) on (0, 1), logit link with a formula."""
    return DistParam(name, "beta(1, 1)", lb=0.0, ub=1.0, link="logit",
                     intercept_prior="logistic(0, 1)")  # fmt: skip


_LOG_LINKS = ("log", "identity", "sqrt")
_REAL_LINKS = ("identity", "log", "inverse")
_UNIT_LINKS = ("logit", "probit", "cloglog")
_CENS = ("weights", "cens", "trunc")  # brms's addition terms of most families
_COUNT = (*_CENS, "rate")

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family("gaussian", _REAL_LINKS, (_SIGMA,), "real", _gaussian,
               additions=("weights", "se", "cens", "trunc"), aliases=("normal",)),
        Family("student", _REAL_LINKS, (_SIGMA, _NU), "real", _student,
               additions=("weights", "se", "cens", "trunc")),
        Family("skew_normal", _REAL_LINKS,
               (_SIGMA, DistParam("alpha", "normal(0, 4)", link="identity",
                                  intercept_prior="normal(0, 4)")),
               "real", _skew_normal, additions=("weights", "se", "cens", "trunc")),
        Family("bernoulli", _UNIT_LINKS, (), "binary", _bernoulli,
               canonical=CanonicalLikelihood("logit", "bernoulli_logit", _bernoulli_logit)),
        Family("binomial", _UNIT_LINKS, (), "binomial", _binomial_lik,
               additions=("weights", "trials", "cens", "trunc"), mean=_mean_binomial,
               canonical=CanonicalLikelihood("logit", "binomial_logit", _binomial_logit)),
        Family("beta_binomial", _UNIT_LINKS, (_PHI,), "binomial", _beta_binomial,
               additions=("weights", "trials", "cens", "trunc"), mean=_mean_binomial),
        Family("poisson", _LOG_LINKS, (), "count", _poisson, additions=_COUNT,
               canonical=CanonicalLikelihood("log", "poisson_log", _poisson_log)),
        Family("negbinomial", _LOG_LINKS, (_SHAPE,), "count", _negbinomial, additions=_COUNT),
        Family("geometric", _LOG_LINKS, (), "count", _geometric, additions=_COUNT),
        Family("lognormal", ("identity", "inverse"),
               (DistParam("sigma", "scale", lb=0.0, intercept_prior="scale"),),
               "positive", _lognormal, additions=_CENS, scale_link="log",
               mean=_mean_lognormal),
        Family("shifted_lognormal", ("identity", "inverse"),
               (DistParam("sigma", "scale", lb=0.0, intercept_prior="scale"),
                DistParam("ndt", "uniform(0, min_Y)", lb=0.0, ub="min_Y", intercept_prior="")),
               "positive", _shifted_lognormal, additions=_CENS, scale_link="log",
               mean=_mean_shifted_lognormal),
        Family("gamma", _LOG_LINKS[:1] + ("identity", "inverse"), (_SHAPE,), "positive",
               _gamma, additions=_CENS, aliases=("Gamma",)),
        Family("weibull", _LOG_LINKS[:1] + ("identity", "inverse"), (_SHAPE,), "positive",
               _weibull, additions=_CENS),
        Family("exponential", _LOG_LINKS[:1] + ("identity", "inverse"), (), "positive",
               _exponential, additions=_CENS),
        Family("frechet", _LOG_LINKS[:1] + ("identity", "inverse"), (_NU,), "positive",
               _frechet, additions=_CENS),
        Family("inverse.gaussian", ("1/mu^2", "inverse", "identity", "log"), (_SHAPE,),
               "positive", _inverse_gaussian, additions=_CENS),
        Family("exgaussian", _REAL_LINKS,
               (_SIGMA, DistParam("beta", "gamma(1, 0.1)", lb=0.0,
                                  intercept_prior="normal(1.7, 1.3)")),
               "real", _exgaussian, additions=_CENS),
        Family("gen_extreme_value", _REAL_LINKS,
               (DistParam("sigma", "scale", lb=0.0, intercept_prior="scale"),
                DistParam("xi", "normal(0, 2.5)", link="log1p", intercept_prior="normal(0, 4)",
                          raw_name="tmp_xi", rescale=_rescale_xi)),
               "real", _gen_extreme_value, additions=_CENS),
        Family("asym_laplace", _REAL_LINKS, (_SIGMA, _probability("quantile")), "real",
               _asym_laplace, additions=_CENS, mean=_mean_asym_laplace),
        Family("von_mises", ("tan_half", "identity"),
               (DistParam("kappa", "gamma(2, 0.01)", lb=0.0,
                          intercept_prior="normal(5.0, 0.8)"),),
               "angle", _von_mises, additions=_CENS),
        Family("beta", _UNIT_LINKS, (_PHI,), "unit", _beta, additions=_CENS,
               aliases=("Beta",)),
        Family("zero_inflated_poisson", _LOG_LINKS, (_probability("zi"),), "count",
               _zero_inflated_poisson, additions=_CENS, mean=_mean_zero_inflated),
        Family("zero_inflated_negbinomial", _LOG_LINKS, (_SHAPE, _probability("zi")), "count",
               _zero_inflated_negbinomial, additions=_CENS, mean=_mean_zero_inflated),
        Family("zero_inflated_binomial", _UNIT_LINKS, (_probability("zi"),), "binomial",
               _zero_inflated_binomial, additions=("weights", "trials", "cens", "trunc"),
               mean=_mean_zero_inflated_binomial),
        Family("zero_inflated_beta", _UNIT_LINKS, (_PHI, _probability("zi")),
               "unit_with_zero", _zero_inflated_beta, additions=_CENS,
               mean=_mean_zero_inflated),
        Family("zero_one_inflated_beta", _UNIT_LINKS,
               (_PHI, _probability("zoi"), _probability("coi")), "unit_closed",
               _zero_one_inflated_beta, mean=_mean_zero_one_inflated_beta),
        Family("hurdle_poisson", _LOG_LINKS, (_probability("hu"),), "count",
               _hurdle_poisson, additions=_CENS, mean=_mean_hurdle_poisson),
        Family("hurdle_negbinomial", _LOG_LINKS, (_SHAPE, _probability("hu")), "count",
               _hurdle_negbinomial, additions=_CENS, mean=_mean_hurdle_negbinomial),
        Family("hurdle_gamma", _LOG_LINKS[:1] + ("identity", "inverse"),
               (_SHAPE, _probability("hu")), "non_negative", _hurdle_gamma,
               additions=_CENS, mean=_mean_hurdle),
        Family("hurdle_lognormal", ("identity", "inverse"),
               (DistParam("sigma", "scale", lb=0.0, intercept_prior="scale"),
                _probability("hu")),
               "non_negative", _hurdle_lognormal, additions=_CENS, scale_link="log",
               mean=_mean_hurdle_lognormal),
        Family("cumulative", _UNIT_LINKS, (_DISC,),
               "ordinal", _cumulative, ordinal=True, mean=_category_probabilities,
               code_note="P(Y <= k) = inverse {link}(Intercept[k] - eta)"),
        Family("categorical", ("logit",), (), "categorical", _categorical,
               mean=_categorical_probabilities,
               category_dpar=DistParam("mu", link="identity", intercept_prior="scale"),
               code_note="P(Y = k) = softmax([0, mu2, ...])[k]"),
        Family("sratio", _UNIT_LINKS, (_DISC,), "ordinal", _sratio, ordinal=True,
               mean=_sratio_probabilities, category_specific=True, ordered_thresholds=False,
               code_note="P(Y = k | Y >= k) = inverse {link}(Intercept[k] - eta)"),
        Family("cratio", _UNIT_LINKS, (_DISC,), "ordinal", _cratio, ordinal=True,
               mean=_cratio_probabilities, category_specific=True, ordered_thresholds=False,
               code_note="P(Y > k | Y >= k) = inverse {link}(eta - Intercept[k])"),
        Family("acat", _UNIT_LINKS, (_DISC,), "ordinal", _acat, ordinal=True,
               mean=_acat_probabilities, category_specific=True, ordered_thresholds=False,
               code_note="P(Y = k+1) / P(Y in {{k, k+1}}) = inverse {link}(eta - Intercept[k])"),
    ]
}  # fmt: skip


def get_family(family: str | Family, link: str | None = None) -> Family:
    """Look a family up by name or alias (case-insensitive), optionally with a link.

    Raises
    ------
    ValueError
        Unknown family (the known ones are listed) or a link the family does not allow.
    """
    if isinstance(family, Family):
        return family.with_link(link)
    if not isinstance(family, str):
        raise TypeError(f"family must be a name or a Family, got {type(family).__name__}.")
    key = family.strip()
    for f in FAMILIES.values():
        if key.lower() in (f.name.lower(), *(a.lower() for a in f.aliases)):
            return f.with_link(link)
    raise ValueError(f"Unknown family '{family}'; known families: {', '.join(FAMILIES)}.")


def family(name: str, link: str | None = None) -> Family:
    """A family with a chosen link, as brms's ``bernoulli(link = "probit")``.

    Examples
    --------
    >>> family("bernoulli", link="probit").link_name
    'probit'
    """
    return get_family(name, link)
