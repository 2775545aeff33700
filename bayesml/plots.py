"""Stage 6 — plots of a model's priors and fits (matplotlib)."""

from __future__ import annotations

import math
import warnings

import numpy as np

from .columns import is_factor, r_levels
from .design import formula_columns
from .model import BrmsModel, prior_draws
from .model_priors import improper_classes
from .terms.group import effects_name

__all__ = [
    "conditional_effects",
    "conditional_smooths",
    "mcmc_plot",
    "plot_effects",
    "plot_fit",
    "plot_prior_posterior",
    "plot_priors",
    "plot_ranef",
    "pp_check",
    "ppc_bars_data",
    "predictive_tree",
    "prior_posterior_tree",
    "summary_variables",
]


def plot_priors(model, draws: int = 4000, seed: int | None = None):
    """The density of every proper prior, one panel per brms ``prior_*`` draw
    (``prior_draws``), drawn by ArviZ's ``plot_dist``.

    Parameters
    ----------
    model : BrmsModel or Fit
        The priors in force (defaults and user priors).
    draws : int
        Independent draws per prior.
    seed : int, optional

    Returns
    -------
    arviz_plots.PlotCollection
        Panels titled ``prior_b``, ``prior_Intercept``, ``prior_sd_<group>``, ... Flat
        priors have no density; they are named in the figure's title.
    """
    import arviz_plots as azp
    import xarray as xr

    bm: BrmsModel = model if isinstance(model, BrmsModel) else model.model
    samples = prior_draws(bm, draws, seed)
    if not samples:
        raise ValueError("Every prior of this model is flat; there is no density to draw.")
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(
        {name: (("chain", "draw"), np.asarray(x, dtype=float)[None]) for name, x in samples.items()}
    )})  # fmt: skip
    pc = azp.plot_dist(
        tree, kind="hist",
        visuals={"credible_interval": False, "point_estimate": False,
                 "point_estimate_text": False},
        figure_kwargs={"layout": "constrained"},
    )  # fmt: skip
    flat = improper_classes(bm.priors, bm.design, bm.family)
    figure = pc.viz["figure"].item()
    figure.suptitle("Prior densities" + (f" (flat: {', '.join(flat)})" if flat else ""))
    return pc


# pp_check's types (brms's names) and how many replicates each uses by default (brms: 10
# for the overlays, all draws for the summaries)
_PPC_TYPES = {
    "dens_overlay": 10, "ecdf_overlay": 10, "hist": 10,
    "stat": None, "intervals": None, "bars": None, "rootogram": None, "pit_ecdf": None,
}  # fmt: skip
_STATS = {"mean": "mean", "median": "median", "sd": "std", "max": np.max, "min": np.min}


def predictive_tree(fit, ndraws: int | None = None, seed: int | None = None):
    """The observed response and ``ndraws`` replicated data sets (``posterior_predict``;
    all draws when None) as an ArviZ DataTree: ``observed_data`` and
    ``posterior_predictive`` under the response's name, one observation dimension ``obs``."""
    import xarray as xr

    name = fit.formula.response
    y = np.asarray(fit.idata["observed_data"][fit.model.response_name])
    yrep = fit.posterior_predict(ndraws=ndraws, seed=seed)
    chains = 1 if ndraws is not None else fit.settings.chains
    yrep = yrep.reshape(chains, -1, *y.shape)
    dims = tuple(f"obs_dim_{k}" if k else "obs" for k in range(y.ndim))
    return xr.DataTree.from_dict({
        "observed_data": xr.Dataset({name: (dims, y)}),
        "posterior_predictive": xr.Dataset({name: (("chain", "draw", *dims), yrep)}),
    })  # fmt: skip


