"""Stage 4 — design + priors + family into a PyMC model (the ``make_stancode`` of bayesml).

The parameterisation is brms's: the population-level design is centred and ``Intercept`` is
the intercept of the centred model; varying effects are non-centred,
``r_k = (diag(sd_k) · L_k · z_k)ᵀ`` with ``L_k`` an LKJ Cholesky factor (uncorrelated blocks
have no ``L_k``). Variable names follow brms's Stan code (``Intercept``, ``b``, ``sd_1``,
``L_1``, ``z_1``, ``r_1``, ``sigma``); the results stage renames them to brms's output names.

How the group-level effects enter the likelihood is chosen per model: brms's non-centred
strategy (``GROUP_EFFECTS``) or, for Gaussian models, integrated out of the likelihood
(``group_effects="marginal"``, see ``bayesml.marginal``) and drawn back after sampling; there
the sds are sampled as signed scales (``signed_group_hyperparameters``). Correlation factors
use Stan's tanh transform (``bayesml.transforms``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from ._rformat import r_num
from .columns import DataError
from .design import Design, GroupBlock, clean_name, collinear_columns, make_design
from .families import Family, Likelihood, get_family
from .formula import FormulaError
from .marginal import components, draw_group_effects, marginal_loglik
from .priors import (
    DISTRIBUTIONS,
    PriorDist,
    PriorError,
    PriorRow,
    PriorTable,
    default_priors,
    parse_prior,
    set_priors,
    signed_form,
)
from .transforms import CPCCholeskyCorr

__all__ = [
    "BrmsModel",
    "GROUP_EFFECTS",
    "build_model",
    "make_model",
    "model_code",
    "prior_draws",
]


def prior_rv(name: str, row: PriorRow, **shape) -> pt.TensorVariable:
    """A PyMC random variable for a prior row, honouring its bounds like brms.

    A symmetric prior centred at 0 with ``lb = 0`` becomes its half distribution (what brms's
    truncation amounts to); other bounds truncate the distribution.
    """
    dist = parse_prior(row.prior)
    lb = float(row.lb) if row.lb else None
    ub = float(row.ub) if row.ub else None
    if dist is not None and dist.name == "constant":
        return _constant(name, dist.args[0], lb, ub, **shape)
    if dist is None:
        if lb == 0.0 and ub is None:
            return pm.HalfFlat(name, **shape)
        if lb is None and ub is None:
            return pm.Flat(name, **shape)
        raise PriorError(f"A flat prior with bounds [{lb}, {ub}] is not supported for '{name}'.")
    if dist.name not in DISTRIBUTIONS:
        raise PriorError(f"Prior '{dist}' cannot be used for parameter '{name}'.")
    info = DISTRIBUTIONS[dist.name]
    lo, hi = info.support
    needs_lb = lb is not None and lb > lo
    needs_ub = ub is not None and ub < hi
    if not needs_lb and not needs_ub:
        return info.build(*dist.args)(name, **shape)
    if (
        lb == 0.0
        and not needs_ub
        and info.symmetric_half is not None
        and dist.args[info.location] == 0
    ):
        return info.symmetric_half(name, *dist.args, **shape)
    return pm.Truncated(name, info.dist(*dist.args), lower=lb, upper=ub, **shape)


def _constant(name: str, value: float, lb, ub, **shape) -> pt.TensorVariable:
    """A parameter fixed by ``constant(x)``: no draws are sampled, every draw equals x."""
    if (lb is not None and value < lb) or (ub is not None and value > ub):
        raise PriorError(f"constant({r_num(value)}) lies outside the bounds of '{name}'.")
    dims = shape.get("dims")
    if dims is None:
        return pm.Deterministic(name, pt.as_tensor_variable(np.float64(value)))
    dims = (dims,) if isinstance(dims, str) else tuple(dims)
    model = pm.modelcontext(None)
    size = [len(model.coords[d]) for d in dims]
    return pm.Deterministic(name, pt.fill(pt.zeros(size), np.float64(value)), dims=dims)


def _same_prior(rows: list[PriorRow]) -> bool:
    """Whether every row has the same prior and bounds (one vector RV can carry them)."""
    return all((r.prior, r.lb, r.ub) == (rows[0].prior, rows[0].lb, rows[0].ub) for r in rows)


def _coefficient_vector(
    name: str, class_: str, coefs: tuple[str, ...], dim: str, priors: PriorTable, group: str = ""
) -> pt.TensorVariable:
    """One vector RV when all coefficients share a prior, else one RV per coefficient."""
    rows = [priors.resolve(class_, c, group) for c in coefs]
    if _same_prior(rows):
        return prior_rv(name, rows[0], dims=dim)
    parts = [prior_rv(f"{name}_{c}", r) for c, r in zip(coefs, rows, strict=True)]
    return pm.Deterministic(name, pt.stack(parts), dims=dim)


def group_hyperparameters(block: GroupBlock, priors: PriorTable):
    """sd_k (and the correlation Cholesky factor L_k) of one block; L is None without
    correlations."""
    k = block.id
    sd = _coefficient_vector(f"sd_{k}", "sd", block.coefs, f"coef_{k}", priors, block.group)
    L = None
    if block.has_cor:
        L = _lkj_cholesky(f"L_{k}", len(block.coefs), _lkj_eta(priors, block.group))
    return sd, L


def _lkj_cholesky(name: str, n: int, eta: float) -> pt.TensorVariable:
    """brms's ``lkj_corr_cholesky(eta)`` with Stan's tanh transform (see ``transforms``)."""
    return pm.LKJCorr(name, n=n, eta=eta, default_transform=CPCCholeskyCorr(n))


def _signed_prior(row: PriorRow) -> Callable | None:
    """Builder of a distribution on the real line whose absolute value has the row's prior with
    ``lb = 0`` and no upper bound (``priors.signed_form``): brms's half-t default, half-normal,
    half-Cauchy, exponential, ...; None for other priors and bounds."""
    signed = _signed_dist(row)
    return None if signed is None else DISTRIBUTIONS[signed.name].build(*signed.args)


def _signed_dist(row: PriorRow) -> PriorDist | None:
    dist = parse_prior(row.prior)
    if dist is None or row.ub or float(row.lb or "nan") != 0.0:
        return None
    return signed_form(dist)


def signed_group_hyperparameters(block: GroupBlock, priors: PriorTable):
    """Group-level sds as signed scales ``s`` with ``sd = |s|`` (marginal models).

    With the varying effects integrated out the likelihood depends on the covariance
    ``diag(s) R diag(s)`` only, which is smooth through ``s = 0``: the sampler moves through
    small sds on their natural scale instead of the log scale's long left tail, where weakly
    identified sds (and their correlations) mixed slowly. A sign flip of ``s_i`` maps the
    correlation matrix to ``S R S``; the LKJ prior is invariant under it, so ``sd = |s|`` and
    ``L = S L_signed`` (correlations ``S R S``) have exactly brms's prior and posterior.

    Returns ``(s, L_signed)``, which enter the likelihood; ``sd_k = |s|`` and ``L_k`` are
    added under brms's names. None when some sd's prior has no signed form (``_signed_prior``).
    """
    k = block.id
    rows = [priors.resolve("sd", c, block.group) for c in block.coefs]
    builders = [_signed_prior(r) for r in rows]
    if any(b is None for b in builders):
        return None
    if _same_prior(rows):
        s = builders[0](f"sd_{k}_signed", dims=f"coef_{k}")
    else:
        parts = [b(f"sd_{k}_signed_{c}") for b, c in zip(builders, block.coefs, strict=True)]
        s = pt.stack(parts)
    pm.Deterministic(f"sd_{k}", pt.abs(s), dims=f"coef_{k}")
    L_signed = None
    if block.has_cor:
        eta = _lkj_eta(priors, block.group)
        L_signed = _lkj_cholesky(f"L_{k}_signed", len(block.coefs), eta)
        pm.Deterministic(f"L_{k}", pt.sign(s)[:, None] * L_signed)
    return s, L_signed


def has_signed_scales(block: GroupBlock, priors: PriorTable) -> bool:
    """Whether every sd of a block has a prior with a signed form (see ``_signed_prior``)."""
    return all(_signed_prior(priors.resolve("sd", c, block.group)) for c in block.coefs)


def noncentred_effects(block: GroupBlock, priors: PriorTable) -> pt.TensorVariable:
    """brms's non-centred varying effects for one block; returns r (levels × coefs)."""
    k = block.id
    coef_dim = f"coef_{k}"
    sd, L = group_hyperparameters(block, priors)
    z = pm.Normal(f"z_{k}", 0.0, 1.0, dims=(coef_dim, block.group))
    if L is not None:
        r = (pt.diag(sd) @ L @ z).T
    else:
        r = (sd[:, None] * z).T
    return pm.Deterministic(f"r_{k}", r, dims=(block.group, coef_dim))


