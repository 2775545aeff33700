"""The simulation-based calibration helper (bayesml.sbc). The full study (every family, 200
replications each) is a slow job run by hand: tools/run_sbc.py, results in docs/sbc.md."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesml as bm
from bayesml.sbc import SBCResult, sbc


def _result(ranks: dict, n_draws: int = 99) -> SBCResult:
    r = pd.DataFrame(ranks)
    return SBCResult(r, n_draws, r * 0.0, np.zeros(len(r)), np.ones(len(r)))


def test_uniformity_accepts_uniform_ranks_and_flags_biased_ones():
    rng = np.random.default_rng(1)
    uniform = rng.integers(0, 100, 400)
    biased = np.minimum(rng.integers(0, 100, 400), rng.integers(0, 100, 400))  # skewed low
    test = _result({"ok": uniform, "bad": biased}).uniformity(bins=10)
    assert test.loc["ok", "p_value"] > 0.01
    assert test.loc["bad", "p_value"] < 1e-6
    assert test.loc["ok", "n"] == 400 and test.loc["ok", "df"] == 9
    # exact expected counts when the ranks do not split evenly into bins (101 values here)
    counts, expected = _result({"a": np.arange(101)}, n_draws=100).bin_counts(bins=10)
    assert expected.sum() == pytest.approx(1.0) and counts.loc["a"].sum() == 101
    np.testing.assert_allclose(counts.loc["a"].to_numpy() / 101, expected)


def test_failed_replications_are_left_out_of_the_test():
    r = np.arange(100, dtype=float)
    r[:10] = np.nan
    test = _result({"a": r}).uniformity()
    assert test.loc["a", "n"] == 90


def test_sbc_needs_priors_that_do_not_depend_on_the_response(sleep):
    with pytest.raises(bm.PriorError, match="is computed from the response"):
        sbc("Reaction ~ Days", sleep, prior=bm.prior("normal(0, 1)", class_="b"), n_sims=2)
    with pytest.raises(bm.PriorError, match="the prior of 'b' is flat"):
        sbc("Reaction ~ Days", sleep, n_sims=2)


@pytest.mark.slow
def test_a_short_calibration_run_ranks_every_parameter():
    rng = np.random.default_rng(5)
    d = pd.DataFrame({"x": rng.normal(size=30), "g": np.repeat(list("abcde"), 6), "y": 0.0})
    p = (
        bm.prior("normal(0, 1)", class_="Intercept")
        + bm.prior("normal(0, 0.5)", class_="b")
        + bm.prior("normal(0, 0.5)", class_="sd")
        + bm.prior("exponential(2)", class_="sigma")
    )
    res = sbc("y ~ x + (1 | g)", d, prior=p, n_sims=12, chains=2, iter=400, thin=5, seed=3)
    assert res.n_draws == 2 * 40
    assert list(res.ranks.columns) == [
        "b_Intercept", "b_x", "sd_g__Intercept", "sigma", "Intercept",
        "r_g[a,Intercept]", "r_g[b,Intercept]",
    ]  # fmt: skip
    assert res.ranks.shape == (12, 7) and not res.ranks.isna().any().any()
    assert res.ranks.min().min() >= 0 and res.ranks.max().max() <= res.n_draws
    # the truths are prior draws: sd and sigma positive, sigma's prior mean 1/2
    assert (res.truths["sd_g__Intercept"] > 0).all() and (res.truths["sigma"] > 0).all()
    fig = res.plot()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 7