def pp_check(
    fit,
    type: str = "dens_overlay",  # noqa: A002 - brms's argument name
    ndraws: int | None = None,
    stat: str = "mean",
    prob: float = 0.9,
    seed: int | None = None,
):
    """Posterior predictive checks (brms's ``pp_check``), drawn by ArviZ's plotting library.

    The observed response against replicated data sets (``posterior_predict``):

    - ``"dens_overlay"`` (default), ``"ecdf_overlay"``, ``"hist"``: the data's density, ECDF
      or histogram (black) over those of ``ndraws`` replicates (default 10, as brms);
    - ``"stat"``: the distribution of a statistic (``stat``: mean, median, sd, max, min) over
      all draws, with the data's value;
    - ``"intervals"``: per observation, the replicates' 50% and ``prob`` intervals with the
      data;
    - ``"bars"`` and ``"rootogram"`` (discrete responses): each value's count in the data
      and the replicates' median count with its ``prob`` interval, on a linear or a
      square-root scale (the numbers of ``"bars"``: ``ppc_bars_data``);
    - ``"pit_ecdf"``: the difference between the ECDF of the probability integral transform
      values and the uniform one, with a simultaneous band.

    Returns
    -------
    arviz_plots.PlotCollection
        ``pc.show()``, ``pc.savefig(path)``; the drawn elements are in ``pc.viz``.
    """
    import arviz_plots as azp

    if type not in _PPC_TYPES:
        raise ValueError(f"Unknown pp_check type '{type}'; use {', '.join(_PPC_TYPES)}.")
    if type == "stat" and stat not in _STATS:
        raise ValueError(f"stat must be one of {', '.join(_STATS)}, got '{stat}'.")
    if type in ("bars", "rootogram"):
        _check_discrete(fit, type)
    n = _PPC_TYPES[type] if ndraws is None else ndraws
    tree = predictive_tree(fit, n, seed)
    if type in ("dens_overlay", "ecdf_overlay", "hist"):
        kind = {"dens_overlay": "kde", "ecdf_overlay": "ecdf", "hist": "hist"}[type]
        return azp.plot_ppc_dist(tree, kind=kind, num_samples=n)
    if type == "stat":
        return azp.plot_ppc_tstat(tree, t_stat=_STATS[stat])
    if type == "intervals":
        return azp.plot_ppc_interval(tree, ci_probs=(0.5, prob), point_estimate="median")
    if type in ("bars", "rootogram"):
        scale = "linear" if type == "bars" else "sqrt"
        with warnings.catch_warnings():
            # bars are what the user asked for; ArviZ suggests another plot for binary data
            warnings.filterwarnings("ignore", message=".*look binary", category=UserWarning)
            # ArviZ's counting of two values reads its own (values, ...) array as chains
            warnings.filterwarnings("ignore", message="Found chain dimension to be longer")
            return azp.plot_ppc_rootogram(tree, ci_prob=prob, yscale=scale, point_estimate="median")
    return azp.plot_ppc_pit(tree)


def _check_discrete(fit, type: str) -> None:  # noqa: A002
    if not (fit.family.discrete or fit.family.has_categories or fit.family.response == "binary"):
        raise ValueError(
            f"pp_check(type='{type}') is for discrete responses; family '{fit.family.name}' has "
            "a continuous one (use 'dens_overlay' or 'hist')."
        )


def ppc_bars_data(fit, prob: float = 0.9, seed: int | None = None, ndraws: int | None = None):
    """The numbers of ``pp_check(type="bars")`` (bayesplot's ``ppc_bars_data``): for every
    value of a discrete response, its count in the data and the median and ``prob`` interval
    of its count over replicated data sets (``posterior_predict``).

    Raises
    ------
    ValueError
        The response is not discrete (counts, binary, categories).
    """
    import pandas as pd

    _check_discrete(fit, "bars")
    y = np.asarray(fit.idata["observed_data"][fit.model.response_name]).astype(np.int64)
    yrep = fit.posterior_predict(ndraws=ndraws, seed=seed).astype(np.int64)
    values = np.union1d(np.unique(y), np.unique(yrep))
    counts = (yrep[:, :, None] == values).sum(axis=1)  # draws × values
    lo, hi = (1 - prob) / 2, 1 - (1 - prob) / 2
    return pd.DataFrame(
        {
            "value": values,
            "observed": (y[:, None] == values).sum(axis=0),
            "median": np.median(counts, axis=0),
            "lower": np.quantile(counts, lo, axis=0),
            "upper": np.quantile(counts, hi, axis=0),
        }
    )


