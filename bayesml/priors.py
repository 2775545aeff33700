"""The prior language: distributions as brms writes them, user priors, and the ``PriorTable``.

``parse_prior`` reads Stan-style prior strings (``student_t(3, 0, 2.5)``, ``lkj(1)``,
``dirichlet(1)``, ``constant(1)``); ``prior()`` makes a user prior; ``PriorTable`` holds brms's
prior data frame and prints exactly as brms prints it. A model's default table and the checks
of user priors against it live in ``bayesml.model_priors``.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pandas as pd
import pymc as pm

from ._rformat import R_CONSOLE_WIDTH, format_table, r_call, r_collate, r_num

__all__ = [
    "CORRELATION_DISTRIBUTIONS",
    "DISTRIBUTIONS",
    "SIMPLEX_DISTRIBUTIONS",
    "PriorDist",
    "PriorError",
    "PriorRow",
    "PriorSpec",
    "PriorSpecs",
    "PriorTable",
    "as_specs",
    "parse_prior",
    "prior",
    "signed_form",
]


class PriorError(ValueError):
    """A prior that cannot be used; the message names the prior and the rule it breaks."""


@dataclass(frozen=True)
class DistInfo:
    """One known prior distribution: Stan name, argument names, support, PyMC builder."""

    name: str
    params: tuple[str, ...]
    build: Callable[..., Callable]  # args -> (rv_name, **shape) -> RV ; .dist variant below
    dist: Callable[..., object]  # args -> unnamed PyMC distribution (for truncation)
    support: tuple[float, float] = (-math.inf, math.inf)
    symmetric_half: Callable | None = None  # args -> builder of the half distribution at lb 0
    location: int | None = None  # index of the location argument, for half-distribution checks
    # args -> the distribution on the real line (a PriorDist) whose absolute value has this
    # one (for positive distributions; symmetric ones centred at 0 are their own: signed_form)
    signed: Callable | None = None
    positive: tuple[int, ...] = ()  # arguments that must be > 0 (scales, shapes, rates)


def _dist(
    name,
    params,
    ctor,
    support=(-math.inf, math.inf),
    half=None,
    location=None,
    signed=None,
    positive=(),
):
    def build(*a):
        return lambda rv, **kw: ctor(rv, *a, **kw)

    def dist(*a):
        return ctor.dist(*a) if hasattr(ctor, "dist") else ctor(None, *a)

    return DistInfo(name, params, build, dist, support, half, location, signed, positive)


def _student_t(rv, nu, mu, sigma, **kw):
    return pm.StudentT(rv, nu=nu, mu=mu, sigma=sigma, **kw)


_student_t.dist = lambda nu, mu, sigma: pm.StudentT.dist(nu=nu, mu=mu, sigma=sigma)


def _normal(rv, mu, sigma, **kw):
    return pm.Normal(rv, mu=mu, sigma=sigma, **kw)


_normal.dist = lambda mu, sigma: pm.Normal.dist(mu=mu, sigma=sigma)


def _cauchy(rv, alpha, beta, **kw):
    return pm.Cauchy(rv, alpha=alpha, beta=beta, **kw)


_cauchy.dist = lambda alpha, beta: pm.Cauchy.dist(alpha=alpha, beta=beta)


def _logistic(rv, mu, s, **kw):
    return pm.Logistic(rv, mu=mu, s=s, **kw)


_logistic.dist = lambda mu, s: pm.Logistic.dist(mu=mu, s=s)


def _laplace(rv, mu, b, **kw):
    return pm.Laplace(rv, mu=mu, b=b, **kw)


_laplace.dist = lambda mu, b: pm.Laplace.dist(mu=mu, b=b)


def _exponential(rv, lam, **kw):
    return pm.Exponential(rv, lam=lam, **kw)


_exponential.dist = lambda lam: pm.Exponential.dist(lam=lam)


def _signed_exponential(lam):
    # |x| ~ exponential(lam) for x ~ double_exponential(0, 1 / lam)
    return PriorDist("double_exponential", (0.0, 1.0 / lam))


def _gamma(rv, alpha, beta, **kw):
    return pm.Gamma(rv, alpha=alpha, beta=beta, **kw)


_gamma.dist = lambda alpha, beta: pm.Gamma.dist(alpha=alpha, beta=beta)


def _inv_gamma(rv, alpha, beta, **kw):
    return pm.InverseGamma(rv, alpha=alpha, beta=beta, **kw)


_inv_gamma.dist = lambda alpha, beta: pm.InverseGamma.dist(alpha=alpha, beta=beta)


def _lognormal(rv, mu, sigma, **kw):
    return pm.LogNormal(rv, mu=mu, sigma=sigma, **kw)


_lognormal.dist = lambda mu, sigma: pm.LogNormal.dist(mu=mu, sigma=sigma)


def _beta(rv, a, b, **kw):
    return pm.Beta(rv, alpha=a, beta=b, **kw)


_beta.dist = lambda a, b: pm.Beta.dist(alpha=a, beta=b)


def _uniform(rv, lower, upper, **kw):
    return pm.Uniform(rv, lower=lower, upper=upper, **kw)


_uniform.dist = lambda lower, upper: pm.Uniform.dist(lower=lower, upper=upper)


def _half_student_t(rv, nu, mu, sigma, **kw):
    return pm.HalfStudentT(rv, nu=nu, sigma=sigma, **kw)


def _half_normal(rv, mu, sigma, **kw):
    return pm.HalfNormal(rv, sigma=sigma, **kw)


def _half_cauchy(rv, alpha, beta, **kw):
    return pm.HalfCauchy(rv, beta=beta, **kw)


_POS = (0.0, math.inf)

DISTRIBUTIONS: dict[str, DistInfo] = {
    d.name: d
    for d in [
        _dist(
            "student_t",
            ("nu", "mu", "sigma"),
            _student_t,
            half=_half_student_t,
            location=1,
            positive=(0, 2),
        ),
        _dist("normal", ("mu", "sigma"), _normal, half=_half_normal, location=0, positive=(1,)),
        _dist("cauchy", ("mu", "sigma"), _cauchy, half=_half_cauchy, location=0, positive=(1,)),
        _dist("logistic", ("mu", "sigma"), _logistic, location=0, positive=(1,)),
        _dist("double_exponential", ("mu", "sigma"), _laplace, location=0, positive=(1,)),
        _dist(
            "exponential",
            ("beta",),
            _exponential,
            support=_POS,
            signed=_signed_exponential,
            positive=(0,),
        ),
        _dist("gamma", ("alpha", "beta"), _gamma, support=_POS, positive=(0, 1)),
        _dist("inv_gamma", ("alpha", "beta"), _inv_gamma, support=_POS, positive=(0, 1)),
        _dist("lognormal", ("mu", "sigma"), _lognormal, support=_POS, positive=(1,)),
        _dist("beta", ("alpha", "beta"), _beta, support=(0.0, 1.0), positive=(0, 1)),
        _dist("uniform", ("alpha", "beta"), _uniform),
    ]
}


def signed_form(dist: PriorDist) -> PriorDist | None:
    """The distribution on the real line whose absolute value has ``dist`` restricted to
    ``[0, inf)`` (a prior with ``lb = 0``), or None: ``dist`` itself when it is symmetric and
    centred at 0, a table entry's ``signed`` for positive ones (exponential)."""
    info = DISTRIBUTIONS.get(dist.name)
    if info is None:
        return None
    if info.signed is not None:
        return info.signed(*dist.args)
    if info.location is not None and info.support[0] == -math.inf:
        if dist.args[info.location] == 0:
            return dist
    return None