def _cov_inverse(sd, L):
    """Inverse and log-determinant of diag(sd) L Lᵀ diag(sd) (pytensor)."""
    # sd may be a signed scale (see signed_group_hyperparameters)
    if L is None:
        return pt.diag(1 / sd**2), pt.sum(pt.log(sd**2))
    Linv = pt.linalg.solve_triangular(L, pt.eye(L.shape[0]), lower=True)
    Rinv = Linv.T @ Linv
    d = 1 / sd
    logdet = pt.sum(pt.log(sd**2)) + 2 * pt.sum(pt.log((L * pt.eye(L.shape[0])).sum(-1)))
    return d[:, None] * Rinv * d[None, :], logdet


def supports_marginal(design: Design, family: Family) -> bool:
    """Whether the varying effects can be integrated out: Gaussian, identity link, no weights."""
    return (
        bool(design.blocks)
        and family.name == "gaussian"
        and family.link_name == "identity"
        and "weights" not in design.additions
    )


def resolve_group_effects(group_effects: str, design: Design, family: Family) -> str:
    if group_effects == "auto":
        return "marginal" if supports_marginal(design, family) else "noncentred"
    if group_effects == "marginal" and not supports_marginal(design, family):
        raise ValueError(
            "Varying effects can be integrated out only for gaussian models with the identity "
            "link and no weights(); use group_effects='noncentred'."
        )
    if group_effects not in ("marginal", *GROUP_EFFECTS):
        raise ValueError(
            f"Unknown group_effects '{group_effects}'; use 'auto', 'marginal' or "
            f"{', '.join(repr(k) for k in GROUP_EFFECTS)}."
        )
    return group_effects


