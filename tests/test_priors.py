import json
from pathlib import Path

import pytest

from bayesml import PriorError, get_prior, prior, validate_prior
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


# -- user priors: specification, validate_prior, errors

PRIOR_CASES = json.loads((Path(__file__).parent / "data/priors/cases.json").read_text())
VALIDATE_BRMS = json.loads((Path(__file__).parent / "reference/validate_prior.json").read_text())


def _case_data(spec: str):
    kind, name = spec.split(":")
    if kind == "family":
        from .test_families import case_data

        return case_data(name)
    return seed_data(name)


def _specs(rows):
    out = None
    for r in rows:
        p = prior(
            r["prior"],
            class_=r["class"],
            coef=r.get("coef", ""),
            group=r.get("group", ""),
            lb=r.get("lb"),
            ub=r.get("ub"),
        )
        out = p if out is None else out + p
    return out


@pytest.mark.parametrize("case", PRIOR_CASES, ids=[c["name"] for c in PRIOR_CASES])
def test_validate_prior_text_equals_brms(case):
    table = validate_prior(
        _specs(case["priors"]), case["formula"], _case_data(case["data"]), case["family"]
    )
    assert table.lines() == VALIDATE_BRMS[case["name"]]


def test_get_prior_with_user_priors_marks_user_rows(sleep):
    p = prior("normal(0, 1)", class_="b", coef="Days") + prior("exponential(1)", "sigma")
    frame = get_prior("Reaction ~ Days + (Days | Subject)", sleep, prior=p).to_frame()
    days = frame[(frame["class"] == "b") & (frame["coef"] == "Days")].iloc[0]
    assert (days["prior"], days["source"]) == ("normal(0, 1)", "user")
    sigma = frame[frame["class"] == "sigma"].iloc[0]
    assert (sigma["prior"], sigma["source"], sigma["lb"]) == ("exponential(1)", "user", "0")
    assert frame[frame["class"] == "cor"]["prior"].tolist() == ["lkj(1)", "lkj(1)"]


def test_priors_combine_with_plus_or_list(sleep):
    a = prior("normal(0, 1)", class_="b", coef="Days")
    b = prior("exponential(1)", class_="sigma")
    c = prior("lkj(2)", class_="cor")
    f = "Reaction ~ Days + (Days | Subject)"
    assert (a + b + c) == (a, b, c)
    assert (
        get_prior(f, sleep, prior=[a, b, c]).lines() == get_prior(f, sleep, prior=a + b + c).lines()
    )


def test_precedence_coef_beats_group_beats_class(sleep):
    p = (
        prior("normal(0, 100)", class_="sd")
        + prior("normal(0, 50)", class_="sd", group="Subject")
        + prior("normal(0, 5)", class_="sd", group="Subject", coef="Days")
    )
    table = get_prior("Reaction ~ Days + (Days | Subject)", sleep, prior=p)
    assert table.resolve("sd", "Days", "Subject").prior == "normal(0, 5)"
    assert table.resolve("sd", "Intercept", "Subject").prior == "normal(0, 50)"
    assert table.resolve("sd").prior == "normal(0, 100)"


def test_precedence_reaches_the_model(sleep):
    from bayesml import make_model

    p = prior("normal(0, 50)", class_="sd", group="Subject") + prior(
        "normal(0, 5)", class_="sd", group="Subject", coef="Days"
    )
    m = make_model("Reaction ~ Days + (Days | Subject)", sleep, prior=p)
    code = m.code()
    # marginal model: the sds are sampled as signed scales whose absolute values have the priors
    assert "sd_1_signed[Intercept] ~ normal(0, 50);" in code
    assert "sd_1[Days] = |sd_1_signed[Days]| ~ normal(0, 5)  <lower=0>" in code
    sigmas = {
        n: m.model[n].owner.inputs[-1].eval() for n in ("sd_1_signed_Intercept", "sd_1_signed_Days")
    }
    assert sigmas == {"sd_1_signed_Intercept": 50.0, "sd_1_signed_Days": 5.0}
    # non-centred and correlated: signed too (effects.noncentred_signed)
    code = make_model(SLEEP_F, sleep, prior=p, group_effects="noncentred").code()
    assert "sd_1_signed[Intercept] ~ normal(0, 50);" in code
    assert "sd_1[Days] = |sd_1_signed[Days]| ~ normal(0, 5)  <lower=0>" in code
    # non-centred and uncorrelated: brms's log scale
    uncorrelated = "Reaction ~ Days + (Days || Subject)"
    code = make_model(uncorrelated, sleep, prior=p, group_effects="noncentred").code()
    assert "sd_1[Intercept] ~ normal(0, 50)  <lower=0>;" in code
    assert "sd_1[Days] ~ normal(0, 5)  <lower=0>;" in code