# Distributions that only make sense for correlation matrices, and for simplexes (mo()).
CORRELATION_DISTRIBUTIONS = ("lkj", "lkj_corr_cholesky")
SIMPLEX_DISTRIBUTIONS = ("dirichlet",)
SPECIAL_DISTRIBUTIONS = ("constant",)


@dataclass(frozen=True)
class PriorDist:
    """A parsed prior string such as ``student_t(3, 0, 2.5)``."""

    name: str
    args: tuple[float, ...]

    def __str__(self) -> str:
        return r_call(self.name, self.args)


_CALL = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", re.S)


def parse_prior(text: str) -> PriorDist | None:
    """Parse a Stan-style prior string; ``""`` or ``"flat"`` give None (improper flat prior).

    Raises
    ------
    PriorError
        Unreadable string, unknown distribution (the known ones are listed) or a wrong
        number of arguments.
    """
    text = (text or "").strip()
    if text in ("", "flat", "(flat)"):
        return None
    m = _CALL.match(text)
    if not m:
        raise PriorError(f"Cannot read prior '{text}': expected a call such as 'normal(0, 10)'.")
    name, body = m.group(1), m.group(2)
    known = (
        *DISTRIBUTIONS,
        *CORRELATION_DISTRIBUTIONS,
        *SIMPLEX_DISTRIBUTIONS,
        *SPECIAL_DISTRIBUTIONS,
    )
    if name not in known:
        raise PriorError(
            f"Unknown prior distribution '{name}' in '{text}'; known: {', '.join(known)}."
        )
    try:
        args = tuple(float(eval_number(a)) for a in body.split(",")) if body.strip() else ()
    except ValueError as err:
        raise PriorError(f"Cannot read the arguments of prior '{text}': {err}") from err
    want = len(DISTRIBUTIONS[name].params) if name in DISTRIBUTIONS else 1
    if name in SIMPLEX_DISTRIBUTIONS and args:
        want = len(args)  # one concentration for all elements, or one each
    if len(args) != want:
        raise PriorError(f"Prior '{text}': {name} takes {want} argument(s), got {len(args)}.")
    _check_arguments(text, name, args)
    return PriorDist(name, args)