def _lkj_eta(priors: PriorTable, group: str) -> float:
    row = priors.resolve("cor", "", group)
    dist = parse_prior(row.prior)
    if dist is None or dist.name not in ("lkj", "lkj_corr_cholesky"):
        raise PriorError(f"Correlations of group '{group}' need an lkj prior, got '{row.prior}'.")
    return dist.args[0]


def given_effects(block: GroupBlock, priors: PriorTable) -> pt.TensorVariable:
    """r as an input whose values come from stored draws (prediction models)."""
    return pm.Flat(f"r_{block.id}", dims=(block.group, f"coef_{block.id}"))


# Strategies for the group-level part; each adds its parameters and returns r per block.
GROUP_EFFECTS: dict[str, Callable[[GroupBlock, PriorTable], pt.TensorVariable]] = {
    "noncentred": noncentred_effects,
    "given": given_effects,
}


@dataclass
class BrmsModel:
    """A compiled model: the PyMC model together with what it was built from."""

    design: Design
    family: Family
    priors: PriorTable
    model: pm.Model
    group_effects: str = "noncentred"

    def code(self) -> str:
        """Readable description of the generated model (the Stan-code analogue)."""
        return _describe(self)

    @property
    def response_name(self) -> str:
        return _observed_name(self.design)


# Names the builder uses for its own variables; a response with one of them gets a suffix.
_RESERVED = re.compile(
    r"^(Y|Xc|b|Intercept|Intercept_prior|b_Intercept|offset|weights|sigma|nu|shape|phi"
    r"|(sd|z|L|r|Z|J)_\d+)$"
)


def _observed_name(design: Design) -> str:
    name = clean_name(design.formula.response) or "y"
    return f"{name}_obs" if _RESERVED.match(name) else name


def _thresholds(n: int, priors: PriorTable) -> pt.TensorVariable:
    """Ordered thresholds of an ordinal family (brms's class ``Intercept``, coefs 1..n)."""
    rows = [priors.resolve("Intercept", str(k)) for k in range(1, n + 1)]
    init = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    ordered = pm.distributions.transforms.ordered
    dist = parse_prior(rows[0].prior)
    if (
        _same_prior(rows)
        and dist is not None
        and dist.name in DISTRIBUTIONS
        and not (rows[0].lb or rows[0].ub)
    ):
        return DISTRIBUTIONS[dist.name].build(*dist.args)(
            "Intercept", dims="thres", transform=ordered, initval=init
        )
    # thresholds with different priors: one ordered vector, each prior added to the density
    thr = pm.Flat("Intercept", dims="thres", transform=ordered, initval=init)
    terms = []
    for k, r in enumerate(rows):
        d = parse_prior(r.prior)
        if d is None:
            continue
        if d.name not in DISTRIBUTIONS or r.lb or r.ub:
            raise PriorError(f"Prior '{r.prior}' cannot be used for threshold Intercept[{k + 1}].")
        terms.append(pm.logp(DISTRIBUTIONS[d.name].dist(*d.args), thr[k]))
    if terms:
        pm.Potential("Intercept_prior", pt.sum(pt.stack(terms)))
    return thr


