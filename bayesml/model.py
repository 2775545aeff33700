"""Stage 4 — design + priors + family into a PyMC model (the ``make_stancode`` of bayesml).

One linear predictor per distributional parameter with a formula: the sum of its terms'
contributions (``bayesml.terms.PREDICTOR_TERMS``), its offsets and its group-level effects,
mapped through the parameter's link. The parameterisation is brms's: population-level designs
are centred and ``Intercept`` is the intercept of the centred predictors; varying effects enter
by one of the strategies of ``bayesml.effects`` (brms's non-centred one, or integrated out of
Gaussian models and drawn back after sampling). Model variables follow brms's Stan code
(``Intercept``, ``b``, ``b_sigma``, ``sd_1``, ``L_1``, ``z_1``, ``r_1``, ``sigma``); the
parameter registry maps them to brms's output names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import pymc as pm
import pytensor
import pytensor.tensor as pt
import xarray as xr
from pytensor.compile.mode import Mode
from pytensor.graph.replace import vectorize_graph
from pytensor.graph.traversal import ancestors

from . import densities
from ._rformat import r_num
from .columns import DataError
from .design import Design, GroupBlock, make_design
from .effects import (
    GROUP_EFFECTS,
    cov_inverse,
    integrated_blocks,
    integrated_design,
    resolve_group_effects,
)
from .families import (
    LINKS,
    Family,
    Likelihood,
    ResponseData,
    ResponseError,
    get_family,
)
from .formula import BrmsFormula
from .latent import draw_latent, latent_columns, latent_loglik
from .marginal import components, draw_group_effects, marginal_loglik
from .mean_shift import effect_means, mean_shift_plan, population_shifts
from .model_priors import default_priors, set_priors
from .parameters import Registry, model_parameters
from .priors import DISTRIBUTIONS, PriorError, PriorRow, PriorTable, parse_prior
from .rvs import coefficient_vector, lkj_eta, prior_rv, same_prior
from .terms import PREDICTOR_TERMS
from .terms.base import dpar_suffix
from .terms.matrix import clean_name
from .terms.population import collinear_columns, population_unshift

__all__ = [
    "BrmsModel",
    "build_model",
    "check_identified",
    "make_model",
    "sampler_coordinates",
    "model_code",
    "ordered_threshold_draws",
    "prior_draws",
    "recover_group_effects",
    "recover_latent",
    "response_containers",
]


@dataclass
class BrmsModel:
    """A compiled model: the PyMC model together with what it was built from.

    ``registry`` lists its parameters (brms names, prior rows, model variables); ``graph``
    keeps expressions of the model that later stages evaluate on draws (the residuals and
    residual variances of a model whose varying effects are integrated out).
    """

    design: Design
    family: Family
    priors: PriorTable
    model: pm.Model
    group_effects: str = "noncentred"
    registry: Registry | None = None
    graph: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.registry is None:
            self.registry = model_parameters(self.design, self.family)

    @property
    def integrated(self) -> tuple[int, ...]:
        """Ids of the blocks whose varying effects the likelihood integrates out."""
        if self.group_effects != "marginal":
            return ()
        if "integrated" not in self.graph:
            self.graph["integrated"] = integrated_blocks(self.design)
        return self.graph["integrated"]

    def code(self) -> str:
        """Readable description of the generated model (the Stan-code analogue)."""
        from .code import describe

        return describe(self)

    @property
    def response_name(self) -> str:
        return observed_name(self.design)


# Names the builder uses for its own variables; a response with one of them gets a suffix.
_RESERVED = re.compile(
    r"^(Y|Xc|Xmeans|b|Intercept|Intercept_prior|b_Intercept|offset|weights|sigma|nu|shape|phi|disc"
    r"|bsp|(sd|z|L|r|Z|J|simo|Xmo)_\d+|(b|Intercept)(_\w+)?_shifted|population_prior(_\w+)?)$"
)


def observed_name(design: Design) -> str:
    """The model's name for the response (its brms name, suffixed where it would clash)."""
    name = clean_name(design.formula.response) or "y"
    return f"{name}_obs" if _RESERVED.match(name) else name


