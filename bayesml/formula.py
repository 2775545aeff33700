"""Stage 1 — brms/lme4 formula syntax into typed terms.

formulae parses the population-level part; this module owns what formulae cannot: group-level
terms with ``||``, nested ``(1 | a/b)`` grouping and brms's ``(1 |ID| g)`` correlation IDs, the
brms addition terms on the left-hand side (``y | trials(n)``, ``y | weights(w)``,
``y | se(s)``), lme4's binomial response ``cbind(successes, failures)`` (translated to brms's
``successes | trials(successes + failures)``), ``offset(x)`` and monotonic ``mo(x)`` terms,
brms's smooth and Gaussian-process calls ``s()``, ``t2()`` and ``gp()`` (``SmoothTerm``), and
brms's ``bf()``: one formula per distributional parameter (``sigma ~ x + (1 | g)``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

__all__ = [
    "AdditionTerm",
    "BrmsFormula",
    "FormulaError",
    "GroupTerm",
    "MonotonicTerm",
    "PredictorFormula",
    "SmoothTerm",
    "bf",
    "normalize_expression",
    "parse_formula",
]


class FormulaError(ValueError):
    """A formula that cannot be read; the message quotes the formula and marks the fault."""

    def __init__(
        self, message: str, formula: str | None = None, span: tuple[int, int] | None = None
    ):
        self.formula = formula
        self.span = span
        text = message
        if formula is not None:
            text += f"\n  {formula}"
            if span is not None:
                start, end = span
                text += "\n  " + " " * start + "^" * max(1, end - start)
        super().__init__(text)


@dataclass(frozen=True)
class MonotonicTerm:
    """A term holding brms's monotonic ``mo()`` calls: ``mo(x)``, ``mo(x):z``, ``z:mo(x)``.

    ``variables`` are the columns inside ``mo()`` in the term's order, ``covariate`` the other
    factors of an interaction in formulae syntax (``""``: none) and ``label`` the term as R
    labels it (variables in order of first appearance in the formula), from which brms names
    the coefficient (``mom:z``) and the simplexes (``mom:z1``).
    """

    variables: tuple[str, ...]
    covariate: str
    label: str


@dataclass(frozen=True)
class SmoothTerm:
    """A smooth or Gaussian-process call: ``s(x)``, ``s(x, z)``, ``t2(x, z)``,
    ``s(x, k = 5, bs = "cr")``, ``s(x, by = g)``, ``gp(x, k = 20, c = 5/4)``.

    ``function`` is ``s``, ``t2`` or ``gp``; ``variables`` the covariates (positional
    arguments); ``options`` the named arguments as written, in R syntax (``("bs", '"cr"')``);
    ``label`` the call as R deparses it, which brms prints as the ``sds`` prior's coef.
    """

    function: str
    variables: tuple[str, ...]
    options: tuple[tuple[str, str], ...]
    label: str

    def option(self, name: str, default: str | None = None) -> str | None:
        return dict(self.options).get(name, default)


@dataclass(frozen=True)
class GroupTerm:
    """One group-level term ``(expr | group)`` after expanding ``a/b`` nesting.

    ``expr`` is the right-hand side for the varying effects in formulae syntax (intercept
    implied unless removed), ``group`` the grouping factor as brms names it (``a:b`` for an
    interaction of factors) and ``group_vars`` the data columns it combines. ``monotonic`` are
    varying ``mo()`` effects, ``id`` brms's correlation ID (``(1 |p| g)``: effects of every
    term with the same ID and group are correlated, across formulas) and ``dpar`` the
    distributional parameter whose formula holds the term.
    """

    expr: str
    group: str
    group_vars: tuple[str, ...]
    correlated: bool
    text: str  # the term as written, for messages
    monotonic: tuple[MonotonicTerm, ...] = ()
    id: str = ""
    dpar: str = "mu"
    category_specific: bool = False  # (cs(1) | g): one effect per threshold of an ordinal model


@dataclass(frozen=True)
class PredictorFormula:
    """The right-hand side of one distributional parameter's formula (``mu`` is the first)."""

    dpar: str
    fixed: str
    group_terms: tuple[GroupTerm, ...] = ()
    offsets: tuple[str, ...] = ()
    monotonic: tuple[MonotonicTerm, ...] = ()
    text: str = ""  # the formula as written
    category_specific: tuple[str, ...] = ()  # expressions inside cs(): ordinal families
    smooths: tuple[SmoothTerm, ...] = ()  # s(), t2() and gp() calls