def _check_arguments(text: str, name: str, args: tuple[float, ...]) -> None:
    """Scales, shapes and rates positive, uniform's bounds in order, everything finite."""
    for a in args:
        if not math.isfinite(a):
            raise PriorError(f"Prior '{text}': every argument must be a finite number.")
    if name in DISTRIBUTIONS:
        info = DISTRIBUTIONS[name]
        for i in info.positive:
            if args[i] <= 0:
                raise PriorError(
                    f"Prior '{text}': {name}'s {info.params[i]} must be positive, got "
                    f"{r_num(args[i])}."
                )
        if name == "uniform" and not args[0] < args[1]:
            raise PriorError(f"Prior '{text}': uniform's lower bound must be below its upper.")
    elif name in CORRELATION_DISTRIBUTIONS and args[0] <= 0:
        raise PriorError(f"Prior '{text}': {name}'s eta must be positive, got {r_num(args[0])}.")
    elif name in SIMPLEX_DISTRIBUTIONS and min(args) <= 0:
        raise PriorError(f"Prior '{text}': dirichlet's concentrations must be positive.")


def eval_number(text: str) -> float:
    """A numeric prior argument (plain numbers, with an optional sign)."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"'{text}' is not a number") from None


@dataclass(frozen=True)
class PriorRow:
    """One row of a brms prior table."""

    prior: str = ""
    class_: str = ""
    coef: str = ""
    group: str = ""
    resp: str = ""
    dpar: str = ""
    nlpar: str = ""
    lb: str = ""
    ub: str = ""
    source: str = "default"


COLUMNS = ("prior", "class", "coef", "group", "resp", "dpar", "nlpar", "lb", "ub", "source")


def _row_key(r: PriorRow):
    return tuple(r_collate(v) for v in (r.resp, r.dpar, r.nlpar, r.class_, r.group, r.coef))


@dataclass
class PriorTable:
    """brms's prior data frame: one row per class, group and coefficient.

    ``str(table)`` is brms's print; ``to_frame()`` gives a pandas DataFrame.
    """

    rows: list[PriorRow] = field(default_factory=list)

    def sorted(self) -> PriorTable:
        uniq = list(dict.fromkeys(self.rows))
        return PriorTable(sorted(uniq, key=_row_key))

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def find(self, class_: str, coef: str = "", group: str = "", dpar: str = "") -> PriorRow | None:
        for r in self.rows:
            if (r.class_, r.coef, r.group, r.dpar) == (class_, coef, group, dpar):
                return r
        return None

    def resolve(self, class_: str, coef: str = "", group: str = "", dpar: str = "") -> PriorRow:
        """The prior in force for one parameter: coefficient beats group beats class (brms)."""
        for c, g in ((coef, group), ("", group), ("", "")):
            r = self.find(class_, c, g, dpar)
            if r is not None and r.prior:
                return r
        row = self.find(class_, coef, group, dpar) or self.find(class_, "", "", dpar)
        return (
            row if row is not None else PriorRow(class_=class_, coef=coef, group=group, dpar=dpar)
        )

    def display_rows(self) -> list[PriorRow]:
        """Rows as brms prints them: empty priors inherit ('(vectorized)') or show '(flat)'."""
        out = []
        for r in self.rows:
            if r.prior:
                out.append(r)
                continue
            is_class_row = not r.coef and not r.group
            inherited = None
            if not is_class_row:
                for g in (r.group, ""):
                    cand = self.find(r.class_, "", g, r.dpar)
                    if cand is not None and cand is not r and cand.prior:
                        inherited = cand
                        break
            lb, ub = r.lb, r.ub
            if not lb and not ub and not is_class_row:
                base = self.find(r.class_, "", "", r.dpar)
                if base is not None:
                    lb, ub = base.lb, base.ub
            out.append(
                replace(
                    r,
                    prior=inherited.prior if inherited else "(flat)",
                    source=r.source if is_class_row else "(vectorized)",
                    lb=lb,
                    ub=ub,
                )
            )
        return out

    def to_frame(self) -> pd.DataFrame:
        rows = self.display_rows()
        return pd.DataFrame(
            [[getattr(r, "class_" if c == "class" else c) for c in COLUMNS] for r in rows],
            columns=list(COLUMNS),
        )

    def lines(self, width: int | None = R_CONSOLE_WIDTH) -> list[str]:
        """brms's printed table, line by line: at R's default console width of 80
        characters (columns that do not fit continue in a block below, as R prints), or in
        one block when ``width`` is None."""
        frame = self.to_frame()
        return format_table(COLUMNS, frame.to_numpy().tolist(), width=width or sys.maxsize)

    def __str__(self) -> str:
        # printed in one block: R wraps the source column below the table at 80 columns
        return "\n".join(self.lines(width=None))

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)

    def as_fitted(self) -> PriorTable:
        """The table as the model uses it (brms's ``fit$prior``): ``cor`` rows become
        Cholesky-factor ``L`` rows with ``lkj_corr_cholesky``."""
        rows = []
        for r in self.rows:
            if r.class_ == "cor":
                prior = r.prior.replace("lkj(", "lkj_corr_cholesky(") if r.prior else ""
                rows.append(replace(r, class_="L", prior=prior))
            else:
                rows.append(r)
        return PriorTable(rows).sorted()


# -- user priors --------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorSpec:
    """One user prior, as brms's ``prior(normal(0, 1), class = b, coef = Days)``.

    Combine with ``+`` (or pass a list).
    """

    prior: str
    class_: str = "b"
    coef: str = ""
    group: str = ""
    dpar: str = ""
    lb: str = ""
    ub: str = ""

    def __add__(self, other) -> PriorSpecs:
        return PriorSpecs((self,)) + other

    def __str__(self) -> str:
        name = self.class_ if not self.coef else f"{self.class_}_{self.coef}"
        if self.group:
            name = f"{self.class_}_{self.group}" + (f"__{self.coef}" if self.coef else "")
        return f"{name} ~ {self.prior}"


class PriorSpecs(tuple):
    """Several user priors (``prior(...) + prior(...)``)."""

    def __add__(self, other) -> PriorSpecs:
        if isinstance(other, PriorSpec):
            return PriorSpecs((*self, other))
        return PriorSpecs((*self, *as_specs(other)))

    def __str__(self) -> str:
        return "\n".join(map(str, self))


def _bound_text(x) -> str:
    if x is None or x == "":
        return ""
    return r_num(float(x))


def prior(
    prior: str,
    class_: str = "b",
    coef: str = "",
    group: str = "",
    dpar: str = "",
    lb: float | str | None = None,
    ub: float | str | None = None,
) -> PriorSpec:
    """A user prior (brms's ``prior()`` / ``set_prior()``).

    Parameters
    ----------
    prior : str
        Stan-style distribution: ``normal(0, 10)``, ``student_t(3, 0, 20)``, ``cauchy(0, 1)``,
        ``exponential(1)``, ``gamma(2, 0.1)``, ``inv_gamma(a, b)``, ``lognormal(m, s)``,
        ``beta(a, b)``, ``uniform(a, b)``, ``logistic(m, s)``, ``double_exponential(m, s)``,
        ``lkj(eta)`` (class ``cor``), or ``constant(x)`` to fix the parameter.
    class_ : str
        ``b`` (default), ``Intercept``, ``sd``, ``cor``, ``sigma``, or a family parameter
        (``nu``, ``shape``, ``phi``).
    coef, group : str
        Narrow the prior to one coefficient and/or one grouping factor.
    lb, ub : float, optional
        Bounds (truncation), for a whole class as in brms.

    Raises
    ------
    PriorError
        The distribution is unknown or has the wrong number of arguments.

    Examples
    --------
    >>> p = prior("normal(0, 1)", class_="b", coef="Days") + prior("exponential(1)", "sigma")
    >>> len(p)
    2
    """
    parse_prior(prior)  # fail early on unknown distributions and argument counts
    class_ = "cor" if class_ == "L" else class_
    return PriorSpec(
        " ".join(str(prior).split()),
        class_,
        str(coef),
        str(group),
        dpar,
        _bound_text(lb),
        _bound_text(ub),
    )


def as_specs(prior) -> tuple[PriorSpec, ...]:
    if prior is None:
        return ()
    if isinstance(prior, PriorSpec):
        return (prior,)
    if isinstance(prior, str):
        raise TypeError(
            f"Pass priors as bayesml.prior('{prior}', class_=...), not as a bare string."
        )
    specs = tuple(prior)
    for s in specs:
        if not isinstance(s, PriorSpec):
            raise TypeError(f"Expected priors made with bayesml.prior(), got {type(s).__name__}.")
    return specs
