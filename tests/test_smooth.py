"""Smooth terms ``s()``/``t2()`` and Gaussian processes ``gp()`` in models, against brms 2.18.

Data: tests/simulate_smooth.py (seed fixed before any fit). brms's prior tables, summaries and
fitted curves: tools/brms_smooth_reference.R (tests/reference/brms_smooth.json); the bases
themselves are tested against mgcv in tests/test_smooth_bases.py and tests/test_gp_basis.py.

* ``get_prior`` prints brms's exact text for smooth and GP models;
* posteriors of six models agree with brms's by the project's rule, and so does the fitted
  curve (posterior mean of the smooth on a 100-point grid, within 4 combined MCSE);
* bad input is refused before sampling with a message naming the term and column.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesml as bm
from bayesml.columns import DataError
from bayesml.formula import FormulaError

from .brms_compare import assert_summary_layout, posterior_problems
from .simulate_smooth import load

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference/brms_smooth.json").read_text())
PRIORS = REF["priors"]
FITS = REF["fits"]


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kw)


@pytest.mark.parametrize("name", sorted(PRIORS))
def test_get_prior_text_equals_brms(name):
    ref = PRIORS[name]
    table = _quiet(bm.get_prior, ref["formula"], load(ref["data"]), ref["family"])
    assert table.lines() == ref["get_prior"]


def test_formula_keeps_smooth_calls_as_written():
    f = bm.parse_formula("y ~ s(x, k = 5, bs = 'cr') + g + t2(x,z)")
    assert f.fixed == "g"
    assert [t.label for t in f.smooths] == ['s(x, k = 5, bs = "cr")', "t2(x, z)"]
    assert bm.parse_formula(f.canonical()).terms() == f.terms()


# -- bad input ----------------------------------------------------------------------------------


def test_k_larger_than_unique_values_names_term_and_column():
    df = pd.DataFrame({"x": np.repeat([1.0, 2.0, 3.0, 4.0, 5.0], 4), "y": np.arange(20.0)})
    with pytest.raises(DataError, match=r"s\(x\).*'x'.*5 unique values.*k = 10"):
        bm.make_design("y ~ s(x)", df)


def test_by_column_with_missing_levels_is_refused_by_name():
    df = load("byfactor")
    df["g"] = pd.Categorical(df["g"], categories=["a", "b", "c", "d"])
    with pytest.raises(DataError, match=r"s\(x, by = g\).*'g'.*no rows.*\bd\b"):
        bm.make_design("y ~ s(x, by = g) + g", df)


def test_gp_on_a_non_numeric_column_is_refused_by_name():
    df = load("byfactor")
    with pytest.raises(DataError, match=r"gp\(g\).*'g'.*not numeric"):
        bm.make_design("y ~ gp(g)", df)


def test_smooth_in_a_group_level_term_is_refused():
    with pytest.raises(FormulaError, match=r"s\(\) cannot be part of a group-level term"):
        bm.parse_formula("y ~ x + (s(x) | g)")
    with pytest.raises(FormulaError, match=r"gp\(\) cannot be part of a group-level term"):
        bm.parse_formula("y ~ (1 + gp(x) | g)")


def test_smooth_of_a_factor_is_refused_by_name():
    df = load("byfactor")
    with pytest.raises(DataError, match=r"s\(g\).*'g'.*numeric covariates"):
        bm.make_design("y ~ s(g)", df)


def test_unknown_smooth_option_is_named():
    with pytest.raises(FormulaError, match="s\\(\\) has no option 'fx'"):
        bm.parse_formula("y ~ s(x, fx = TRUE)")


@pytest.mark.parametrize("call", ["s(x, by = g)", "gp(x, by = g)"])
def test_new_by_level_is_refused_in_predictions(call):
    from bayesml.design import new_data_design

    design = bm.make_design(f"y ~ {call}", load("byfactor"))
    new = pd.DataFrame({"x": [0.5, 0.2], "g": ["a", "z"]})
    message = (
        rf"newdata: {re.escape(call)}: the by-variable 'g' has values the model does not know "
        r"\(row 2\); known: a, b, c\."
    )
    with pytest.raises(DataError, match=message):
        new_data_design(design, new)


# -- fits against brms ------------------------------------------------------------------------


def _usable(ref: dict) -> bool:
    """brms's reference converged (R-hat ≤ 1.01 everywhere)."""
    return bool(ref.get("summary")) and max(r["rhat"] for r in ref["summary"]) <= 1.01


FITTED = [k for k, v in FITS.items() if _usable(v)]


@pytest.fixture(scope="session")
def smooth_fit():
    fits = {}

    def get(name):
        if name not in fits:
            ref = FITS[name]
            fits[name] = _quiet(
                bm.brm, ref["formula"], load(ref["data"]), family=ref["family"], seed=1,
                progressbar=False,
            )  # fmt: skip
        return fits[name]

    return get