SLEEP_F = "Reaction ~ Days + (Days | Subject)"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            dict(prior="normal(0, 1)", class_="foo"),
            "Unknown prior class 'foo' (prior 'foo ~ normal(0, 1)'); classes in this model: "
            "b, cor, Intercept, sd, sigma.",
        ),
        (
            dict(prior="normal(0, 1)", class_="b", coef="Dayz"),
            "Coefficient 'Dayz' is not a 'b' parameter of this model (prior 'b_Dayz ~ "
            "normal(0, 1)'); valid coefficients: 'Days'.",
        ),
        (
            dict(prior="normal(0, 1)", class_="sd", group="Subj"),
            "Group 'Subj' has no 'sd' parameters in this model (prior 'sd_Subj ~ normal(0, 1)'); "
            "valid groups: 'Subject'.",
        ),
        (
            dict(prior="normal(0, 1)", class_="sd", group="Subject", coef="Dayz"),
            "Coefficient 'Dayz' is not a 'sd' parameter in group 'Subject' of this model "
            "(prior 'sd_Subject__Dayz ~ normal(0, 1)'); valid coefficients: 'Days', 'Intercept'.",
        ),
        (
            dict(prior="lkj(2)", class_="b"),
            "'lkj' is a prior for correlation matrices (class 'cor'), not for class 'b' "
            "(prior 'b ~ lkj(2)').",
        ),
        (
            dict(prior="normal(0, 1)", class_="cor"),
            "The only supported prior for correlation matrices is 'lkj' (prior 'cor ~ "
            "normal(0, 1)').",
        ),
        (
            dict(prior="normal(0, 1)", class_="sd", lb=-1),
            "Bound lb = -1 contradicts class 'sd', whose parameters lie in [0, Inf] "
            "(prior 'sd ~ normal(0, 1)').",
        ),
        (
            dict(prior="normal(0, 1)", class_="b", coef="Days", lb=0),
            "Bounds apply to a whole class: give lb/ub without coef (prior 'b_Days ~ "
            "normal(0, 1)'), as in brms.",
        ),
        (
            dict(prior="gamma(2, 0.1)", class_="nu"),
            "Family 'gaussian' has no parameter 'nu' (prior 'nu ~ gamma(2, 0.1)'); its "
            "distributional parameters: sigma.",
        ),
    ],
)
def test_prior_validation_errors(sleep, spec, message):
    with pytest.raises(PriorError) as err:
        validate_prior(prior(**spec), SLEEP_F, sleep)
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo(0, 1)", "Unknown prior distribution 'foo' in 'foo(0, 1)'; known: student_t, "),
        ("normal(0)", "Prior 'normal(0)': normal takes 2 argument(s), got 1."),
        ("student_t(3, 0)", "Prior 'student_t(3, 0)': student_t takes 3 argument(s), got 2."),
        ("normal 0 1", "Cannot read prior 'normal 0 1': expected a call such as 'normal(0, 10)'."),
    ],
)
def test_prior_string_errors(text, message):
    with pytest.raises(PriorError) as err:
        prior(text, class_="b")
    assert message in str(err.value)


def test_prior_only_needs_proper_priors(sleep):
    from bayesml import brm

    with pytest.raises(PriorError) as err:
        brm(SLEEP_F, sleep, sample_prior="only")
    assert str(err.value) == (
        "Sampling from priors is not possible as some parameters have no proper priors. "
        "Error occurred for parameter 'b'."
    )


def test_prior_cor_draws_come_from_the_blocks_lkj_dimension():
    # brms 2.18's Stan code: prior_cor_1 = lkj_corr_rng(M_1, 1)[1, 2]; for M = 3 each
    # correlation r has (r + 1) / 2 ~ Beta(1.5, 1.5), not the uniform of a 2 x 2 matrix
    import numpy as np
    from scipy import stats

    from bayesml import make_model
    from bayesml.model import prior_draws

    from .test_families import case_data

    d = case_data("gaussian").assign(z=lambda df: np.linspace(-1, 1, len(df)))
    m = make_model("y ~ x + (1 + x + z | g)", d)
    r = prior_draws(m, 8000, seed=4)["prior_cor_g"]
    assert stats.kstest((r + 1) / 2, stats.beta(1.5, 1.5).cdf).pvalue > 0.01
    assert stats.kstest((r + 1) / 2, stats.uniform().cdf).pvalue < 1e-6


def test_printed_table_is_one_block_and_lines_are_brms_text():
    ref = reference("sleep_full")
    table = get_prior(ref["formula"], seed_data("sleep_full"))
    assert table.lines() == ref["get_prior"]
    assert len(ref["get_prior"]) > len(table.rows) + 1  # brms's text wraps at 80 columns
    printed = str(table).splitlines()
    # one header and one line per row, nothing continued below
    assert len(printed) == len(table.display_rows()) + 1
    assert printed[0].split() == ["prior", "class", "coef", "group", "resp", "dpar", "nlpar",
                                  "lb", "ub", "source"]  # fmt: skip
    assert len({len(line) for line in printed}) == 1
    # lines(width=None) is the printed text
    assert table.lines(width=None) == printed