def _reference_row(data, columns):
    """Numeric columns at their mean, others at their first (reference) level."""
    import pandas as pd

    row = {}
    for c in columns:
        s = data[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            row[c] = float(s.mean())
        else:
            levels = list(s.cat.categories) if hasattr(s, "cat") else sorted(s.unique(), key=str)
            row[c] = levels[0]
    return row


def _default_effects(fit) -> list[str]:
    """Main effects and two-way interactions of every formula, and mo() variables."""
    effects: list[str] = []
    for pred in fit.design.predictors.values():
        m = pred.fixed.terms
        groups = m.term_variables() if m is not None else []
        groups += [list(mt.term.variables) for mt in pred.monotonic]
        for kind in ("smooth", "gp"):  # a smooth's covariates (and its by variable)
            for part in getattr(pred.terms.get(kind), "parts", ()):
                by = part.term.option("by")
                groups.append([*part.term.variables, *([by] if by else [])])
        for comps in groups:
            comps = [c for c in comps if c in fit.data.columns]
            if 1 <= len(comps) <= 2 and ":".join(comps) not in effects:
                effects.append(":".join(comps))
    return effects


def conditional_effects(
    fit,
    effects=None,
    prob: float = 0.95,
    resolution: int = 100,
    plot: bool = True,
    dpar: str | None = None,
    categorical: bool = False,
):
    """brms's ``conditional_effects``: the expected response along each predictor.

    Every main effect and two-way interaction of the formulas (or those in ``effects``, e.g.
    ``["Days"]`` or ``["ses:himinty"]``); the other predictors at their mean (numeric) or
    reference level (factors); varying effects left out (``re_formula=NA``); posterior median
    and ``prob`` interval of ``posterior_epred`` (for ordinal models the expected category
    number, sum of k · P(y = k)), or of the distributional parameter ``dpar`` (``"sigma"``) on
    its own scale. ``categorical=True`` (ordinal and categorical models; the only choice for
    categorical ones, as in brms) gives each category's probability, one row per category
    with its label in ``cats__``.

    Returns
    -------
    dict of DataFrames (``effect1__``, ``effect2__``, ``estimate__``, ``se__``, ``lower__``,
    ``upper__`` and the predictors), and when ``plot`` the figure (``plot_effects``: an
    ArviZ ``PlotCollection``).
    """
    import pandas as pd

    data = fit.data
    f = fit.formula
    group_vars = {v for b in fit.design.blocks for v in b.term.group_vars}
    preds = [
        c
        for c in formula_columns(f, response=False, additions=())
        if c not in group_vars and c in data.columns
    ]
    if categorical and not fit.family.has_categories:
        raise ValueError(
            f"categorical=True needs an ordinal or categorical model; family "
            f"'{fit.family.name}' has one expected value per row."
        )
    if fit.family.category_dpar is not None and not categorical:
        raise ValueError(
            "A categorical model has no single expected value: use "
            "conditional_effects(..., categorical=True) for each category's probability."
        )
    if effects is None:
        effects = _default_effects(fit)
    if isinstance(effects, str):
        effects = [effects]
    base = _reference_row(data, preds)
    lo_q, hi_q = (1 - prob) / 2, 1 - (1 - prob) / 2
    frames = {}
    for eff in effects:
        parts = eff.split(":")
        for p in parts:
            if p not in data.columns:
                raise ValueError(f"Effect '{eff}': '{p}' is not a predictor of the model.")
        x = data[parts[0]]
        if pd.api.types.is_numeric_dtype(x) and not pd.api.types.is_bool_dtype(x):
            xs = np.linspace(x.min(), x.max(), resolution)
        else:
            xs = np.array(sorted(x.unique(), key=str), dtype=object)
        if len(parts) == 2:
            z = data[parts[1]]
            if pd.api.types.is_numeric_dtype(z) and not pd.api.types.is_bool_dtype(z):
                m, s = z.mean(), z.std()
                zs = [m + s, m, m - s]
            else:
                zs = sorted(z.unique(), key=str)
        else:
            zs = [None]
        rows = []
        for zv in zs:
            for xv in xs:
                r = dict(base)
                r[parts[0]] = xv
                if zv is not None:
                    r[parts[1]] = zv
                rows.append(r)
        grid = pd.DataFrame(rows)
        for g in fit.design.blocks:
            for v in g.term.group_vars:
                grid[v] = g.levels[0]
        for a in f.additions:
            for arg in a.args:
                if arg in data.columns:
                    grid[arg] = data[arg].median() if a.name == "trials" else data[arg].mean()
        if dpar not in (None, "mu"):
            ep = fit.posterior_linpred(grid, re_formula="~0", dpar=dpar, transform=True)
        else:
            ep = fit.posterior_epred(grid, re_formula="~0")
        if ep.ndim == 3 and categorical:  # one row per grid point and category
            cats = list(fit.design.response.categories)
            grid = pd.concat([grid.assign(cats__=c) for c in cats], ignore_index=True)
            ep = np.concatenate([ep[:, :, k] for k in range(len(cats))], axis=1)
        elif ep.ndim == 3:
            # ordinal: the expected category number, sum_k k * P(y = k), as brms plots it
            ep = np.einsum("snk,k->sn", ep, np.arange(1, ep.shape[2] + 1))
        out = grid.copy()
        out["effect1__"] = grid[parts[0]]
        if len(parts) == 2:
            out["effect2__"] = grid[parts[1]]
        out["estimate__"] = np.median(ep, axis=0)
        out["se__"] = 1.4826 * np.median(np.abs(ep - out["estimate__"].to_numpy()), axis=0)
        out["lower__"] = np.quantile(ep, lo_q, axis=0)
        out["upper__"] = np.quantile(ep, hi_q, axis=0)
        frames[eff] = out
    if not plot:
        return frames
    ylabel = fit.formula.response if dpar in (None, "mu") else dpar
    return frames, plot_effects(frames, ylabel)


def _effect_curves(eff: str, df, by_label: str | None) -> tuple:
    """One effect's table as an array with a ``plot_axis`` dimension (x, y, y_bottom, y_top)
    over its grid, a ``group`` dimension for the second variable of an interaction (or the
    category), and the x tick labels when the first variable is not numeric."""
    import xarray as xr

    if "cats__" in df:
        by, label = "cats__", "category"
    elif "effect2__" in df:
        by, label = "effect2__", by_label
    else:
        by, label = None, None
    groups = list(df.groupby(by, sort=False)) if by else [(None, df)]
    numeric = np.issubdtype(np.asarray(df["effect1__"]).dtype, np.number)
    ticks = None if numeric else [str(v) for v in groups[0][1]["effect1__"]]
    stacks, names = [], []
    for i, (value, sub) in enumerate(groups):
        x = (sub["effect1__"].to_numpy(dtype=float) if numeric
             else np.arange(len(sub)) + 0.1 * i)  # fmt: skip
        stacks.append(np.stack([x, sub["estimate__"], sub["lower__"], sub["upper__"]]))
        names.append(f"{value:.3g}" if isinstance(value, float) else str(value))
    coords = {"plot_axis": ["x", "y", "y_bottom", "y_top"]}
    if by is None:
        return xr.DataArray(stacks[0], dims=("plot_axis", f"{eff}__grid"), coords=coords), ticks
    coords["group"] = [f"{label} = {n}" for n in names]
    curves = xr.DataArray(np.stack(stacks), dims=("group", "plot_axis", f"{eff}__grid"),
                          coords=coords)  # fmt: skip
    return curves, ticks


def plot_effects(frames: dict, ylabel: str, xlabels: dict | None = None, surfaces=None):
    """The figure of ``conditional_effects``' tables, drawn with ArviZ's PlotCollection: one
    panel per effect, the estimate as a line with its interval as a band along a numeric
    variable (points with interval lines along a factor), one colour per value of an
    interaction's second variable (``effect2__``) or per category (``cats__``).

    ``xlabels`` maps an effect to its x label and its second variable's name (by default
    the effect's name split at ``:``); ``surfaces`` maps further panels to
    ``(x, z, values, x_name, z_name)``, ``values[i, j]`` at ``(x[i], z[j])``, drawn as filled
    contours (two-covariate smooths)."""
    import arviz_plots as azp
    import xarray as xr
    from arviz_plots.visuals import ci_line_y, fill_between_y, line_xy, scatter_xy

    xlabels = dict(xlabels or {})
    surfaces = dict(surfaces or {})
    curves, ticks = {}, {}
    for eff, df in frames.items():
        xlabels.setdefault(eff, (eff.split(":") + [None])[:2])
        curves[eff], ticks[eff] = _effect_curves(eff, df, xlabels[eff][1])
    for name, (x, z, values, *_) in surfaces.items():
        curves[name] = xr.DataArray(values, dims=(f"{name}__x", f"{name}__z"),
                                    coords={f"{name}__x": x, f"{name}__z": z})  # fmt: skip
    data = xr.Dataset(curves)
    numeric = [e for e in frames if ticks[e] is None]
    factors = [e for e in frames if ticks[e] is not None]
    panels = data.sel(plot_axis="y") if "plot_axis" in data.dims else data
    pc = azp.PlotCollection.wrap(
        panels, cols=["__variable__"], backend="matplotlib",
        aes={"color": ["group"]} if "group" in data.dims else {},
        figure_kwargs={"layout": "constrained", "figsize": (5 * len(curves), 3.8)},
    )  # fmt: skip
    if surfaces:
        pc.map(_contour, "surface", data=data[list(surfaces)])
    if numeric:
        bands = data[numeric]
        pc.map(fill_between_y, "ci_band", data=bands.sel(plot_axis="y"),
               x=bands.sel(plot_axis="x"), y_bottom=bands.sel(plot_axis="y_bottom"),
               y_top=bands.sel(plot_axis="y_top"), alpha=0.2)  # fmt: skip
        pc.map(line_xy, "estimate", data=bands.sel(plot_axis=["x", "y"]))
    if factors:
        points = data[factors]
        pc.map(ci_line_y, "ci_line", data=points.sel(plot_axis=["x", "y_bottom", "y_top"]))
        pc.map(scatter_xy, "estimate_points", data=points.sel(plot_axis=["x", "y"]))
    for name in surfaces:
        ax = pc.viz["plot"][name].item()
        ax.set_title(name)
        ax.set_xlabel(surfaces[name][3])
        ax.set_ylabel(surfaces[name][4])
    for eff in frames:
        ax = pc.viz["plot"][eff].item()
        ax.set_title(eff)
        ax.set_xlabel(xlabels[eff][0])
        ax.set_ylabel(ylabel)
        if ticks[eff] is not None:
            ax.set_xticks(np.arange(len(ticks[eff])), ticks[eff])
            ax.set_xlim(-0.5, len(ticks[eff]) - 0.5)
        if "group" in curves[eff].dims:  # one legend entry per line (or point) colour
            drawn = pc.viz["estimate" if ticks[eff] is None else "estimate_points"][eff]
            labels = [str(g) for g in curves[eff]["group"].values]
            ax.legend([drawn.sel(group=g).item() for g in labels], labels, fontsize=8)
    return pc


def _smooth_grid(fit, term, resolution: int):
    """brms's grid for one smooth: each covariate over its range (a resolution × resolution
    surface for two), the other columns at their mean or first level, a factor ``by`` at
    every level."""
    import pandas as pd

    data = fit.data
    columns = [c for c in formula_columns(fit.formula, response=False, additions=())
               if c in data.columns]  # fmt: skip
    base = _reference_row(data, columns)
    axes = [np.linspace(data[v].min(), data[v].max(), resolution) for v in term.variables]
    mesh = np.meshgrid(*axes, indexing="ij")
    grid = pd.DataFrame({v: m.ravel() for v, m in zip(term.variables, mesh, strict=True)})
    for c, v in base.items():
        if c not in grid:
            grid[c] = v
    by = term.option("by")
    if by is not None and is_factor(data[by]):
        levels = r_levels(data[by])
        grid = pd.concat([grid.assign(**{by: lv}) for lv in levels], ignore_index=True)
    elif by is not None:
        grid[by] = float(data[by].mean())
    for g in fit.design.blocks:
        for v in g.term.group_vars:
            grid[v] = g.levels[0]
    return grid


def conditional_smooths(
    fit, smooths=None, prob: float = 0.95, resolution: int = 100, plot: bool = True
):
    """brms's ``conditional_smooths``: each smooth or GP term's contribution along its
    covariates (``posterior_smooths`` on a grid), without intercept or other terms.

    One-covariate terms give a ``resolution``-point curve (one per level of a factor ``by``),
    two-covariate terms a ``resolution`` × ``resolution`` surface. ``smooths`` names terms as
    written (``["s(x)"]``); by default every term of every formula.

    Returns
    -------
    dict of DataFrames keyed ``"mu: s(x)"`` (the grid, ``estimate__`` (posterior mean, as
    brms), ``se__``, ``lower__``, ``upper__``), and the figure when ``plot``.
    """

    from .predict import posterior_smooths

    lo_q, hi_q = (1 - prob) / 2, 1 - (1 - prob) / 2
    wanted = None if smooths is None else {s.replace(" ", "") for s in np.atleast_1d(smooths)}
    frames = {}
    for dpar, pred in fit.design.predictors.items():
        terms = []
        for kind in ("smooth", "gp"):
            terms += [p.term for p in getattr(pred.terms.get(kind), "parts", ())]
        for term in dict.fromkeys(terms):
            if wanted is not None and term.label.replace(" ", "") not in wanted:
                continue
            grid = _smooth_grid(fit, term, resolution)
            draws = posterior_smooths(fit, term.label, grid, dpar=dpar)
            out = grid.copy()
            out["estimate__"] = draws.mean(axis=0)
            out["se__"] = draws.std(axis=0, ddof=1)
            out["lower__"] = np.quantile(draws, lo_q, axis=0)
            out["upper__"] = np.quantile(draws, hi_q, axis=0)
            frames[f"{dpar}: {term.label}"] = out
    if wanted is not None and not frames:
        raise ValueError(f"The model has no smooth term {sorted(wanted)}.")
    if not plot:
        return frames
    return frames, _plot_smooths(fit, frames)


def _plot_smooths(fit, frames: dict):
    """``conditional_smooths``' figure through ``plot_effects``: curves (one per level of a
    factor ``by``) for one covariate, filled contours for two."""
    tables, labels, surfaces = {}, {}, {}
    for name, df in frames.items():
        term = next(t for p in fit.design.predictors.values() for k in ("smooth", "gp")
                    for t in [q.term for q in getattr(p.terms.get(k), "parts", ())]
                    if name.endswith(t.label))  # fmt: skip
        if len(term.variables) == 2:
            x, z = term.variables
            n = int(round(math.sqrt(len(df))))
            values = df["estimate__"].to_numpy().reshape(n, n)
            surfaces[name] = (df[x].to_numpy()[::n], df[z].to_numpy()[:n], values, x, z)
            continue
        x, by = term.variables[0], term.option("by")
        table = df.assign(effect1__=df[x])
        if by and is_factor(df[by]):
            table = table.assign(effect2__=df[by])
        tables[name], labels[name] = table, (x, by)
    return plot_effects(tables, "estimate", labels, surfaces)


def _contour(da, target, **kwargs):  # noqa: ARG001 - PlotCollection.map's signature
    """A filled contour of a two-covariate smooth (its grid's two dimensions) on ``target``."""
    xdim, zdim = da.dims
    cs = target.contourf(da[xdim].values, da[zdim].values, da.values.T, levels=20)
    target.figure.colorbar(cs, ax=target)
    return cs


def summary_variables(fit) -> list[str]:
    """The parameters brms's ``plot(fit)`` and ``mcmc_plot(fit)`` show: every scalar
    parameter of the fit (``b_``, ``bsp_``, ``sd_``, ``cor_``, family parameters), not the
    centred intercepts, the varying effects or prior draws."""
    post = fit.posterior
    return [
        v for v in post.data_vars
        if post[v].ndim == 2 and not v.startswith("prior_") and v != "Intercept"
        and not v.startswith("Intercept[")
    ]  # fmt: skip


def plot_fit(fit, var_names=None, kind: str = "trace"):
    """brms's ``plot(fit)``: per parameter, its density by chain with the trace
    (``kind="trace"``) or with the rank ECDF differences by chain (``kind="rank"``: flat
    within the band when the chains mix). Drawn by ArviZ (``plot_trace_dist`` /
    ``plot_rank_dist``); returns the ``PlotCollection``."""
    import arviz_plots as azp

    if kind not in ("trace", "rank"):
        raise ValueError(f"kind must be 'trace' or 'rank', got '{kind}'.")
    names = list(var_names) if var_names is not None else summary_variables(fit)
    draw = azp.plot_trace_dist if kind == "trace" else azp.plot_rank_dist
    return draw(fit.idata, var_names=names)


# brms's mcmc_plot types (bayesplot's mcmc_* names) and ArviZ's drawing of each
_MCMC_TYPES = ("intervals", "areas", "dens", "hist", "trace", "rank", "acf", "pairs")


def mcmc_plot(
    fit,
    variable=None,
    type: str = "intervals",  # noqa: A002 - brms's argument name
    prob: float = 0.5,
    prob_outer: float = 0.9,
):
    """brms's ``mcmc_plot``: the posterior draws of ``variable`` (default: every scalar
    parameter, as ``summary_variables``) drawn by ArviZ.

    ``type``: ``"intervals"`` (median with ``prob`` and ``prob_outer`` intervals, bayesplot's
    defaults 0.5 and 0.9, chains combined), ``"areas"`` (ridge densities), ``"dens"``,
    ``"hist"``, ``"trace"``, ``"rank"``, ``"acf"`` (autocorrelation by chain), ``"pairs"``.

    Returns
    -------
    arviz_plots.PlotCollection
    """
    import arviz_plots as azp

    if type not in _MCMC_TYPES:
        raise ValueError(f"Unknown mcmc_plot type '{type}'; use {', '.join(_MCMC_TYPES)}.")
    if isinstance(variable, str):
        variable = [variable]
    names = list(variable) if variable is not None else summary_variables(fit)
    unknown = [v for v in names if v not in fit.posterior]
    if unknown:
        raise ValueError(
            f"mcmc_plot: the fit has no parameter {', '.join(map(repr, unknown))}; its "
            f"parameters: {', '.join(summary_variables(fit))}."
        )
    dt = fit.idata
    if type == "intervals":
        return azp.plot_forest(dt, var_names=names, combined=True,
                               ci_probs=(prob, prob_outer), point_estimate="median")  # fmt: skip
    if type == "areas":
        return azp.plot_ridge(dt, var_names=names, combined=True)
    if type in ("dens", "hist"):
        return azp.plot_dist(dt, var_names=names, kind="kde" if type == "dens" else "hist")
    if type == "trace":
        return azp.plot_trace(dt, var_names=names)
    if type == "rank":
        return azp.plot_rank(dt, var_names=names)
    if type == "acf":
        return azp.plot_autocorr(dt, var_names=names)
    return azp.plot_pair(dt, var_names=names)


def prior_posterior_tree(fit, var_names=None, seed: int | None = None):
    """The fit's draws with independent draws of each parameter's prior beside them, as an
    ArviZ DataTree (``prior`` and ``posterior`` groups under the parameters' brms names).

    Only parameters with a proper prior of their own are included (the draws of
    ``prior_draws``: a class's prior is shared by its parameters, a correlation's prior is
    the LKJ marginal); flat priors and the intercept (whose prior is on the centred
    intercept) have none.
    """
    import xarray as xr

    from .model import prior_draw_names

    _, owner = prior_draw_names(fit.model)
    names = list(var_names) if var_names is not None else summary_variables(fit)
    missing = [v for v in names if v not in owner]
    if var_names is not None and missing:
        raise ValueError(
            f"No prior draws for {', '.join(missing)}: flat priors and the intercept have "
            f"none; parameters with a proper prior: {', '.join(owner)}."
        )
    names = [v for v in names if v in owner]
    if not names:
        raise ValueError("No parameter of this fit has a proper prior of its own to compare.")
    n = fit.settings.total_draws
    samples = prior_draws(fit.model, n, seed)
    prior = xr.Dataset(
        {v: (("chain", "draw"), np.asarray(samples[owner[v]]).reshape(1, n)) for v in names}
    )
    return xr.DataTree.from_dict({"prior": prior, "posterior": fit.posterior[names]})


def plot_prior_posterior(fit, var_names=None, seed: int | None = None):
    """Each parameter's prior density beside its posterior density (ArviZ's
    ``plot_prior_posterior``; the draws are ``prior_posterior_tree``'s). Returns the
    ``PlotCollection``."""
    import arviz_plots as azp

    tree = prior_posterior_tree(fit, var_names, seed)
    return azp.plot_prior_posterior(tree, var_names=list(tree["posterior"].data_vars),
                                    figure_kwargs={"layout": "constrained"})  # fmt: skip


def plot_ranef(fit, group: str, prob: float = 0.95):
    """The varying effects of one group (``r_<group>``): posterior median with 50% and
    ``prob`` intervals per level and coefficient, chains combined (ArviZ's forest plot, as
    brms's ``mcmc_plot(fit, variable = "r_<group>", regex = TRUE)``). Returns the
    ``PlotCollection``."""
    import arviz_plots as azp

    fit.ranef(prob=prob, groups=[group])  # checks the group, naming it when unknown
    return azp.plot_forest(fit.idata, var_names=[effects_name(group)], combined=True,
                           ci_probs=(0.5, prob), point_estimate="median")  # fmt: skip
