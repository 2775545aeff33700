"""The Fit object on the seed model: names, summary layout, fixef/ranef/coef/varcorr."""

from __future__ import annotations

import re

import numpy as np
import pytest

from bayesml import make_model

from .conftest import reference

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fit(seed_fit):
    return seed_fit("sleep_full")


def test_posterior_has_brms_names(fit):
    post = fit.posterior
    assert "r_Subject" in post
    assert list(post.data_vars)[:7] == [
        "b_Intercept",
        "b_Days",
        "sd_Subject__Intercept",
        "sd_Subject__Days",
        "cor_Subject__Intercept__Days",
        "sigma",
        "Intercept",
    ]
    r = post["r_Subject"]
    assert r.dims == ("chain", "draw", "Subject", "Subject__coef")
    assert list(r.coords["Subject__coef"].values) == ["Intercept", "Days"]
    assert r.sizes["Subject"] == 18 and r.sizes["chain"] == 4 and r.sizes["draw"] == 1000


def test_b_intercept_is_recovered_from_the_centred_intercept(fit):
    b0 = fit.draws("b_Intercept")
    expected = fit.draws("Intercept") - 4.5 * fit.draws("b_Days")
    assert np.allclose(b0, expected)


def _skeleton(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"-?\d+(\.\d+)?", "#", line)).strip()


def test_summary_layout_matches_brms(fit):
    ref = reference("sleep_full")["summary_text"]
    ours = str(fit.summary()).splitlines()
    assert len(ours) == len(ref)
    assert ours[:3] == ref[:3]
    assert ours[3] == "   Data: sleepstudy (Number of observations: 180) "
    assert ours[4:6] == ref[4:6]
    for a, b in zip(ours[6:], ref[6:], strict=True):
        assert _skeleton(a) == _skeleton(b)
        if a and a[0].isalpha() and ("(" in a or a.split()[0] in ("Intercept", "Days", "sigma")):
            # same row label, same column positions
            assert len(a) == len(b) and a.split()[0] == b.split()[0]
    # column headers are identical, character for character
    assert [ln for ln in ours if "Estimate" in ln] == [ln for ln in ref if "Estimate" in ln]


def test_summary_numbers_are_the_posterior_summaries(fit):
    s = fit.summary()
    x = fit.draws("b_Days")
    row = s.fixed.loc["Days"]
    assert row["Estimate"] == pytest.approx(x.mean())
    assert row["Est.Error"] == pytest.approx(x.std(ddof=1))
    assert row["l-95% CI"] == pytest.approx(np.quantile(x, 0.025))
    assert row["u-95% CI"] == pytest.approx(np.quantile(x, 0.975))
    line = next(ln for ln in str(s).splitlines() if ln.startswith("Days"))
    assert line.split()[1:5] == [f"{v:.2f}" for v in row.iloc[:4]]


def test_prob_changes_the_interval(fit):
    s = fit.summary(prob=0.9)
    assert "l-90% CI" in s.fixed.columns
    x = fit.draws("sigma")
    assert s.family_specific.loc["sigma", "u-90% CI"] == pytest.approx(np.quantile(x, 0.95))
    assert "l-90% CI u-90% CI" in str(s)
    with pytest.raises(ValueError, match="prob must lie in"):
        fit.summary(prob=1.5)


def test_fixef(fit):
    fe = fit.fixef()
    assert list(fe.index) == ["Intercept", "Days"]
    assert list(fe.columns) == ["Estimate", "Est.Error", "Q2.5", "Q97.5"]
    assert fe.loc["Days", "Estimate"] == pytest.approx(fit.draws("b_Days").mean())
    draws = fit.fixef(summary=False)
    assert draws.shape == (4000, 2)


def test_ranef_and_coef(fit):
    re_ = fit.ranef()["Subject"]
    assert re_.shape == (18, 8)
    assert list(re_.columns.get_level_values(0).unique()) == ["Intercept", "Days"]
    r = fit.posterior["r_Subject"].sel(Subject="308", Subject__coef="Days")
    assert re_.loc["308", ("Days", "Estimate")] == pytest.approx(float(r.mean()))
    co = fit.coef()["Subject"]
    expected = fit.draws("b_Days") + r.values.ravel()
    assert co.loc["308", ("Days", "Estimate")] == pytest.approx(expected.mean())
    # partial pooling: subject slopes vary around the population slope
    slopes = co.xs("Estimate", axis=1, level=1)["Days"]
    assert slopes.mean() == pytest.approx(fit.fixef().loc["Days", "Estimate"], abs=1.0)
    assert slopes.std() > 2