def _flipped(row: dict, variable: str) -> dict:
    """A reference record for the coefficient of the negated column."""
    out = dict(row, variable=variable, mean=-row["mean"])
    out.update({"q2.5": -row["q97.5"], "q97.5": -row["q2.5"], "mcse_q2.5": row["mcse_q97.5"],
                "mcse_q97.5": row["mcse_q2.5"]})  # fmt: skip
    return out


def _column_map(fit, name: str) -> dict[str, tuple[str, float]]:
    """brms's unpenalised smooth columns as ours: {brms name: (our name, sign)}.

    mgcv leaves the order and sign of a t2 null space's columns to LAPACK's rounding
    (tests/test_smooth_bases.py), so brms's bs_ coefficients are ours up to a signed
    permutation, found here from the two bases on the same data."""
    ref = np.array(REF["bases"][name]["standata"]["Xs"], dtype=float)
    ours = fit.design.main.terms["smooth"].parts[0]
    out = {}
    for j in range(ref.shape[1]):
        corr = [float(np.dot(ref[:, j], ours.Xs[:, i])) / np.dot(ref[:, j], ref[:, j])
                for i in range(ours.Xs.shape[1])]  # fmt: skip
        i = int(np.argmax(np.abs(corr)))
        assert abs(abs(corr[i]) - 1) < 1e-8  # the same column up to its sign
        out[f"bs_{ours.fixed_coefs[j]}"] = (f"bs_{ours.fixed_coefs[i]}", np.sign(corr[i]))
    return out


def _in_our_basis(rows: list[dict], fit, name: str) -> list[dict]:
    """Reference records with brms's bs_ coefficients renamed and negated into our columns
    where mgcv's column order and signs differ (t2)."""
    if name not in BASIS_OF:
        return rows
    cols = _column_map(fit, BASIS_OF[name])
    return [
        r if r["variable"] not in cols
        else dict(r, variable=cols[r["variable"]][0]) if cols[r["variable"]][1] > 0
        else _flipped(r, cols[r["variable"]][0])
        for r in rows
    ]  # fmt: skip


def _rows(name: str, fit) -> list[dict]:
    """brms's records of the parameters compared: all but brms's s_ (the penalised
    coefficients, defined only up to a rotation of their block), in our basis."""
    rows = [r for r in FITS[name]["summary"] if not r["variable"].startswith("s_")]
    return _in_our_basis(rows, fit, name)


BASIS_OF = {"t2": "t2"}  # fits whose bs_ columns are mgcv's up to sign


LONG = json.loads((HERE / "reference/brms_smooth_long.json").read_text())


def test_long_brms_run_pins_down_the_poisson_sds_tail():
    """brms's default run of the Poisson smooth model (11 divergent transitions) leaves the
    upper end of sds_sx_1's interval uncertain; the long run (tools/brms_smooth_long.R: 20,000
    draws, adapt_delta 0.99, no divergences) is the reference for interval ends there."""
    long = {r["variable"]: r for r in LONG["s_poisson_g"]["summary"]}
    assert LONG["s_poisson_g"]["divergences"] == 0
    assert long["sds_sx_1"]["ess_tail"] > 4 * _record("s_poisson_g", "sds_sx_1")["ess_tail"]


def _record(name: str, variable: str) -> dict:
    return next(r for r in FITS[name]["summary"] if r["variable"] == variable)


@pytest.mark.slow
@pytest.mark.parametrize("name", FITTED)
def test_posterior_matches_brms(name, smooth_fit):
    fit = smooth_fit(name)
    rows = _rows(name, fit)
    long = {r["variable"]: r for r in LONG.get(name, {}).get("summary", [])}
    problems = posterior_problems(fit, rows, long)
    assert not problems, "\n".join(problems)
    rhat = fit.diagnostics().loc[[r["variable"] for r in rows], "Rhat"]
    assert rhat.max() <= 1.01, rhat.sort_values().tail(3)


@pytest.mark.slow
@pytest.mark.parametrize("name", FITTED)
def test_summary_layout_matches_brms(name, smooth_fit):
    assert_summary_layout(smooth_fit(name), FITS[name]["summary_text"])


def _grid(ref: dict) -> pd.DataFrame:
    grid = pd.DataFrame(ref["grid"])
    if "g" in grid:
        grid["g"] = grid["g"].astype(str)
    return grid


def _within_mcse(draws: np.ndarray, ref: list[dict]) -> np.ndarray:
    """|our mean − brms's| per grid point over the project's bound, max(4 combined MCSE, 0.1
    posterior sd) (our MCSE from the draws' ESS): at most 1 where the means agree."""
    import arviz_stats as azs

    chains = draws.reshape(4, -1, draws.shape[1])
    ours = np.array(
        [float(azs.mcse(chains[:, :, j], method="mean")) for j in range(draws.shape[1])]
    )
    mean = np.array([r["mean"] for r in ref])
    se = np.array([r["mcse"] for r in ref])
    bound = np.maximum(4 * np.hypot(ours, se), 0.1 * draws.std(axis=0, ddof=1))
    return np.abs(draws.mean(axis=0) - mean) / bound


