"""Zero-inflated, hurdle, continuous and survival families and the cens(), trunc() and rate()
terms against brms 2.18.

Data: tests/simulate_extra.py (seed fixed before any fit); brms's prior tables, pointwise
log-likelihoods and fits: tools/brms_extra_reference.R (tests/reference/brms_extra.json) and,
for truncated models, tools/brms_trunc_loglik.R (brms_extra_trunc.json: brms 2.18's log_lik
leaves out the truncation's normalising term, which later brms versions subtract).

* ``get_prior`` prints brms's exact text for every family with and without a formula on its
  extra parameter, and for the cens(), trunc() and rate() models.
* The pointwise log-likelihood at brms's own parameter draws equals brms's ``log_lik`` to a
  relative 1e-8, censored and truncated rows included.
* Posteriors of the fitted models agree with brms's by the project's rule.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesml as bm
from bayesml.columns import DataError
from bayesml.families import FAMILIES, ResponseError
from bayesml.fit import constant_dpars
from bayesml.formula import FormulaError
from bayesml.model import make_model
from bayesml.predict import log_likelihood

from .brms_compare import assert_summary_layout, posterior_problems
from .brms_draws import fit_at_brms_draws

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference/brms_extra.json").read_text())
TRUNC_PATH = HERE / "reference/brms_extra_trunc.json"
TRUNC = json.loads(TRUNC_PATH.read_text()) if TRUNC_PATH.exists() else {}
SPECS = REF


def _data(name: str) -> pd.DataFrame:
    df = pd.read_csv(HERE / "data/extra" / f"{name}.csv")
    if "g" in df:
        df["g"] = df["g"].astype(str)
    return df


def test_every_family_of_the_reference_is_known():
    missing = {v["family"] for v in REF.values()} - {f for f in FAMILIES} - {"Gamma"}
    assert not missing
    assert len(REF) == 56


@pytest.mark.parametrize("name", [k for k, v in SPECS.items() if "get_prior" in v])
def test_get_prior_text_equals_brms(name):
    ref = SPECS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = bm.get_prior(ref["formula"], _data(ref["data"]), ref["family"])
    assert table.lines() == ref["get_prior"]


def _pointwise(ref: dict) -> tuple[np.ndarray, np.ndarray]:
    model = make_model(ref["formula"], _data(ref["data"]), ref["family"])
    draws = ref["draws"] if "draws" in ref else ref["pointwise"]["draws"]
    ll = log_likelihood(fit_at_brms_draws(model, draws))
    ours = next(iter(ll.data_vars.values())).values[0]
    expected = ref["log_lik"] if "log_lik" in ref else ref["pointwise"]["log_lik"]
    return ours, np.array(expected, dtype=float)


UNTRUNCATED = [k for k, v in SPECS.items() if "pointwise" in v and "trunc(" not in v["formula"]]


@pytest.mark.parametrize("name", UNTRUNCATED)
def test_pointwise_log_lik_equals_brms_at_brms_draws(name):
    ours, expected = _pointwise(SPECS[name])
    assert ours.shape == expected.shape
    np.testing.assert_allclose(ours, expected, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("name", list(TRUNC))
def test_truncated_log_lik_equals_later_brms(name):
    ours, expected = _pointwise(TRUNC[name])
    np.testing.assert_allclose(ours, expected, rtol=1e-8, atol=1e-12)
    # brms 2.18 itself leaves the normalising term out: ours differs from it by that term
    assert not np.allclose(ours, np.array(TRUNC[name]["log_lik_218"]), rtol=1e-6)


def test_censored_rows_take_brms_cdf_terms():
    """Right, left and interval rows by hand with scipy (gaussian)."""
    df = pd.DataFrame(
        {"y": [0.5, 1.0, -0.3, 0.2], "x": [0.0, 1.0, 2.0, 3.0],
         "c": ["none", "right", "left", "interval"], "y2": [0, 0, 0, 1.7]}
    )  # fmt: skip
    model = make_model("y | cens(c, y2) ~ x", df, "gaussian")
    draws = [{"b_Intercept": 0.3, "b_x": 0.2, "sigma": 0.8, ".draw": 1}]
    ll = log_likelihood(fit_at_brms_draws(model, draws))
    ours = next(iter(ll.data_vars.values())).values[0, 0]
    mu = 0.3 + 0.2 * df["x"].to_numpy()
    d = stats.norm(mu, 0.8)
    expected = [
        d.logpdf(0.5)[0], d.logsf(1.0)[1], d.logcdf(-0.3)[2],
        np.log(d.cdf(1.7)[3] - d.cdf(0.2)[3]),
    ]  # fmt: skip
    np.testing.assert_allclose(ours, expected, rtol=1e-9)


def test_censoring_a_family_without_a_cdf_is_refused_by_name():
    """brms allows cens() for von_mises, but PyMC has no von Mises CDF: a clear error before
    sampling, not a failure inside the sampler."""
    df = pd.DataFrame({"y": [0.1, -0.4, 1.2], "x": [0.0, 1.0, 2.0], "c": [0, 1, 0]})
    with pytest.raises(ResponseError, match=r"cens\(\) cannot be used with family 'von_mises'"):
        make_model("y | cens(c) ~ x", df, "von_mises")


def test_truncated_counts_keep_the_lower_bound():
    """trunc(lb = 1) for counts: P(y) / P(y >= 1), as brms's Stan model (F(lb - 1))."""
    df = pd.DataFrame({"y": [1, 2, 5], "x": [0.0, 1.0, 2.0]})
    model = make_model("y | trunc(lb = 1, ub = 6) ~ x", df, "poisson")
    draws = [{"b_Intercept": 0.2, "b_x": 0.3, ".draw": 1}]
    ll = log_likelihood(fit_at_brms_draws(model, draws))
    ours = next(iter(ll.data_vars.values())).values[0, 0]
    d = stats.poisson(np.exp(0.2 + 0.3 * df["x"].to_numpy()))
    np.testing.assert_allclose(ours, d.logpmf(df["y"]) - np.log(d.cdf(6) - d.cdf(0)), rtol=1e-10)


