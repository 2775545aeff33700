"""Response distributions that PyMC does not have, written once with their log density,
log CDF (where censoring or truncation needs it) and random draws, in brms's
parameterisations (brms's ``d*``/``p*`` functions of distributions.R).

Each function returns an unnamed PyMC distribution (``pm.CustomDist.dist``) that the family
table's likelihoods use for fitting, the pointwise log-likelihood and predictions alike.
``response_terms`` wraps any of them (and PyMC's own) with ``cens()`` and ``trunc()``.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.tensor.random.basic import LogNormalRV, NormalRV
from pytensor.tensor.random.op import RandomVariable
from scipy import special

__all__ = [
    "BernoulliLogit",
    "BinomialLogit",
    "PoissonLog",
    "asym_laplace",
    "glm_response_terms",
    "exgaussian",
    "log_cdf",
    "log_ndtr",
    "skew_normal",
    "frechet",
    "gen_extreme_value",
    "scale_xi",
    "hurdle_continuous",
    "response_terms",
    "shifted_lognormal",
    "zero_inflated_beta",
    "zero_one_inflated_beta",
]


def _log1mexp(x):
    """log(1 - exp(x)) for x <= 0, accurate at both ends."""
    return pt.switch(x > -np.log(2.0), pt.log(-pt.expm1(x)), pt.log1p(-pt.exp(x)))


def _logdiffexp(a, b):
    """log(exp(a) - exp(b)) for a >= b."""
    return a + _log1mexp(b - a)


def log_ndtr(z):
    """log Φ(z), accurate to ~1e-14 relative (PyMC's erfcx-based version is ~1e-8 off)."""
    tail = -(z**2) / 2 - pt.log(-z) - 0.5 * np.log(2 * np.pi)  # Φ underflows below -37
    low = pt.switch(pt.lt(z, -37.0), -37.0, z)
    left = pt.log(pt.erfc(-low / np.sqrt(2.0)) / 2)
    right = pt.log1p(-pt.erfc(z / np.sqrt(2.0)) / 2)
    return pt.switch(pt.lt(z, -37.0), tail, pt.switch(pt.lt(z, 0.0), left, right))


def _normal_logp(y, mu, sigma):
    return -0.5 * ((y - mu) / sigma) ** 2 - pt.log(sigma) - 0.5 * np.log(2 * np.pi)


def _beta_logp(y, mu, phi):
    a, b = mu * phi, (1 - mu) * phi
    return (
        (a - 1) * pt.log(y) + (b - 1) * pt.log1p(-y)
        - (pt.gammaln(a) + pt.gammaln(b) - pt.gammaln(a + b))
    )  # fmt: skip


def _beta_draws(mu, phi, rng, size):
    return rng.beta(mu * phi, (1 - mu) * phi, size=size)


# -- zero-inflated and hurdle parts of continuous responses ---------------------------------------


def zero_inflated_beta(mu, phi, zi, shape):
    """brms's zero_inflated_beta: 0 with probability ``zi``, else Beta(mu·phi, (1-mu)·phi)."""

    def logp(y, mu, phi, zi):
        zero = pt.eq(y, 0)
        safe = pt.switch(zero, 0.5, y)  # keeps the unused branch finite for gradients
        return pt.switch(zero, pt.log(zi), pt.log1p(-zi) + _beta_logp(safe, mu, phi))

    def random(mu, phi, zi, rng=None, size=None):
        y = _beta_draws(mu, phi, rng, size)
        return np.where(rng.uniform(size=size) < zi, 0.0, y)

    return pm.CustomDist.dist(mu, phi, zi, logp=logp, random=random, shape=shape)


def zero_one_inflated_beta(mu, phi, zoi, coi, shape):
    """brms's zero_one_inflated_beta: 0 or 1 with probability ``zoi`` (1 with ``coi`` of it),
    else Beta(mu·phi, (1-mu)·phi)."""

    def logp(y, mu, phi, zoi, coi):
        zero, one = pt.eq(y, 0), pt.eq(y, 1)
        safe = pt.switch(zero | one, 0.5, y)
        return pt.switch(
            one,
            pt.log(zoi) + pt.log(coi),
            pt.switch(
                zero, pt.log(zoi) + pt.log1p(-coi), pt.log1p(-zoi) + _beta_logp(safe, mu, phi)
            ),
        )

    def random(mu, phi, zoi, coi, rng=None, size=None):
        y = _beta_draws(mu, phi, rng, size)
        edge = rng.uniform(size=size) < zoi
        ones = rng.uniform(size=size) < coi
        return np.where(edge, ones.astype(float), y)

    return pm.CustomDist.dist(mu, phi, zoi, coi, logp=logp, random=random, shape=shape)


def hurdle_continuous(base: str, mu, aux, hu, shape):
    """brms's hurdle_gamma (``aux`` the shape, ``mu`` the mean) and hurdle_lognormal (``mu``
    the log-scale mean, ``aux`` sigma): 0 with probability ``hu``, else the positive part."""

    def part_logp(y, mu, aux):
        if base == "gamma":
            return pm.logp(pm.Gamma.dist(alpha=aux, beta=aux / mu), y)
        return pm.logp(pm.LogNormal.dist(mu=mu, sigma=aux), y)

    def logp(y, mu, aux, hu):
        zero = pt.eq(y, 0)
        safe = pt.switch(zero, 1.0, y)
        return pt.switch(zero, pt.log(hu), pt.log1p(-hu) + part_logp(safe, mu, aux))

    def random(mu, aux, hu, rng=None, size=None):
        if base == "gamma":
            y = rng.gamma(aux, mu / aux, size=size)
        else:
            y = np.exp(rng.normal(mu, aux, size=size))
        return np.where(rng.uniform(size=size) < hu, 0.0, y)

    return pm.CustomDist.dist(mu, aux, hu, logp=logp, random=random, shape=shape)


# -- continuous families ------------------------------------------------------------------------


def skew_normal(xi, omega, alpha, shape):
    """Azzalini's skew normal (location ``xi``, scale ``omega``, shape ``alpha``)."""

    def logp(y, xi, omega, alpha):
        z = (y - xi) / omega
        return np.log(2.0) + _normal_logp(y, xi, omega) + log_ndtr(alpha * z)

    def random(xi, omega, alpha, rng=None, size=None):
        delta = alpha / np.sqrt(1 + alpha**2)
        u0, u1 = rng.standard_normal(size), rng.standard_normal(size)
        return xi + omega * (delta * np.abs(u0) + np.sqrt(1 - delta**2) * u1)

    return pm.CustomDist.dist(xi, omega, alpha, logp=logp, random=random, shape=shape)


def exgaussian(mu, sigma, beta, shape):
    """brms's exgaussian: mean ``mu``, normal sd ``sigma``, exponential scale ``beta``; where
    ``beta <= 0.05 sigma`` the density is the normal one (brms's and gamlss's rule)."""

    def logp(y, mu, sigma, beta):
        m = mu - beta
        z = y - m - sigma**2 / beta
        ex = -pt.log(beta) - (z + sigma**2 / (2 * beta)) / beta + log_ndtr(z / sigma)
        return pt.switch(pt.gt(beta, 0.05 * sigma), ex, _normal_logp(y, m, sigma))

    def logcdf(y, mu, sigma, beta):
        return pm.logcdf(pm.ExGaussian.dist(mu=mu - beta, sigma=sigma, nu=beta), y)

    def random(mu, sigma, beta, rng=None, size=None):
        return rng.normal(mu - beta, sigma, size=size) + rng.exponential(beta, size=size)

    return pm.CustomDist.dist(mu, sigma, beta, logp=logp, logcdf=logcdf, random=random, shape=shape)


def asym_laplace(mu, sigma, quantile, shape):
    """brms's asymmetric Laplace: ``quantile`` is the quantile ``mu`` sits at (quantile
    regression), ``sigma`` its scale."""

    def logp(y, mu, sigma, q):
        z = (y - mu) / sigma
        rate = pt.switch(pt.lt(y, mu), q - 1, q)
        return pt.log(q) + pt.log1p(-q) - pt.log(sigma) - rate * z

    def logcdf(y, mu, sigma, q):
        z = (y - mu) / sigma
        below = pt.log(q) + (1 - q) * pt.minimum(z, 0)
        above = _log1mexp(pt.log1p(-q) - q * pt.maximum(z, 0))
        return pt.switch(pt.lt(y, mu), below, above)

    def random(mu, sigma, q, rng=None, size=None):
        u = rng.uniform(size=size)
        below = mu + sigma / (1 - q) * np.log(np.maximum(u, 1e-300) / q)
        above = mu - sigma / q * np.log(np.maximum((1 - u) / (1 - q), 1e-300))
        return np.where(u < q, below, above)

    return pm.CustomDist.dist(
        mu, sigma, quantile, logp=logp, logcdf=logcdf, random=random, shape=shape
    )


def frechet(mu, nu, shape):
    """brms's Fréchet with mean ``mu``: scale ``mu / Γ(1 - 1/nu)``, shape ``nu`` (> 1)."""

    def _scale(mu, nu):
        return mu / pt.exp(pt.gammaln(1 - 1 / nu))

    def logp(y, mu, nu):
        s = _scale(mu, nu)
        x = y / s
        return pt.log(nu) - pt.log(s) - (1 + nu) * pt.log(x) - x ** (-nu)

    def logcdf(y, mu, nu):
        return -((y / _scale(mu, nu)) ** (-nu))

    def random(mu, nu, rng=None, size=None):
        s = mu / special.gamma(1 - 1 / nu)
        u = rng.uniform(size=size)
        return s * (-np.log(u)) ** (-1 / nu)

    return pm.CustomDist.dist(mu, nu, logp=logp, logcdf=logcdf, random=random, shape=shape)


def shifted_lognormal(mu, sigma, ndt, shape):
    """brms's shifted_lognormal: ``y - ndt`` is lognormal(mu, sigma)."""

    def logp(y, mu, sigma, ndt):
        return pm.logp(pm.LogNormal.dist(mu=mu, sigma=sigma), y - ndt)

    def logcdf(y, mu, sigma, ndt):
        return log_cdf(pm.LogNormal.dist(mu=mu, sigma=sigma), y - ndt)

    def random(mu, sigma, ndt, rng=None, size=None):
        return ndt + np.exp(rng.normal(mu, sigma, size=size))

    return pm.CustomDist.dist(mu, sigma, ndt, logp=logp, logcdf=logcdf, random=random, shape=shape)


def gen_extreme_value(mu, sigma, xi, shape):
    """brms's generalised extreme value distribution (location ``mu``, scale ``sigma``, shape
    ``xi``; the Gumbel limit at ``xi = 0``)."""

    def logp(y, mu, sigma, xi):
        x = (y - mu) / sigma
        safe_xi = pt.switch(pt.eq(xi, 0), 1.0, xi)
        t = 1 + safe_xi * x
        gev = -pt.log(sigma) - (1 + 1 / safe_xi) * pt.log(t) - t ** (-1 / safe_xi)
        return pt.switch(pt.eq(xi, 0), -pt.log(sigma) - x - pt.exp(-x), gev)

    def logcdf(y, mu, sigma, xi):
        x = (y - mu) / sigma
        safe_xi = pt.switch(pt.eq(xi, 0), 1.0, xi)
        return pt.switch(pt.eq(xi, 0), -pt.exp(-x), -((1 + safe_xi * x) ** (-1 / safe_xi)))

    def random(mu, sigma, xi, rng=None, size=None):
        e = -np.log(rng.uniform(size=size))
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(xi == 0, -np.log(e), (e ** (-xi) - 1) / np.where(xi == 0, 1, xi))
        return mu + sigma * z

    return pm.CustomDist.dist(mu, sigma, xi, logp=logp, logcdf=logcdf, random=random, shape=shape)


def scale_xi(tmp_xi, y, mu, sigma):
    """brms's ``scale_xi``: the GEV shape from its unbounded parameter, kept inside the values
    the data allow (every ``1 + xi (y - mu) / sigma`` positive)."""
    x = (y - mu) / sigma
    a, b = -1 / pt.min(x), -1 / pt.max(x)
    lb, ub = pt.minimum(a, b), pt.maximum(a, b)
    return pt.sigmoid(tmp_xi) * (ub - lb) + lb


# -- censoring and truncation --------------------------------------------------------------------


def log_cdf(dist, x):
    """log F(x) of a PyMC distribution; normal and lognormal ones through ``log_ndtr`` (PyMC's
    normal log CDF is about 1e-8 off in the lower tail)."""
    op = dist.owner.op if dist.owner is not None else None
    if isinstance(op, NormalRV | LogNormalRV):
        mu, sigma = dist.owner.inputs[-2:]
        if isinstance(op, LogNormalRV):
            x = pt.log(pt.maximum(x, 1e-300))
        return log_ndtr((x - mu) / sigma)
    return pm.logcdf(dist, x)


def response_terms(dist, cens=None, y2=None, lb=None, ub=None, discrete: bool = False):
    """``dist`` with brms's ``cens()`` and ``trunc()``: the log-likelihood of a row is the
    density (uncensored), ``log(1 - F(y))`` (right), ``log F(y)`` (left) or
    ``log(F(y2) - F(y))`` (interval), less ``log(F(ub) - F(lb))`` under truncation (``lb - 1``
    for discrete responses, as brms's Stan code). Only the log density is defined: predictions
    use the plain or truncated distribution (``pm.Truncated``).

    Raises
    ------
    NotImplementedError
        The distribution has no CDF in PyMC (so it cannot be censored or truncated).
    """
    cens_t = None if cens is None else pt.as_tensor_variable(np.asarray(cens, dtype=np.int64))
    y2_t = None if y2 is None else pt.as_tensor_variable(np.asarray(y2, dtype=float))
    lb_t = None if lb is None else pt.as_tensor_variable(np.asarray(lb, dtype=float))
    ub_t = None if ub is None else pt.as_tensor_variable(np.asarray(ub, dtype=float))
    # fail now, with a name, when the distribution has no CDF
    pm.logcdf(dist, pt.zeros(dist.shape))

    def loglik(y):
        out = pm.logp(dist, y)
        if cens_t is not None:
            cdf_y = log_cdf(dist, y)
            upper = y2_t if y2_t is not None else y + 1.0
            cdf_y2 = log_cdf(dist, pt.switch(pt.eq(cens_t, 2), upper, y + 1.0))
            out = pt.switch(
                pt.eq(cens_t, 0),
                out,
                pt.switch(
                    pt.eq(cens_t, 1),
                    _log1mexp(cdf_y),
                    pt.switch(pt.eq(cens_t, -1), cdf_y, _logdiffexp(cdf_y2, cdf_y)),
                ),
            )
        if lb_t is not None or ub_t is not None:
            # a missing bound is -inf/inf: its CDF term is -inf/0 (evaluated at y to stay finite)
            if ub_t is None:
                log_ub = pt.zeros_like(y, dtype="float64")
            else:
                at = pt.switch(pt.isinf(ub_t), y, ub_t)
                log_ub = pt.switch(pt.isinf(ub_t), 0.0, log_cdf(dist, at))
            if lb_t is None:
                log_lb = pt.full_like(y, -np.inf, dtype="float64")
            else:
                low = lb_t - 1.0 if discrete else lb_t
                at = pt.switch(pt.isinf(low), y, low)
                log_lb = pt.switch(pt.isinf(low), -np.inf, log_cdf(dist, at))
            norm = _logdiffexp(log_ub, log_lb)
            out = out - norm
        return out

    return loglik


# -- GLM likelihoods at their canonical links -----------------------------------------------------
#
# PyMC's Poisson, Bernoulli and Binomial evaluate log y!, the log binomial coefficient, a
# bounds check of p and a switch on the value's range at every call, though they depend on
# the data alone. These write the log density as Stan's poisson_log, bernoulli_logit and
# binomial_logit do, on the linear predictor, with the response's own terms given as data
# (``glm_response_terms``): at 20,000 rows 20 → 5 ns per row (Poisson), 29 → 17 (Bernoulli)
# and 67 → 18 (binomial) for a log density and its gradient (benchmarks/README.md). They are for fitting
# and the log-likelihood; predictions draw from PyMC's own distributions.


def _expit(x):
    return special.expit(np.asarray(x, dtype=float))


class _PoissonLogRV(RandomVariable):
    name = "poisson_log"
    signature = "(),()->()"
    dtype = "int64"
    _print_name = ("PoissonLog", "\\operatorname{PoissonLog}")

    @classmethod
    def rng_fn(cls, rng, eta, log_factorial, size):
        return rng.poisson(np.exp(eta), size=size)


class _BernoulliLogitRV(RandomVariable):
    name = "bernoulli_logit"
    signature = "()->()"
    dtype = "int64"
    _print_name = ("BernoulliLogit", "\\operatorname{BernoulliLogit}")

    @classmethod
    def rng_fn(cls, rng, eta, size):
        return rng.binomial(1, _expit(eta), size=size)


class _BinomialLogitRV(RandomVariable):
    name = "binomial_logit"
    signature = "(),(),()->()"
    dtype = "int64"
    _print_name = ("BinomialLogit", "\\operatorname{BinomialLogit}")

    @classmethod
    def rng_fn(cls, rng, eta, trials, log_choose, size):
        return rng.binomial(np.asarray(trials, dtype=np.int64), _expit(eta), size=size)


class PoissonLog(pm.Discrete):
    """Poisson with log mean ``eta``; ``log_factorial`` is log y! of the rows' responses."""

    rv_op = _PoissonLogRV()

    @classmethod
    def dist(cls, eta, log_factorial, **kwargs):
        return super().dist([eta, log_factorial], **kwargs)

    @staticmethod
    def support_point(rv, size, eta, log_factorial):
        return pt.floor(pt.exp(eta)).astype(rv.dtype) + pt.zeros_like(log_factorial, dtype=rv.dtype)

    @staticmethod
    def logp(value, eta, log_factorial):
        return value * eta - pt.exp(eta) - log_factorial


class BernoulliLogit(pm.Discrete):
    """Bernoulli with log odds ``eta``."""

    rv_op = _BernoulliLogitRV()

    @classmethod
    def dist(cls, eta, **kwargs):
        return super().dist([eta], **kwargs)

    @staticmethod
    def support_point(rv, size, eta):
        return pt.ge(eta, 0).astype(rv.dtype)

    @staticmethod
    def logp(value, eta):
        return value * eta - pt.softplus(eta)


class BinomialLogit(pm.Discrete):
    """Binomial with log odds ``eta`` out of ``trials``; ``log_choose`` is the log binomial
    coefficient of the rows' trials and successes."""

    rv_op = _BinomialLogitRV()

    @classmethod
    def dist(cls, eta, trials, log_choose, **kwargs):
        return super().dist([eta, trials, log_choose], **kwargs)

    @staticmethod
    def support_point(rv, size, eta, trials, log_choose):
        return pt.floor(trials * pt.sigmoid(eta)).astype(rv.dtype)

    @staticmethod
    def logp(value, eta, trials, log_choose):
        return value * eta - trials * pt.softplus(eta) + log_choose


def glm_response_terms(kind: str, y, trials=None) -> dict[str, np.ndarray]:
    """The response's own terms of a canonical-link likelihood (``poisson_log``,
    ``binomial_logit``; ``bernoulli_logit`` has none), by the name of their data container."""
    y = np.asarray(y, dtype=float)
    if kind == "poisson_log":
        return {"Y_log_factorial": special.gammaln(y + 1)}
    if kind == "binomial_logit":
        n = np.asarray(trials, dtype=float)
        return {
            "Y_trials": n,
            "Y_log_choose": special.gammaln(n + 1) - special.gammaln(y + 1)
            - special.gammaln(n - y + 1),
        }  # fmt: skip
    return {}
