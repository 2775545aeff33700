"""Distributions of bayesml.densities: the canonical-link GLM likelihoods against PyMC's own
(log density, gradient and draws), and where models use them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.graph import clone_replace
from scipy import special

from bayesml import densities, family, make_model
from bayesml.model import response_containers
from bayesml.sampling import compile_nutpie

from .test_compiled import logp_and_grad

ETA = np.array([-40.0, -12.0, -3.0, -0.5, 0.0, 0.7, 2.5, 9.0, 35.0])


def _cases():
    """(name, ours, PyMC's, y) with PyMC's distribution at the same linear predictor."""
    eta = pt.dvector("eta")
    trials = np.array([0, 1, 3, 10, 40, 7, 100, 2, 5])
    successes = np.array([0, 1, 0, 4, 40, 3, 99, 2, 0])
    counts = np.array([0, 0, 1, 2, 1, 3, 11, 8000, 2])
    binary = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0])
    lf = densities.glm_response_terms("poisson_log", counts)
    bt = densities.glm_response_terms("binomial_logit", successes, trials)
    return eta, [
        (
            "poisson_log",
            densities.PoissonLog.dist(eta, lf["Y_log_factorial"]),
            pm.Poisson.dist(mu=pt.exp(eta)),
            counts,
        ),
        (
            "bernoulli_logit",
            densities.BernoulliLogit.dist(eta),
            pm.Bernoulli.dist(logit_p=eta),
            binary,
        ),
        (
            "binomial_logit",
            densities.BinomialLogit.dist(eta, bt["Y_trials"], bt["Y_log_choose"]),
            pm.Binomial.dist(n=trials, logit_p=eta),
            successes,
        ),
    ]


@pytest.mark.parametrize("k", range(3))
def test_canonical_likelihoods_equal_pymc_with_their_gradients(k):
    eta, cases = _cases()
    name, ours, theirs, y = cases[k]
    pointwise = [pm.logp(d, y) for d in (ours, theirs)]
    grads = [pt.grad(lp.sum(), eta) for lp in pointwise]
    f = pytensor.function([eta], [*pointwise, *grads])  # with the stabilising rewrites
    x = ETA if name != "poisson_log" else np.clip(ETA, -40, 9.5)  # exp(35) counts overflow
    lp_ours, lp_theirs, g_ours, g_theirs = f(x)
    finite = np.isfinite(lp_theirs)
    assert finite.sum() >= len(x) - 1, name  # PyMC underflows only at eta = -40 (Poisson)
    np.testing.assert_allclose(lp_ours[finite], lp_theirs[finite], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-12, atol=1e-12)
    assert np.isfinite(lp_ours).all()


@pytest.mark.parametrize("k", [0, 2])
def test_canonical_count_likelihoods_draw_as_pymc(k):
    eta, cases = _cases()
    _, ours, theirs, _ = cases[k]
    x = np.clip(ETA, -40, 9.5)
    draws = [
        pm.draw(clone_replace(d, {eta: pt.as_tensor(x)}), draws=3, random_seed=11)
        for d in (ours, theirs)
    ]
    np.testing.assert_array_equal(draws[0], draws[1])


def test_bernoulli_logit_draws_have_the_inverse_logit_as_frequency():
    """(PyMC's compiled Bernoulli draws from another stream than numpy's binomial, so the
    draws agree in distribution only: 4,000 per row, within 4 binomial standard errors.)"""
    x = np.array([-3.0, -0.5, 0.0, 0.7, 2.5])
    draws = pm.draw(densities.BernoulliLogit.dist(x), draws=4000, random_seed=5)
    p = special.expit(x)
    assert set(np.unique(draws)) <= {0, 1}
    np.testing.assert_array_less(np.abs(draws.mean(0) - p), 4 * np.sqrt(p * (1 - p) / 4000))


def _data(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(6), n // 6).astype(str)
    x = rng.normal(size=n)
    eta = 0.2 + 0.5 * x + rng.normal(0, 0.5, 6)[g.astype(int)]
    trials = rng.integers(1, 12, n)
    return pd.DataFrame(
        {
            "x": x,
            "g": g,
            "yb": rng.binomial(1, special.expit(eta)),
            "yp": rng.poisson(np.exp(eta)),
            "yk": rng.binomial(trials, special.expit(eta)),
            "n": trials,
            "t": rng.uniform(1, 3, n),
        }
    )


@pytest.mark.parametrize(
    "formula, fam, op",
    [
        ("yb ~ x + (1 | g)", family("bernoulli"), "bernoulli_logit"),
        ("yk | trials(n) ~ x + (1 | g)", family("binomial"), "binomial_logit"),
        ("yp ~ x + (1 | g)", family("poisson"), "poisson_log"),
        ("yb ~ x + (1 | g)", family("bernoulli", "probit"), "bernoulli"),
        ("yk | trials(n) ~ x", family("binomial", "cloglog"), "binomial"),
        ("yp ~ x", family("poisson", "identity"), "poisson"),
        ("yp | rate(t) ~ x", family("poisson"), "poisson"),
        ("yp | trunc(lb = 0, ub = 200) ~ x", family("poisson"), None),
    ],
)
def test_models_use_the_canonical_likelihood_at_its_link_only(formula, fam, op):
    m = make_model(formula, _data(), fam)
    containers = {v.name for v in m.model.data_vars}
    extra = {"Y_log_factorial", "Y_trials", "Y_log_choose"} & containers
    rv = m.model.observed_RVs[0]
    if op is None:  # trunc(): brms's truncated likelihood of PyMC's Poisson
        assert "CustomDist" in str(rv.owner.op) and not extra
        return
    assert rv.owner.op.name == op
    wanted = {
        "poisson_log": {"Y_log_factorial"},
        "binomial_logit": {"Y_trials", "Y_log_choose"},
    }.get(op, set())
    assert extra == wanted


@pytest.mark.parametrize(
    "formula, fam, column",
    [
        ("yp ~ x + (1 | g)", "poisson", "yp"),
        ("yk | trials(n) ~ x + (1 | g)", "binomial", "yk"),
    ],
)
def test_new_responses_go_in_with_their_own_terms(formula, fam, column):
    """A compiled model given a new response through ``response_containers`` (as the
    simulation-based calibration does) has the log density of a model built on it."""
    d = _data()
    m = make_model(formula, d, fam)
    compiled = compile_nutpie(m.model)
    new = d.assign(**{column: d[column].to_numpy()[::-1]})
    if fam == "binomial":
        new["n"] = np.maximum(new["n"].to_numpy(), new[column].to_numpy())
    fresh = make_model(formula, new, fam)
    response = fresh.design.response
    values = response_containers(fresh.family, response, fresh.design.additions)
    assert set(values) - {"Y"}  # the response's own terms go in too
    swapped = compiled.with_data(**values)
    x = np.linspace(-0.4, 0.6, compiled.n_dim)
    (mine, g_mine), (theirs, g_theirs) = (
        logp_and_grad(c, x) for c in (swapped, compile_nutpie(fresh.model))
    )
    assert mine == pytest.approx(theirs, rel=1e-12)
    np.testing.assert_allclose(g_mine, g_theirs, rtol=1e-12)
    assert mine != pytest.approx(logp_and_grad(compiled, x)[0], rel=1e-6)