@pytest.mark.slow
@pytest.mark.parametrize("name", [k for k in FITTED if FITS[k].get("smooth")])
def test_fitted_curve_within_the_bound_of_brms(name, smooth_fit):
    ref = FITS[name]
    fit = smooth_fit(name)
    label = fit.design.main.terms["smooth"].parts[0].term.label
    z = _within_mcse(bm.posterior_smooths(fit, label, _grid(ref)), ref["smooth"])
    assert z.max() <= 1, (z.max(), int(z.argmax()))


@pytest.mark.slow
@pytest.mark.parametrize("name", FITTED)
def test_expected_response_within_the_bound_of_brms(name, smooth_fit):
    ref = FITS[name]
    draws = bm.posterior_epred(smooth_fit(name), _grid(ref), re_formula="~0")
    z = _within_mcse(draws, ref["epred"])
    assert z.max() <= 1, (z.max(), int(z.argmax()))


GP_MARGINAL = json.loads((HERE / "reference/stan_gp_marginal.json").read_text())
SMOOTH_MARGINAL = json.loads((HERE / "reference/stan_smooth_marginal.json").read_text())


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMOOTH_MARGINAL))
def test_gaussian_smooth_matches_the_integrated_stan_reference(name, smooth_fit):
    """brms's model with its penalised coefficients integrated out, sampled by Stan
    (tools/stan_smooth_marginal_reference.R, brms's own basis), which does not depend on a
    non-centred sampler reaching the sds' upper tails."""
    fit = smooth_fit(name)
    ref = SMOOTH_MARGINAL[name]
    rows = _in_our_basis(ref["summary"], fit, name)
    assert max(r["rhat"] for r in rows) <= 1.01
    problems = posterior_problems(fit, rows)
    assert not problems, "\n".join(problems)


def test_brms_exact_gp_reference_did_not_converge():
    """Why y ~ gp(x) is checked against tools/stan_gp_marginal_reference.R: brms 2.18's own
    chains stick apart (at its defaults and with adapt_delta = 0.99)."""
    assert max(r["rhat"] for r in FITS["gp"]["summary"]) > 3
    means = FITS["gp"]["chain_means"]
    intercepts = [m[0] for m in means.values()]
    assert max(intercepts) - min(intercepts) > 2
    assert max(r["rhat"] for r in GP_MARGINAL["summary"]) <= 1.01


@pytest.mark.slow
def test_exact_gp_matches_the_converged_reference(smooth_fit):
    fit = smooth_fit("gp")
    problems = posterior_problems(fit, GP_MARGINAL["summary"])
    assert not problems, "\n".join(problems)
    names = [r["variable"] for r in GP_MARGINAL["summary"]]
    assert fit.diagnostics().loc[names, "Rhat"].max() <= 1.01
    grid = pd.DataFrame({"x": GP_MARGINAL["grid_x"]})
    z = _within_mcse(bm.posterior_epred(fit, grid), GP_MARGINAL["epred"])
    assert z.max() <= 1, (z.max(), int(z.argmax()))


@pytest.mark.slow
def test_conditional_smooths_is_posterior_smooths_on_a_grid(smooth_fit):
    fit = smooth_fit("s_curve")
    frames = bm.conditional_smooths(fit, plot=False)
    assert list(frames) == ["mu: s(x)"]
    df = frames["mu: s(x)"]
    assert len(df) == 100 and df["x"].iloc[0] == fit.data["x"].min()
    draws = bm.posterior_smooths(fit, "s(x)", df)
    np.testing.assert_allclose(df["estimate__"], draws.mean(axis=0), rtol=1e-12)


@pytest.mark.slow
def test_conditional_smooths_draws_one_curve_per_by_level(smooth_fit):
    fit = smooth_fit("s_by")
    df = bm.conditional_smooths(fit, plot=False)["mu: s(x, by = g)"]
    assert df.groupby("g").size().to_dict() == {"a": 100, "b": 100, "c": 100}
    # each level's curve is that level's smooth alone: brms's posterior_smooths on its grid
    ref = FITS["s_by"]["smooth"]
    level_a = df[df["g"] == "a"]["estimate__"].to_numpy()
    assert np.abs(level_a - [r["mean"] for r in ref]).max() < 0.05
    # the figure (an ArviZ PlotCollection): one line per level, labelled with it
    _, pc = bm.conditional_smooths(fit)
    lines = pc.viz["estimate"]["mu: s(x, by = g)"]
    assert lines.sizes == {"group": 3}
    first = lines.values[0]
    np.testing.assert_allclose(first.get_ydata(), level_a)
    assert [t.get_text() for t in first.axes.get_legend().get_texts()] == [
        "g = a", "g = b", "g = c",
    ]  # fmt: skip
