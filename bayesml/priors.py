"""Stage 3 — priors: brms's default priors, prior strings, and the ``PriorTable``.

The defaults follow brms 2.18 (``get_prior``): flat ``b``, a data-driven Student-t for the
centred ``Intercept``, half Student-t for ``sd`` and ``sigma`` with the same scale, ``lkj(1)``
for correlations. ``PriorTable`` prints exactly as brms prints its prior data frame.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pymc as pm

from ._rformat import format_table, r_call, r_collate, r_mad, r_num, r_round
from .design import Design, make_design
from .families import ZERO_SHIFT_LINKS, Family, get_family

__all__ = [
    "DISTRIBUTIONS",
    "PriorSpec",
    "PriorSpecs",
    "prior",
    "set_priors",
    "validate_prior",
    "PriorDist",
    "PriorError",
    "PriorRow",
    "PriorTable",
    "default_priors",
    "get_prior",
    "parse_prior",
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


# Distributions that only make sense for correlation matrices.
CORRELATION_DISTRIBUTIONS = ("lkj", "lkj_corr_cholesky")
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
    known = (*DISTRIBUTIONS, *CORRELATION_DISTRIBUTIONS, *SPECIAL_DISTRIBUTIONS)
    if name not in known:
        raise PriorError(
            f"Unknown prior distribution '{name}' in '{text}'; known: {', '.join(known)}."
        )
    try:
        args = tuple(float(eval_number(a)) for a in body.split(",")) if body.strip() else ()
    except ValueError as err:
        raise PriorError(f"Cannot read the arguments of prior '{text}': {err}") from err
    want = len(DISTRIBUTIONS[name].params) if name in DISTRIBUTIONS else 1
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

    def lines(self) -> list[str]:
        frame = self.to_frame()
        return format_table(COLUMNS, frame.to_numpy().tolist())

    def __str__(self) -> str:
        return "\n".join(self.lines())

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


def _default_scale(y: np.ndarray, family: Family) -> tuple[float, float]:
    """brms's ``def_scale_prior``: (location, scale) of the Student-t defaults.

    Transform y by the link (zeros → 0.1 first for log-type links), round median and mad to
    one decimal; the scale is never below 2.5. Links without a data transform, and
    factor-like responses, keep (0, 2.5).
    """
    link = family.prior_link
    arr = np.asarray(y)
    if link.data is None or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        return 0.0, 2.5
    y = arr.astype(float)
    if link.name in ZERO_SHIFT_LINKS:
        y = np.where(y == 0, 0.1, y)
    with np.errstate(all="ignore"):
        yl = link.data(y)
    loc, scale = 0.0, 2.5
    s = r_round(r_mad(yl), 1)
    if math.isfinite(s):
        scale = max(2.5, s)
    m = r_round(float(np.median(yl)), 1)
    if math.isfinite(m):
        loc = m
    return loc, scale


def default_priors(design: Design, family: Family) -> PriorTable:
    """brms 2.18's default prior table for a design and family."""
    loc, scale = _default_scale(design.y, family)
    if design.offset is not None:
        # brms subtracts the mean offset from the location without rounding again
        loc = loc - float(np.mean(design.offset))
    # A negative zero would print as "-0"; R prints 0.
    loc = loc + 0.0
    scale_prior = r_call("student_t", (3, 0, scale))
    rows: list[PriorRow] = []
    if design.fixed.coefs:
        rows.append(PriorRow(class_="b"))
        rows.extend(PriorRow(class_="b", coef=c, source="(vectorized)") for c in design.fixed.coefs)
    if family.ordinal:
        rows.append(PriorRow(r_call("student_t", (3, 0, 2.5)), "Intercept"))
        n_thres = design.response.n_thresholds if design.response is not None else 0
        rows.extend(
            PriorRow("", "Intercept", coef=str(k), source="(vectorized)")
            for k in range(1, n_thres + 1)
        )
    elif design.fixed.intercept:
        rows.append(PriorRow(r_call("student_t", (3, loc, scale)), "Intercept"))
    cor_groups = [b.group for b in design.blocks if b.has_cor]
    if cor_groups:
        rows.append(PriorRow("lkj(1)", "cor"))
        rows.extend(
            PriorRow("", "cor", group=g, source="(vectorized)") for g in dict.fromkeys(cor_groups)
        )
    if design.blocks:
        rows.append(PriorRow(scale_prior, "sd", lb="0"))
        for g in design.groups:
            rows.append(PriorRow("", "sd", group=g, lb="0", source="(vectorized)"))
            rows.extend(
                PriorRow("", "sd", coef=c, group=g, lb="0", source="(vectorized)")
                for c in design.group_coefs(g)
            )
    for d in family.estimated_dpars(design.formula.additions):
        prior = scale_prior if d.default == "scale" else d.default
        lb = "" if d.lb is None else _bound(d.lb)
        ub = "" if d.ub is None else _bound(d.ub)
        rows.append(PriorRow(prior, d.name, lb=lb, ub=ub))
    return PriorTable(rows).sorted()


def _bound(x: float) -> str:
    return r_num(x)


def get_prior(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    prior: PriorSpec | Iterable[PriorSpec] | None = None,
) -> PriorTable:
    """The prior table brms's ``get_prior`` shows for a model, before fitting.

    Parameters
    ----------
    formula : str
        brms/lme4 formula, e.g. ``"Reaction ~ Days + (Days | Subject)"``.
    data : pandas.DataFrame
    family : str or Family
    prior : PriorSpec or list of PriorSpec, optional
        User priors (``prior("normal(0, 1)", class_="b", coef="Days") + ...``); they replace
        the defaults they name and are marked ``user``.

    Returns
    -------
    PriorTable
        Prints identically to brms 2.18.
    """
    fam = get_family(family)
    design = make_design(formula, data, fam)
    table = default_priors(design, fam)
    return set_priors(table, prior, design, fam) if prior is not None else table


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
        return PriorSpecs((*self, *_as_specs(other)))

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