def test_varcorr(fit):
    vc = fit.varcorr()
    assert set(vc) == {"Subject", "residual__"}
    sd = vc["Subject"].sd
    assert list(sd.index) == ["Intercept", "Days"]
    assert sd.loc["Days", "Estimate"] == pytest.approx(fit.draws("sd_Subject__Days").mean())
    cor = vc["Subject"].cor
    assert cor.loc["Intercept", ("Days", "Estimate")] == pytest.approx(
        fit.draws("cor_Subject__Intercept__Days").mean()
    )
    assert cor.loc["Days", ("Days", "Estimate")] == pytest.approx(1.0)
    cov = vc["Subject"].cov
    expected = (fit.draws("sd_Subject__Days") ** 2).mean()
    assert cov.loc["Days", ("Days", "Estimate")] == pytest.approx(expected)
    assert vc["residual__"].sd.loc["sigma", "Estimate"] == pytest.approx(fit.draws("sigma").mean())


def test_model_code_names_the_parameterisation(fit, sleep):
    code = fit.model_code()
    assert "varying effects: marginal" in code
    assert "Y ~ multi_normal(eta, diag(sigma^2) + Z * blockdiag(Sigma) * Z');" in code
    assert "z_1" not in code
    noncentred = make_model(
        "Reaction ~ Days + (Days | Subject)", sleep, group_effects="noncentred"
    ).code()
    assert "C_1 = cholesky_decompose(A_1 * Sigma_1 * A_1');" in noncentred
    assert "r_1 = ((I - E_1) * C_1 * z_1)';  // [18, 2]; inverse(A_1) = I - E_1" in noncentred
    assert "E_1[Intercept, Days] = mean(Z_1[, Days]) = 4.5, other entries 0" in noncentred
    assert "sd_1_signed[Days] ~ student_t(3, 0, 59.3);" in noncentred
    uncentred = make_model(
        "Reaction ~ Days + (0 + Days + I(Days^2) | Subject)", sleep, group_effects="noncentred"
    ).code()
    assert "r_1 = (diag(sd_1) * L_1 * z_1)';" in uncentred
    intercepts = make_model(
        "Reaction ~ Days + (1 | Subject)", sleep, group_effects="noncentred"
    ).code()
    assert "eta = Intercept + Xc * b + r_1[J_1, {1}];" in intercepts and "Z_1" not in intercepts
    assert "to_vector(z_1) ~ std_normal();" in noncentred
    assert "Intercept ~ student_t(3, 288.7, 59.3);" in code
    assert "L_1 ~ lkj_corr_cholesky(1);" in code
    assert "sd_1_signed[Days] ~ student_t(3, 0, 59.3);" in code
    assert "means_X = [4.5]" in code
    assert "b_Intercept = Intercept - dot(means_X, b);" in code


def test_coef_columns_follow_brms_order(seed_fit):
    # brms: the group's own coefficients first, then the population-level ones it lacks
    # (brms 2.18 gives "Days" "Intercept" for (0 + Days | Subject))
    fit = seed_fit("sleep_vs")
    co = fit.coef(summary=False)["Subject"]
    assert list(co.coords["coef"].values) == ["Days", "Intercept"]
    r = fit.ranef(summary=False)["Subject"]
    np.testing.assert_allclose(
        co.sel(coef="Days").values, fit.draws("b_Days")[:, None] + r.sel(coef="Days").values
    )
    np.testing.assert_allclose(
        co.sel(coef="Intercept").values,
        np.broadcast_to(fit.draws("b_Intercept")[:, None], co.sel(coef="Intercept").shape),
    )


def test_arviz_plots_take_brms_names(fit):
    import arviz as az
    import matplotlib

    matplotlib.use("Agg")
    names = ["b_Days", "sd_Subject__Days", "cor_Subject__Intercept__Days", "sigma"]
    pc = az.plot_trace_dist(fit.idata, var_names=names)
    assert sorted(pc.viz["trace"].data_vars) == sorted(names)
    assert sorted(pc.viz["dist"].data_vars) == sorted(names)
    forest = az.plot_forest(fit.idata, var_names=["r_Subject"])
    # one interval per chain, subject and coefficient
    assert forest.viz["point_estimate"]["r_Subject"].shape == (4, 18, 2)


def test_observed_data_holds_the_response(fit, sleep):
    # the marginal model's likelihood is a potential; the response is still in observed_data
    obs = fit.idata["observed_data"].to_dataset()
    np.testing.assert_allclose(obs["Reaction"].values, sleep["Reaction"].to_numpy())