def build_model(
    design: Design,
    family: Family,
    priors: PriorTable,
    group_effects: str = "noncentred",
    predictive: bool = False,
) -> pm.Model:
    """Build the PyMC model for a design, family and prior table.

    ``predictive=True`` adds the linear predictor (``linpred``) and the expected response
    (``epred``) as deterministics; prediction uses it with ``group_effects="given"``.
    """
    fx = design.fixed
    response = design.response
    if response is None:
        response = family.prepare_response(design.formula.response, design.y, design.additions)
    coords: dict[str, tuple[str, ...]] = {"obs": tuple(range(design.nobs))}
    if fx.coefs:
        coords["b_coef"] = fx.coefs
    if family.ordinal:
        if not fx.intercept:
            raise FormulaError(
                f"Family '{family.name}' estimates thresholds in place of the intercept; "
                "remove '0 +' / '- 1' from the formula.",
                design.formula.text,
            )
        coords["thres"] = tuple(str(k) for k in range(1, response.n_thresholds + 1))
    for blk in design.blocks:
        coords[blk.group] = blk.levels
        coords[f"coef_{blk.id}"] = blk.coefs
    group_effects = resolve_group_effects(group_effects, design, family)
    marginal = group_effects == "marginal"
    strategy = None if marginal else GROUP_EFFECTS[group_effects]
    with pm.Model(coords=coords) as model:
        eta = pt.zeros(design.nobs)
        if fx.coefs:
            Xc = pm.Data("Xc", fx.Xc, dims=("obs", "b_coef"))
            b = _coefficient_vector("b", "b", fx.coefs, "b_coef", priors)
            eta = eta + pt.dot(Xc, b)
        thresholds = None
        if family.ordinal:
            thresholds = _thresholds(response.n_thresholds, priors)
        elif fx.intercept:
            intercept = prior_rv("Intercept", priors.resolve("Intercept"))
            eta = eta + intercept
        hyper = []
        for blk in design.blocks:
            if marginal:
                signed = signed_group_hyperparameters(blk, priors)
                hyper.append(signed or group_hyperparameters(blk, priors))
                continue
            r = strategy(blk, priors)
            Z = pm.Data(f"Z_{blk.id}", blk.Z, dims=("obs", f"coef_{blk.id}"))
            J = pm.Data(f"J_{blk.id}", blk.index, dims="obs")
            eta = eta + (Z * r[J]).sum(axis=1)
        if design.offset is not None:
            eta = eta + pm.Data("offset", design.offset, dims="obs")
        dpars = {
            d.name: prior_rv(d.name, priors.resolve(d.name))
            for d in family.estimated_dpars(design.formula.additions)
        }
        y = pm.Data("Y", response.y, dims="obs")
        lik = Likelihood(eta, family.link_name, dpars, response, (design.nobs,), thresholds)
        if predictive:
            pm.Deterministic("linpred", eta, dims="obs")
            mean = family.mean(lik)
            if family.ordinal:
                model.add_coord("category", response.categories)
                pm.Deterministic("epred", mean, dims=("obs", "category"))
            else:
                pm.Deterministic("epred", mean, dims="obs")
        dist = family.dist(lik)
        name = _observed_name(design)
        if marginal:
            inv = [_cov_inverse(sd, L) for sd, L in hyper]
            homo = response.se is None
            v = lik.sigma() ** 2
            loglik = marginal_loglik(
                design,
                components(design),
                y - eta,
                v,
                [c for c, _ in inv],
                [ld for _, ld in inv],
                homoscedastic=homo,
            )
            pm.Potential(f"{name}_marginal", loglik)
        elif "weights" in design.additions and group_effects != "given":
            # brms multiplies each log-likelihood term by its weight (no normalisation);
            # prediction models keep the plain response distribution (weights do not change it)
            w = pm.Data("weights", design.additions["weights"], dims="obs")
            pm.Potential(f"{name}_weighted", pt.sum(w * pm.logp(dist, y)))
        else:
            model.register_rv(dist, name, observed=y, dims=("obs",))
        if family.ordinal:
            shift = pt.dot(np.asarray(fx.means), b) if fx.coefs else 0.0
            pm.Deterministic("b_Intercept", thresholds + shift, dims="thres")
        elif fx.intercept:
            if fx.coefs:
                pm.Deterministic("b_Intercept", intercept - pt.dot(np.asarray(fx.means), b))
            else:
                pm.Deterministic("b_Intercept", intercept + 0.0)
    return model