def test_rate_multiplies_mean_and_negbinomial_shape():
    df = pd.DataFrame({"y": [0, 3, 7], "x": [0.0, 1.0, 2.0], "t": [0.5, 2.0, 4.0]})
    model = make_model("y | rate(t) ~ x", df, "negbinomial")
    draws = [{"b_Intercept": 0.1, "b_x": 0.4, "shape": 1.7, ".draw": 1}]
    ll = log_likelihood(fit_at_brms_draws(model, draws))
    ours = next(iter(ll.data_vars.values())).values[0, 0]
    mu = np.exp(0.1 + 0.4 * df["x"].to_numpy()) * df["t"].to_numpy()
    size = 1.7 * df["t"].to_numpy()  # brms multiplies the shape by the rate too
    np.testing.assert_allclose(ours, stats.nbinom.logpmf(df["y"], size, size / (size + mu)))


def test_fixed_parameter_in_bf_is_not_estimated():
    df = _data("real")
    model = make_model("bf(y ~ x, quantile = 0.9)", df, "asym_laplace")
    assert [v.name for v in model.model.free_RVs] == ["b", "Intercept", "sigma"]
    with pytest.raises(FormulaError, match=r"quantile = 1.5 lies outside .*\(between 0 and 1"):
        bm.get_prior("bf(y ~ x, quantile = 1.5)", df, "asym_laplace")


# -- densities against scipy ---------------------------------------------------------------------


def _logp(family: str, draws: dict, df: pd.DataFrame) -> np.ndarray:
    model = make_model("y ~ 1", df, family)
    ll = log_likelihood(fit_at_brms_draws(model, [{**draws, ".draw": 1}]))
    return next(iter(ll.data_vars.values())).values[0, 0]


def test_frechet_weibull_and_asym_laplace_densities_equal_scipy():
    y = np.array([0.3, 1.1, 2.5, 7.0])
    df = pd.DataFrame({"y": y})
    mu, nu = 2.0, 3.5
    scale = mu / special.gamma(1 - 1 / nu)
    np.testing.assert_allclose(
        _logp("frechet", {"b_Intercept": np.log(mu), "nu": nu}, df),
        stats.invweibull(nu, scale=scale).logpdf(y), rtol=1e-10,
    )  # fmt: skip
    k = 1.4
    np.testing.assert_allclose(
        _logp("weibull", {"b_Intercept": np.log(mu), "shape": k}, df),
        stats.weibull_min(k, scale=mu / special.gamma(1 + 1 / k)).logpdf(y), rtol=1e-10,
    )  # fmt: skip
    q, s = 0.9, 0.7
    z = (y - 1.0) / s
    expected = np.log(q * (1 - q) / s) - z * (q - (y < 1.0))
    np.testing.assert_allclose(
        _logp("asym_laplace", {"b_Intercept": 1.0, "sigma": s, "quantile": q}, df),
        expected, rtol=1e-10,
    )  # fmt: skip


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formula", "family", "data", "error", "message"),
    [
        (
            "y | cens(c) ~ x",
            "weibull",
            {"c": ["right", "sideways", "none"]},
            DataError,
            r"cens\(c\) term has 1 unknown censoring code\(s\) \(row 2, e.g. 'sideways'\)",
        ),
        (
            "y | cens(c, y2) ~ x",
            "gaussian",
            {"c": [0, 2, 2], "y2": [0, 5.0, 0.5]},
            DataError,
            r"y2 must lie above the response 'y' .* \(row 3, e.g. y = 3, y2 = 0.5\)",
        ),
        (
            "y | trunc(lb = 2) ~ x",
            "gaussian",
            {},
            DataError,
            r"trunc\(\): 2 value\(s\) of the response 'y' lie outside the truncation bounds "
            r"\(rows 1, 2, e.g. 1 outside \[2, Inf\]\)",
        ),
        (
            "y | rate(t) ~ x",
            "poisson",
            {"t": [1.0, -2.0, 1.0]},
            DataError,
            r"rate\(t\) term has 1 rate\(s\) that are not positive \(row 2, e.g. -2\)",
        ),
        (
            "y | cens(c) ~ x",
            "bernoulli",
            {"c": [0, 0, 0]},
            ResponseError,
            r"Addition term cens\(\) cannot be used with family 'bernoulli'",
        ),
        (
            "y | rate(t) ~ x",
            "gaussian",
            {"t": [1.0, 1.0, 1.0]},
            ResponseError,
            r"Addition term rate\(\) cannot be used with family 'gaussian'",
        ),
    ],
)
def test_bad_response_terms_are_named(formula, family, data, error, message):
    df = pd.DataFrame({"y": [1, 0, 3], "x": [0.1, 0.2, 0.3], **data})
    with pytest.raises(error, match=message):
        bm.get_prior(formula, df, family)