@dataclass(frozen=True)
class AdditionTerm:
    """A brms addition term on the left-hand side: ``trials(n)`` → ('trials', ('n',))."""

    name: str
    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BrmsFormula:
    """A parsed model formula: the response, its addition terms, the formula of ``mu`` and
    those of other distributional parameters (``dpars``, brms's ``bf(y ~ x, sigma ~ z)``).

    ``fixed``, ``group_terms``, ``offsets`` and ``monotonic`` are ``mu``'s.
    """

    text: str
    response: str
    fixed: str
    group_terms: tuple[GroupTerm, ...] = ()
    additions: tuple[AdditionTerm, ...] = ()
    display: str = field(default="")
    offsets: tuple[str, ...] = ()  # expressions inside offset(...) in the linear predictor
    monotonic: tuple[MonotonicTerm, ...] = ()
    dpars: tuple[PredictorFormula, ...] = ()
    fixed_dpars: tuple[tuple[str, float], ...] = ()  # bf(..., quantile = 0.9)
    category_specific: tuple[str, ...] = ()  # mu's cs() terms
    smooths: tuple[SmoothTerm, ...] = ()  # mu's s(), t2() and gp() calls
    # categorical models: mu's formula stands for one predictor per non-reference category
    # (brms's mu2, mu3, ...), set once the response's categories are known
    mu_dpars: tuple[str, ...] = ()

    def with_category_predictors(self, names: tuple[str, ...]) -> BrmsFormula:
        """The formula whose mu formula is repeated for each of ``names`` (``mu2``, ...)."""
        return replace(self, mu_dpars=tuple(names))

    @property
    def mu(self) -> PredictorFormula:
        return PredictorFormula(
            "mu", self.fixed, self.group_terms, self.offsets, self.monotonic, self.text,
            self.category_specific, self.smooths,
        )  # fmt: skip

    @property
    def predictors(self) -> tuple[PredictorFormula, ...]:
        """One formula per predicted parameter, ``mu`` first (categorical models: ``mu2``,
        ``mu3``, ... with mu's right-hand side)."""
        if not self.mu_dpars:
            return (self.mu, *self.dpars)
        mu = self.mu
        copies = tuple(
            replace(mu, dpar=name, group_terms=tuple(replace(t, dpar=name) for t in mu.group_terms))
            for name in self.mu_dpars
        )
        return (*copies, *self.dpars)

    @property
    def all_group_terms(self) -> tuple[GroupTerm, ...]:
        """The group-level terms of every formula."""
        return tuple(t for p in self.predictors for t in p.group_terms)

    @property
    def groups(self) -> tuple[str, ...]:
        """Grouping factors in order of first appearance."""
        return tuple(dict.fromkeys(t.group for t in self.all_group_terms))

    @property
    def source(self) -> str:
        """Text that ``parse_formula`` turns back into this formula."""
        return f"bf({self.text})" if self.dpars or self.fixed_dpars else self.text

    def __str__(self) -> str:
        return self.text if self.dpars or self.fixed_dpars else (self.display or self.text)

    def canonical(self) -> str:
        """The formula rewritten from its terms, one group-level term per block (``(1 | a/b)``
        becomes ``(1 | a) + (1 | a:b)``); parsing it gives the same terms."""
        lhs = self.response
        if self.additions:
            lhs += " | " + " + ".join(_addition_text(a) for a in self.additions)
        parts = [f"{lhs} ~ {_rhs_text(self.mu)}"]
        parts += [f"{p.dpar} ~ {_rhs_text(p)}" for p in self.dpars]
        return parts[0] if len(parts) == 1 else f"bf({', '.join(parts)})"

    def terms(self) -> tuple:
        """What the formula means, without how it was written (for comparisons)."""

        def predictor(p: PredictorFormula) -> tuple:
            groups = tuple(
                (
                    t.expr,
                    t.group,
                    t.group_vars,
                    t.correlated,
                    t.monotonic,
                    t.id,
                    t.category_specific,
                )
                for t in p.group_terms
            )
            return (
                p.dpar, p.fixed, groups, p.offsets, p.monotonic, p.category_specific, p.smooths
            )  # fmt: skip

        return (
            self.response,
            self.additions,
            tuple(predictor(p) for p in self.predictors),
        )


_OPEN, _CLOSE = "([", ")]"
_SPACED = "+-*/"  # binary operators written with a space on each side
# a number's exponent just begun ("1e", "2.5E"), not a name ending in e ("A0E")
_NUMBER_EXPONENT = re.compile(r"(?<![\w.])(\d+\.?\d*|\.\d+)[eE]$")


