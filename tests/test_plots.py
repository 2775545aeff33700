"""Plots drawn by ArviZ's plotting library: each test checks the numbers the figure shows."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

import bayesml as bm
from bayesml.fit import UnknownGroupError

matplotlib.use("Agg")

SUMMARY_VARS = [
    "b_Intercept", "b_Days", "sd_Subject__Intercept", "sd_Subject__Days",
    "cor_Subject__Intercept__Days", "sigma",
]  # fmt: skip


def offsets(artist) -> np.ndarray:
    return np.asarray(artist.get_offsets(), dtype=float)


def test_predictive_tree_holds_the_data_and_the_replicates(seed_fit):
    fit = seed_fit("sleep_full")
    tree = bm.plots.predictive_tree(fit, ndraws=10, seed=1)
    np.testing.assert_array_equal(
        tree["observed_data"]["Reaction"].values, fit.data["Reaction"].to_numpy()
    )
    yrep = tree["posterior_predictive"]["Reaction"]
    assert yrep.dims == ("chain", "draw", "obs") and yrep.shape == (1, 10, 180)
    np.testing.assert_array_equal(yrep.values[0], fit.posterior_predict(ndraws=10, seed=1))


def test_pp_check_dens_overlay_draws_ten_replicates_over_the_data_density(seed_fit):
    fit = seed_fit("sleep_full")
    pc = fit.pp_check(seed=1)
    assert pc.viz["predictive_dist"]["Reaction"].sizes == {"sample": 10}
    line = pc.viz["observed_dist"]["Reaction"].item()
    x, dens = line.get_xdata(), line.get_ydata()
    y = fit.data["Reaction"]
    # the data's density: over the data's range, and integrating to one
    assert x.min() == pytest.approx(y.min(), rel=0.01)
    assert x.max() == pytest.approx(y.max(), rel=0.01)
    assert np.trapezoid(dens, x) == pytest.approx(1, abs=0.05)


def test_pp_check_summaries_show_the_data(seed_fit):
    fit = seed_fit("sleep_full")
    y = fit.data["Reaction"].to_numpy()
    stat = bm.pp_check(fit, "stat", stat="mean", seed=1)
    assert offsets(stat.viz["observed_tstat"]["Reaction"].item())[0, 0] == pytest.approx(y.mean())
    intervals = bm.pp_check(fit, "intervals", seed=1)
    points = offsets(intervals.viz["observed_markers"]["Reaction"].item())
    np.testing.assert_allclose(points[:, 1], y)
    assert set(bm.pp_check(fit, "ecdf_overlay", ndraws=5, seed=1).viz["predictive_dist"]
               ["Reaction"].sizes.values()) == {5}  # fmt: skip
    with pytest.raises(ValueError, match="Unknown pp_check type 'density'"):
        bm.pp_check(fit, "density")
    with pytest.raises(ValueError, match="discrete responses; family 'gaussian'"):
        bm.pp_check(fit, "bars")


def test_pp_check_bars_shows_ppc_bars_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=150)
    d = pd.DataFrame({"x": x, "y": rng.poisson(np.exp(0.5 + 0.4 * x))})
    fit = bm.brm("y ~ x", d, family="poisson", chains=2, iter=400, seed=1, progressbar=False)
    table = bm.ppc_bars_data(fit, seed=1)
    pc = fit.pp_check("bars", seed=1)
    observed = offsets(pc.viz["observed_markers"]["y"].item())
    counts = dict(zip(table["value"], table["observed"], strict=True))
    # the data's count of every value it takes
    shown = {int(v): int(c) for v, c in observed if c > 0}
    assert shown == {int(v): int(c) for v, c in counts.items() if c > 0}


def test_trace_and_rank_plots_show_every_parameter_by_chain(seed_fit):
    fit = seed_fit("sleep_full")
    assert bm.plots.summary_variables(fit) == SUMMARY_VARS
    pc = fit.plot()
    assert list(pc.viz["trace"].data_vars) == SUMMARY_VARS
    line = pc.viz["trace"]["b_Days"].sel(chain=2).item()
    np.testing.assert_array_equal(line.get_ydata(), fit.posterior["b_Days"].sel(chain=2).values)
    ranks = fit.plot(["b_Days"], kind="rank")
    assert ranks.viz["ecdf_lines"]["b_Days"].sizes == {"chain": 4}
    with pytest.raises(ValueError, match="kind must be 'trace' or 'rank'"):
        fit.plot(kind="pairs")


def test_mcmc_plot_intervals_are_bayesplots_defaults(seed_fit):
    fit = seed_fit("sleep_full")
    pc = fit.mcmc_plot()
    draws = fit.draws("b_Days")
    outer = pc.viz["twig"]["b_Days"].item().get_xdata()
    inner = pc.viz["trunk"]["b_Days"].item().get_xdata()
    np.testing.assert_allclose(outer, np.quantile(draws, [0.05, 0.95]), rtol=1e-12)
    np.testing.assert_allclose(inner, np.quantile(draws, [0.25, 0.75]), rtol=1e-12)
    dens = bm.mcmc_plot(fit, ["b_Days", "sigma"], type="dens")
    assert sorted(dens.viz["dist"].data_vars) == ["b_Days", "sigma"]
    with pytest.raises(ValueError, match="no parameter 'b_days'"):
        bm.mcmc_plot(fit, "b_days")


def test_plot_ranef_is_a_forest_of_the_groups_effects(seed_fit):
    fit = seed_fit("sleep_full")
    pc = bm.plot_ranef(fit, "Subject")
    estimates = pc.viz["point_estimate"]["r_Subject"]
    assert estimates.shape == (18, 2)
    r = fit.posterior["r_Subject"].sel(Subject="308", Subject__coef="Days").values
    point = offsets(estimates.sel(Subject="308", Subject__coef="Days").item())
    assert point[0, 0] == pytest.approx(np.median(r))
    with pytest.raises(UnknownGroupError, match="'Subjet'"):
        bm.plot_ranef(fit, "Subjet")


def test_prior_and_posterior_side_by_side(seed_fit):
    fit = seed_fit("sleep_full")
    tree = bm.plots.prior_posterior_tree(fit, seed=1)
    # b has a flat prior and b_Intercept's prior is on the centred intercept: no draws
    names = ["sd_Subject__Intercept", "sd_Subject__Days", "cor_Subject__Intercept__Days",
             "sigma"]  # fmt: skip
    assert list(tree["prior"].data_vars) == names
    prior = tree["prior"]
    # one class prior for both sds (brms's prior_sd_Subject); LKJ(1) of a 2 x 2 matrix: uniform
    np.testing.assert_array_equal(prior["sd_Subject__Intercept"], prior["sd_Subject__Days"])
    cor = prior["cor_Subject__Intercept__Days"].values.ravel()
    assert abs(cor.mean()) < 0.05 and cor.var() == pytest.approx(1 / 3, rel=0.05)
    np.testing.assert_array_equal(tree["posterior"]["sigma"], fit.posterior["sigma"])
    pc = fit.plot_prior_posterior(seed=1)
    assert list(pc.viz["dist"]["sigma"].coords["group"].values) == ["prior", "posterior"]
    with pytest.raises(ValueError, match="No prior draws for b_Days"):
        bm.plot_prior_posterior(fit, ["b_Days"])


def test_plot_priors_draws_one_panel_per_prior():
    p = bm.prior("normal(0, 1)", class_="b", coef="Days") + bm.prior("exponential(1)", "sigma")
    model = bm.make_model(
        "Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"), prior=p
    )
    pc = bm.plot_priors(model, draws=500, seed=1)
    assert list(pc.viz["dist"].data_vars) == [
        "prior_b_Days", "prior_Intercept", "prior_sd_Subject", "prior_sigma", "prior_cor_Subject",
    ]  # fmt: skip
    assert pc.viz["figure"].item()._suptitle.get_text() == "Prior densities"


def test_plot_effects_draws_lines_points_and_surfaces_from_the_tables():
    x = np.linspace(0, 1, 5)
    line = pd.DataFrame({"effect1__": x, "estimate__": 2 * x, "lower__": 2 * x - 1,
                         "upper__": 2 * x + 1})  # fmt: skip
    factor = pd.DataFrame({"effect1__": ["lo", "hi"], "estimate__": [1.0, 3.0],
                           "lower__": [0.0, 2.0], "upper__": [2.0, 4.0]})  # fmt: skip
    values = np.add.outer(x, 10 * x)  # values[i, j] at x_i, z_j
    pc = bm.plots.plot_effects(
        {"x": line, "f": factor}, "y", surfaces={"s(x, z)": (x, x, values, "x", "z")}
    )
    est = pc.viz["estimate"]["x"].item()
    np.testing.assert_array_equal(est.get_ydata(), 2 * x)
    band = pc.viz["ci_band"]["x"].item().get_paths()[0].vertices
    assert band[:, 1].min() == -1 and band[:, 1].max() == 3
    points = offsets(pc.viz["estimate_points"]["f"].item())
    np.testing.assert_array_equal(points, [[0, 1], [1, 3]])
    ax = pc.viz["plot"]["f"].item()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["lo", "hi"]
    surface = pc.viz["surface"]["s(x, z)"].item()
    # the contour's colour range spans the surface: 0 at (0, 0), 11 at (1, 1)
    assert surface.levels.min() <= 0 and surface.levels.max() >= 11
    assert surface.axes.get_xlabel() == "x" and surface.axes.get_ylabel() == "z"
