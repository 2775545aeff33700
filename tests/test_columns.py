"""R's factor semantics for categorical columns and the checks of data columns (bayesml.columns),
against brms 2.18's prior tables (tools/brms_factor_reference.R)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesml as bm
from bayesml.columns import poly_contrasts, r_levels

BRMS = json.loads((Path(__file__).parent / "reference/brms_factor_priors.json").read_text())


@pytest.fixture(scope="module")
def data(sleep):
    """sleepstudy with the columns tools/brms_factor_reference.R derives."""
    band = pd.cut(sleep["Days"], [-1, 2, 5, 9], labels=["lo", "mid", "hi"]).astype(str)
    return sleep.assign(
        o=pd.Categorical(band, categories=["lo", "mid", "hi"], ordered=True),
        f=pd.Categorical(band, categories=["mid", "hi", "lo"]),
        t=np.array(["b", "A", "a"])[sleep["Days"] % 3],
    )


@pytest.mark.parametrize(
    ("case", "formula"),
    [
        ("ordered", "Reaction ~ o + (1 | Subject)"),
        ("relevelled", "Reaction ~ f + (1 | Subject)"),
        ("text", "Reaction ~ t + (1 | Subject)"),
        ("zero_intercept", "Reaction ~ 0 + Intercept + Days + (1 | Subject)"),
        ("ordered_interaction", "Reaction ~ o * Days"),
    ],
)
def test_get_prior_follows_r_factors_as_brms(case, formula, data):
    assert bm.get_prior(formula, data).lines() == BRMS[case]


def test_the_first_category_is_the_reference_level(data):
    design = bm.make_design("Reaction ~ f", data)
    assert design.fixed.coefs == ("fhi", "flo")
    # the column of 'hi' is 1 exactly where f is 'hi'
    np.testing.assert_array_equal(design.fixed.X[:, 0], (data["f"] == "hi").to_numpy())


def test_ordered_factors_get_r_polynomial_contrasts(data):
    # R: contr.poly(3) = [[-0.7071068, 0.4082483], [0, -0.8164966], [0.7071068, 0.4082483]]
    np.testing.assert_allclose(
        poly_contrasts(3),
        [[-0.7071068, 0.4082483], [0, -0.8164966], [0.7071068, 0.4082483]],
        atol=1e-7,
    )
    design = bm.make_design("Reaction ~ o", data)
    rows = {"lo": 0, "mid": 1, "hi": 2}
    expected = poly_contrasts(3)[data["o"].map(rows).to_numpy()]
    np.testing.assert_allclose(design.fixed.X, expected, atol=1e-12)


def test_unused_categories_are_dropped_as_r_drops_unused_levels(data):
    d = data.assign(f=pd.Categorical(data["f"].astype(str), categories=["mid", "none", "hi", "lo"]))
    assert bm.make_design("Reaction ~ f", d).fixed.coefs == ("fhi", "flo")


def test_text_sorts_as_r_sorts_it():
    assert r_levels(pd.Series(["b", "A", "a", "B", "10", "9"])) == ["10", "9", "a", "A", "b", "B"]
    assert r_levels(pd.Series([3, 1, 2])) == [1, 2, 3]
    assert r_levels(pd.Series(pd.Categorical(["x", "y"], categories=["y", "z", "x"]))) == ["y", "x"]


def test_group_levels_follow_the_category_order(data):
    d = data.assign(
        Subject=pd.Categorical(
            data["Subject"], categories=sorted(data["Subject"].unique(), reverse=True)
        )
    )
    block = bm.make_design("Reaction ~ (1 | Subject)", d).blocks[0]
    assert block.levels[:3] == ("372", "371", "370")


def test_a_text_bernoulli_response_says_which_value_is_the_success(sleep):
    d = sleep.assign(fast=np.where(sleep["Reaction"] < 280, "Yes", "no"))
    with pytest.warns(bm.ResponseCodingWarning) as record:
        design = bm.make_design("fast ~ Days", d, family="bernoulli")
    assert str(record[0].message) == (
        "Response 'fast' is text: 'Yes' is coded 1 (success) and 'no' 0, as R orders the "
        "levels. To choose, pass booleans or a pd.Categorical whose second category is the "
        "success."
    )
    assert record[0].filename == __file__  # the warning points at the user's call
    np.testing.assert_array_equal(design.response.y, (d["fast"] == "Yes").to_numpy())
    # a Categorical states the coding itself: no warning, its second category is the success
    d = d.assign(fast=pd.Categorical(d["fast"], categories=["Yes", "no"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        design = bm.make_design("fast ~ Days", d, family="bernoulli")
    np.testing.assert_array_equal(design.response.y, (d["fast"] == "no").to_numpy())


def test_rows_in_messages_count_in_the_data_as_passed(sleep):
    # rows 1-3 are dropped for a missing value; the bad count sits in row 10 of the data
    d = sleep.assign(y=sleep["Days"].astype(float))
    d.loc[0:2, "y"] = np.nan
    d.loc[9, "y"] = -2.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.DataWarning)
        with pytest.raises(bm.ResponseError, match=r"\(e\.g\. -2 in row 10\)"):
            bm.make_design("y ~ Days", d, family="poisson")


def test_zero_intercept_is_brms_uncentred_intercept(data):
    design = bm.make_design("Reaction ~ 0 + Intercept + Days", data)
    assert design.fixed.coefs == ("Intercept", "Days") and not design.fixed.intercept
    np.testing.assert_array_equal(design.fixed.X[:, 0], np.ones(len(data)))


# -- polars and pyarrow tables ---------------------------------------------------------------


def test_polars_and_pyarrow_tables_give_the_same_draws_as_pandas(sleep):
    pl = pytest.importorskip("polars")
    pa = pytest.importorskip("pyarrow")
    kw = dict(chains=2, iter=400, seed=4, progressbar=False)
    f = "Reaction ~ Days + (Days | Subject)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = bm.brm(f, sleep, **kw)
        for table in (pl.from_pandas(sleep), pa.Table.from_pandas(sleep)):
            other = bm.brm(f, table, **kw)
            for name in ("b_Days", "sd_Subject__Days", "sigma", "r_Subject"):
                np.testing.assert_array_equal(other.posterior[name], base.posterior[name])
            new = table.slice(0, 3) if hasattr(table, "slice") else table[:3]
            np.testing.assert_array_equal(
                base.posterior_epred(new), base.posterior_epred(sleep.iloc[:3])
            )


def test_polars_categories_follow_r_text_order_and_enums_their_declared_order():
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(3)
    g = ["c", "a", "b", "c", "b", "a"] * 5
    y = rng.normal(size=len(g))
    unordered = pl.DataFrame({"y": y, "g": pl.Series(g, dtype=pl.Categorical)})
    declared = pl.DataFrame({"y": y, "g": pl.Series(g, dtype=pl.Enum(["c", "a", "b"]))})
    # text order a < b < c: a is the reference level
    assert bm.get_prior("y ~ g", unordered).to_frame().coef.tolist() == ["", "gb", "gc", "", ""]
    # the Enum's order c, a, b: c is the reference level, treatment contrasts as in R
    assert bm.get_prior("y ~ g", declared).to_frame().coef.tolist() == ["", "ga", "gb", "", ""]


def test_a_table_narwhals_cannot_read_is_refused_by_name():
    with pytest.raises(TypeError, match="data must be a pandas, polars or pyarrow table, got dict"):
        bm.get_prior("y ~ x", {"y": [1.0, 2.0], "x": [0.0, 1.0]})