def normalize_expression(expr: str) -> str:
    """One spelling per expression: ``0+x`` and ``0 +  x`` both become ``0 + x``; ``a : b``
    becomes ``a:b``; names in backticks keep their spaces."""
    out: list[str] = []
    quoted = False
    for ch in expr:
        if ch == "`":
            quoted = not quoted
        if quoted or ch == "`":
            out.append(ch)
        elif ch.isspace():
            continue
        elif ch in "+-" and _NUMBER_EXPONENT.search("".join(out[-40:])):
            out.append(ch)  # the sign of an exponent: 1e-3
        elif ch in _SPACED and out and out[-1] not in "(,^" and not out[-1].endswith(" "):
            out.append(f" {ch} ")
        elif ch == ",":
            out.append(", ")
        else:
            out.append(ch)
    return "".join(out).strip()


def _split_top(text: str, sep: str, offset: int = 0) -> list[tuple[str, int]]:
    """Split ``text`` at ``sep`` outside parentheses; return (piece, start offset) pairs."""
    pieces, depth, start = [], 0, 0
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0 and text.startswith(sep, i):
            pieces.append((text[start:i], offset + start))
            i += len(sep)
            start = i
            continue
        i += 1
    pieces.append((text[start:], offset + start))
    return pieces


def _check_parens(formula: str) -> None:
    stack: list[int] = []
    for i, ch in enumerate(formula):
        if ch in _OPEN:
            stack.append(i)
        elif ch in _CLOSE:
            if not stack:
                raise FormulaError("Unmatched closing parenthesis in formula.", formula, (i, i + 1))
            stack.pop()
    if stack:
        raise FormulaError("Unclosed parenthesis in formula.", formula, (stack[-1], stack[-1] + 1))


def _rhs_terms(rhs: str, offset: int) -> list[tuple[str, str, int]]:
    """Split a right-hand side into (sign, term, offset) at top-level + and -."""
    out: list[tuple[str, str, int]] = []
    depth, start, sign = 0, 0, "+"
    for i, ch in enumerate(rhs + "+"):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif depth == 0 and ch in "+-":
            piece = rhs[start:i]
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                out.append((sign, piece.strip(), offset + start + lead))
            sign = ch
            start = i + 1
    return out


_GROUP_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")


def _expand_group(group: str, formula: str, pos: int) -> list[tuple[str, tuple[str, ...]]]:
    """``a/b`` → [a, a:b]; ``a:b`` → [a:b]; returns (group name, columns)."""
    group = group.strip()
    if not group:
        raise FormulaError(
            "Group-level term has no grouping factor after '|'.", formula, (pos, pos + 1)
        )
    nested = [g.strip() for g in group.split("/")]
    out = []
    for depth in range(1, len(nested) + 1):
        cols: list[str] = []
        for part in nested[:depth]:
            cols.extend(c.strip() for c in part.split(":"))
        for c in cols:
            if not _GROUP_NAME.match(c):
                raise FormulaError(
                    f"Cannot read grouping factor '{c}': use column names, 'a:b' or 'a/b'.",
                    formula,
                    (pos, pos + len(group)),
                )
        out.append((":".join(cols), tuple(cols)))
    return out


def _parse_group_term(
    inner: str, text: str, formula: str, pos: int, dpar: str, order: list[str]
) -> list[GroupTerm]:
    bars = _split_top(inner, "|")
    # "a || g" splits into ["a ", "", " g"]; "a |p| g" into ["a ", "p", " g"]
    gid = ""
    if len(bars) == 3 and bars[1][0] == "":
        expr, group_part, correlated = bars[0][0], bars[2], False
    elif len(bars) == 3 and _GROUP_NAME.match(bars[1][0].strip()):
        expr, group_part, correlated = bars[0][0], bars[2], True
        gid = bars[1][0].strip()
    elif len(bars) == 2:
        expr, group_part, correlated = bars[0][0], bars[1], True
    else:
        raise FormulaError(
            "Group-level term must look like (terms | group), (terms || group) or "
            "(terms |ID| group).",
            formula,
            (pos, pos + len(text)),
        )
    expr = normalize_expression(expr)
    if not expr:
        raise FormulaError(
            "Group-level term has no effects before '|' (write '1' for a varying intercept).",
            formula,
            (pos, pos + len(text)),
        )
    smooth = _SMOOTH_IN.search(expr)
    if smooth:
        raise FormulaError(
            f"{smooth.group(1)}() cannot be part of a group-level term ({text}); smooth and "
            "Gaussian-process terms are population-level terms: write them outside the "
            f"parentheses, e.g. 'y ~ {smooth.group(1)}(x) + (1 | g)', or use "
            f"{smooth.group(1)}(x, by = g) for one curve per level.",
            formula,
            (pos, pos + len(text)),
        )
    category_specific = False
    if "cs(" in expr:  # brms's (cs(1) | g): one varying intercept per threshold
        if normalize_expression(expr.replace(" ", "")) != "cs(1)":
            raise FormulaError(
                "A category-specific group-level term is written (cs(1) | g) (varying "
                f"thresholds); got ({expr} | ...).",
                formula,
                (pos, pos + len(text)),
            )
        expr, category_specific = "1", True
    expr, monotonic = _split_monotonic(expr, formula, pos, order)
    group_text, group_off = group_part
    return [
        GroupTerm(
            expr=expr,
            group=name,
            group_vars=cols,
            correlated=correlated,
            text=text,
            monotonic=monotonic,
            id=gid,
            dpar=dpar,
            category_specific=category_specific,
        )
        for name, cols in _expand_group(group_text, formula, pos + 1 + group_off)
    ]


