"""predictions, comparisons and slopes (marginaleffects' API) against hand computations on the
posterior draws."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pandas as pd
import pytest

import bayesml as bm
from bayesml.interpret import (
    avg_comparisons,
    avg_predictions,
    avg_slopes,
    comparisons,
    datagrid,
    posterior_draws,
    predictions,
    slopes,
)

SUMMARY = ["estimate", "conf.low", "conf.high"]


@pytest.fixture(scope="module")
def data(sleep):
    band = np.where(sleep["Days"] < 3, "early", np.where(sleep["Days"] < 7, "mid", "late"))
    return sleep.assign(phase=band)


@pytest.fixture(scope="module")
def fit(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.brm("Reaction ~ Days + phase + (1 | Subject)", data, chains=2, iter=400,
                      seed=5, progressbar=False)  # fmt: skip


def summary(draws: np.ndarray) -> np.ndarray:
    """marginaleffects' Bayesian summary by hand: median, 2.5% and 97.5% quantiles."""
    return np.column_stack([np.median(draws, 1), np.quantile(draws, 0.025, 1),
                            np.quantile(draws, 0.975, 1)])  # fmt: skip


def test_predictions_are_epred_summaries_row_by_row(fit, data):
    new = data.iloc[[0, 35, 179]]
    res = predictions(fit, new)
    epred = fit.posterior_epred(new).T
    np.testing.assert_allclose(posterior_draws(res), epred, rtol=1e-10)
    np.testing.assert_allclose(res[SUMMARY].to_numpy(), summary(epred), rtol=1e-10)
    assert res["rowid"].tolist() == [1, 2, 3]
    assert res["Subject"].tolist() == new["Subject"].tolist()
    assert list(res.columns[:4]) == ["rowid", "Reaction", "Days", "Subject"]


def test_average_predictions_by_group_average_draw_by_draw(fit, data):
    res = avg_predictions(fit, by="phase")
    epred = fit.posterior_epred().T
    assert res["phase"].tolist() == ["early", "mid", "late"]  # first appearance
    for i, phase in enumerate(res["phase"]):
        hand = epred[(data["phase"] == phase).to_numpy()].mean(axis=0)
        np.testing.assert_allclose(posterior_draws(res)[i], hand, rtol=1e-10)
        np.testing.assert_allclose(res.loc[i, SUMMARY].to_numpy(float), summary(hand[None])[0],
                                   rtol=1e-10)  # fmt: skip
    overall = avg_predictions(fit)
    assert len(overall) == 1
    np.testing.assert_allclose(posterior_draws(overall)[0], epred.mean(axis=0), rtol=1e-10)


def test_numeric_comparison_is_x_plus_1_minus_x(fit, data):
    new = data.iloc[[3, 50]]
    res = comparisons(fit, "Days", new)
    hand = (fit.posterior_epred(new.assign(Days=new["Days"] + 1))
            - fit.posterior_epred(new.assign(Days=new["Days"].astype(float)))).T  # fmt: skip
    np.testing.assert_allclose(posterior_draws(res), hand, rtol=1e-10, atol=1e-10)
    assert res["term"].tolist() == ["Days", "Days"] and res["contrast"].tolist() == ["+1", "+1"]
    # a Gaussian model with identity link: the contrast is the slope b_Days, draw by draw
    np.testing.assert_allclose(hand[0], fit.draws("b_Days"), rtol=1e-8)


