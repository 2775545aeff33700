"""R's formula functions as brms reads them: factor(), I(x^2), poly(), scale(), log/exp/sqrt
of expressions, against brms 2.18's get_prior() and make_standata() design matrices
(tools/brms_formula_functions_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bayesml as bm
from bayesml.terms.matrix import _power_in_calls, evaluate_new

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "brms_formula_functions.json").read_text()
)


@pytest.fixture(scope="module")
def data(sleep):
    return sleep.assign(k=sleep["Days"] % 3 + 1, z=sleep["Days"] + 1)


@pytest.mark.parametrize("case", list(REFERENCE))
def test_get_prior_text_equals_brms(case, data):
    ref = REFERENCE[case]
    assert bm.get_prior(ref["formula"], data).lines() == ref["get_prior"]


@pytest.mark.parametrize("case", list(REFERENCE))
def test_design_columns_and_values_equal_brms_standata(case, data):
    ref = REFERENCE[case]
    fixed = bm.make_design(ref["formula"], data).fixed
    X = np.array(ref["X"])[:, 1:]  # brms's X starts with the intercept column
    assert list(fixed.coefs) == ref["X_names"][1:]
    np.testing.assert_allclose(fixed.X, X, rtol=1e-10, atol=1e-12)
    # new data go through the fitted terms: the training data's levels, mean, sd, polynomial
    rows = [179, 0, 57, 3]
    new = evaluate_new(fixed.terms, data.iloc[rows], "term", np.arange(1, 5))
    np.testing.assert_allclose(new.without_intercept()[0], X[rows], rtol=1e-10, atol=1e-12)


def test_scale_divides_by_the_sd_with_n_minus_1_as_r_does(data):
    x = bm.make_design("Reaction ~ scale(Days)", data).fixed.X[:, 0]
    days = data["Days"].to_numpy(float)
    np.testing.assert_allclose(x, (days - days.mean()) / days.std(ddof=1), rtol=1e-12)
    assert x.std(ddof=1) == pytest.approx(1.0, rel=1e-12)


def test_power_is_formulaes_double_star_in_and_out_of_calls():
    assert _power_in_calls("x + I(x^2) + log(z^0.5)") == "x + I(x**2) + log(z**0.5)"
    assert _power_in_calls("(a + b)^2") == "(a + b)**2"  # R's interactions up to degree 2


def test_interactions_by_power_of_a_sum_still_expand(data):
    coefs = bm.make_design("Reaction ~ (Days + z)^2", data).fixed.coefs
    assert coefs == ("Days", "z", "Days:z")


def test_factor_of_a_text_column_sorts_as_r_and_keeps_the_reference(data):
    d = data.assign(t=np.where(data["Days"] % 2 == 0, "b", "A"))
    assert bm.make_design("Reaction ~ factor(t)", d).fixed.coefs == ("factortb",)
