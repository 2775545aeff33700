"""Predictions through the model graph, new levels, LOO, Bayesian R², hypotheses, saving."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special

import bayesml as bm

pytestmark = pytest.mark.slow


def _subject_coef(fit, data):
    coef = fit.coef(summary=False)["Subject"]
    subj = data["Subject"].astype(str).to_numpy()
    a = coef.sel(coef="Intercept").sel(Subject=subj).values
    b = coef.sel(coef="Days").sel(Subject=subj).values
    return a + b * data["Days"].to_numpy()


def test_epred_on_training_data_equals_coef(seed_fit, sleep):
    fit = seed_fit("sleep_full")
    ep = fit.posterior_epred()
    assert ep.shape == (4000, 180)
    np.testing.assert_allclose(ep, _subject_coef(fit, sleep), rtol=0, atol=1e-8)
    np.testing.assert_allclose(fit.posterior_linpred(), ep, atol=1e-8)


def test_new_levels_need_permission(seed_fit):
    fit = seed_fit("sleep_full")
    new = pd.DataFrame({"Days": [1, 2], "Subject": ["308", "new1"]})
    with pytest.raises(ValueError) as err:
        fit.posterior_epred(new)
    assert str(err.value) == (
        "newdata has levels of 'Subject' that the model has not seen: new1. "
        "Pass allow_new_levels=True to predict for them."
    )


def test_new_subject_gaussian_is_wider_and_matches_sd_cor(seed_fit):
    fit = seed_fit("sleep_full")
    days = 6.0
    new = pd.DataFrame({"Days": [days, days, days], "Subject": ["308", "newA", "newB"]})
    ep = fit.posterior_epred(new, allow_new_levels=True, sample_new_levels="gaussian", seed=3)
    sd_old, sd_new = ep[:, 0].std(), ep[:, 1].std()
    assert sd_new > 2 * sd_old
    # Var(new) = Var(b0 + 6 b1) + E[sd0^2 + 36 sd1^2 + 12 cor sd0 sd1]
    post = fit.draws
    fixed = post("b_Intercept") + days * post("b_Days")
    s0, s1, rho = (
        post("sd_Subject__Intercept"),
        post("sd_Subject__Days"),
        post("cor_Subject__Intercept__Days"),
    )
    expected = fixed.var() + np.mean(s0**2 + days**2 * s1**2 + 2 * days * rho * s0 * s1)
    # 4000 draws: the variance estimate has relative error about sqrt(2 / 4000) ~ 2.2%
    assert ep[:, 1].var() == pytest.approx(expected, rel=0.1)
    # each new level has its own draws
    assert abs(np.corrcoef(ep[:, 1] - fixed, ep[:, 2] - fixed)[0, 1]) < 0.1


@pytest.mark.parametrize("method", ["uncertainty", "old_levels"])
def test_other_new_level_methods_reuse_existing_levels(seed_fit, method):
    fit = seed_fit("sleep_full")
    new = pd.DataFrame({"Days": [0.0, 0.0], "Subject": ["newA", "newB"]})
    lp = fit.posterior_linpred(new, allow_new_levels=True, sample_new_levels=method, seed=1)
    r = fit.posterior["r_Subject"].sel(Subject__coef="Intercept")
    r = r.stack(s=("chain", "draw")).transpose("s", ...).values  # (draws, levels)
    dev = lp[:, 0] - fit.draws("b_Intercept")
    # every draw equals that draw of some existing subject
    assert np.all(np.min(np.abs(r - dev[:, None]), axis=1) < 1e-8)
    same_level = np.argmin(np.abs(r - dev[:, None]), axis=1)
    if method == "old_levels":
        assert len(np.unique(same_level)) == 1
    else:
        assert len(np.unique(same_level)) > 10


def test_re_formula_and_ndraws(seed_fit, sleep):
    fit = seed_fit("sleep_diag")
    none = fit.posterior_linpred(sleep.iloc[:3], re_formula="~0")
    fixed = (
        fit.draws("b_Intercept")[:, None]
        + fit.draws("b_Days")[:, None] * sleep["Days"].to_numpy()[:3]
    )
    np.testing.assert_allclose(none, fixed, atol=1e-8)
    only_int = fit.posterior_linpred(sleep.iloc[:3], re_formula="~ (1 | Subject)")
    r0 = fit.posterior["r_Subject"].sel(Subject__coef="Intercept", Subject="308")
    r0 = r0.stack(s=("chain", "draw")).values
    np.testing.assert_allclose(only_int, fixed + r0[:, None], atol=1e-8)
    a = fit.posterior_predict(sleep.iloc[:4], ndraws=50, seed=9)
    b = fit.posterior_predict(sleep.iloc[:4], ndraws=50, seed=9)
    assert a.shape == (50, 4)
    np.testing.assert_array_equal(a, b)


def test_rats_epred_in_counts_and_predict_in_range(seed_fit):
    fit = seed_fit("rats")
    rats = fit.data
    ep = fit.posterior_epred()
    theta = special.expit(
        fit.coef(summary=False)["batch"]
        .sel(coef="Intercept")
        .sel(batch=rats["batch"].astype(str).to_numpy())
        .values
    )
    np.testing.assert_allclose(ep, theta * rats["n"].to_numpy(), rtol=1e-9)
    pp = fit.posterior_predict()
    assert np.issubdtype(pp.dtype, np.integer)
    assert pp.min() >= 0 and np.all(pp <= rats["n"].to_numpy())
    summary = fit.fitted()
    assert list(summary.columns) == ["Estimate", "Est.Error", "Q2.5", "Q97.5"]
    assert len(summary) == len(rats)


def test_loo_compare_prefers_correlated_slopes(seed_fit):
    full, vi = seed_fit("sleep_full"), seed_fit("sleep_vi")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = bm.loo_compare(full, vi, names=["sleep_full", "sleep_vi"])
    print(table)
    assert list(table.index) == ["sleep_full", "sleep_vi"]
    assert table.loc["sleep_full", "elpd_diff"] == 0
    # the intercept-only model loses about 20 elpd points (brms/loo show the same ranking)
    assert table.loc["sleep_vi", "elpd_diff"] < -10
    w = full.waic()
    assert w["waic"] == pytest.approx(-2 * w["elpd_waic"])


def test_bayes_r2_and_hypothesis_follow_brms_formulas(seed_fit):
    fit = seed_fit("sleep_full")
    ep = fit.posterior_epred()
    y = fit.data["Reaction"].to_numpy()
    r2 = ep.var(axis=1, ddof=1) / (ep.var(axis=1, ddof=1) + (y - ep).var(axis=1, ddof=1))
    table = fit.bayes_R2()
    assert table.loc["R2", "Estimate"] == pytest.approx(r2.mean(), rel=1e-12)
    assert table.loc["R2", "Q2.5"] == pytest.approx(np.quantile(r2, 0.025), rel=1e-12)
    h = fit.hypothesis(["Days > 0", "Intercept - 250 = 0"])
    days, icpt = fit.draws("b_Days"), fit.draws("b_Intercept")
    assert h.loc[0, "Hypothesis"] == "(Days) > 0"
    assert h.loc[0, "Estimate"] == pytest.approx(days.mean())
    assert h.loc[0, "CI.Lower"] == pytest.approx(np.quantile(days, 0.05))
    assert h.loc[0, "CI.Upper"] == pytest.approx(np.quantile(days, 0.95))
    assert h.loc[0, "Evid.Ratio"] == np.inf
    assert h.loc[0, "Post.Prob"] == pytest.approx((days > 0).mean())
    assert h.loc[0, "Star"] == "*"
    assert h.loc[1, "Estimate"] == pytest.approx((icpt - 250).mean())
    assert h.loc[1, "CI.Upper"] == pytest.approx(np.quantile(icpt - 250, 0.975))


def test_save_load_predict_identical(seed_fit, tmp_path, sleep):
    fit = seed_fit("sleep_full")
    path = tmp_path / "fit.zarr"
    fit.save(path)
    back = bm.load(path)
    new = pd.DataFrame({"Days": [0, 4, 9], "Subject": ["308", "333", "372"]})
    np.testing.assert_array_equal(back.posterior_epred(new), fit.posterior_epred(new))
    assert str(back.summary()) == str(fit.summary())
    assert back.prior_summary().lines() == fit.prior_summary().lines()


# -- conditional effects: the numbers and the figure


def test_conditional_effects_main_effect_and_interaction(seed_fit):
    fit = seed_fit("sleep_full")
    frames, fig = fit.conditional_effects()
    df = frames["Days"]
    assert len(df) == 100
    assert {"estimate__", "se__", "lower__", "upper__", "effect1__"} <= set(df.columns)
    # varying effects off: the estimate is the population line
    line = np.median(
        fit.draws("b_Intercept")[:, None] + fit.draws("b_Days")[:, None] * df["Days"].to_numpy(), 0
    )
    np.testing.assert_allclose(df["estimate__"], line, rtol=1e-9)
    line = fig.viz["estimate"]["Days"].item()  # an ArviZ PlotCollection
    np.testing.assert_allclose(line.get_ydata(), df["estimate__"])
    assert line.axes.get_xlabel() == "Days" and len(line.axes.get_lines()) == 1
    inter = seed_fit("mathach_glp_int")
    frames, fig = inter.conditional_effects(["ses:himinty"])
    # a numeric moderator at its mean and mean +- 1 sd, as brms does
    him = inter.data["himinty"]
    assert sorted(frames["ses:himinty"]["effect2__"].unique()) == pytest.approx(
        [him.mean() - him.std(), him.mean(), him.mean() + him.std()]
    )
    lines = fig.viz["estimate"]["ses:himinty"]
    assert lines.sizes == {"group": 3}
    levels = [him.mean() + him.std(), him.mean(), him.mean() - him.std()]
    labels = [t.get_text() for t in lines.values[0].axes.get_legend().get_texts()]
    assert labels == [f"himinty = {v:.3g}" for v in levels]
    band = frames["ses:himinty"]
    top = band[np.isclose(band["effect2__"], levels[0])]
    np.testing.assert_allclose(lines.values[0].get_ydata(), top["estimate__"])


def test_weighted_model_predicts_and_weights_its_log_likelihood():
    from scipy import stats

    from bayesml.predict import log_likelihood

    from .test_families import case_data

    d = case_data("gaussian_weights")
    fit = bm.brm(
        "y | weights(w) ~ x + (1 | g)",
        d,
        chains=2,
        iter=300,
        warmup=150,
        seed=5,
        progressbar=False,
    )
    mu = fit.posterior_epred()  # (draws, N), the varying intercepts included
    sigma = fit.draws("sigma")
    ll = log_likelihood(fit)
    got = next(iter(ll.data_vars.values())).values.reshape(mu.shape)
    expected = d["w"].to_numpy() * stats.norm.logpdf(d["y"].to_numpy(), mu, sigma[:, None])
    np.testing.assert_allclose(got, expected, rtol=1e-8)
    yrep = fit.posterior_predict()
    assert yrep.shape == mu.shape
    # weights leave the predictive distribution alone: residual sd of yrep about mu is sigma
    assert np.std(yrep - mu) == pytest.approx(np.sqrt(np.mean(sigma**2)), rel=0.05)


def test_draw_ids_and_linear_scale_fitted(seed_fit, sleep):
    fit = seed_fit("rats")
    all_draws = fit.posterior_linpred()
    some = fit.posterior_linpred(draw_ids=[0, 5, 3999])
    np.testing.assert_allclose(some, all_draws[[0, 5, 3999]])
    lin = fit.fitted(scale="linear")
    np.testing.assert_allclose(lin["Estimate"], all_draws.mean(0))
    resp = fit.fitted()
    np.testing.assert_allclose(resp["Estimate"], fit.posterior_epred().mean(0))
    with pytest.raises(ValueError, match=r"draw_ids must lie in 0\.\.3999 .*got 4000"):
        fit.posterior_epred(draw_ids=[1, 4000])
    with pytest.raises(ValueError, match="either ndraws or draw_ids"):
        fit.posterior_epred(ndraws=5, draw_ids=[1])
    with pytest.raises(ValueError, match="scale must be 'response' or 'linear'"):
        fit.fitted(scale="link")