# -- monotonic terms -------------------------------------------------------------------------

_MO_CALL = re.compile(r"^mo\((.*)\)$", re.S)


def _split_monotonic(
    expr: str, formula: str, pos: int, order: list[str]
) -> tuple[str, tuple[MonotonicTerm, ...]]:
    """Take the ``mo()`` terms out of a right-hand side; return (rest, monotonic terms).

    ``a*mo(x)`` expands to ``a + mo(x) + a:mo(x)``, as R expands it. The rest keeps its
    intercept (``mo(x)`` alone leaves ``1``; ``0 + mo(x)`` leaves ``0``).
    """
    if "mo(" not in expr:
        return expr, ()
    rest: list[tuple[str, str]] = []
    mono: list[MonotonicTerm] = []
    for sign, term, _ in _rhs_terms(expr, 0):
        if "mo(" not in term:
            rest.append((sign, term))
            continue
        if sign == "-":
            raise FormulaError(f"A monotonic term cannot be removed: '- {term}'.", formula)
        factors = [f.strip() for f, _ in _split_top(term.replace("*", ":"), ":")]
        if "*" in term:
            subsets = _r_subsets(factors)
        else:
            subsets = [factors]
        for sub in subsets:
            if any(_MO_CALL.match(f) for f in sub):
                mono.append(_monotonic_term(sub, formula, pos, order))
            else:
                rest.append(("+", ":".join(sub)))
    if not rest or all(t in ("1",) for _, t in rest):
        text = "1"
    else:
        text = " ".join(t if i == 0 and s == "+" else f"{s} {t}" for i, (s, t) in enumerate(rest))
    return normalize_expression(text), tuple(mono)


_CS_CALL = re.compile(r"^cs\((.*)\)$", re.S)


def _split_category_specific(expr: str, formula: str) -> tuple[str, tuple[str, ...]]:
    """Take brms's category-specific ``cs(x)`` terms out of a right-hand side; the rest keeps
    its intercept (``y ~ cs(x)`` leaves ``1``)."""
    if "cs(" not in expr:
        return expr, ()
    rest: list[tuple[str, str]] = []
    found: list[str] = []
    for sign, term, _ in _rhs_terms(expr, 0):
        m = _CS_CALL.match(term)
        if m is None:
            if "cs(" in term:
                raise FormulaError(
                    f"cs() must stand alone as a term, as in 'y ~ cs(x)'; got '{term}'.", formula
                )
            rest.append((sign, term))
            continue
        if sign == "-" or not m.group(1).strip():
            raise FormulaError(f"A category-specific term is written '+ cs(x)'; got '{term}'.",
                               formula)  # fmt: skip
        found.append(normalize_expression(m.group(1)))
    if not rest or all(t == "1" for _, t in rest):
        text = "1"
    else:
        text = " ".join(t if i == 0 and s == "+" else f"{s} {t}" for i, (s, t) in enumerate(rest))
    return normalize_expression(text), tuple(found)


# -- smooth and Gaussian-process calls ---------------------------------------------------------

_SMOOTH_CALL = re.compile(r"^(s|t2|gp)\((.*)\)$", re.S)
_SMOOTH_IN = re.compile(r"(?<![\w.])(s|t2|gp)\(")
SMOOTH_OPTIONS = {
    "s": ("k", "bs", "by"),
    "t2": ("k", "bs", "by"),
    "gp": ("by", "k", "c", "scale", "iso", "cov", "gr"),
}