def test_categorical_comparisons_are_each_level_against_the_reference(fit, data):
    res = avg_comparisons(fit, "phase")
    # R's levels of the text column: early, late, mid (early is the reference)
    assert res["contrast"].tolist() == ["late - early", "mid - early"]
    for i, level in enumerate(["late", "mid"]):
        hand = (fit.posterior_epred(data.assign(phase=level))
                - fit.posterior_epred(data.assign(phase="early"))).T.mean(axis=0)  # fmt: skip
        np.testing.assert_allclose(posterior_draws(res)[i], hand, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(hand, fit.draws(f"b_phase{level}"), rtol=1e-8, atol=1e-8)


def test_slopes_are_centred_differences_and_equal_b_in_a_linear_model(fit, data):
    res = avg_slopes(fit, "Days")
    assert res["contrast"].tolist() == ["dY/dX"]
    np.testing.assert_allclose(posterior_draws(res)[0], fit.draws("b_Days"), rtol=1e-6)
    rows = slopes(fit, "Days", data.iloc[[0, 1]])
    eps = 1e-4 * 9  # 1e-4 × the range of Days
    x = data["Days"].iloc[[0, 1]].astype(float)
    new = data.iloc[[0, 1]]
    hand = (fit.posterior_epred(new.assign(Days=x + eps / 2))
            - fit.posterior_epred(new.assign(Days=x - eps / 2))).T / eps  # fmt: skip
    np.testing.assert_allclose(posterior_draws(rows), hand, rtol=1e-10)
    with pytest.raises(ValueError, match="'phase' is categorical; use comparisons"):
        slopes(fit, "phase")


def test_hypothesis_on_estimates_is_computed_draw_by_draw(fit):
    by_phase = avg_predictions(fit, by="phase")
    res = avg_predictions(fit, by="phase", hypothesis="b3 - b1 = 0")
    draws = posterior_draws(by_phase)
    np.testing.assert_allclose(posterior_draws(res)[0], draws[2] - draws[0], rtol=1e-12)
    assert res["term"].tolist() == ["b3 - b1 = 0"]
    with pytest.raises(ValueError, match="refer to the estimates as b1 ... b3"):
        avg_predictions(fit, by="phase", hypothesis="b4 = 0")
    with pytest.raises(ValueError, match="only b1, b2, ..., numbers"):
        avg_predictions(fit, by="phase", hypothesis="b1 + __import__('os') = 0")


def test_datagrid_holds_other_columns_at_mean_or_mode(fit, data):
    grid = datagrid(fit, Days=[0, 9], phase=["early", "late"])
    assert len(grid) == 4 and list(grid.columns) == list(fit.data.columns)
    assert grid["Reaction"].unique().tolist() == [pytest.approx(data["Reaction"].mean())]
    assert grid["Subject"].unique().tolist() == [data["Subject"].mode().iloc[0]]
    res = predictions(fit, grid, re_formula="~0")
    hand = fit.posterior_epred(grid, re_formula="~0").T
    np.testing.assert_allclose(posterior_draws(res), hand, rtol=1e-10)
    with pytest.raises(KeyError, match="datagrid: no column Dayz"):
        datagrid(fit, Dayz=1)


def test_link_scale_and_result_without_draws(fit, data):
    res = predictions(fit, data.iloc[[0]], type="link")
    np.testing.assert_allclose(posterior_draws(res), fit.posterior_linpred(data.iloc[[0]]).T)
    with pytest.raises(KeyError, match="holds no draws"):
        posterior_draws(pd.DataFrame({"a": [1]}))
    with pytest.raises(ValueError, match="type must be 'response' or 'link'"):
        predictions(fit, type="prob")


def test_brms_hypothesis_reads_interaction_names(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.brm("Reaction ~ Days * phase", data, chains=2, iter=400, seed=2,
                     progressbar=False)  # fmt: skip
    res = fit.hypothesis(["Days:phasemid < 0", "Days:phasemid - Days:phaselate = 0"])
    b = fit.draws("b_Days:phasemid")
    assert res["Estimate"].iloc[0] == pytest.approx(b.mean(), rel=1e-12)
    diff = b - fit.draws("b_Days:phaselate")
    assert res["Estimate"].iloc[1] == pytest.approx(diff.mean(), rel=1e-12)


# -- against R's emmeans on a brms fit (tools/emmeans_reference.R) ------------------------------

EMMEANS = json.loads((Path(__file__).parent / "reference" / "emmeans_sleep.json").read_text())


@pytest.fixture(scope="module")
def emmeans_fit(sleep):
    data = sleep.assign(phase=np.where(sleep["Days"] < 5, "early", "late"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.brm(EMMEANS["formula"], data, seed=1, progressbar=False)  # brms's defaults


def _agrees_with_emmeans(result: pd.DataFrame, terms: list[str], chains: int) -> None:
    """Each estimate is the median of its draws, and within max(4 combined MCSE of the
    median, 0.1 sd) of emmeans' median."""
    draws = posterior_draws(result)
    rows = {r["term"]: r for r in EMMEANS["rows"]}
    for k, term in enumerate(terms):
        x = draws[k]
        assert result["estimate"].iloc[k] == pytest.approx(np.median(x), abs=1e-10)
        ours = float(azs.mcse(x.reshape(chains, -1), method="median"))
        ref = rows[term]
        tol = max(4 * np.hypot(ours, ref["mcse_median"]), 0.1 * ref["sd"])
        assert abs(np.median(x) - ref["emmeans_estimate"]) <= tol, (term, np.median(x), ref)


@pytest.mark.slow
def test_marginal_means_contrast_and_trend_agree_with_emmeans(emmeans_fit):
    fit = emmeans_fit
    grid = datagrid(fit, phase=["early", "late"], Days=4.5)
    means = predictions(fit, newdata=grid, re_formula="NA")
    _agrees_with_emmeans(means, ["phase early", "phase late"], fit.settings.chains)
    contrast = comparisons(fit, variables="phase", newdata=datagrid(fit, Days=4.5),
                           re_formula="NA")  # fmt: skip
    assert list(contrast["contrast"]) == ["late - early"]
    _agrees_with_emmeans(contrast, ["contrast late - early"], fit.settings.chains)
    trend = avg_slopes(fit, variables="Days", re_formula="NA")
    _agrees_with_emmeans(trend, ["1 overall"], fit.settings.chains)