# -- fits against brms -----------------------------------------------------------------------------

FITTED = [k for k, v in SPECS.items() if v.get("summary")]


@pytest.fixture(scope="session")
def extra_fit():
    fits = {}

    def get(name):
        if name not in fits:
            ref = SPECS[name]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fits[name] = bm.brm(
                    ref["formula"], _data(ref["data"]), family=ref["family"], seed=1,
                    progressbar=False,
                )  # fmt: skip
        return fits[name]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("name", FITTED)
def test_posterior_matches_brms(name, extra_fit):
    fit = extra_fit(name)
    # brms keeps constant parameters (bf()'s quantile = 0.9, disc = 1) as constant draws;
    # bayesml keeps them in the formula and the family
    fixed = constant_dpars(fit.design, fit.family)
    rows = [r for r in SPECS[name]["summary"] if r["variable"] not in fixed]
    assert all(r["sd"] == 0 and r["mean"] == fixed[r["variable"]]
               for r in SPECS[name]["summary"] if r["variable"] in fixed)  # fmt: skip
    problems = posterior_problems(fit, rows)
    assert not problems, "\n".join(problems)
    rhat = fit.diagnostics().loc[[r["variable"] for r in rows], "Rhat"]
    assert rhat.max() <= 1.01, rhat.sort_values().tail(3)


@pytest.mark.slow
@pytest.mark.parametrize("name", FITTED)
def test_summary_layout_matches_brms(name, extra_fit):
    assert_summary_layout(extra_fit(name), SPECS[name]["summary_text"])


@pytest.mark.slow
def test_zero_inflated_epred_is_the_mixture_mean(extra_fit):
    fit = extra_fit("zip_zi")
    mu = bm.posterior_linpred(fit, transform=True, ndraws=200, seed=3)
    zi = bm.posterior_linpred(fit, transform=True, dpar="zi", ndraws=200, seed=3)
    epred = bm.posterior_epred(fit, ndraws=200, seed=3)
    np.testing.assert_allclose(epred, (1 - zi) * mu, rtol=1e-10)
    # draws of the response: share of zeros = zi + (1 - zi) exp(-mu), within MC error
    y = bm.posterior_predict(fit, ndraws=200, seed=3)
    p0 = zi + (1 - zi) * np.exp(-mu)
    se = np.sqrt((p0 * (1 - p0)).sum()) / p0.size
    assert abs((y == 0).mean() - p0.mean()) < 4 * se


@pytest.mark.slow
def test_hurdle_epred_and_draws(extra_fit):
    fit = extra_fit("hurdle_nb_fit")
    ids = np.arange(0, fit.settings.total_draws, 20)
    mu = bm.posterior_linpred(fit, transform=True, draw_ids=ids)
    hu, shape = fit.draws("hu")[ids][:, None], fit.draws("shape")[ids][:, None]
    p0 = (shape / (mu + shape)) ** shape
    epred = bm.posterior_epred(fit, draw_ids=ids)
    np.testing.assert_allclose(epred, (1 - hu) * mu / (1 - p0), rtol=1e-10)
    y = bm.posterior_predict(fit, draw_ids=ids, seed=4)
    share = np.broadcast_to(hu, y.shape)
    se = np.sqrt((share * (1 - share)).sum()) / share.size
    assert abs((y == 0).mean() - share.mean()) < 4 * se