def make_model(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    prior=None,
    group_effects: str = "auto",
) -> BrmsModel:
    """Compile a formula into a PyMC model with brms's priors and parameterisation.

    Parameters
    ----------
    formula : str
    data : pandas.DataFrame
    family : str or Family
    prior : PriorTable or prior(...) specifications, optional
        A whole table, or user priors that replace brms's defaults where they apply
        (``bayesml.prior("normal(0, 1)", class_="b", coef="Days") + ...``).
    group_effects : {"auto", "marginal", "noncentred"}
        How the varying effects enter: ``"marginal"`` integrates them out (Gaussian models
        with identity link, no weights; ``r_k`` are drawn after sampling), ``"noncentred"``
        is brms's parameterisation; ``"auto"`` picks marginal where it applies.

    Returns
    -------
    BrmsModel
        ``.model`` is the ``pymc.Model``: add to it or sample it with ``bayesml.sample``.
    """
    fam = get_family(family)
    design = make_design(formula, data, fam)
    if isinstance(prior, PriorTable):
        priors = prior
    else:
        priors = default_priors(design, fam)
        if prior is not None:
            priors = set_priors(priors, prior, design, fam)
    check_identified(design, priors)
    group_effects = resolve_group_effects(group_effects, design, fam)
    return BrmsModel(
        design, fam, priors, build_model(design, fam, priors, group_effects), group_effects
    )


def check_identified(design: Design, priors: PriorTable) -> None:
    """Refuse population-level effects that neither the data nor their priors identify.

    A column that is constant (with an intercept) or an exact linear combination of others
    leaves a direction of the coefficients that the likelihood does not see; under flat priors
    (brms's default for class b) the posterior is improper there and the sampler wanders off.
    With a proper prior on any of the columns involved the model is fine and is left alone.

    Raises
    ------
    DataError
        Naming the column, the columns it depends on, and the way out.
    """
    for c in collinear_columns(design.fixed):
        involved = (c.column, *c.depends_on)
        if any(parse_prior(priors.resolve("b", name).prior) is not None for name in involved):
            continue
        fix = (
            "remove one of them, or give them proper priors, e.g. "
            "prior('normal(0, 10)', class_='b')."
        )
        if not c.depends_on:
            what = "constant in the data" if design.fixed.intercept else "zero in every row"
            raise DataError(
                f"The population-level effect '{c.column}' is not identified: its column is "
                f"{what}{' (so it duplicates the intercept)' if design.fixed.intercept else ''} "
                f"and its prior is flat. Remove it, or give it a proper prior."
            )
        combo = " + ".join(
            f"{r_num(round(w, 6))}*{name}" for w, name in zip(c.weights, c.depends_on, strict=True)
        )
        centred = " (after centring)" if design.fixed.intercept else ""
        raise DataError(
            f"The population-level effects {', '.join(repr(n) for n in involved)} are not "
            f"identified: '{c.column}' = {combo}{centred} in every row (collinear predictors) "
            f"and their priors are flat. To fix: {fix}"
        )


def prior_draws(bm: BrmsModel, draws: int, seed: int | None = None) -> dict[str, np.ndarray]:
    """Independent draws from each proper prior, under brms's ``prior_*`` names.

    ``prior_b`` (or ``prior_b_<coef>`` where coefficients have different priors),
    ``prior_Intercept``, ``prior_sd_<group>`` (or ``prior_sd_<group>__<coef>``),
    ``prior_cor_<group>``, ``prior_<dpar>``. Flat priors have no draws and are left out.
    """
    d, fam, pr = bm.design, bm.family, bm.priors
    wanted: dict[str, PriorRow] = {}

    def add(prefix: str, rows: dict[str, PriorRow]) -> None:
        proper = {k: r for k, r in rows.items() if parse_prior(r.prior) is not None}
        if not proper:
            return
        # one draw per class (or group) where the prior is set there; per coefficient where
        # coefficients have priors of their own, as brms names them (prior_b_Days)
        shared = {(r.class_, r.coef, r.group) for r in proper.values()}
        if len(shared) == 1 and not next(iter(proper.values())).coef and len(proper) == len(rows):
            wanted[prefix] = next(iter(proper.values()))
        else:
            for k, r in proper.items():
                wanted[f"{prefix}{k}"] = r

    add("prior_b", {f"_{c}": pr.resolve("b", c) for c in d.fixed.coefs})
    if d.fixed.intercept and not fam.ordinal:
        add("prior_Intercept", {"": pr.resolve("Intercept")})
    for g in d.groups:
        add(f"prior_sd_{g}", {f"__{c}": pr.resolve("sd", c, g) for c in d.group_coefs(g)})
    for dp in fam.estimated_dpars(d.formula.additions):
        add(f"prior_{dp.name}", {"": pr.resolve(dp.name)})
    # brms: prior_cor_<g> = lkj_corr_rng(M, eta)[1, 2], M the coefficients of the block
    cor_size = {}
    for b in d.blocks:
        if b.has_cor:
            cor_size.setdefault(b.group, len(b.coefs))
    with pm.Model():
        rvs = {}
        for name, row in wanted.items():
            rv = prior_rv(name, row)
            if parse_prior(row.prior).name != "constant":
                rvs[name] = rv
        for g, m in cor_size.items():
            L = pm.LKJCorr(f"L_{g}", n=m, eta=_lkj_eta(pr, g))
            rvs[f"prior_cor_{g}"] = L[1, 0]  # R[1, 0] = L[1, 0] L[0, 0], and L[0, 0] = 1
        values = pm.draw(list(rvs.values()), draws=draws, random_seed=seed) if rvs else []
    out = {name: np.asarray(v) for name, v in zip(rvs, values, strict=True)}
    for name, row in wanted.items():
        if parse_prior(row.prior).name == "constant":
            out[name] = np.full(draws, parse_prior(row.prior).args[0])
    return out