def _split_smooths(expr: str, formula: str) -> tuple[str, tuple[SmoothTerm, ...]]:
    """Take the ``s()``, ``t2()`` and ``gp()`` calls out of a right-hand side; the rest keeps
    its intercept (``y ~ s(x)`` leaves ``1``)."""
    if not _SMOOTH_IN.search(expr):
        return expr, ()
    rest: list[tuple[str, str]] = []
    found: list[SmoothTerm] = []
    for sign, term, _ in _rhs_terms(expr, 0):
        m = _SMOOTH_CALL.match(term)
        if m is None:
            if _SMOOTH_IN.search(term):
                call = _SMOOTH_IN.search(term).group(1)
                raise FormulaError(
                    f"{call}() must stand alone as a term, as in 'y ~ {call}(x)'; got '{term}' "
                    f"(for one curve per level of a factor write {call}(x, by = g)).",
                    formula,
                )
            rest.append((sign, term))
            continue
        if sign == "-":
            raise FormulaError(f"A smooth term cannot be removed: '- {term}'.", formula)
        found.append(_smooth_term(m.group(1), m.group(2), formula))
    labels = [t.label for t in found]
    for t in found:
        if labels.count(t.label) > 1:
            raise FormulaError(f"The term {t.label} appears twice.", formula)
    if not rest or all(t == "1" for _, t in rest):
        text = "1"
    else:
        text = " ".join(t if i == 0 and s == "+" else f"{s} {t}" for i, (s, t) in enumerate(rest))
    return normalize_expression(text), tuple(found)


def _r_argument(value: str) -> str:
    """An argument as R deparses it: double quotes, ``c(a, b)`` spacing, ``5/4`` kept."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return f'"{value[1:-1]}"'
    return normalize_expression(value).replace(" / ", "/").replace(" * ", "*")


def _smooth_term(function: str, inner: str, formula: str) -> SmoothTerm:
    """One ``s(...)``/``t2(...)``/``gp(...)`` call: covariates first, then named options."""
    variables: list[str] = []
    options: list[tuple[str, str]] = []
    for arg, _ in _split_top(inner, ","):
        arg = arg.strip()
        named = re.match(r"^([A-Za-z_.][A-Za-z0-9_.]*)\s*=(?!=)\s*(.*)$", arg, re.S)
        if named:
            name, value = named.group(1), named.group(2).strip()
            if name not in SMOOTH_OPTIONS[function]:
                allowed = ", ".join(SMOOTH_OPTIONS[function])
                raise FormulaError(
                    f"{function}() has no option '{name}' here; the options supported are "
                    f"{allowed}.",
                    formula,
                )
            if not value:
                raise FormulaError(f"{function}(): option '{name}' has no value.", formula)
            options.append((name, _r_argument(value)))
        elif options:
            raise FormulaError(
                f"{function}(): the covariates come before the named options; got '{arg}' "
                "after them.",
                formula,
            )
        elif not _GROUP_NAME.match(arg.strip("`")):
            raise FormulaError(
                f"{function}() takes column names as covariates, as in {function}(x, z); got "
                f"'{arg}'. Compute the column first.",
                formula,
            )
        else:
            variables.append(arg.strip("`"))
    if not variables:
        raise FormulaError(f"{function}() needs at least one covariate, as in {function}(x).",
                           formula)  # fmt: skip
    label = f"{function}({', '.join([*variables, *(f'{k} = {v}' for k, v in options)])})"
    return SmoothTerm(function, tuple(variables), tuple(options), label)


def _r_subsets(factors: list[str]) -> list[list[str]]:
    """The terms of ``a*b*c`` in R's order: main effects, then two-way interactions, ..."""
    from itertools import combinations

    return [list(c) for k in range(1, len(factors) + 1) for c in combinations(factors, k)]


def _monotonic_term(factors: list[str], formula: str, pos: int, order: list[str]) -> MonotonicTerm:
    for f in factors:
        m = _MO_CALL.match(f)
        if m and not _GROUP_NAME.match(m.group(1).strip()):
            raise FormulaError(
                f"mo() takes one column name, as in mo(x); got '{f}'.", formula, (pos, pos + 1)
            )
    # R labels an interaction with its variables in order of first appearance in the formula
    ranked = sorted(factors, key=lambda f: order.index(f) if f in order else len(order))
    variables = tuple(_MO_CALL.match(f).group(1).strip() for f in ranked if _MO_CALL.match(f))
    covariate = ":".join(f for f in ranked if not _MO_CALL.match(f))
    return MonotonicTerm(variables, covariate, ":".join(ranked))


def _first_appearance(rhs: str) -> list[str]:
    """Variables (and mo() calls) of a right-hand side in order of first appearance."""
    out: list[str] = []
    for _, term, _ in _rhs_terms(rhs, 0):
        if term.startswith("(") and len(_split_top(term[1:-1], "|")) > 1:
            continue
        for f, _ in _split_top(term.replace("*", ":"), ":"):
            f = f.strip()
            if f and f not in out:
                out.append(f)
    return out