@pytest.mark.slow
def test_truncated_predictions_stay_inside_the_bounds(extra_fit):
    fit = extra_fit("gaussian_trunc")
    ids = np.arange(0, fit.settings.total_draws, 40)
    y = bm.posterior_predict(fit, draw_ids=ids, seed=5)
    assert y.min() >= 0
    # and they are the truncated normal's: mean per row within MC error of its mean
    mu = bm.posterior_linpred(fit, draw_ids=ids)
    sigma = fit.draws("sigma")[ids][:, None]
    mean = stats.truncnorm.mean((0 - mu) / sigma, np.inf, loc=mu, scale=sigma)
    sd = stats.truncnorm.std((0 - mu) / sigma, np.inf, loc=mu, scale=sigma)
    z = (y - mean).sum() / np.sqrt((sd**2).sum())
    assert abs(z) < 4


@pytest.mark.slow
def test_categorical_predictions_are_categories_with_epred_frequencies(extra_fit):
    fit = extra_fit("categorical_fit")
    ids = np.arange(0, fit.settings.total_draws, 10)
    p = bm.posterior_epred(fit, draw_ids=ids)
    assert p.shape == (len(ids), fit.design.nobs, 3)
    np.testing.assert_allclose(p.sum(axis=2), 1.0, rtol=1e-12)
    # by hand: softmax(0, eta_mu2, eta_mu3)
    eta = np.stack(
        [np.zeros((len(ids), fit.design.nobs))]
        + [bm.posterior_linpred(fit, dpar=d, draw_ids=ids) for d in ("mu2", "mu3")],
        axis=2,
    )
    np.testing.assert_allclose(p, special.softmax(eta, axis=2), rtol=1e-10)
    y = bm.posterior_predict(fit, draw_ids=ids, seed=6)
    assert set(np.unique(y)) <= {1, 2, 3}
    for k in (1, 2, 3):
        share, expected = (y == k).mean(), p[:, :, k - 1].mean()
        assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / y.size)


@pytest.mark.slow
def test_conditional_effects_categorical_gives_each_category(extra_fit):
    fit = extra_fit("categorical_fit")
    with pytest.raises(ValueError, match=r"categorical=True"):
        bm.conditional_effects(fit, "x", plot=False)
    frame = bm.conditional_effects(fit, "x", categorical=True, resolution=20, plot=False)["x"]
    assert len(frame) == 60 and list(frame["cats__"].unique()) == ["1", "2", "3"]
    # the medians of the three probabilities at one x sum to about 1 (each in [0, 1])
    total = frame.groupby("effect1__")["estimate__"].sum()
    assert total.between(0.9, 1.1).all()
    assert (frame["lower__"] <= frame["estimate__"]).all()
    with pytest.raises(ValueError, match=r"needs an ordinal or categorical model"):
        bm.conditional_effects(extra_fit("zip_zi"), "x", categorical=True, plot=False)


@pytest.mark.slow
def test_ppc_bars_counts_values(extra_fit):
    fit = extra_fit("zip_zi")
    table = bm.ppc_bars_data(fit, seed=7, ndraws=400)
    y = fit.design.y.astype(int)
    observed = dict(zip(table["value"], table["observed"], strict=True))
    for v, c in zip(*np.unique(y, return_counts=True), strict=True):
        assert observed[v] == c
    assert table["observed"].sum() == len(y)
    # the replicates' counts of zeros centre on the data's (the model fits the zeros)
    zero = table.set_index("value").loc[0]
    assert zero["lower"] <= zero["observed"] <= zero["upper"]
    with pytest.raises(ValueError, match=r"is for discrete responses; family 'weibull'"):
        bm.ppc_bars_data(extra_fit("weibull_cens"))


def test_prior_draws_of_sequential_thresholds_are_not_sorted():
    """sratio/cratio/acat thresholds are a plain vector with independent priors (brms): their
    prior draws come out in every order (a sorted draw would be cumulative's ordered prior).
    Simulation-based calibration found the earlier sorting (docs/sbc.md, sratio_cs)."""
    from bayesml.sampling import sample_prior_only

    df = _data("ordinal")
    prior = bm.prior("normal(0, 1.5)", class_="Intercept") + bm.prior("normal(0, 0.5)", "b")
    model = make_model("y ~ cs(x)", df, "sratio", prior=prior)
    thr = sample_prior_only(model, 1, 4000, 2000, 1, seed=3)["posterior"]["Intercept"].values[0]
    increasing = np.all(np.diff(thr, axis=1) > 0, axis=1).mean()
    assert abs(increasing - 1 / 6) < 4 * np.sqrt(1 / 6 * 5 / 6 / len(thr))
    assert abs(thr.std() - 1.5) < 0.1
