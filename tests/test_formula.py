import pytest

from bayesml import FormulaError, parse_formula


def test_correlated_intercept_and_slope():
    f = parse_formula("Reaction ~ Days + (Days | Subject)")
    assert f.response == "Reaction"
    assert f.fixed == "Days"
    (t,) = f.group_terms
    assert (t.expr, t.group, t.group_vars, t.correlated) == ("Days", "Subject", ("Subject",), True)


def test_double_bar_means_uncorrelated():
    (t,) = parse_formula("Reaction ~ Days + (Days || Subject)").group_terms
    assert t.correlated is False and t.expr == "Days"


def test_nested_grouping_expands_like_lme4():
    f = parse_formula("mathscore ~ ses + (1 | schoolid/classid2)")
    assert [(t.group, t.group_vars) for t in f.group_terms] == [
        ("schoolid", ("schoolid",)),
        ("schoolid:classid2", ("schoolid", "classid2")),
    ]


def test_interaction_grouping_and_crossed_terms():
    f = parse_formula("y ~ 1 + (1 | a:b) + (1 | c)")
    assert [t.group for t in f.group_terms] == ["a:b", "c"]
    assert f.group_terms[0].group_vars == ("a", "b")
    assert f.groups == ("a:b", "c")


def test_intercept_removal_and_interactions_stay_in_fixed_part():
    f = parse_formula("y ~ x*z - 1 + (0 + x | g)")
    assert f.fixed == "x * z - 1"
    assert f.group_terms[0].expr == "0 + x"


def test_intercept_only_fixed_part():
    assert parse_formula("alcohol ~ 1 + (1 | country)").fixed == "1"
    assert parse_formula("y ~ (1 | g)").fixed == "1"


def test_addition_terms_on_the_left():
    f = parse_formula("m | trials(n) ~ 1 + (1 | batch)")
    assert f.response == "m"
    assert [(a.name, a.args) for a in f.additions] == [("trials", ("n",))]


@pytest.mark.parametrize(
    "formula, message, marker",
    [
        ("y ~ x + (1 | g", "Unclosed parenthesis", "          ^"),
        ("y ~ x + 1 | g)", "Unmatched closing parenthesis", "               ^"),
        ("y ~ x + (1 |)", "no grouping factor after '|'", "              ^"),
        ("y ~ (|g)", "no effects before '|'", "      ^^^^"),
        ("y ~ x ~ z", "exactly one '~'", "        ^"),
        ("y x", "exactly one '~'", None),
        ("~ x", "no response left of '~'", "  ^"),
        ("y ~ ", "nothing right of '~'", None),
        ("y ~ x + 1|g", "must sit inside parentheses", "          ^^^"),
        ("y | foo(n) ~ x", "Unknown addition term 'foo(n)'", None),
        (
            "y ~ (1 | g) + (1 | g)",
            "Duplicated group-level term for group 'g'",
            "                ^^^^^^^",
        ),
        ("y ~ (1 | p | g | h)", "must look like (terms | group)", None),
    ],
)
def test_malformed_formulas_quote_the_formula_and_mark_the_fault(formula, message, marker):
    with pytest.raises(FormulaError) as info:
        parse_formula(formula)
    text = str(info.value)
    assert message in text
    assert "\n  " + " ".join(formula.split()) in text
    if marker is not None:
        assert text.splitlines()[-1] == marker


def test_non_string_formula_is_rejected():
    with pytest.raises(FormulaError, match="must be a string"):
        parse_formula(42)