def ordered_threshold_draws(
    bm: BrmsModel, draws: int, seed: int | None = None, max_tries: int = 1000
) -> np.ndarray:
    """Exact draws of an ordinal model's thresholds from their prior, ``(draws, nthres)``.

    Stan's (and so brms's) prior on an ``ordered`` vector with a prior per element is the
    product of those priors restricted to increasing values. With one prior for all, sorted
    iid draws have that density; with different priors, independent draws are kept where they
    come out increasing (rejection sampling, exact).

    Raises
    ------
    PriorError
        A threshold's prior is flat, or the priors make increasing values so rare that fewer
        than ``draws`` were accepted in ``max_tries * draws`` proposals.
    """
    nthres = bm.design.response.n_thresholds
    rows = [bm.priors.resolve("Intercept", str(k)) for k in range(1, nthres + 1)]
    dists = []
    for k, r in enumerate(rows, start=1):
        d = parse_prior(r.prior)
        if d is None or d.name not in DISTRIBUTIONS:
            raise PriorError(f"Prior '{r.prior}' of threshold Intercept[{k}] cannot be sampled.")
        dists.append(DISTRIBUTIONS[d.name].dist(*d.args))
    rng = np.random.default_rng(seed)
    if _same_prior(rows):
        x = pm.draw(dists[0], draws=draws * nthres, random_seed=rng)
        return np.sort(np.reshape(x, (draws, nthres)), axis=1)
    kept, tried = [], 0
    while sum(len(k) for k in kept) < draws and tried < max_tries * draws:
        batch = max(draws, 1000)
        x = np.column_stack([pm.draw(dist, draws=batch, random_seed=rng) for dist in dists])
        kept.append(x[np.all(np.diff(x, axis=1) > 0, axis=1)])
        tried += batch
    out = np.concatenate(kept)
    if len(out) < draws:
        raise PriorError(
            f"The threshold priors ({', '.join(r.prior for r in rows)}) give increasing values "
            f"in only {len(out)} of {tried} draws; prior-only sampling needs priors whose "
            "thresholds come out in order more often."
        )
    return out[:draws]


def recover_group_effects(raw, bm: BrmsModel, seed: int | None = None):
    """Add the varying effects ``r_k`` to the draws of a model that integrated them out.

    One exact draw from ``r | y, θ`` per posterior draw (see ``bayesml.marginal``).
    """
    d, fx = bm.design, bm.design.fixed
    chains, draws = raw.sizes["chain"], raw.sizes["draw"]
    S = chains * draws

    def flat(name: str) -> np.ndarray:
        x = raw[name].values
        return x.reshape(S, *x.shape[2:])

    eta = np.zeros((S, d.nobs))
    if fx.intercept:
        eta += flat("Intercept")[:, None]
    if fx.coefs:
        eta += flat("b") @ fx.Xc.T
    if d.offset is not None:
        eta += d.offset[None, :]
    resid = d.response.y[None, :] - eta
    se = d.response.se
    if se is None:
        v = flat("sigma") ** 2
    elif "sigma" in raw:
        v = flat("sigma")[:, None] ** 2 + se[None, :] ** 2
    else:
        v = np.broadcast_to(se[None, :] ** 2, (S, d.nobs))
    cov_inv = []
    for blk in d.blocks:
        sd = flat(f"sd_{blk.id}")  # (S, m)
        if blk.has_cor:
            L = flat(f"L_{blk.id}")
            R = L @ np.swapaxes(L, -1, -2)
            cov = sd[:, :, None] * R * sd[:, None, :]
            cov_inv.append(np.linalg.inv(cov))
        else:
            cov_inv.append(np.stack([np.diag(1 / s**2) for s in sd]))
    rng = np.random.default_rng(None if seed is None else [seed, 7])
    rs = draw_group_effects(d, components(d), resid, v, cov_inv, rng)
    out = raw.copy()
    for blk, r in zip(d.blocks, rs, strict=True):
        out[f"r_{blk.id}"] = xr.DataArray(
            r.reshape(chains, draws, blk.n_levels, len(blk.coefs)),
            dims=("chain", "draw", blk.group, f"coef_{blk.id}"),
            coords={
                "chain": raw["chain"].values,
                "draw": raw["draw"].values,
                blk.group: list(blk.levels),
                f"coef_{blk.id}": list(blk.coefs),
            },
        )
    return out


