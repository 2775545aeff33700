"""User priors in fitted models, prior-only sampling and prior draws (sleepstudy)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from bayesml import brm, prior

pytestmark = pytest.mark.slow

F = "Reaction ~ Days + (Days | Subject)"


def _fit(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return brm(F, data, seed=1, progressbar=False, **kw)


def test_tight_prior_on_days_moves_the_posterior(sleep, seed_fit):
    default = seed_fit("sleep_full").draws("b_Days")
    assert 9.5 < default.mean() < 11.5
    fit = _fit(sleep, prior=prior("normal(0, 1)", class_="b", coef="Days"), sample_prior="yes")
    days = fit.draws("b_Days")
    assert days.mean() < 4
    # brms 2.18 on the same model: 1.258 +- 1.023 (tests/reference/brms_days_prior.json). The
    # posterior sd stays near the prior's 1 because the varying slopes absorb the effect.
    ref = json.loads((Path(__file__).parent / "reference/brms_days_prior.json").read_text())
    b = ref["b_Days"]
    ess = fit.diagnostics().loc["b_Days", "Bulk_ESS"]
    mcse = np.hypot(days.std(ddof=1) / np.sqrt(ess), b["sd"] / np.sqrt(b["ess_bulk"]))
    assert abs(days.mean() - b["mean"]) < 4 * mcse
    # the sd of a near-normal posterior has relative Monte Carlo error about 1 / sqrt(2 ESS)
    assert abs(days.std(ddof=1) / b["sd"] - 1) < 4 * np.hypot(
        1 / np.sqrt(2 * ess), 1 / np.sqrt(2 * b["ess_bulk"])
    )
    # the prior draws stored beside the posterior follow the prior (brms's prior_b_Days)
    assert stats.kstest(fit.draws("prior_b_Days"), stats.norm(0, 1).cdf).pvalue > 0.01
    assert "prior_sigma" in fit.posterior and "prior_cor_Subject" in fit.posterior
    # Savage-Dickey: posterior over prior density of b_Days at 0 (brms's point hypothesis)
    h = fit.hypothesis("Days = 0")
    from scipy.stats import gaussian_kde

    ratio = gaussian_kde(days)(0.0)[0] / gaussian_kde(fit.draws("prior_b_Days"))(0.0)[0]
    assert h.loc[0, "Evid.Ratio"] == pytest.approx(ratio)
    assert h.loc[0, "Post.Prob"] == pytest.approx(ratio / (1 + ratio))


def test_constant_prior_fixes_sigma(sleep):
    fit = _fit(sleep, prior=prior("constant(5)", class_="sigma"), chains=2, iter=400)
    sigma = fit.draws("sigma")
    assert sigma.shape == (400,)
    assert np.all(sigma == 5.0)
    assert "sigma" not in [v.name for v in fit.model.model.free_RVs]


def test_prior_only_draws_follow_the_priors(sleep):
    p = prior("normal(0, 10)", class_="b") + prior("lkj(1)", class_="cor")
    fit = _fit(sleep, prior=p, sample_prior="only")
    half_t = stats.t(3, 0, 59.3)
    tests = {
        "b_Days": (fit.draws("b_Days"), stats.norm(0, 10).cdf),
        "Intercept": (fit.draws("Intercept"), stats.t(3, 288.7, 59.3).cdf),
        "sd_Subject__Intercept": (
            fit.draws("sd_Subject__Intercept"),
            lambda x: 2 * half_t.cdf(x) - 1,
        ),
        "sd_Subject__Days": (fit.draws("sd_Subject__Days"), lambda x: 2 * half_t.cdf(x) - 1),
        # a 2 x 2 LKJ(1) correlation is uniform on (-1, 1)
        "cor_Subject__Intercept__Days": (
            fit.draws("cor_Subject__Intercept__Days"),
            stats.uniform(-1, 2).cdf,
        ),
        "sigma": (fit.draws("sigma"), lambda x: 2 * half_t.cdf(x) - 1),
    }
    pvalues = {k: stats.kstest(x, cdf).pvalue for k, (x, cdf) in tests.items()}
    print(pvalues)
    assert all(p > 0.01 for p in pvalues.values()), pvalues
    assert fit.draws("b_Days").shape == (4000,)
    pp = fit.idata["prior_predictive"].to_dataset()["Reaction"]
    assert pp.shape == (4, 1000, 180)
    # prior predictive draws spread like the prior implies: sd of y includes Days * b
    assert 50 < float(pp.std()) < 5000


def test_prior_only_with_a_prior_per_ordinal_threshold():
    import pymc as pm

    from bayesml.model import _thresholds

    from .test_families import case_data

    p = (
        prior("normal(-1, 1)", class_="Intercept", coef="1")
        + prior("normal(0, 1)", class_="Intercept", coef="2")
        + prior("normal(1, 1)", class_="Intercept", coef="3")
        + prior("normal(0, 1)", class_="b")
    )
    d = case_data("cumulative")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = brm("y ~ x + (1 | g)", d, "cumulative", prior=p, sample_prior="only", seed=2)
    thr = np.column_stack([fit.draws(f"Intercept[{k}]") for k in (1, 2, 3)])
    assert thr.shape == (4000, 3) and np.all(np.diff(thr, axis=1) > 0)
    shift = fit.draws("b_x") * d["x"].mean()
    np.testing.assert_allclose(fit.draws("b_Intercept[2]"), thr[:, 1] + shift)
    # the same prior density (the model's ordered vector with a prior per threshold) by NUTS
    with pm.Model(coords={"thres": ("1", "2", "3")}) as alone:
        _thresholds(3, fit.model.priors)
    idata = pm.sample(
        model=alone,
        draws=2000,
        chains=4,
        random_seed=1,
        progressbar=False,
        nuts_sampler="nutpie",
    )
    nuts = idata.posterior["Intercept"].values.reshape(-1, 3)
    for k in range(3):
        se = np.hypot(nuts[:, k].std() / np.sqrt(2000), thr[:, k].std() / np.sqrt(4000))
        assert abs(nuts[:, k].mean() - thr[:, k].mean()) < 5 * se
        assert thr[:, k].std() == pytest.approx(nuts[:, k].std(), rel=0.08)
    assert fit.idata["prior_predictive"].to_dataset()["y"].shape[:2] == (4, 1000)


def test_signed_exponential_sd_prior_gives_the_noncentred_posterior(sleep):
    # the marginal model samples sd as |s| with s ~ double_exponential(0, 10); brms's
    # non-centred parameterisation samples log(sd) with the exponential(0.1) prior directly
    p = prior("exponential(0.1)", class_="sd")
    f = "Reaction ~ Days + (1 | Subject)"
    fits = {}
    for ge in ("marginal", "noncentred"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits[ge] = brm(f, sleep, prior=p, group_effects=ge, seed=3, progressbar=False)
    assert "sd_1_signed" in [v.name for v in fits["marginal"].model.model.free_RVs]
    for var in ("b_Days", "sd_Subject__Intercept", "sigma"):
        a, b = (fits[g].draws(var) for g in fits)
        ess = [fits[g].diagnostics().loc[var, "Bulk_ESS"] for g in fits]
        se = np.hypot(a.std() / np.sqrt(ess[0]), b.std() / np.sqrt(ess[1]))
        assert abs(a.mean() - b.mean()) < 5 * se, (var, a.mean(), b.mean(), se)
        assert a.std() == pytest.approx(b.std(), rel=0.1)