_ADDITION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", re.S)
KNOWN_ADDITIONS = ("trials", "weights", "se", "cens", "trunc", "rate")


def _parse_additions(text: str, formula: str, pos: int) -> tuple[AdditionTerm, ...]:
    adds = []
    for piece, off in _split_top(text, "+", pos):
        m = _ADDITION.match(piece)
        if not m or m.group(1) not in KNOWN_ADDITIONS:
            raise FormulaError(
                f"Unknown addition term '{piece.strip()}' on the left-hand side; "
                f"known: {', '.join(f'{a}()' for a in KNOWN_ADDITIONS)}.",
                formula,
                (off, off + len(piece)),
            )
        args, kwargs = [], []
        for a, _ in _split_top(m.group(2), ","):
            a = a.strip()
            if "=" in a and not a.startswith("="):
                k, v = a.split("=", 1)
                kwargs.append((k.strip(), normalize_expression(v)))
            elif a:
                args.append(normalize_expression(a))
        name = m.group(1)
        bounds_only = name == "trunc" and kwargs and not args
        if (not args and not bounds_only) or any(not v for _, v in kwargs):
            raise FormulaError(
                f"Addition term {name}() needs a column or number as its first argument "
                "(and a value after each '=').",
                formula,
                (off, off + len(piece)),
            )
        if name == "trunc" and ({k for k, _ in kwargs} - {"lb", "ub"} or args):
            raise FormulaError(
                "trunc() takes the bounds by name: trunc(lb = 0), trunc(ub = 10) or both.",
                formula,
                (off, off + len(piece)),
            )
        adds.append(AdditionTerm(m.group(1), tuple(args), tuple(kwargs)))
    return tuple(adds)


def parse_formula(formula: str | BrmsFormula) -> BrmsFormula:
    """Parse a brms/lme4 model formula into typed terms.

    Parameters
    ----------
    formula : str or BrmsFormula
        e.g. ``"Reaction ~ Days + (Days | Subject)"``, or brms's
        ``"bf(y ~ x, sigma ~ x + (1 | g))"`` (same as ``bayesml.bf(...)``). Supported
        group-level syntax: ``(x | g)``, ``(1 | g)``, ``(0 + x | g)``, ``(x || g)``,
        ``(1 | a/b)``, ``(1 | a:b)``, ``(1 |ID| g)``; monotonic effects ``mo(x)``.

    Returns
    -------
    BrmsFormula

    Raises
    ------
    FormulaError
        With the formula quoted and the offending part marked.
    """
    if isinstance(formula, BrmsFormula):
        return formula
    if not isinstance(formula, str):
        raise FormulaError(f"A formula must be a string, got {type(formula).__name__}.")
    text = " ".join(formula.split())
    m = _BF_CALL.match(text)
    if m:
        _check_parens(text)
        parts = [p.strip() for p, _ in _split_top(m.group(2), ",")]
        positional = [p for p in parts if "~" in p or "=" not in p]
        named = dict(p.split("=", 1) for p in parts if "~" not in p and "=" in p)
        return bf(*positional, **{k.strip(): v.strip() for k, v in named.items()})
    return _parse_main(text)


def bf(formula: str, *dpar_formulas: str, **dpars: str) -> BrmsFormula:
    """brms's ``bf()``: a model formula with formulas for distributional parameters.

    Parameters
    ----------
    formula : str
        The formula of the response and ``mu``, e.g. ``"y ~ x + (1 | g)"``.
    *dpar_formulas : str
        Formulas of other distributional parameters: ``"sigma ~ x + (1 | g)"``.
    **dpars : str
        The same by keyword: ``sigma="~ x"`` (or ``sigma="x"``).

    Returns
    -------
    BrmsFormula
        Accepted wherever a formula string is.

    Examples
    --------
    >>> f = bf("y ~ x + (1 | g)", sigma="~ x")
    >>> [p.dpar for p in f.predictors]
    ['mu', 'sigma']
    """
    main = _parse_main(" ".join(str(formula).split()))
    written = [" ".join(str(t).split()) for t in dpar_formulas]
    fixed = []
    for name, value in list(dpars.items()):
        number = _number(value)
        if number is not None:  # bf(y ~ x, quantile = 0.9): the parameter is fixed
            fixed.append((name, number))
            del dpars[name]
    for name, rhs in dpars.items():
        rhs = " ".join(str(rhs).split())
        if "~" in rhs and not rhs.startswith("~"):
            raise FormulaError(
                f"The formula of '{name}' has a response ('{rhs.split('~')[0].strip()}'); a "
                f"distributional parameter's formula has none: write {name}='~ ...'.",
                rhs,
            )
        written.append(f"{name} {rhs}" if rhs.startswith("~") else f"{name} ~ {rhs}")
    predictors: list[PredictorFormula] = []
    for text in written:
        predictors.append(_parse_dpar(text, main.response))
    names = [p.dpar for p in predictors]
    for name in names:
        if names.count(name) > 1:
            raise FormulaError(f"Parameter '{name}' has more than one formula.", "; ".join(written))
    full = ", ".join([main.text, *written, *(f"{n} = {v:g}" for n, v in fixed)])
    out = replace(main, dpars=tuple(predictors), display=main.display or main.text)
    out = replace(out, text=full if written or fixed else main.text, fixed_dpars=tuple(fixed))
    _check_ids(out)
    return out