def model_code(formula: str, data: pd.DataFrame, family: str | Family = "gaussian") -> str:
    """The generated model in readable form (brms's ``make_stancode``)."""
    return make_model(formula, data, family).code()


def _prior_text(row: PriorRow) -> str:
    dist: PriorDist | None = parse_prior(row.prior)
    text = "flat" if dist is None else str(dist)
    bounds = []
    if row.lb:
        bounds.append(f"lower={row.lb}")
    if row.ub:
        bounds.append(f"upper={row.ub}")
    return text + (f"  <{', '.join(bounds)}>" if bounds else "")


def _marginal_lines(d: Design, dpars) -> list[str]:
    covs = []
    for b in d.blocks:
        mid = f" * L_{b.id} * L_{b.id}' * " if b.has_cor else " * "
        covs.append(f"Sigma_{b.id} = diag(sd_{b.id}){mid}diag(sd_{b.id})")
    if "se" in d.additions:
        resid = "sigma^2 + se^2" if dpars else "se^2"
    else:
        resid = "sigma^2"
    return [
        f"  // varying effects integrated out: {'; '.join(covs)} for every level",
        f"  Y ~ multi_normal(eta, diag({resid}) + Z * blockdiag(Sigma) * Z');"
        "  // by Woodbury, over independent components",
        "  // r_k: drawn after sampling from N(M^-1 Z' V^-1 (Y - eta), M^-1),",
        "  //      M = blockdiag(Sigma)^-1 + Z' V^-1 Z, V = the residual variances",
    ]