def _thresholds(n: int, priors: PriorTable, ordered: bool = True) -> pt.TensorVariable:
    """Thresholds of an ordinal family (brms's class ``Intercept``, coefs 1..n): ordered for
    cumulative, a plain vector for sratio, cratio and acat (as brms declares them)."""
    rows = [priors.resolve("Intercept", str(k)) for k in range(1, n + 1)]
    if not ordered:
        return coefficient_vector(
            "Intercept", "Intercept", tuple(str(k) for k in range(1, n + 1)), "thres", priors
        )
    init = np.linspace(-1.0, 1.0, n) if n > 1 else np.zeros(1)
    ordered = pm.distributions.transforms.ordered
    dist = parse_prior(rows[0].prior)
    if (
        same_prior(rows)
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


def data_symbols(row: PriorRow, y: np.ndarray) -> PriorRow:
    """A prior row with brms's data symbols replaced by their values: ``min_Y``, the smallest
    response (shifted_lognormal's ``ndt ~ uniform(0, min_Y)``, bounded above by it)."""
    if "min_Y" not in row.prior + row.ub:
        return row
    value = repr(float(np.min(y)))
    return replace(row, prior=row.prior.replace("min_Y", value), ub=row.ub.replace("min_Y", value))


def _block_eta(blk: GroupBlock, r, etas: dict, mono: dict, thresholds: dict) -> None:
    """Add a block's effects to the predictors of its coefficients: ``Σ_j Z[:, j] · r[J, j]``,
    a monotonic term's value in place of ``Z[:, j]`` for varying ``mo()`` effects; a
    ``(cs(1) | g)`` effect goes to ``thresholds[k]``, what threshold k loses."""
    # a block of intercepts only (``(1 | g)``) adds r[J] itself: no product with ones
    unit = blk.intercepts_only
    Z = None if unit else pm.Data(f"Z_{blk.id}", blk.Z, dims=("obs", blk.coef_dim))
    J = pm.Data(f"J_{blk.id}", blk.index, dims="obs")
    for j, k in enumerate(blk.thresholds):
        if k is not None:
            thresholds[k] = thresholds.get(k, 0.0) + Z[:, j] * r[J, j]
    for dpar in dict.fromkeys(blk.dpars):
        cols = [j for j in blk.columns_of(dpar) if blk.thresholds[j] is None]
        if unit:
            etas[dpar] = etas[dpar] + sum(r[:, j][J] for j in cols)
        elif len(cols) == len(blk.coefs) and not blk.has_monotonic:
            etas[dpar] = etas[dpar] + (Z * r[J]).sum(axis=1)
        else:
            for j in cols:
                column = mono[dpar][blk.monotonic[j]] if blk.monotonic[j] else Z[:, j]
                etas[dpar] = etas[dpar] + column * r[J, j]


def _unshift(design: Design, priors: PriorTable, shifts: dict, effects: dict, extras: dict,
             etas: dict) -> None:  # fmt: skip
    """The population-level effects of the predictors sampled shifted (``mean_shift_plan``),
    with their priors, and their part of each predictor (``etas``, updated in place)."""
    sampled = {k for shift in shifts.values() for k, _ in shift.columns()}
    means = effect_means({k: effects[k] for k in sampled})
    sizes = {b.id: len(b.coefs) for b in design.blocks}
    for dpar, shift in shifts.items():
        fixed = design.predictors[dpar].terms["population"]
        slopes, icpt = population_shifts(shift, len(fixed.coefs), means, sizes)
        extra = extras.setdefault(dpar, {})
        part, values = population_unshift(fixed, priors, extra.pop("shifted"), slopes, icpt)
        extra.update(values)
        etas[dpar] = etas[dpar] + part


def _category_specific_shift(mucs, varying: dict, design: Design, response):
    """What each threshold loses per row (rows × thresholds): the ``cs()`` terms' part plus
    the ``(cs(1) | g)`` effects; None without either."""
    if not varying:
        return mucs
    n = response.n_thresholds
    cols = [varying.get(k, pt.zeros(design.nobs)) for k in range(1, n + 1)]
    shift = pt.stack(cols, axis=1)
    return shift if mucs is None else mucs + shift


def build_model(
    design: Design,
    family: Family,
    priors: PriorTable,
    group_effects: str = "noncentred",
    predictive: bool = False,
    graph: dict | None = None,
    response_draws: bool = False,
    mean_shift: bool = True,
) -> pm.Model:
    """Build the PyMC model for a design, family and prior table.

    ``predictive=True`` adds each predictor (``linpred``, ``linpred_<dpar>``) and the expected
    response (``epred``) as deterministics; prediction uses it with ``group_effects="given"``.
    ``graph``, when given, receives expressions later stages evaluate on draws.
    ``response_draws=True`` makes the response a distribution to draw from: censoring is
    left out and truncation becomes ``pm.Truncated`` (the log density is brms's otherwise).
    ``mean_shift`` samples population-level effects at their non-centred varying effects'
    means (``bayesml.mean_shift``); the model is the same either way.
    """
    response = design.response
    if response is None:
        response = family.prepare_response(design.formula.response, design.y, design.additions)
    coords: dict[str, tuple] = {"obs": tuple(range(design.nobs))}
    if family.ordinal:
        coords["thres"] = tuple(str(k) for k in range(1, response.n_thresholds + 1))
    for blk in design.blocks:
        coords[blk.group] = blk.levels
        coords[blk.coef_dim] = blk.coefs
    strategy = GROUP_EFFECTS[group_effects]
    integrated = integrated_blocks(design) if strategy.integrates_out else ()
    if graph is not None and strategy.integrates_out:
        graph["integrated"] = integrated
    # each block's own strategy: a marginal model keeps the blocks it cannot integrate out
    # (too large a factorisation) non-centred
    own = {
        b.id: GROUP_EFFECTS["noncentred"]
        if strategy.integrates_out and b.id not in integrated
        else strategy
        for b in design.blocks
    }
    shifts = {}
    if mean_shift:
        sampled = [b for b in design.blocks if own[b.id].name == "noncentred"]
        fixed = {d: p.terms["population"] for d, p in design.predictors.items()
                 if "population" in p.terms}  # fmt: skip
        shifts = mean_shift_plan(fixed, sampled, priors)
    if graph is not None:
        graph["mean_shift"] = shifts
    with pm.Model(coords=coords) as model:
        etas: dict[str, pt.TensorVariable] = {}
        mono: dict[str, dict] = {}
        extras: dict[str, dict] = {}
        thresholds = None
        first = next(iter(design.predictors))  # mu (categorical models: mu2)
        # smooth and GP coefficients of mu that a Gaussian likelihood integrates out
        latent: list | None = None
        if strategy.name == "latent":
            latent = []
        for dpar, pred in design.predictors.items():
            eta = pt.zeros(design.nobs)
            mono[dpar] = {}
            for kind, term in pred.terms.items():
                k = PREDICTOR_TERMS[kind]
                if kind == "population" and dpar in shifts:
                    term = replace(term, mean_shift=True)
                if k.latent and dpar == "mu" and latent is not None:
                    part, extra = k.eta(term, priors, model, latent=latent)
                else:
                    part, extra = k.eta(term, priors, model)
                eta = eta + part
                extras.setdefault(dpar, {}).update(extra)
                if graph is not None:  # each smooth's part, for posterior_smooths
                    graph.setdefault("terms", {}).update(
                        {(dpar, k): v for k, v in extra.items() if k.startswith(("smooth:", "gp:"))}
                    )
                if kind == "monotonic":
                    mono[dpar] = extra
            if pred.offset is not None:
                eta = eta + pm.Data(f"offset{dpar_suffix(dpar)}", pred.offset, dims="obs")
            etas[dpar] = eta
            if dpar == "mu" and family.ordinal:
                thresholds = _thresholds(response.n_thresholds, priors, family.ordered_thresholds)
            if dpar == first:  # brms adds the varying effects after mu's population terms
                effects = {blk.id: own[blk.id].add(blk, priors) for blk in design.blocks}
        _unshift(design, priors, shifts, effects, extras, etas)
        varying_thresholds: dict[int, pt.TensorVariable] = {}
        for blk in design.blocks:
            if not own[blk.id].integrates_out:
                _block_eta(blk, effects[blk.id], etas, mono, varying_thresholds)
        mucs = _category_specific_shift(
            extras.get("mu", {}).get("mucs"), varying_thresholds, design, response
        )
        dpars = {}
        for d in family.estimated_dpars(design.formula.additions, design.not_estimated):
            # a parameter the data bound (gen_extreme_value's xi) is sampled unbounded, except
            # in prediction models, which take its draws as they are
            name = d.raw_name if d.raw_name and strategy.name != "given" else d.name
            dpars[d.name] = prior_rv(name, data_symbols(priors.resolve(d.name), response.y))
        for dpar in design.dpars:
            dpars[dpar] = LINKS[family.dpar(dpar).link].inverse(etas[dpar])
        for dpar, value in design.fixed_dpars.items():
            dpars[dpar] = pt.as_tensor_variable(np.float64(value))
        _likelihood(
            design, family, response, etas, dpars, thresholds, strategy, effects, predictive,
            graph, response_draws, mucs, latent or None, integrated,
        )  # fmt: skip
        _threshold_intercepts(design, family, thresholds, extras.get("mu", {}))
    return model


def _likelihood(
    design,
    family,
    response,
    etas,
    dpars,
    thresholds,
    strategy,
    effects,
    predictive,
    graph,
    response_draws=False,
    mucs=None,
    latent=None,
    integrated=(),
) -> None:
    containers = {
        name: pm.Data(name, value, dims="obs")
        for name, value in response_containers(
            family, response, design.additions, response_draws
        ).items()
    }
    y = containers["Y"]
    eta = etas.get("mu", pt.zeros(design.nobs))  # categorical models have mu2, mu3, ...
    if mucs is not None:  # category-specific effects: one threshold per row and category
        thresholds = thresholds[None, :] - mucs
    lik = Likelihood(eta, family.link_name, dpars, response, (design.nobs,), thresholds, etas=etas)
    if strategy.name != "given":
        for d in family.estimated_dpars(design.formula.additions, design.not_estimated):
            if d.rescale is not None:
                dpars[d.name] = pm.Deterministic(d.name, d.rescale(dpars[d.name], y, lik))
    if predictive:
        pm.Deterministic("linpred", eta, dims="obs")
        for dpar in design.dpars:  # on the link scale, as brms's posterior_linpred(dpar=)
            pm.Deterministic(f"linpred_{dpar}", etas[dpar], dims="obs")
        mean = family.mean(lik)
        if response.categories:  # one probability per category
            pm.modelcontext(None).add_coord("category", response.categories)
            pm.Deterministic("epred", mean, dims=("obs", "category"))
        else:
            pm.Deterministic("epred", mean, dims="obs")
    dist = _response_distribution(family, lik, design.additions, response_draws, containers)
    name = observed_name(design)
    if strategy.integrates_out:
        part = integrated_design(design, integrated)
        inv = [cov_inverse(sd, L) for sd, L in (effects[b.id] for b in part.blocks)]
        v = lik.sigma() ** 2
        resid = y - eta
        loglik = marginal_loglik(
            part,
            components(part),
            resid,
            v,
            [c for c, _ in inv],
            [ld for _, ld in inv],
            homoscedastic=v.ndim == 0,
        )
        pm.Potential(f"{name}_marginal", loglik)
        if graph is not None:
            graph.update(resid=resid, variance=v)
    elif latent:
        v = lik.sigma() ** 2
        resid = y - eta
        pm.Potential(f"{name}_marginal", latent_loglik(resid, v, latent))
        if graph is not None:
            graph.update(resid=resid, variance=v, latent=latent)
    elif "weights" in design.additions and strategy.name != "given":
        # brms multiplies each log-likelihood term by its weight (no normalisation);
        # prediction models keep the plain response distribution (weights do not change it)
        w = pm.Data("weights", design.additions["weights"], dims="obs")
        pm.Potential(f"{name}_weighted", pt.sum(w * pm.logp(dist, y)))
    else:
        pm.modelcontext(None).register_rv(dist, name, observed=y, dims=("obs",))


def response_containers(
    family: Family, response: ResponseData, additions: dict, draws: bool = False
) -> dict[str, np.ndarray]:
    """Values of the response's data containers by name: ``Y``, and the response's own terms
    that a canonical likelihood reads (``densities.glm_response_terms``). New values of the
    response go into all of them together."""
    out = {"Y": response.y}
    canonical = family.canonical_likelihood(response, additions, draws)
    if canonical is not None:
        out.update(densities.glm_response_terms(canonical.kind, response.y, response.trials))
    return out


def _response_distribution(
    family: Family, lik: Likelihood, additions: dict, draws: bool, containers: dict
):
    """The family's distribution with ``cens()`` and ``trunc()`` applied: for the log density
    a ``CustomDist`` of brms's censored/truncated likelihood, for draws the plain family (no
    censoring) or ``pm.Truncated``. A plain log density at a canonical link is the family's
    cheaper form (``Family.canonical``), reading the response's terms from ``containers``."""
    censored, truncated = "cens" in additions, "lb" in additions
    canonical = family.canonical_likelihood(lik.response, additions, draws)
    if canonical is not None:
        return canonical.dist(lik, containers)
    base = family.dist(lik)
    if not (censored or truncated):
        return base
    lb, ub = (additions.get(k) for k in ("lb", "ub"))
    bounds = {
        "lb": None if lb is None or np.isneginf(lb).all() else lb,
        "ub": None if ub is None or np.isposinf(ub).all() else ub,
    }
    if draws:
        if not truncated:
            return base
        return pm.Truncated.dist(base, lower=bounds["lb"], upper=bounds["ub"], shape=lik.shape)
    names = list(lik.dpars)
    terms = dict(cens=additions.get("cens"), y2=additions.get("y2"), **bounds)
    try:
        densities.response_terms(base, **terms, discrete=family.discrete)
    except NotImplementedError as err:
        what = " and ".join(t for t, on in (("cens()", censored), ("trunc()", truncated)) if on)
        raise ResponseError(
            f"{what} cannot be used with family '{family.name}': its distribution has no "
            "cumulative distribution function here."
        ) from err

    def logp(value, eta, *dpar_values):
        at = replace(lik, eta=eta, dpars=dict(zip(names, dpar_values, strict=True)))
        loglik = densities.response_terms(family.dist(at), **terms, discrete=family.discrete)
        return loglik(value)

    params = [pt.as_tensor_variable(lik.dpars[n]) for n in names]
    return pm.CustomDist.dist(lik.eta, *params, logp=logp, shape=lik.shape)


def _threshold_intercepts(design: Design, family: Family, thresholds, extra: dict) -> None:
    """brms's ``b_Intercept[k]`` of ordinal models: thresholds of the uncentred predictors."""
    if not family.ordinal:
        return
    fx = design.fixed
    b = extra.get("b")
    shift = pt.dot(np.asarray(fx.means), b) if b is not None else 0.0
    pm.Deterministic("b_Intercept", thresholds + shift, dims="thres")


def make_model(
    formula: str | BrmsFormula,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    prior=None,
    group_effects: str = "auto",
    like: BrmsModel | dict | None = None,
) -> BrmsModel:
    """Compile a formula into a PyMC model with brms's priors and parameterisation.

    Parameters
    ----------
    formula : str or BrmsFormula
        A formula string or ``bf(...)`` with formulas for distributional parameters.
    data : pandas.DataFrame
    family : str or Family
    prior : PriorTable or prior(...) specifications, optional
        A whole table, or user priors that replace brms's defaults where they apply
        (``bayesml.prior("normal(0, 1)", class_="b", coef="Days") + ...``).
    group_effects : {"auto", "marginal", "noncentred", "latent"}
        How the varying effects enter (``bayesml.effects``): ``"marginal"`` integrates them
        out (Gaussian models with identity link, no weights, no group-level terms in other
        parameters' formulas; ``r_k`` are drawn after sampling), ``"noncentred"`` is brms's
        non-centred model (correlated blocks in centred coordinates: ``bayesml.effects``);
        ``"latent"`` keeps the varying effects non-centred and integrates
        mu's smooth and GP coefficients out of a Gaussian likelihood (``bayesml.latent``);
        ``"auto"`` picks latent for Gaussian models with smooths or GPs, else marginal where
        it applies.
    like : BrmsModel or dict, optional
        An earlier model of the same formula on other data (or its
        ``sampler_coordinates``): its sampler coordinates for the slopes are kept, so that
        data of the same shape reuse its compiled sampler (``update``, ``kfold``). The
        posterior is the same either way.

    Returns
    -------
    BrmsModel
        ``.model`` is the ``pymc.Model``: add to it or sample it with ``bayesml.sample``.
    """
    fam = get_family(family)
    design = make_design(formula, data, fam)
    if like is not None:
        _keep_coordinates(design, like if isinstance(like, dict) else sampler_coordinates(like))
    registry = model_parameters(design, fam)
    if isinstance(prior, PriorTable):
        priors = prior
    else:
        priors = default_priors(design, fam, registry)
        if prior is not None:
            priors = set_priors(priors, prior, design, fam)
    check_identified(design, priors)
    group_effects = resolve_group_effects(group_effects, design, fam)
    graph: dict = {}
    model = build_model(design, fam, priors, group_effects, graph=graph)
    return BrmsModel(design, fam, priors, model, group_effects, registry, graph)


def sampler_coordinates(bm: BrmsModel) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each predictor's slope coordinates (``FixedDesign.coordinate_map`` with and without
    mixing), by parameter: what ``make_model(like=)`` keeps for a refit on other data."""
    return {
        dpar: (pred.fixed.coordinate_map(True), pred.fixed.coordinate_map(False))
        for dpar, pred in bm.design.predictors.items()
        if pred.fixed.coefs
    }


def _keep_coordinates(design: Design, coordinates: dict) -> None:
    """Give each predictor's slopes earlier coordinates (``sampler_coordinates``) where its
    columns are as many."""
    for dpar, pred in design.predictors.items():
        maps = coordinates.get(dpar)
        if maps is None or maps[0].shape != (len(pred.fixed.coefs),) * 2:
            continue
        pred.terms["population"] = replace(pred.fixed, coordinates=maps)


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
    for dpar, pred in design.predictors.items():
        fx = pred.fixed
        dp = "" if dpar == "mu" else dpar
        for c in collinear_columns(fx):
            involved = (c.column, *c.depends_on)
            rows = [priors.resolve("b", name, dpar=dp) for name in involved]
            if any(parse_prior(r.prior) is not None for r in rows):
                continue
            where = "" if dpar == "mu" else f" of {dpar}'s formula"
            if not c.depends_on:
                what = "constant in the data" if fx.intercept else "zero in every row"
                dup = " (so it duplicates the intercept)" if fx.intercept else ""
                raise DataError(
                    f"The population-level effect '{c.column}'{where} is not identified: its "
                    f"column is {what}{dup} and its prior is flat. Remove it, or give it a "
                    "proper prior."
                )
            combo = " + ".join(
                f"{r_num(round(w, 6))}*{n}" for w, n in zip(c.weights, c.depends_on, strict=True)
            )
            centred = " (after centring)" if fx.intercept else ""
            raise DataError(
                f"The population-level effects {', '.join(repr(n) for n in involved)}{where} "
                f"are not identified: '{c.column}' = {combo}{centred} in every row (collinear "
                "predictors) and their priors are flat. To fix: remove one of them, or give "
                "them proper priors, e.g. prior('normal(0, 10)', class_='b')."
            )


def prior_draw_names(bm: BrmsModel) -> tuple[dict[str, PriorRow], dict[str, str]]:
    """Which prior draws brms makes (``sample_prior = "yes"``) and whose prior each is.

    Returns the proper priors to draw, by brms's ``prior_*`` name, and for each parameter
    whose prior is among them (``b_Days``, ``sd_Subject__Days``, ``cor_Subject__Intercept__Days``,
    ``sigma``) the name of its prior's draws. The centred intercept's prior
    (``prior_Intercept``) belongs to no reported parameter.
    """
    pr = bm.priors
    wanted: dict[str, PriorRow] = {}
    families: dict[str, dict[str, PriorRow]] = {}
    owners: dict[tuple[str, str], list[str]] = {}  # (prefix, key) -> parameters
    for p in bm.registry:
        if p.kind == "cor" or p.default or (p.class_ == "Intercept" and p.coef):
            continue
        if p.name.startswith("bsp_"):
            continue  # monotonic slopes have no prior draws here
        if p.class_ == "Intercept" and p.section == "population":
            continue  # the centred intercept carries the prior
        row = pr.resolve(p.class_, p.coef, p.group, p.dpar)
        sfx = f"_{p.dpar}" if p.dpar else ""
        if p.class_ == "sd":
            prefix, key = f"prior_sd_{p.group}", f"__{p.name.split('__', 1)[1]}"
        elif p.class_ == "b":
            prefix, key = f"prior_b{sfx}", f"_{p.coef}"
        else:
            prefix, key = f"prior_{p.class_}{sfx}", ""
        families.setdefault(prefix, {})[key] = row
        if p.class_ != "Intercept":
            owners.setdefault((prefix, key), []).append(p.name)
    # brms's order: b, Intercept, sd, then the family's parameters
    rank = {"b": 0, "Intercept": 1, "sd": 2}
    ordered = sorted(
        families.items(), key=lambda kv: rank.get(next(iter(kv[1].values())).class_, 3)
    )
    of: dict[str, str] = {}
    for prefix, rows in ordered:
        proper = {k: r for k, r in rows.items() if parse_prior(r.prior) is not None}
        if not proper:
            continue
        # one draw per class (or group) where the prior is set there; per coefficient where
        # coefficients have priors of their own, as brms names them (prior_b_Days)
        shared = {(r.class_, r.coef, r.group) for r in proper.values()}
        one = len(shared) == 1 and not next(iter(proper.values())).coef
        if one and len(proper) == len(rows):
            wanted[prefix] = next(iter(proper.values()))
            for k in proper:
                of.update(dict.fromkeys(owners.get((prefix, k), []), prefix))
        else:
            for k, r in proper.items():
                wanted[f"{prefix}{k}"] = r
                of.update(dict.fromkeys(owners.get((prefix, k), []), f"{prefix}{k}"))
    for p in bm.registry:
        if p.kind == "cor" and p.group:
            of[p.name] = f"prior_cor_{p.group}"
    return wanted, of


def prior_draws(bm: BrmsModel, draws: int, seed: int | None = None) -> dict[str, np.ndarray]:
    """Independent draws from each proper prior, under brms's ``prior_*`` names.

    ``prior_b`` (or ``prior_b_<coef>`` where coefficients have different priors),
    ``prior_Intercept``, ``prior_sd_<group>`` (or ``prior_sd_<group>__<coef>``),
    ``prior_cor_<group>``, ``prior_<dpar>``; a predicted parameter's classes carry its name
    (``prior_b_sigma``, ``prior_Intercept_sigma``). Flat priors have no draws.
    """
    pr = bm.priors
    wanted, _ = prior_draw_names(bm)
    # brms: prior_cor_<g> = lkj_corr_rng(M, eta)[1, 2], M the coefficients of the block
    cor_size = {}
    for b in bm.design.blocks:
        if b.has_cor:
            cor_size.setdefault(b.group, len(b.coefs))
    with pm.Model():
        rvs = {}
        for name, row in wanted.items():
            rv = prior_rv(name, row)
            if parse_prior(row.prior).name != "constant":
                rvs[name] = rv
        for g, m in cor_size.items():
            L = pm.LKJCorr(f"L_{g}", n=m, eta=lkj_eta(pr, g))
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
    if same_prior(rows):
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


# The expressions evaluated on draws run a few times per fit, each on a whole chunk of draws:
# PyTensor's Python linker evaluates them with NumPy at once, where compiling them with Numba
# took longer than it saved (post-processing, seed 1: sleep_full 0.17 -> 0.09 s,
# classroom_uncorr 2.1 -> 1.1-1.4 s, a Gaussian y ~ s(x) + (1 | g) with 2,000 rows 3.1 -> 0.6 s;
# benchmarks/README.md). The Python linker also skips PyTensor's C virtual machine, whose
# first use imports setuptools.
DRAWS_MODE = Mode(linker="py", optimizer="fast_compile")


def chunks_on_draws(model: pm.Model, outputs: dict, raw: xr.Dataset, chunk: int = 256):
    """Expressions of the model evaluated on successive chunks of the draws of ``raw``
    (chains stacked): yields ``(slice, {name: (draws in chunk, ...)})``. The graph is
    vectorised over draws, so nothing is recomputed by hand; a chunk at a time keeps
    per-observation outputs (draws × rows) out of memory."""
    names = list(outputs)
    exprs = [outputs[n] for n in names]
    needed = set(ancestors(exprs))
    inputs = [rv for rv in model.free_RVs if rv in needed]
    batched = {rv: rv.type.clone(shape=(None, *rv.type.shape))() for rv in inputs}
    vectorised = vectorize_graph(exprs, replace=batched)
    fn = pytensor.function(
        list(batched.values()), vectorised, on_unused_input="ignore", mode=DRAWS_MODE
    )
    S = raw.sizes["chain"] * raw.sizes["draw"]
    values = {rv.name: raw[rv.name].values.reshape(S, *raw[rv.name].shape[2:]) for rv in inputs}
    for start in range(0, S, chunk):
        sl = slice(start, min(S, start + chunk))
        part = fn(*(values[rv.name][sl] for rv in inputs))
        yield (
            sl,
            {
                n: np.broadcast_to(v, (sl.stop - sl.start, *np.shape(v)[1:]))
                for n, v in zip(names, part, strict=True)
            },
        )


def evaluate_on_draws(model: pm.Model, outputs: dict, raw: xr.Dataset, chunk: int = 256):
    """Expressions of the model evaluated at every draw of ``raw`` (chains stacked):
    ``{name: (draws, ...)}`` (``chunks_on_draws`` in one piece)."""
    out: dict[str, list] = {n: [] for n in outputs}
    for _, part in chunks_on_draws(model, outputs, raw, chunk):
        for n, v in part.items():
            out[n].append(v)
    return {n: np.concatenate(v) for n, v in out.items()}


def recover_group_effects(raw: xr.Dataset, bm: BrmsModel, seed: int | None = None) -> xr.Dataset:
    """Add the varying effects ``r_k`` to the draws of a model that integrated them out.

    One exact draw from ``r | y, θ`` per posterior draw (see ``bayesml.marginal``); the
    residuals ``y - eta`` and the residual variances come from the model's own graph.
    """
    d = integrated_design(bm.design, bm.integrated)
    chains, draws = raw.sizes["chain"], raw.sizes["draw"]
    S = chains * draws
    graph = bm.graph if "resid" in bm.graph else _rebuilt_graph(bm)
    cov_inv = []
    for blk in d.blocks:
        sd = raw[f"sd_{blk.id}"].values.reshape(S, -1)
        if blk.has_cor:
            L = raw[f"L_{blk.id}"].values.reshape(S, *raw[f"L_{blk.id}"].shape[2:])
            R = L @ np.swapaxes(L, -1, -2)
            cov_inv.append(np.linalg.inv(sd[:, :, None] * R * sd[:, None, :]))
        else:
            cov_inv.append(np.stack([np.diag(1 / s**2) for s in sd]))
    rng = np.random.default_rng(None if seed is None else [seed, 7])
    comps = components(d)
    rs = [np.zeros((S, b.n_levels, len(b.coefs))) for b in d.blocks]
    outputs = {"resid": graph["resid"], "v": graph["variance"]}
    # a chunk of draws at a time: the residuals are draws × rows (at most ~64 MB each)
    chunk = int(np.clip(2**23 // max(d.nobs, 1), 1, 256))
    for sl, got in chunks_on_draws(bm.model, outputs, raw, chunk):
        v = got["v"]
        v = v if v.ndim > 1 and v.shape[1] > 1 else v.reshape(len(v))
        cov = [c[sl] for c in cov_inv]
        part = draw_group_effects(d, comps, got["resid"], v, cov, rng, chunk=chunk, total_draws=S)
        for r, p in zip(rs, part, strict=True):
            r[sl] = p
    out = raw.copy()
    for blk, r in zip(d.blocks, rs, strict=True):
        out[f"r_{blk.id}"] = xr.DataArray(
            r.reshape(chains, draws, blk.n_levels, len(blk.coefs)),
            dims=("chain", "draw", blk.group, blk.coef_dim),
            coords={
                "chain": raw["chain"].values,
                "draw": raw["draw"].values,
                blk.group: list(blk.levels),
                blk.coef_dim: list(blk.coefs),
            },
        )
    return out


def recover_latent(raw: xr.Dataset, bm: BrmsModel, seed: int | None = None) -> xr.Dataset:
    """Add the smooth and GP coefficients a Gaussian model integrated out (``zs_``, ``s_``,
    ``zgp_``): one exact draw from their conditional per posterior draw (``bayesml.latent``)."""
    graph = bm.graph if "latent" in bm.graph else _rebuilt_graph(bm)
    pieces = graph["latent"]
    chains, draws = raw.sizes["chain"], raw.sizes["draw"]
    S = chains * draws
    outputs = {"resid": graph["resid"], "v": graph["variance"]}
    outputs.update({f"B{i}": latent_columns(p) for i, p in enumerate(pieces)})
    outputs.update({f"A{i}": p.factor for i, p in enumerate(pieces) if p.scaled})
    got = evaluate_on_draws(bm.model, outputs, raw)
    v = got["v"].reshape(S, -1)
    v = v[:, 0] if v.shape[1] == 1 else v
    rng = np.random.default_rng(None if seed is None else [seed, 11])
    zs = draw_latent(got["resid"], v, [got[f"B{i}"] for i in range(len(pieces))], rng)
    out = raw.copy()
    coords = {"chain": raw["chain"].values, "draw": raw["draw"].values}
    for i, (p, z) in enumerate(zip(pieces, zs, strict=True)):
        dims = ("chain", "draw", p.dim)
        dim_coords = {**coords, p.dim: np.arange(1, z.shape[1] + 1)}
        if p.scaled:  # A · z, and z as brms's standardised coefficients A·z / |A|
            a = got[f"A{i}"].reshape(S, -1)
            scaled = (a * z).reshape(chains, draws, -1)
            out[p.scaled] = xr.DataArray(scaled, dims=dims, coords=dim_coords)
            z = z * np.sign(a)
        out[p.name] = xr.DataArray(z.reshape(chains, draws, -1), dims=dims, coords=dim_coords)
    return out


def _rebuilt_graph(bm: BrmsModel) -> dict:
    """The residual expressions of a loaded model (its graph was not kept)."""
    graph: dict = {}
    bm.model = build_model(bm.design, bm.family, bm.priors, bm.group_effects, graph=graph)
    bm.graph = graph
    return graph


def model_code(
    formula: str | BrmsFormula, data: pd.DataFrame, family: str | Family = "gaussian"
) -> str:
    """The generated model in readable form (brms's ``make_stancode``)."""
    return make_model(formula, data, family).code()