def _number(value) -> float | None:
    """A fixed parameter value (a number, or text holding one), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


_BF_CALL = re.compile(r"^(bf|brmsformula)\((.*)\)$", re.S)


def _parse_dpar(text: str, response: str) -> PredictorFormula:
    _check_parens(text)
    sides = _split_top(text, "~")
    if len(sides) != 2:
        raise FormulaError(
            "A distributional parameter's formula needs one '~': write 'sigma ~ x'.", text
        )
    (lhs, _), (rhs, rhs_off) = sides
    name = lhs.strip()
    if "|" in name or not _GROUP_NAME.match(name) or name == response:
        raise FormulaError(
            f"'{name}' is not a distributional parameter: the formulas after the first one "
            "model parameters such as sigma, shape or phi (written 'sigma ~ x') and have no "
            "response or addition terms.",
            text,
            (0, max(1, len(lhs.rstrip()))),
        )
    if not rhs.strip():
        raise FormulaError("The formula has nothing right of '~'.", text, (rhs_off - 1, rhs_off))
    return _parse_rhs(rhs, rhs_off, text, name)


def _parse_main(text: str) -> BrmsFormula:
    if not text:
        raise FormulaError("The formula is empty.")
    _check_parens(text)
    text = _QUOTED.sub(lambda m: f"`{m.group(2)}`", text)
    sides = _split_top(text, "~")
    if len(sides) != 2:
        where = (sides[2][1] - 1, sides[2][1]) if len(sides) > 2 else None
        msg = "A formula needs exactly one '~' between response and predictors."
        raise FormulaError(msg, text, where)
    (lhs, _), (rhs, rhs_off) = sides
    if not lhs.strip():
        raise FormulaError("The formula has no response left of '~'.", text, (0, 1))
    if not rhs.strip():
        raise FormulaError("The formula has nothing right of '~'.", text, (rhs_off - 1, rhs_off))

    lhs_parts = _split_top(lhs, "|")
    if len(lhs_parts) > 2:
        raise FormulaError("The response may have one '|' before its addition terms.", text)
    response = lhs_parts[0][0].strip()
    additions = (
        _parse_additions(lhs_parts[1][0], text, lhs_parts[1][1]) if len(lhs_parts) == 2 else ()
    )
    display = ""
    cbind = _CBIND.match(response)
    if cbind:
        response, trials = _translate_cbind(cbind.group(1), text)
        if any(a.name == "trials" for a in additions):
            raise FormulaError("cbind() and trials() both give the number of trials.", text)
        additions = (AdditionTerm("trials", (trials,)), *additions)
        written = " + ".join(_addition_text(a) for a in additions)
        display = f"{response} | {written} ~{rhs}"
    mu = _parse_rhs(rhs, rhs_off, text, "mu")
    return BrmsFormula(
        text=text,
        response=response,
        fixed=mu.fixed,
        group_terms=mu.group_terms,
        additions=additions,
        display=display,
        offsets=mu.offsets,
        monotonic=mu.monotonic,
        category_specific=mu.category_specific,
        smooths=mu.smooths,
    )


def _parse_rhs(rhs: str, rhs_off: int, text: str, dpar: str) -> PredictorFormula:
    """One right-hand side: population-level terms, offsets, mo() and group-level terms."""
    order = _first_appearance(rhs)
    fixed_parts: list[str] = []
    group_terms: list[GroupTerm] = []
    offsets: list[str] = []
    for sign, term, pos in _rhs_terms(rhs, rhs_off):
        off = _OFFSET.match(term)
        if off:
            if sign == "-" or not off.group(1).strip():
                raise FormulaError(
                    "An offset is written '+ offset(x)'.", text, (pos, pos + len(term))
                )
            offsets.append(normalize_expression(off.group(1)))
            continue
        if term.startswith("(") and term.endswith(")") and len(_split_top(term[1:-1], "|")) > 1:
            if sign == "-":
                raise FormulaError(
                    "Group-level terms cannot be subtracted.", text, (pos, pos + len(term))
                )
            group_terms.extend(_parse_group_term(term[1:-1], term, text, pos, dpar, order))
        else:
            if term == ".":
                raise FormulaError(
                    "'.' (every other column) is not supported; name the predictors, e.g. "
                    "'y ~ x1 + x2'.",
                    text,
                    (pos, pos + 1),
                )
            if "|" in term:
                raise FormulaError(
                    "A '|' must sit inside parentheses: write (terms | group).",
                    text,
                    (pos, pos + len(term)),
                )
            term = normalize_expression(term)
            fixed_parts.append(term if sign == "+" and not fixed_parts else f"{sign} {term}")
    fixed = " ".join(fixed_parts).strip()
    if fixed.startswith("+ "):
        fixed = fixed[2:]
    if not fixed:
        fixed = "1"
    fixed, monotonic = _split_monotonic(fixed, text, rhs_off, order)
    fixed, category_specific = _split_category_specific(fixed, text)
    fixed, smooths = _split_smooths(fixed, text)
    _check_duplicates(group_terms, text)
    return PredictorFormula(
        dpar, fixed, tuple(group_terms), tuple(offsets), monotonic, text, category_specific,
        smooths,
    )  # fmt: skip


def _rhs_text(p: PredictorFormula) -> str:
    rhs = [p.fixed, *(t.label for t in p.monotonic), *(f"offset({o})" for o in p.offsets)]
    rhs += [f"cs({e})" for e in p.category_specific]
    rhs += [t.label for t in p.smooths]
    for t in p.group_terms:
        expr = " + ".join([t.expr, *(m.label for m in t.monotonic)])
        if t.category_specific:
            expr = "cs(1)"
        bar = "||" if not t.correlated else (f"|{t.id}|" if t.id else "|")
        rhs.append(f"({expr} {bar} {t.group})")
    return " + ".join(rhs)


def _check_ids(f: BrmsFormula) -> None:
    """brms's correlation IDs: one ID stands for one grouping factor."""
    seen: dict[str, GroupTerm] = {}
    for t in f.all_group_terms:
        if not t.id:
            continue
        first = seen.setdefault(t.id, t)
        if first.group != t.group:
            raise FormulaError(
                f"ID '{t.id}' is used with grouping factors '{first.group}' ({first.text}) and "
                f"'{t.group}' ({t.text}); an ID correlates the effects of one grouping factor.",
                f.text,
            )