def _as_specs(prior) -> tuple[PriorSpec, ...]:
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


def _class_support(class_: str, family: Family) -> tuple[float, float]:
    """The natural bounds of a class's parameters."""
    if class_ == "sd":
        return 0.0, math.inf
    if class_ == "cor":
        return -1.0, 1.0
    for d in family.dpars:
        if d.name == class_:
            return (
                -math.inf if d.lb is None else d.lb,
                math.inf if d.ub is None else d.ub,
            )
    return -math.inf, math.inf


def _valid(rows: list[str]) -> str:
    return ", ".join(f"'{r}'" for r in rows) if rows else "none"


def set_priors(
    table: PriorTable, prior, design: Design | None = None, family: Family | None = None
) -> PriorTable:
    """Put user priors into a prior table, checking each against the model (brms's
    ``validate_prior``).

    Raises
    ------
    PriorError
        Unknown class; a coefficient or group the model does not have (the valid ones are
        listed); ``lkj`` on a class other than ``cor`` or another distribution on ``cor``;
        bounds that contradict the class or are given with ``coef``; a prior on a parameter
        the family does not have.
    """
    from .families import FAMILIES

    fam = family or get_family("gaussian")
    rows = list(table.rows)
    classes = list(dict.fromkeys(r.class_ for r in rows))
    for spec in _as_specs(prior):
        where = f"prior '{spec}'"
        dist = parse_prior(spec.prior)
        if spec.class_ not in classes:
            dpars_anywhere = {d.name for f in FAMILIES.values() for d in f.dpars}
            if spec.class_ in dpars_anywhere:
                own = [d.name for d in fam.estimated_dpars()]
                raise PriorError(
                    f"Family '{fam.name}' has no parameter '{spec.class_}' ({where}); "
                    f"its distributional parameters: {', '.join(own) or 'none'}."
                )
            raise PriorError(
                f"Unknown prior class '{spec.class_}' ({where}); classes in this model: "
                f"{', '.join(classes)}."
            )
        if dist is not None and dist.name in CORRELATION_DISTRIBUTIONS and spec.class_ != "cor":
            raise PriorError(
                f"'{dist.name}' is a prior for correlation matrices (class 'cor'), "
                f"not for class '{spec.class_}' ({where})."
            )
        if spec.class_ == "cor" and (dist is None or dist.name not in CORRELATION_DISTRIBUTIONS):
            raise PriorError(
                f"The only supported prior for correlation matrices is 'lkj' ({where})."
            )
        if (spec.lb or spec.ub) and spec.coef:
            raise PriorError(
                f"Bounds apply to a whole class: give lb/ub without coef ({where}), as in brms."
            )
        lo, hi = _class_support(spec.class_, fam)
        for label, value in (("lb", spec.lb), ("ub", spec.ub)):
            if value and not lo <= float(value) <= hi:
                raise PriorError(
                    f"Bound {label} = {value} contradicts class '{spec.class_}', whose "
                    f"parameters lie in [{r_num(lo)}, {r_num(hi)}] ({where})."
                )
        if spec.lb and spec.ub and float(spec.lb) >= float(spec.ub):
            raise PriorError(f"lb must be below ub ({where}).")
        in_class = [r for r in rows if r.class_ == spec.class_ and r.dpar == spec.dpar]
        if spec.group and spec.group not in {r.group for r in in_class if r.group}:
            groups = sorted({r.group for r in in_class if r.group})
            raise PriorError(
                f"Group '{spec.group}' has no '{spec.class_}' parameters in this model "
                f"({where}); valid groups: {_valid(groups)}."
            )
        match = [r for r in in_class if r.coef == spec.coef and r.group == spec.group]
        if not match:
            coefs = sorted(
                {r.coef for r in in_class if r.coef and r.group == spec.group}, key=r_collate
            )
            scope = f" in group '{spec.group}'" if spec.group else ""
            raise PriorError(
                f"Coefficient '{spec.coef}' is not a '{spec.class_}' parameter{scope} of this "
                f"model ({where}); valid coefficients: {_valid(coefs)}."
            )
        old = match[0]
        new = replace(
            old,
            prior=spec.prior,
            source="user",
            lb=spec.lb or old.lb,
            ub=spec.ub or old.ub,
        )
        rows[rows.index(old)] = new
    return PriorTable(rows).sorted()


def validate_prior(
    prior,
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
) -> PriorTable:
    """Check user priors against a model and return the table the model will use.

    Printed like brms 2.18's ``validate_prior`` (correlations as ``lkj_corr_cholesky`` rows of
    class ``L``; user rows marked ``user``).
    """
    fam = get_family(family)
    design = make_design(formula, data, fam)
    return set_priors(default_priors(design, fam), prior, design, fam).as_fitted()


def improper_classes(table: PriorTable, design: Design, family: Family) -> list[str]:
    """Parameters whose prior is flat (improper), as brms names them for prior-only sampling."""
    out = []
    fx = design.fixed
    for c in fx.coefs:
        if parse_prior(table.resolve("b", c).prior) is None:
            out.append("b")
            break
    if fx.intercept and not family.ordinal:
        if parse_prior(table.resolve("Intercept").prior) is None:
            out.append("Intercept")
    for blk in design.blocks:
        for c in blk.coefs:
            if parse_prior(table.resolve("sd", c, blk.group).prior) is None:
                out.append("sd")
                break
    for d in family.estimated_dpars(design.formula.additions):
        if parse_prior(table.resolve(d.name).prior) is None:
            out.append(d.name)
    return list(dict.fromkeys(out))
