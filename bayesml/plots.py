"""Stage 6 — plots of a model's priors and fits (matplotlib)."""

from __future__ import annotations

import math

import numpy as np

from .columns import is_factor, r_levels
from .design import formula_columns
from .model import BrmsModel, prior_draws
from .model_priors import improper_classes
from .terms.group import effects_name

__all__ = [
    "conditional_effects",
    "conditional_smooths",
    "plot_fit",
    "plot_priors",
    "plot_ranef",
    "pp_check",
    "ppc_bars_data",
]


def plot_priors(model, draws: int = 4000, seed: int | None = None, bins: int = 60):
    """Histogram densities of every proper prior, one panel per brms ``prior_*`` parameter.

    Parameters
    ----------
    model : BrmsModel or Fit
        The priors in force (defaults and user priors).
    draws : int
        Independent draws per prior.
    seed : int, optional
    bins : int

    Returns
    -------
    matplotlib.figure.Figure
        Panels titled ``prior_b``, ``prior_Intercept``, ``prior_sd_<group>``, ... Flat priors
        have no density and are listed in the figure's title instead.
    """
    import matplotlib.pyplot as plt

    bm: BrmsModel = model if isinstance(model, BrmsModel) else model.model
    samples = prior_draws(bm, draws, seed)
    names = list(samples)
    if not names:
        raise ValueError("Every prior of this model is flat; there is no density to draw.")
    ncol = min(3, len(names))
    nrow = math.ceil(len(names) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 2.8 * nrow), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        x = np.asarray(samples[name], dtype=float)
        lo, hi = np.quantile(x, [0.005, 0.995])
        if lo == hi:
            ax.axvline(lo, color="C0")
        else:
            ax.hist(x[(x >= lo) & (x <= hi)], bins=bins, density=True, color="C0", alpha=0.7)
        ax.set_title(name)
        ax.set_yticks([])
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    flat = improper_classes(bm.priors, bm.design, bm.family)
    fig.suptitle("Prior densities" + (f" (flat: {', '.join(flat)})" if flat else ""))
    fig.tight_layout()
    return fig


def _kde(x: np.ndarray, grid: np.ndarray) -> np.ndarray:
    from scipy import stats

    x = np.asarray(x, dtype=float)
    if np.ptp(x) == 0:
        return np.zeros_like(grid)
    return stats.gaussian_kde(x)(grid)


