"""The family table: brms's prior tables and summary header per family, the likelihoods'
parameterisations (checked against scipy at a fixed point), addition terms and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesml as bm
from bayesml import ResponseError, family, get_family, get_prior, make_design, make_model

from .conftest import seed_data

HERE = Path(__file__).parent
CASES = {c["name"]: c for c in json.loads((HERE / "data/families/cases.json").read_text())}
BRMS = json.loads((HERE / "reference/families.json").read_text())


def case_data(name: str) -> pd.DataFrame:
    df = pd.read_csv(HERE / f"data/families/{CASES[name]['data']}.csv")
    df["g"] = df["g"].astype(str)
    return df


def case_family(name: str):
    c = CASES[name]
    return family(c["family"], c["link"])


@pytest.mark.parametrize("name", list(CASES))
def test_get_prior_text_equals_brms(name):
    table = get_prior(CASES[name]["formula"], case_data(name), case_family(name))
    assert table.lines() == BRMS[name]["get_prior"]


@pytest.mark.parametrize("name", list(CASES))
def test_family_and_links_lines_equal_brms(name):
    fam = case_family(name)
    assert fam.name == BRMS[name]["family_line"]
    assert fam.links_line() == BRMS[name]["links_line"]


def test_family_lookup_accepts_names_aliases_and_objects():
    assert get_family("Gamma").name == "gamma"
    assert get_family("Beta").name == "beta"
    assert get_family("normal").name == "gaussian"
    probit = family("bernoulli", link="probit")
    assert get_family(probit).link_name == "probit"
    d = case_data("bernoulli_probit")
    table = get_prior("y ~ x + (1 | g)", d, probit)
    assert table.lines() == BRMS["bernoulli_probit"]["get_prior"]


# -- likelihoods: the model's log density at a point equals scipy's with brms's parameters


def _set(model, point: dict, name: str, value) -> None:
    rv = model[name]
    value = np.asarray(value, dtype=float)
    tr = model.rvs_to_transforms.get(rv)
    if tr is not None:
        value = tr.forward(value, *rv.owner.inputs).eval()
    point[model.rvs_to_values[rv].name] = value


def _point(m, values: dict) -> dict:
    """Initial point with chosen values for the named (untransformed) parameters. The
    population-level effects a model samples shifted by their varying effects' means
    (``b_shifted``) are set so that ``b`` and ``Intercept`` take the values given: they are
    the shifted values minus terms that do not depend on them."""
    model = m.model
    point = model.initial_point()
    free = {rv.name for rv in model.free_RVs}
    for name, value in values.items():
        if name in free:
            _set(model, point, name, value)
    shifted = [n for n in values if n not in free and f"{n}_shifted" in free]
    for name in shifted:
        _set(model, point, f"{name}_shifted", np.zeros(np.shape(values[name])))
    at_zero = model.compile_fn(
        model.replace_rvs_by_values([model[n] for n in shifted]),
        inputs=model.value_vars, on_unused_input="ignore",
    )(point) if shifted else []  # fmt: skip
    for name, offset in zip(shifted, at_zero, strict=True):
        _set(model, point, f"{name}_shifted", np.asarray(values[name], dtype=float) - offset)
    return point


def _obs_logp(m, values: dict) -> float:
    model = m.model
    # the likelihood: observed terms and potentials other than priors of computed parameters
    potentials = [p.name for p in model.potentials if not p.name.startswith("population_prior")]
    obs = [v.name for v in model.observed_RVs] + potentials
    logps = model.point_logps(_point(m, values), round_vals=12)
    return sum(logps[k] for k in obs)


def _eta(d: pd.DataFrame, b0: float, b1: float, sd_z: np.ndarray) -> np.ndarray:
    # r = sd * z per level of g; Xc is centred, so b_Intercept = Intercept - mean(x) * b1
    g = d["g"].astype(str)
    levels = sorted(g.unique(), key=str)
    r = dict(zip(levels, sd_z, strict=True))
    return (b0 + b1 * (d["x"] - d["x"].mean()) + g.map(r)).to_numpy()


LIKELIHOODS = {
    "gaussian": ({"sigma": 1.3}, lambda y, eta, p, d: stats.norm.logpdf(y, eta, p["sigma"])),
    "student": (
        {"sigma": 1.3, "nu": 5.0},
        lambda y, eta, p, d: stats.t.logpdf(y, p["nu"], eta, p["sigma"]),
    ),
    "bernoulli": ({}, lambda y, eta, p, d: stats.bernoulli.logpmf(y, special.expit(eta))),
    "bernoulli_probit": ({}, lambda y, eta, p, d: stats.bernoulli.logpmf(y, stats.norm.cdf(eta))),
    "binomial": ({}, lambda y, eta, p, d: stats.binom.logpmf(y, d["n"], special.expit(eta))),
    "binomial_cloglog": (
        {},
        lambda y, eta, p, d: stats.binom.logpmf(y, d["n"], 1 - np.exp(-np.exp(eta))),
    ),
    "poisson": ({}, lambda y, eta, p, d: stats.poisson.logpmf(y, np.exp(eta))),
    "poisson_sqrt": ({}, lambda y, eta, p, d: stats.poisson.logpmf(y, eta**2)),
    "negbinomial": (
        {"shape": 2.5},
        # Var = mu + mu^2 / shape
        lambda y, eta, p, d: stats.nbinom.logpmf(
            y, p["shape"], p["shape"] / (p["shape"] + np.exp(eta))
        ),
    ),
    "lognormal": (
        {"sigma": 0.7},
        lambda y, eta, p, d: stats.lognorm.logpdf(y, 0.7, 0, np.exp(eta)),
    ),
    "gamma": (
        {"shape": 3.0},
        lambda y, eta, p, d: stats.gamma.logpdf(y, p["shape"], 0, np.exp(eta) / p["shape"]),
    ),
    "gamma_inverse": (
        {"shape": 3.0},
        lambda y, eta, p, d: stats.gamma.logpdf(y, p["shape"], 0, (1 / eta) / p["shape"]),
    ),
    "beta": (
        {"phi": 8.0},
        lambda y, eta, p, d: stats.beta.logpdf(
            y, special.expit(eta) * p["phi"], (1 - special.expit(eta)) * p["phi"]
        ),
    ),
}


@pytest.mark.parametrize("name", list(LIKELIHOODS))
def test_likelihood_matches_scipy(name):
    dpars, ref = LIKELIHOODS[name]
    d = case_data(name)
    m = make_model(CASES[name]["formula"], d, case_family(name), group_effects="noncentred")
    z = np.linspace(-1.5, 1.5, 30)
    b0 = 2.0 if name == "gamma_inverse" else 0.4  # inverse link needs a positive mean
    sd = 0.1 if name == "gamma_inverse" else 0.6
    values = {"Intercept": b0, "b": [0.3], "sd_1": [sd], "z_1": z[None, :], **dpars}
    eta = _eta(d, b0, 0.3, sd * z)
    expected = ref(d["y"].to_numpy(), eta, dpars, d).sum()
    assert _obs_logp(m, values) == pytest.approx(expected, rel=1e-9)


def test_cumulative_likelihood_matches_direct_computation():
    d = case_data("cumulative")
    m = make_model("y ~ x + (1 | g)", d, "cumulative")
    thr = np.array([-0.8, 0.4, 1.9])
    z = np.linspace(-1.5, 1.5, 30)
    values = {"Intercept": thr, "b": [0.7], "sd_1": [0.5], "z_1": z[None, :]}
    eta = _eta(d, 0.0, 0.7, 0.5 * z)
    cdf = np.column_stack(
        [np.zeros(len(d)), special.expit(thr[None, :] - eta[:, None]), np.ones(len(d))]
    )
    p = np.diff(cdf, axis=1)[np.arange(len(d)), d["y"].to_numpy() - 1]
    assert _obs_logp(m, values) == pytest.approx(np.log(p).sum(), rel=1e-9)


def test_cumulative_thresholds_are_ordered_and_named():
    d = case_data("cumulative")
    m = make_model("y ~ x + (1 | g)", d, "cumulative")
    assert m.model.coords["thres"] == ("1", "2", "3")
    assert m.design.response.categories == ("1", "2", "3", "4")
    rv = m.model["Intercept"]
    assert m.model.rvs_to_transforms[rv].name == "ordered"


def test_ordered_categorical_response_codes_levels_in_order():
    d = case_data("cumulative")
    labels = np.array(["low", "mid", "high", "top"])
    d["rating"] = pd.Categorical(
        labels[d["y"] - 1], categories=["low", "mid", "high", "top"], ordered=True
    )
    design = make_design("rating ~ x + (1 | g)", d, "cumulative")
    assert design.response.categories == ("low", "mid", "high", "top")
    np.testing.assert_array_equal(design.response.y, d["y"].to_numpy() - 1)


# -- addition terms


def test_weights_multiply_each_log_likelihood_term():
    d = case_data("gaussian_weights")
    m = make_model("y | weights(w) ~ x + (1 | g)", d)
    z = np.linspace(-1, 1, 30)
    values = {"Intercept": 0.9, "b": [0.4], "sd_1": [0.5], "z_1": z[None, :], "sigma": 1.2}
    eta = _eta(d, 0.9, 0.4, 0.5 * z)
    expected = (d["w"] * stats.norm.logpdf(d["y"], eta, 1.2)).sum()
    assert _obs_logp(m, values) == pytest.approx(expected, rel=1e-9)


def test_se_gives_known_standard_errors_without_sigma():
    d = case_data("gaussian_se")
    m = make_model("y | se(s) ~ 1 + (1 | g)", d, group_effects="noncentred")
    assert "sigma" not in m.model.named_vars
    z = np.linspace(-1, 1, 30)
    values = {"Intercept": 0.9, "sd_1": [0.5], "z_1": z[None, :]}
    eta = 0.9 + 0.5 * z[d["g"].map({g: i for i, g in enumerate(sorted(d["g"].unique()))})]
    expected = stats.norm.logpdf(d["y"], eta, d["s"]).sum()
    assert _obs_logp(m, values) == pytest.approx(expected, rel=1e-9)


def test_se_with_sigma_adds_residual_variance():
    d = case_data("gaussian_se_sigma")
    m = make_model("y | se(s, sigma = TRUE) ~ 1 + (1 | g)", d, group_effects="noncentred")
    z = np.linspace(-1, 1, 30)
    values = {"Intercept": 0.9, "sd_1": [0.5], "z_1": z[None, :], "sigma": 0.8}
    eta = 0.9 + 0.5 * z[d["g"].map({g: i for i, g in enumerate(sorted(d["g"].unique()))})]
    expected = stats.norm.logpdf(d["y"], eta, np.sqrt(0.8**2 + d["s"] ** 2)).sum()
    assert _obs_logp(m, values) == pytest.approx(expected, rel=1e-9)


def test_offset_enters_the_linear_predictor_with_coefficient_one():
    d = case_data("poisson_offset")
    m = make_model("y ~ x + offset(log(n)) + (1 | g)", d, "poisson")
    np.testing.assert_allclose(m.design.offset, np.log(d["n"]))
    z = np.linspace(-1, 1, 30)
    values = {"Intercept": -0.5, "b": [0.3], "sd_1": [0.4], "z_1": z[None, :]}
    eta = _eta(d, -0.5, 0.3, 0.4 * z) + np.log(d["n"])
    expected = stats.poisson.logpmf(d["y"], np.exp(eta)).sum()
    assert _obs_logp(m, values) == pytest.approx(expected, rel=1e-9)


def test_cbind_is_translated_to_trials_and_gives_the_same_model():
    rats = seed_data("rats")
    a = make_model("cbind(m, n - m) ~ 1 + (1 | batch)", rats, "binomial")
    b = make_model("m | trials(n) ~ 1 + (1 | batch)", rats, "binomial")
    assert str(a.design.formula) == "m | trials(m + (n - m)) ~ 1 + (1 | batch)"
    np.testing.assert_array_equal(a.design.response.trials, rats["n"].to_numpy())
    np.testing.assert_array_equal(a.design.response.y, b.design.response.y)
    assert a.priors.lines() == b.priors.lines()
    point = _point(a, {"Intercept": -1.9, "z_1": np.linspace(-1, 1, 71)[None, :]})
    assert a.model.point_logps(point) == b.model.point_logps(point)


def test_binomial_with_constant_trials():
    d = case_data("binomial")
    d = d.assign(y=np.minimum(d["y"], 15))
    design = make_design("y | trials(15) ~ x + (1 | g)", d, "binomial")
    assert set(design.response.trials) == {15}


# -- bad input: each error names the column and the rule


@pytest.mark.parametrize(
    ("formula", "fam", "edit", "message"),
    [
        ("y ~ x + (1 | g)", "binomial", None, "Family 'binomial' needs the number of trials"),
        (
            "y | trials(n) ~ x",
            "binomial",
            lambda d: d.assign(n=np.maximum(d["y"] - 1, 0)),
            "successes 'y' exceed trials in",
        ),
        (
            "y | trials(n) ~ x",
            "binomial",
            lambda d: d.assign(y=-d["y"]),
            "Family 'binomial' needs non-negative integer counts, but 'y'",
        ),
        (
            "y ~ x",
            "poisson",
            lambda d: d.assign(y=d["y"] + 0.5),
            "Family 'poisson' needs non-negative integer counts, but 'y' has 300 value(s)",
        ),
        (
            "y ~ x",
            "negbinomial",
            lambda d: d.assign(y=d["y"] * 1.5),
            "Family 'negbinomial' needs non-negative integer counts, but 'y'",
        ),
        (
            "y ~ x",
            "bernoulli",
            lambda d: d.assign(y=d["y"] * 2),
            "Family 'bernoulli' needs a response of 0s and 1s, but 'y' has",
        ),
        (
            "y ~ x",
            "bernoulli",
            lambda d: d.assign(y=np.array(["a", "b", "c"])[d.index % 3]),
            "Family 'bernoulli' needs a binary response: 0/1, true/false or two levels, "
            "but 'y' has 3 levels (a, b, c)",
        ),
        (
            "y ~ x",
            "Beta",
            lambda d: d.assign(y=d["y"] + 1),
            "Family 'beta' needs a response strictly between 0 and 1, but 'y' has",
        ),
        (
            "y ~ x",
            "Gamma",
            lambda d: d.assign(y=d["y"] - d["y"].iloc[0]),
            "Family 'gamma' needs a response > 0, but 'y' has",
        ),
        (
            "y ~ x",
            "lognormal",
            lambda d: d.assign(y=-d["y"]),
            "Family 'lognormal' needs a response > 0, but 'y' has 300 value(s) <= 0",
        ),
        (
            "y ~ x",
            "cumulative",
            lambda d: d.assign(y=1 + (d["y"] > 2)),
            "Family 'cumulative' needs at least 3 ordered categories, but 'y' has 2 (1, 2)",
        ),
        (
            "y ~ x",
            "cumulative",
            lambda d: d.assign(y=d["y"] - 1),
            "Family 'cumulative' needs ordinal categories coded 1, 2, ..., K",
        ),
        (
            "y | trials(n) ~ x",
            "poisson",
            lambda d: d.assign(n=10),
            "Addition term trials() cannot be used with family 'poisson'",
        ),
    ],
)
def test_bad_response_errors(formula, fam, edit, message):
    data_for = {
        "binomial": "binomial",
        "poisson": "poisson",
        "negbinomial": "negbinomial",
        "bernoulli": "bernoulli",
        "Beta": "beta",
        "Gamma": "gamma",
        "lognormal": "lognormal",
        "cumulative": "cumulative",
    }
    d = case_data(data_for[fam])
    if edit is not None:
        d = edit(d)
    with pytest.raises(ResponseError) as err:
        make_design(formula, d, fam)
    assert message in str(err.value)


def test_unknown_family_lists_the_known_ones():
    with pytest.raises(ValueError, match="Unknown family 'wiener'; known families: gaussian, "):
        get_family("wiener")


def test_link_not_allowed_lists_the_allowed_ones():
    with pytest.raises(ValueError) as err:
        family("poisson", link="logit")
    assert str(err.value) == (
        "Link 'logit' is not available for family 'poisson'; allowed: log, identity, sqrt."
    )


def test_bool_response_for_bernoulli():
    d = seed_data("sleep_glmm")
    design = make_design("fast_rt ~ Days + (Days | Subject)", d, "bernoulli")
    assert design.response.y.sum() == (d["Reaction"] < d["Reaction"].median()).sum()
    assert set(np.unique(design.response.y)) == {0, 1}


def test_model_code_names_family_and_trials():
    rats = seed_data("rats")
    code = bm.model_code("cbind(m, n - m) ~ 1 + (1 | batch)", rats, "binomial")
    assert "trials[N];  // trials() on the left-hand side" in code
    assert (
        "Y ~ binomial_logit(trials, eta);  // = binomial(trials, inv_link(eta)), logit link; "
        "terms of Y alone computed once" in code
    )
    probit = bm.model_code("cbind(m, n - m) ~ 1 + (1 | batch)", rats, family("binomial", "probit"))
    assert "Y ~ binomial(trials, inv_link(eta));  // inv_link: inverse of the probit link" in probit