_CBIND = re.compile(r"^cbind\s*\((.*)\)$", re.S)
# patsy's Q("a column") for names that are not identifiers: brms writes `a column`
_QUOTED = re.compile(r"\bQ\(\s*([\"'])(.*?)\1\s*\)")
_OFFSET = re.compile(r"^offset\s*\((.*)\)$", re.S)


def _translate_cbind(inner: str, formula: str) -> tuple[str, str]:
    """lme4's ``cbind(s, f)`` → response ``s`` with ``trials(s + f)``."""
    parts = [p.strip() for p, _ in _split_top(inner, ",")]
    if len(parts) != 2 or not all(parts):
        raise FormulaError(
            "cbind() on the left-hand side takes two arguments: cbind(successes, failures).",
            formula,
            (0, formula.find(")") + 1),
        )
    succ, fail = parts
    if not re.match(r"^[A-Za-z_.][A-Za-z0-9_.]*$", succ):
        raise FormulaError(
            f"The successes in cbind() must be a column name, got '{succ}'.", formula
        )
    fail_text = fail if re.match(r"^[A-Za-z0-9_.]+$", fail) else f"({fail})"
    return succ, f"{succ} + {fail_text}"


def _addition_text(a: AdditionTerm) -> str:
    args = [*a.args, *(f"{k} = {v}" for k, v in a.kwargs)]
    return f"{a.name}({', '.join(args)})"


def _check_duplicates(terms: list[GroupTerm], formula: str) -> None:
    seen: set[tuple[str, str]] = set()
    for t in terms:
        key = (t.group, " ".join(t.expr.split()))
        if key in seen:
            start = formula.rfind(t.text)
            raise FormulaError(
                f"Duplicated group-level term for group '{t.group}': {t.text}.",
                formula,
                (start, start + len(t.text)) if start >= 0 else None,
            )
        seen.add(key)