def pp_check(
    fit, type: str = "dens_overlay", ndraws: int = 10, stat: str = "mean", seed: int | None = None
):  # noqa: A002 - brms's argument name
    """Posterior predictive checks (brms's ``pp_check``): observed response against draws of
    ``posterior_predict``.

    ``type``: ``"dens_overlay"`` (densities of ``ndraws`` replicates over the data's),
    ``"hist"`` (histograms of the data and of replicates), ``"stat"`` (the distribution of a
    statistic over all draws, with the data's value), ``"intervals"`` (per-observation 50%
    and 90% predictive intervals with the data), ``"bars"`` (discrete responses: the count of
    each value in the data as bars, the replicates' median count and 90% interval as points;
    the numbers are ``ppc_bars_data``). Returns the matplotlib figure.
    """
    import matplotlib.pyplot as plt

    if type == "bars":
        table = ppc_bars_data(fit, seed=seed)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.bar(table["value"], table["observed"], color="C0", alpha=0.5, label="y")
        ax.errorbar(
            table["value"], table["median"],
            yerr=[table["median"] - table["lower"], table["upper"] - table["median"]],
            fmt="o", color="black", label="y_rep (median, 90%)",
        )  # fmt: skip
        ax.set_xlabel(fit.formula.response)
        ax.set_ylabel("count")
        ax.legend()
        fig.tight_layout()
        return fig
    y = np.asarray(fit.idata["observed_data"][fit.model.response_name], dtype=float)
    if type in ("dens_overlay", "hist"):
        yrep = fit.posterior_predict(ndraws=ndraws, seed=seed).astype(float)
    elif type in ("stat", "intervals"):
        yrep = fit.posterior_predict(seed=seed).astype(float)
    else:
        raise ValueError(
            f"Unknown pp_check type '{type}'; use dens_overlay, hist, stat, intervals or bars."
        )
    name = fit.formula.response
    if type == "dens_overlay":
        fig, ax = plt.subplots(figsize=(6, 4))
        lo, hi = min(y.min(), yrep.min()), max(y.max(), yrep.max())
        grid = np.linspace(lo, hi, 256)
        for row in yrep:
            ax.plot(grid, _kde(row, grid), color="C0", alpha=0.3, lw=0.8, label="_rep")
        ax.plot(grid, _kde(y, grid), color="black", lw=2, label="y")
        ax.set_xlabel(name)
        ax.set_ylabel("density")
        ax.set_title(f"y (black) and {len(yrep)} y_rep draws")
    elif type == "hist":
        n = min(len(yrep), 8)
        fig, axes = plt.subplots(1, n + 1, figsize=(2.2 * (n + 1), 2.6), sharex=True)
        bins = np.histogram_bin_edges(np.concatenate([y, yrep[:n].ravel()]), bins=30)
        axes[0].hist(y, bins=bins, color="black")
        axes[0].set_title("y")
        for i in range(n):
            axes[i + 1].hist(yrep[i], bins=bins, color="C0")
            axes[i + 1].set_title(f"y_rep {i + 1}")
        for ax in axes:
            ax.set_xlabel(name)
    elif type == "stat":
        fn = {"mean": np.mean, "sd": np.std, "median": np.median, "max": np.max, "min": np.min}
        if stat not in fn:
            raise ValueError(f"stat must be one of {', '.join(fn)}, got '{stat}'.")
        t = fn[stat](yrep, axis=1)
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.hist(t, bins=40, color="C0")
        ax.axvline(fn[stat](y), color="black", lw=2)
        ax.set_xlabel(f"{stat}({name})")
        ax.set_title(f"T = {stat}: y (line) and y_rep (histogram)")
    else:
        fig, ax = plt.subplots(figsize=(7, 4))
        idx = np.arange(len(y))
        q = np.quantile(yrep, [0.05, 0.25, 0.75, 0.95], axis=0)
        ax.vlines(idx, q[0], q[3], color="C0", alpha=0.4, lw=1)
        ax.vlines(idx, q[1], q[2], color="C0", lw=2.5)
        ax.plot(idx, y, "o", color="black", ms=2.5)
        ax.set_xlabel("observation")
        ax.set_ylabel(name)
        ax.set_title("y (points) with 50% and 90% predictive intervals")
    fig.tight_layout()
    return fig


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

    if not (fit.family.discrete or fit.family.has_categories or fit.family.response == "binary"):
        raise ValueError(
            f"pp_check(type='bars') is for discrete responses; family '{fit.family.name}' has a "
            "continuous one (use 'dens_overlay' or 'hist')."
        )
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
    ``upper__`` and the predictors), and the figure when ``plot``.
    """
    import matplotlib.pyplot as plt
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
    fig, axes = plt.subplots(1, len(frames), figsize=(5 * len(frames), 3.8), squeeze=False)
    for ax, (eff, df) in zip(axes[0], frames.items(), strict=True):
        parts = eff.split(":")
        if "cats__" in df:
            parts = [parts[0], "category"]
            groups = list(df.groupby("cats__", sort=False))
        elif len(parts) == 1:
            groups = [(None, df)]
        else:
            groups = list(df.groupby("effect2__", sort=False))
        numeric = np.issubdtype(np.asarray(df["effect1__"]).dtype, np.number)
        for i, (label, sub) in enumerate(groups):
            lab = (
                None
                if label is None
                else f"{parts[1]} = {label:.3g}"
                if isinstance(label, float)
                else f"{parts[1]} = {label}"
            )
            if numeric:
                ax.plot(sub["effect1__"], sub["estimate__"], color=f"C{i}", label=lab)
                ax.fill_between(
                    sub["effect1__"], sub["lower__"], sub["upper__"], color=f"C{i}", alpha=0.2
                )
            else:
                pos = np.arange(len(sub)) + 0.1 * i
                ax.errorbar(
                    pos,
                    sub["estimate__"],
                    yerr=[sub["estimate__"] - sub["lower__"], sub["upper__"] - sub["estimate__"]],
                    fmt="o",
                    color=f"C{i}",
                    label=lab,
                )
                ax.set_xticks(np.arange(len(sub)), [str(v) for v in sub["effect1__"]])
        if len(groups) > 1:
            ax.legend(fontsize=8)
        ax.set_xlabel(parts[0])
        ax.set_ylabel(fit.formula.response if dpar in (None, "mu") else dpar)
        ax.set_title(eff)
    fig.tight_layout()
    return frames, fig


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
    import matplotlib.pyplot as plt

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
    fig, axes = plt.subplots(1, max(1, len(frames)), figsize=(5 * len(frames), 3.8),
                             squeeze=False)  # fmt: skip
    for ax, (name, df) in zip(axes[0], frames.items(), strict=False):
        term = next(t for p in fit.design.predictors.values() for k in ("smooth", "gp")
                    for t in [q.term for q in getattr(p.terms.get(k), "parts", ())]
                    if name.endswith(t.label))  # fmt: skip
        _plot_smooth(ax, df, term)
        ax.set_title(name)
    fig.tight_layout()
    return frames, fig


def _plot_smooth(ax, df, term) -> None:
    by = term.option("by")
    if len(term.variables) == 2:
        x, z = term.variables
        n = int(round(math.sqrt(len(df))))
        cs = ax.contourf(df[x].to_numpy().reshape(n, n), df[z].to_numpy().reshape(n, n),
                         df["estimate__"].to_numpy().reshape(n, n), levels=20)  # fmt: skip
        ax.figure.colorbar(cs, ax=ax)
        ax.set_xlabel(x)
        ax.set_ylabel(z)
        return
    x = term.variables[0]
    groups = list(df.groupby(by, sort=False)) if by and is_factor(df[by]) else [(None, df)]
    for i, (label, sub) in enumerate(groups):
        ax.plot(sub[x], sub["estimate__"], color=f"C{i}",
                label=None if label is None else f"{by} = {label}")  # fmt: skip
        ax.fill_between(sub[x], sub["lower__"], sub["upper__"], color=f"C{i}", alpha=0.2)
    if len(groups) > 1:
        ax.legend(fontsize=8)
    ax.set_xlabel(x)


def plot_fit(fit, var_names=None, kind: str = "trace"):
    """Density and trace (``kind="trace"``, brms's ``plot(fit)``) or rank plots
    (``kind="rank"``: per chain, the histogram of the draws' ranks among all chains, flat when
    the chains mix) per parameter; one row per parameter."""
    import matplotlib.pyplot as plt
    from scipy import stats

    if kind not in ("trace", "rank"):
        raise ValueError(f"kind must be 'trace' or 'rank', got '{kind}'.")
    post = fit.posterior
    names = var_names or [
        v
        for v in post.data_vars
        if post[v].ndim == 2
        and not v.startswith("prior_")
        and v != "Intercept"
        and not v.startswith("Intercept[")
    ]
    fig, axes = plt.subplots(len(names), 2, figsize=(9, 1.8 * len(names)), squeeze=False)
    for (ax_d, ax_t), name in zip(axes, names, strict=True):
        x = post[name].values  # chain, draw
        lo, hi = np.quantile(x, [0.001, 0.999])
        grid = np.linspace(lo, hi, 200) if hi > lo else np.array([lo])
        ranks = stats.rankdata(x.ravel()).reshape(x.shape)
        edges = np.linspace(0, x.size, 21)
        for c in range(x.shape[0]):
            ax_d.plot(grid, _kde(x[c], grid), color=f"C{c}", lw=1)
            if kind == "trace":
                ax_t.plot(x[c], color=f"C{c}", lw=0.5, alpha=0.8)
            else:
                counts, _ = np.histogram(ranks[c], bins=edges)
                ax_t.step(edges[:-1], counts, where="post", color=f"C{c}", lw=1)
        ax_d.set_title(name, fontsize=9)
        ax_t.set_title(f"{name} ({kind})", fontsize=9)
    fig.tight_layout()
    return fig


def plot_ranef(fit, group: str, prob: float = 0.95):
    """Forest plot of the varying effects of one group: one panel per coefficient, one
    interval per level."""
    import matplotlib.pyplot as plt

    table = fit.ranef(prob=prob, groups=[group])[group]
    coefs = list(dict.fromkeys(c for c, _ in table.columns))
    lo_name, hi_name = [c for c in table[coefs[0]].columns if c.startswith("Q")]
    fig, axes = plt.subplots(
        1, len(coefs), figsize=(4 * len(coefs), 0.25 * len(table) + 1.5), squeeze=False, sharey=True
    )
    pos = np.arange(len(table))
    for ax, c in zip(axes[0], coefs, strict=True):
        t = table[c]
        ax.hlines(pos, t[lo_name], t[hi_name], color="C0")
        ax.plot(t["Estimate"], pos, "o", color="C0", ms=3)
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_title(f"{effects_name(group)}[, {c}]")
        ax.set_yticks(pos, [str(i) for i in table.index])
    fig.tight_layout()
    return fig