def _describe(bm: BrmsModel) -> str:
    d, fam, pr = bm.design, bm.family, bm.priors
    marginal = bm.group_effects == "marginal"
    fx = d.fixed
    out = [
        f"// bayesml model for: {d.formula}",
        f"// family: {fam.name}({fam.link_name}); varying effects: {bm.group_effects}",
        "data {",
        f"  N = {d.nobs};  // observations",
        f"  Y[N];  // response '{d.formula.response}'",
    ]
    if fx.coefs:
        means = ", ".join(f"{m:.6g}" for m in fx.means)
        out.append(
            f"  Xc[N, {len(fx.coefs)}];  // population-level design, columns: {', '.join(fx.coefs)}"
        )
        if fx.intercept:
            out.append(f"  means_X = [{means}];  // Xc = X - means_X (centred for the Intercept)")
    for name in ("trials", "se", "weights"):
        if name in d.additions:
            out.append(f"  {name}[N];  // {name}() on the left-hand side")
    if d.offset is not None:
        out.append(f"  offset[N];  // {' + '.join(f'offset({o})' for o in d.formula.offsets)}")
    if fam.ordinal and d.response is not None:
        cats = ", ".join(d.response.categories)
        out.append(f"  nthres = {d.response.n_thresholds};  // categories: {cats}")
    for blk in d.blocks:
        out.append(f"  J_{blk.id}[N] in 1..{blk.n_levels};  // levels of '{blk.group}'")
        out.append(
            f"  Z_{blk.id}[N, {len(blk.coefs)}];  // group-level design: {', '.join(blk.coefs)}"
        )
    out.append("}")
    out.append("parameters {")
    if fx.coefs:
        out.append(f"  b[{len(fx.coefs)}];  // {', '.join(fx.coefs)}")
    if fam.ordinal:
        out.append("  ordered Intercept[nthres];  // thresholds of the centred predictors")
    elif fx.intercept:
        out.append("  Intercept;  // intercept of the centred predictors")
    signed = {b.id for b in d.blocks if marginal and has_signed_scales(b, pr)}
    for blk in d.blocks:
        k, m = blk.id, len(blk.coefs)
        if k in signed:
            note = f"signed group-level sds of '{blk.group}': sd_{k} = |sd_{k}_signed|"
            out.append(f"  sd_{k}_signed[{m}];  // {note}")
        else:
            out.append(f"  sd_{k}[{m}] >= 0;  // group-level sds of '{blk.group}'")
        if not marginal:
            out.append(f"  z_{k}[{m}, {blk.n_levels}];  // standardised group-level effects")
        if blk.has_cor:
            out.append(f"  L_{k}[{m}, {m}];  // Cholesky factor of the correlation matrix")
    dpars = fam.estimated_dpars(d.formula.additions)
    for dp in dpars:
        out.append(f"  {dp.name}{'' if dp.lb is None else ' >= ' + r_num(dp.lb)};")
    out.append("}")
    if not marginal:
        out.append("transformed parameters {")
        for blk in d.blocks:
            k, size = blk.id, f"[{blk.n_levels}, {len(blk.coefs)}]"
            if blk.has_cor:
                out.append(f"  r_{k} = (diag(sd_{k}) * L_{k} * z_{k})';  // {size}")
            else:
                out.append(f"  r_{k} = (diag(sd_{k}) * z_{k})';  // {size}")
        out.append("}")
    out.append("model {")
    terms = []
    if fx.intercept and not fam.ordinal:
        terms.append("Intercept")
    if fx.coefs:
        terms.append("Xc * b")
    if not marginal:
        terms += [f"rows_dot(Z_{b.id}, r_{b.id}[J_{b.id}])" for b in d.blocks]
    if d.offset is not None:
        terms.append("offset")
    lp = " + ".join(terms) or "0"
    out.append(f"  eta = {lp};")
    if marginal:
        out.extend(_marginal_lines(d, dpars))
    args = ["inv_link(eta)" if fam.link_name != "identity" else "eta"]
    if fam.ordinal:
        args = ["eta", "Intercept"]
    args += [dp.name for dp in dpars]
    if "trials" in d.additions:
        args.insert(0, "trials")
    if "se" in d.additions:
        args.append("se")
    lik = "" if marginal else f"Y ~ {fam.name}({', '.join(args)})"
    if "weights" in d.additions:
        # brms multiplies each observation's log-likelihood by its weight
        lik = f"target += weights * {fam.name}_lpdf(Y | {', '.join(args)})"
    line = f"  {lik};"
    if fam.link_name != "identity" and not fam.ordinal:
        line += f"  // inv_link: inverse of the {fam.link_name} link"
    elif fam.ordinal:
        line += f"  // P(Y <= k) = inverse {fam.link_name}(Intercept[k] - eta)"
    if lik:
        out.append(line)
    if fx.coefs:
        for c in fx.coefs:
            out.append(f"  b[{c}] ~ {_prior_text(pr.resolve('b', c))};")
    if fam.ordinal and d.response is not None:
        for k in range(1, d.response.n_thresholds + 1):
            out.append(f"  Intercept[{k}] ~ {_prior_text(pr.resolve('Intercept', str(k)))};")
    elif fx.intercept:
        out.append(f"  Intercept ~ {_prior_text(pr.resolve('Intercept'))};")
    for blk in d.blocks:
        k = blk.id
        for c in blk.coefs:
            row = pr.resolve("sd", c, blk.group)
            if k in signed:
                signed_sd = f"sd_{k}_signed[{c}]"
                out.append(
                    f"  {signed_sd} ~ {_signed_dist(row)};"
                    f"  // so sd_{k}[{c}] = |{signed_sd}| ~ {_prior_text(row)}"
                )
            else:
                out.append(f"  sd_{k}[{c}] ~ {_prior_text(row)};")
        if not marginal:
            out.append(f"  to_vector(z_{k}) ~ std_normal();")
        if blk.has_cor:
            eta = _lkj_eta(pr, blk.group)
            out.append(f"  L_{k} ~ lkj_corr_cholesky({eta:g});")
            if k in signed:
                out.append(
                    f"  // sampled as L_{k} = diag(sign(sd_{k}_signed)) * L_{k}_signed,"
                    " which has the same prior"
                )
    for dp in dpars:
        out.append(f"  {dp.name} ~ {_prior_text(pr.resolve(dp.name))};")
    out.append("}")
    if fx.intercept:
        out.append("generated quantities {")
        if fam.ordinal:
            out.append(
                "  b_Intercept = Intercept + dot(means_X, b);  // thresholds, uncentred"
                if fx.coefs
                else "  b_Intercept = Intercept;"
            )
        else:
            out.append(
                "  b_Intercept = Intercept - dot(means_X, b);"
                if fx.coefs
                else "  b_Intercept = Intercept;"
            )
        out.append("}")
    return "\n".join(out)
