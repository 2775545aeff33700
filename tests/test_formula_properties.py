"""Property-based tests of the formula and prior parsers (hypothesis).

* Generated valid formulas parse, and the canonical text of the parsed terms parses back to
  the same terms, whatever the spacing.
* Generated invalid formulas (and arbitrary text) raise ``FormulaError`` and nothing else;
  arbitrary prior strings raise ``PriorError`` and nothing else.
* Generated valid priors parse and print back to themselves.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bayesml import FormulaError, PriorError, parse_formula
from bayesml.priors import DISTRIBUTIONS, PriorDist, parse_prior

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in ("offset", "cbind", "Q", "trials", "weights", "se")
)
functions = st.sampled_from(["log", "exp", "sqrt", "abs", "log1p"])


@st.composite
def population_term(draw) -> str:
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return draw(names)
    if kind == 1:
        return f"{draw(functions)}({draw(names)})"
    sep = ":" if kind == 2 else "*"
    return f"{draw(names)}{sep}{draw(names)}"


@st.composite
def group_term(draw) -> str:
    expr = draw(
        st.one_of(
            st.just("1"),
            names,
            names.map(lambda n: f"0 + {n}"),
            names.map(lambda n: f"1 + {n}"),
        )
    )
    bar = draw(st.sampled_from(["|", "||"]))
    groups = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    sep = draw(st.sampled_from(["/", ":"]))
    return f"({expr} {bar} {sep.join(groups)})"


@st.composite
def formula(draw) -> str:
    response = draw(names)
    lhs = response
    addition = draw(st.sampled_from(["", "trials", "weights", "se", "cbind"]))
    if addition == "cbind":
        lhs = f"cbind({response}, {draw(names)})"
    elif addition:
        lhs = f"{response} | {addition}({draw(names)})"
    terms = draw(st.lists(population_term(), max_size=4))
    start = draw(st.sampled_from(["", "1 + ", "0 + "]))
    groups = draw(st.lists(group_term(), max_size=3))
    offsets = [f"offset({draw(names)})"] if draw(st.booleans()) else []
    rhs = " + ".join(terms + offsets + groups)
    if not rhs:
        rhs = "1"
    return f"{lhs} ~ {start}{rhs}"


def _respace(text: str, data) -> str:
    """The same formula with spaces added or removed around operators."""
    out = []
    for ch in text:
        if ch == " ":
            out.append(data.draw(st.sampled_from(["", " ", "  "])))
        else:
            out.append(ch)
    return "".join(out)


def _parse_or_duplicate(text: str):
    try:
        return parse_formula(text)
    except FormulaError as err:
        # a generated formula may repeat a group-level term; that error is the right one
        assume("Duplicated group-level term" not in str(err))
        raise


@SETTINGS
@given(formula(), st.data())
def test_valid_formulas_round_trip_to_the_same_terms(text, data):
    parsed = _parse_or_duplicate(text)
    again = parse_formula(parsed.canonical())
    assert again.terms() == parsed.terms()
    assert parse_formula(_respace(text, data)).terms() == parsed.terms()


FORMULA_CHARS = st.sampled_from(list("yx~()|+-*:/ 01abcg,.^") + ["offset(", "cbind(", "||"])


@SETTINGS
@given(st.lists(FORMULA_CHARS, max_size=25).map("".join))
def test_arbitrary_text_is_a_formula_or_a_formula_error(text):
    try:
        parse_formula(text)
    except FormulaError:
        pass


@SETTINGS
@given(formula(), st.data())
def test_mutated_formulas_parse_or_raise_formula_error(text, data):
    i = data.draw(st.integers(0, len(text) - 1))
    op = data.draw(st.sampled_from(["delete", "insert", "replace"]))
    ch = data.draw(FORMULA_CHARS)
    if op == "delete":
        text = text[:i] + text[i + 1 :]
    elif op == "insert":
        text = text[:i] + ch + text[i:]
    else:
        text = text[:i] + ch + text[i + 1 :]
    try:
        parse_formula(text)
    except FormulaError:
        pass


@SETTINGS
@given(st.one_of(st.text(max_size=30), st.lists(FORMULA_CHARS, max_size=20).map("".join)))
def test_arbitrary_text_is_a_prior_or_a_prior_error(text):
    try:
        parse_prior(text)
    except PriorError:
        pass


positive = st.floats(0.01, 100, allow_nan=False).map(lambda x: round(x, 3))
real = st.floats(-100, 100, allow_nan=False).map(lambda x: round(x, 3))


@st.composite
def prior_text(draw) -> tuple[str, PriorDist]:
    name = draw(st.sampled_from(sorted(DISTRIBUTIONS)))
    info = DISTRIBUTIONS[name]
    args = [draw(positive) if i in info.positive else draw(real) for i in range(len(info.params))]
    if name == "uniform":
        args = sorted(args)
        assume(args[0] < args[1])
    assume(all(a > 0 for i, a in enumerate(args) if i in info.positive))
    spaced = draw(st.sampled_from([", ", ",", " , "])).join(repr(a) for a in args)
    return f"{name}({spaced})", PriorDist(name, tuple(float(a) for a in args))


@SETTINGS
@given(prior_text())
def test_valid_priors_parse_and_print_back(case):
    text, expected = case
    parsed = parse_prior(text)
    assert parsed == expected
    again = parse_prior(str(parsed))
    assert again.name == parsed.name
    pairs = zip(again.args, parsed.args, strict=True)
    assert all(math.isclose(a, b, rel_tol=1e-14) for a, b in pairs)


@SETTINGS
@given(prior_text(), st.integers(0, 2))
def test_broken_priors_raise_prior_error(case, how):
    text, _ = case
    broken = [text.replace("(", "[", 1), text[:-1], text.replace(",", ", 1,", 1)][how]
    try:
        parse_prior(broken)
    except PriorError:
        return
    assert broken == text.replace(",", ", 1,", 1)  # only an added argument can stay valid
