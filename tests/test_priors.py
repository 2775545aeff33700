import pytest

from bayesml import PriorError, get_prior
from bayesml.priors import PriorRow, PriorTable, parse_prior

from .conftest import ALL_SEED, reference, seed_data


@pytest.mark.parametrize("name", ALL_SEED)
def test_get_prior_text_equals_brms(name):
    ref = reference(name)
    table = get_prior(ref["formula"], seed_data(name), family=ref["family"])
    assert table.lines() == ref["get_prior"]


@pytest.mark.parametrize("name", ALL_SEED)
def test_fitted_prior_table_equals_brms(name):
    ref = reference(name)
    table = get_prior(ref["formula"], seed_data(name), family=ref["family"])
    assert table.as_fitted().lines() == ref["fit_prior"]


def test_seed_prior_numbers(sleep):
    table = get_prior("Reaction ~ Days + (Days | Subject)", sleep)
    frame = table.to_frame()
    assert frame.loc[frame["class"] == "Intercept", "prior"].item() == "student_t(3, 288.7, 59.3)"
    assert set(frame.loc[frame["class"] == "sd", "prior"]) == {"student_t(3, 0, 59.3)"}
    assert frame.loc[frame["class"] == "sigma", "prior"].item() == "student_t(3, 0, 59.3)"
    assert frame.loc[frame["class"] == "sigma", "lb"].item() == "0"


def test_scale_is_never_below_2_5(sleep):
    small = sleep.assign(Reaction=sleep["Reaction"] / 1000)
    table = get_prior("Reaction ~ Days + (1 | Subject)", small)
    assert table.find("Intercept").prior == "student_t(3, 0.3, 2.5)"
    assert table.find("sigma").prior == "student_t(3, 0, 2.5)"


def test_no_intercept_drops_the_intercept_row(sleep):
    table = get_prior("Reaction ~ 0 + Days + (1 | Subject)", sleep)
    assert table.find("Intercept") is None
    assert table.find("b", "Days") is not None


def test_resolve_precedence_coef_beats_group_beats_class():
    t = PriorTable(
        [
            PriorRow("student_t(3, 0, 10)", "sd", lb="0"),
            PriorRow("normal(0, 5)", "sd", group="g", lb="0"),
            PriorRow("normal(0, 1)", "sd", coef="x", group="g", lb="0"),
            PriorRow("", "sd", coef="Intercept", group="g", lb="0"),
        ]
    )
    assert t.resolve("sd", "x", "g").prior == "normal(0, 1)"
    assert t.resolve("sd", "Intercept", "g").prior == "normal(0, 5)"
    assert t.resolve("sd", "z", "h").prior == "student_t(3, 0, 10)"


def test_parse_prior_reads_stan_calls():
    d = parse_prior("student_t(3, 288.7, 59.3)")
    assert (d.name, d.args) == ("student_t", (3.0, 288.7, 59.3))
    assert str(d) == "student_t(3, 288.7, 59.3)"
    assert parse_prior("") is None
    assert parse_prior("lkj(2)").args == (2.0,)


@pytest.mark.parametrize(
    "text, message",
    [
        ("nromal(0, 1)", "Unknown prior distribution 'nromal'"),
        ("normal(0)", "normal takes 2 argument(s), got 1"),
        ("normal 0 1", "Cannot read prior 'normal 0 1'"),
        ("normal(a, 1)", "'a' is not a number"),
    ],
)
def test_parse_prior_errors(text, message):
    with pytest.raises(PriorError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_prior(text)
