"""Stage 6 — results: brms's output names, the summary, fixef/ranef/coef/varcorr.

``Fit.idata`` holds the posterior under brms's names (``b_Intercept``, ``b_Days``,
``sd_Subject__Intercept``, ``cor_Subject__Intercept__Days``, ``sigma``, ``Intercept``,
``r_Subject[level, coef]``); the summary prints brms 2.18's layout.
"""

from __future__ import annotations

import html
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import xarray as xr

from . import criteria, plots, predict
from ._rformat import format_table, r_num
from .display import html_table, html_text, summary_cell
from .model import BrmsModel, make_model, recover_group_effects, recover_latent
from .persist import read_store, save_fit
from .priors import PriorTable
from .sampling import ConvergenceWarning, SamplerSettings, convergence_messages
from .stats import (
    SAMPLE_DIMS,
    diagnostics_table,
    interval_stats,
    scalar_variables,
    stack_draws,
    stat_frame,
)
from .terms.group import effects_name

__all__ = ["Fit", "GroupVarCorr", "Summary", "UnknownGroupError", "brms_posterior", "load"]


def _draws_of(raw: xr.Dataset, p) -> xr.DataArray:
    """One registry entry's draws from the model's raw output."""
    if p.kind == "cor":
        L = raw[p.var].values
        i, j = p.index
        R = np.einsum("cdi,cdi->cd", L[:, :, i, :], L[:, :, j, :])
        return xr.DataArray(R, dims=SAMPLE_DIMS, coords=_sample_coords(raw))
    da = raw[p.var]
    for dim, label in p.index:
        da = da.isel({dim: label}) if isinstance(label, int) else da.sel({dim: label})
    return da.drop_vars([k for k in da.coords if k not in SAMPLE_DIMS])


def _effects(raw: xr.Dataset, bm: BrmsModel) -> dict[str, xr.DataArray]:
    """brms's ``r_<g>`` (mu's varying effects) and ``r_<g>__<dpar>`` per group, each with
    its coefficients without the parameter prefix."""
    out: dict[str, xr.DataArray] = {}
    d = bm.design
    for g in d.groups:
        parts: dict[str, list[xr.DataArray]] = {}
        for blk in d.blocks_of(g):
            r = raw[f"r_{blk.id}"]
            for dpar in dict.fromkeys(blk.dpars):
                cols = blk.columns_of(dpar)
                part = r.isel({blk.coef_dim: cols})
                part = part.assign_coords({blk.coef_dim: [blk.prior_coefs[j] for j in cols]})
                parts.setdefault(dpar, []).append(part.rename({blk.coef_dim: f"{g}__coef"}))
        for dpar, pieces in parts.items():
            name = effects_name(g, dpar)
            out[name] = pieces[0] if len(pieces) == 1 else xr.concat(pieces, dim=f"{g}__coef")
    return out


def brms_posterior(raw: xr.Dataset, bm: BrmsModel) -> xr.Dataset:
    """Rename and split PyMC's draws into brms's variables, in brms's order (the registry's,
    then the varying effects)."""
    out = {p.name: _draws_of(raw, p) for p in bm.registry}
    out.update(_effects(raw, bm))
    return xr.Dataset(out)


def population_parameters(bm: BrmsModel) -> list:
    """The registry entries of the population-level effects, in brms's order
    (``Intercept[1]`` for ordinal thresholds, ``sigma_x``, ``mom``)."""
    return bm.registry.section("population")


def fixed_names(bm: BrmsModel) -> list[str]:
    """Population-level coefficient names as brms prints them (``Intercept[1]`` for ordinal
    thresholds, ``sigma_Intercept`` for another parameter's)."""
    return [p.label for p in population_parameters(bm)]


def _sample_coords(ds: xr.Dataset) -> dict:
    return {k: ds.coords[k].values for k in SAMPLE_DIMS if k in ds.coords}


SUMMARY_FOOTER = (
    "Draws were sampled using sampling(NUTS). For each parameter, Bulk_ESS",
    "and Tail_ESS are effective sample size measures, and Rhat is the potential",
    "scale reduction factor on split chains (at convergence, Rhat = 1).",
)


@dataclass
class Summary:
    """brms-style summary: sections of DataFrames with Estimate … Tail_ESS."""

    header: list[str]
    groups: dict[str, tuple[int, pd.DataFrame]]
    fixed: pd.DataFrame
    family_specific: pd.DataFrame
    prob: float = 0.95
    notes: list[str] = field(default_factory=list)
    simplex: pd.DataFrame | None = None
    smooth: pd.DataFrame | None = None  # sds of s() and t2() terms
    gp: pd.DataFrame | None = None  # sdgp and lscale of gp() terms

    def _block(self, df: pd.DataFrame) -> list[str]:
        cols = list(df.columns)
        rows = [[summary_cell(c, row[c]) for c in cols] for _, row in df.iterrows()]
        return format_table(cols, rows, row_names=[str(i) for i in df.index])

    def sections(self) -> list[tuple[str, str, pd.DataFrame]]:
        """(section title, subtitle, table) in brms's order; the subtitle names a grouping
        factor and its number of levels."""
        out = []
        for title, table in (
            ("Smooth Terms: ", self.smooth),
            ("Gaussian Process Terms: ", self.gp),
        ):
            if table is not None and len(table):
                out.append((title, "", table))
        for g, (n, df) in self.groups.items():
            out.append(("Group-Level Effects: ", f"~{g} (Number of levels: {n}) ", df))
        if len(self.fixed):
            out.append(("Population-Level Effects: ", "", self.fixed))
        if self.simplex is not None and len(self.simplex):
            out.append(("Simplex Parameters: ", "", self.simplex))
        if len(self.family_specific):
            out.append(("Family Specific Parameters: ", "", self.family_specific))
        return out

    def lines(self) -> list[str]:
        out = list(self.header) + [""]
        previous = None
        for title, subtitle, table in self.sections():
            if title != previous:
                out.append(title)
                previous = title
            if subtitle:
                out.append(subtitle)
            out.extend(self._block(table))
            out.append("")
        out += list(SUMMARY_FOOTER)
        out += self.notes
        return out

    def _repr_html_(self) -> str:
        parts = [html_text(self.header)]
        previous = None
        for title, subtitle, table in self.sections():
            if title != previous:
                parts.append(f"<h4>{html.escape(title.strip())}</h4>")
                previous = title
            parts.append(html_table(table, caption=subtitle.strip()))
        parts.append(html_text([" ".join(SUMMARY_FOOTER), *self.notes]))
        return '<div class="bayesml-summary">' + "".join(parts) + "</div>"

    def __str__(self) -> str:
        return "\n".join(self.lines())

    __repr__ = __str__


class Fit:
    """A fitted model: posterior draws under brms's names plus what built them.

    Attributes
    ----------
    idata : xarray.DataTree
        ``posterior`` (brms names), ``sample_stats``, ``observed_data``.
    model : BrmsModel
        The compiled model (``.model`` is the PyMC model).
    """

    def __init__(
        self,
        model: BrmsModel,
        idata,
        settings: SamplerSettings,
        data_name: str = "data",
        seed: int | None = None,
    ):
        self.model = model
        self.settings = settings
        self.data_name = data_name
        self.seed = seed
        raw = idata["posterior"].to_dataset()
        if model.integrated and not any(f"r_{k}" in raw for k in model.integrated):
            raw = recover_group_effects(raw, model, seed)
        latent = model.graph.get("latent", ())
        if latent and not all(p.name in raw for p in latent):
            raw = recover_latent(raw, model, seed)
        idata["posterior"] = brms_posterior(raw, model)
        _set_observed_data(idata, model)
        self.idata = idata
        self._diag: pd.DataFrame | None = None
        self._diag_error: str | None = None

    # -- what the fit was built from
    @property
    def design(self):
        return self.model.design

    @property
    def formula(self):
        return self.model.design.formula

    @property
    def family(self):
        return self.model.family

    @property
    def data(self) -> pd.DataFrame:
        return self.model.design.data

    @property
    def incomplete(self) -> bool:
        """Whether sampling was interrupted before every draw was made."""
        return self.settings.incomplete

    @property
    def posterior(self) -> xr.Dataset:
        return self.idata["posterior"].to_dataset()

    def add_prior_draws(self, draws: dict[str, np.ndarray]) -> None:
        """Store ``prior_*`` draws beside the posterior (brms's ``sample_prior = "yes"``)."""
        post = self.posterior
        shape = (post.sizes["chain"], post.sizes["draw"])
        for name, values in draws.items():
            post[name] = xr.DataArray(
                np.asarray(values)[: shape[0] * shape[1]].reshape(shape),
                dims=SAMPLE_DIMS,
                coords=_sample_coords(post),
            )
        self.idata["posterior"] = post
        self._diag = None

    def draws(self, var: str) -> np.ndarray:
        """All post-warmup draws of one variable, chains stacked."""
        return stack_draws(self.posterior[var])

    def diagnostics(self) -> pd.DataFrame:
        """Rhat, Bulk_ESS and Tail_ESS per scalar parameter; NaN where they cannot be
        computed (the summary then says why)."""
        if self._diag is None:
            try:
                self._diag = diagnostics_table(self.posterior)
                self._diag_error = None
            except Exception as err:  # noqa: BLE001 - diagnostics must never cost the draws
                names = scalar_variables(self.posterior)
                cols = ["Rhat", "Bulk_ESS", "Tail_ESS"]
                self._diag = pd.DataFrame(np.nan, index=names, columns=cols)
                self._diag_error = str(err)
        return self._diag

    def convergence_warnings(self) -> list[str]:
        ss = (
            self.idata["sample_stats"].to_dataset()
            if "sample_stats" in self.idata.children
            else None
        )
        return convergence_messages(self.posterior, ss)

    def prior_summary(self, all: bool = True) -> PriorTable:  # noqa: A002 - brms's argument name
        """The priors the model used (brms's ``prior_summary`` / ``fit$prior``)."""
        table = self.model.priors.as_fitted()
        if all:
            return table
        return PriorTable([r for r in table.display_rows() if r.prior != "(flat)"])

    def model_code(self) -> str:
        return self.model.code()

    # -- summaries
    def _rows(self, names: list[str], labels: list[str], prob: float, robust: bool) -> pd.DataFrame:
        pct = f"{prob * 100:g}"
        cols = [
            "Estimate",
            "Est.Error",
            f"l-{pct}% CI",
            f"u-{pct}% CI",
            "Rhat",
            "Bulk_ESS",
            "Tail_ESS",
        ]
        if not names:
            return pd.DataFrame(columns=cols)
        diag = self.diagnostics()
        post = self.posterior
        x = np.column_stack([stack_draws(post[n]) for n in names])
        s = interval_stats(x, prob, robust)
        df = pd.DataFrame(
            {
                cols[0]: s["Estimate"],
                cols[1]: s["Est.Error"],
                cols[2]: s["lo"],
                cols[3]: s["hi"],
                "Rhat": diag.loc[names, "Rhat"].to_numpy(),
                "Bulk_ESS": diag.loc[names, "Bulk_ESS"].to_numpy(),
                "Tail_ESS": diag.loc[names, "Tail_ESS"].to_numpy(),
            },
            index=labels,
        )
        return df

    def summary(self, prob: float = 0.95, robust: bool = False) -> Summary:
        """brms's ``summary()``: group-level, population-level and family-specific sections."""
        if not 0 < prob < 1:
            raise ValueError(f"prob must lie in (0, 1), got {prob}.")
        d, st = self.design, self.settings
        header = [
            f" Family: {self.family.name} ",
            f"  Links: {self.family.links_line(d.dpars)} ",
            *_formula_lines(self.formula),
            f"   Data: {self.data_name} (Number of observations: {d.nobs}) ",
            f"  Draws: {st.chains} chains, each with iter = {st.iter}; warmup = {st.warmup}; "
            f"thin = {st.thin};",
            f"         total post-warmup draws = {st.total_draws}",
        ]
        if st.incomplete:
            header.append(
                f"         (interrupted: {st.completed} of {st.iter - st.warmup} post-warmup "
                "iterations per chain)"
            )
        registry = self.model.registry
        groups = {}
        for g in d.groups:
            rows = [p for p in registry.section("group") if p.group == g]
            table = self._rows([p.name for p in rows], [p.label for p in rows], prob, robust)
            groups[g] = (d.blocks_of(g)[0].n_levels, table)
        sections = {}
        for key in ("population", "simplex", "family", "smooth", "gp"):
            rows = registry.section(key)
            sections[key] = self._rows(
                [p.name for p in rows], [p.label for p in rows], prob, robust
            )
        # brms lists constant parameters as rows without diagnostics
        for name, value in constant_dpars(d, self.model.family).items():
            fam = sections["family"]
            row = {c: np.nan for c in fam.columns}
            row.update({c: value for c in fam.columns[[0, 2, 3]]}, **{fam.columns[1]: 0.0})
            sections["family"] = pd.concat([fam, pd.DataFrame([row], index=[name])])
        notes = []
        ss = (
            self.idata["sample_stats"].to_dataset()
            if "sample_stats" in self.idata.children
            else None
        )
        if ss is not None and "diverging" in ss:
            n_div = int(ss["diverging"].sum())
            if n_div:
                notes.append(
                    f"Warning: There were {n_div} divergent transitions after warmup. "
                    "Increasing target_accept above 0.8 may help."
                )
        all_rhat = self.diagnostics()["Rhat"]
        if self._diag_error:
            notes.append(
                f"Note: convergence diagnostics could not be computed ({self._diag_error})."
            )
        if (all_rhat > 1.05).any():
            notes.append(
                "Warning: Parts of the model have not converged (some Rhats are > 1.05). "
                "Be careful when analysing the results! We recommend running more iterations "
                "and/or setting stronger priors."
            )
        return Summary(
            header,
            groups,
            sections["population"],
            sections["family"],
            prob,
            notes,
            sections["simplex"],
            sections["smooth"],
            sections["gp"],
        )

    def __str__(self) -> str:
        return str(self.summary())

    def __repr__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def fixef(self, summary: bool = True, prob: float = 0.95, robust: bool = False):
        """Population-level effects (brms's ``fixef``): rows = coefficients."""
        params = population_parameters(self.model)
        names = [p.label for p in params]
        x = np.column_stack([self.draws(p.name) for p in params]) if names else np.zeros((0, 0))
        if not summary:
            return pd.DataFrame(x, columns=names)
        return stat_frame(x, names, prob, robust)

    def _group_draws(self, group: str, with_fixed: bool) -> tuple[np.ndarray, list[str], list[str]]:
        if group not in self.design.groups:
            raise UnknownGroupError(
                f"The model has no group-level term for '{group}'; its groups: "
                f"{', '.join(self.design.groups) or 'none'}."
            )
        r = self.posterior[effects_name(group)]
        coefs = [str(c) for c in r.coords[f"{group}__coef"].values]
        levels = [str(v) for v in r.coords[group].values]
        x = stack_draws(r.transpose(*SAMPLE_DIMS, group, f"{group}__coef"))  # (S, levels, coefs)
        if with_fixed:
            return self._coef_draws(x, coefs), levels, self._coef_names(coefs)
        return x, levels, coefs

    def _coef_names(self, coefs: list[str]) -> list[str]:
        """brms's coef() columns: the group's own coefficients, then the population-level ones
        it lacks; a varying ``Intercept`` becomes one column per ordinal threshold."""
        missing = [c for c in fixed_names(self.model) if c not in coefs]
        expanded = {_base_name(c) for c in missing}
        return [c for c in coefs if c not in expanded] + missing

    def _coef_draws(self, r: np.ndarray, coefs: list[str]) -> np.ndarray:
        fixed = {p.label: p.name for p in population_parameters(self.model)}
        names = self._coef_names(coefs)
        out = np.zeros((*r.shape[:2], len(names)))
        for j, c in enumerate(names):
            if c in fixed:
                out[:, :, j] += self.draws(fixed[c])[:, None]
            own = c if c in coefs else _base_name(c)
            if own in coefs:
                # thresholds enter as Intercept[k] - eta (cumulative), so a level's thresholds
                # are the population thresholds minus its varying intercept, as in brms
                sign = -1.0 if c != own else 1.0
                out[:, :, j] += sign * r[:, :, coefs.index(own)]
        return out

    def ranef(self, summary: bool = True, prob: float = 0.95, robust: bool = False, groups=None):
        """Group-level effects (brms's ``ranef``): ``{group: DataFrame}``.

        Each frame has one row per level and columns ``(coef, stat)``; with ``summary=False``
        an ``xarray.DataArray`` of draws × level × coef per group.
        """
        return self._per_group(False, summary, prob, robust, groups)

    def coef(self, summary: bool = True, prob: float = 0.95, robust: bool = False, groups=None):
        """Population- plus group-level effects per level (brms's ``coef``)."""
        return self._per_group(True, summary, prob, robust, groups)

    def _per_group(self, with_fixed, summary, prob, robust, groups):
        out = {}
        for g in groups or self.design.groups:
            x, levels, coefs = self._group_draws(g, with_fixed)
            if not summary:
                out[g] = xr.DataArray(
                    x, dims=("draw", g, "coef"), coords={g: levels, "coef": coefs}
                )
                continue
            frames = {c: stat_frame(x[:, :, j], levels, prob, robust) for j, c in enumerate(coefs)}
            out[g] = pd.concat(frames, axis=1)
        return out

    def varcorr(self, prob: float = 0.95, robust: bool = False) -> dict[str, GroupVarCorr]:
        """Standard deviations, correlations and covariances per group (brms's ``VarCorr``).

        ``"residual__"`` holds ``sigma`` for families that have one.
        """
        out: dict[str, GroupVarCorr] = {}
        registry = self.model.registry
        for g in self.design.groups:
            coefs = list(self.design.group_coefs(g))
            sd_draws, cor_of = [], {}
            for blk in self.design.blocks_of(g):
                sds, cors = registry.covariance(blk.id)
                start = len(sd_draws)
                sd_draws += [self.draws(p.name) for p in sds]
                cor_of.update({(start + i, start + j): p for (i, j), p in cors.items()})
            sds = np.stack(sd_draws, axis=1)  # (S, k)
            k = len(coefs)
            cor = np.broadcast_to(np.eye(k), (sds.shape[0], k, k)).copy()
            for (i, j), p in cor_of.items():
                cor[:, i, j] = cor[:, j, i] = self.draws(p.name)
            cov = cor * sds[:, :, None] * sds[:, None, :]
            out[g] = GroupVarCorr(
                sd=stat_frame(sds, coefs, prob, robust),
                cor=_matrix_frame(cor, coefs, prob, robust),
                cov=_matrix_frame(cov, coefs, prob, robust),
            )
        if "sigma" in self.posterior:
            s = self.draws("sigma")[:, None]
            out["residual__"] = GroupVarCorr(sd=stat_frame(s, ["sigma"], prob, robust))
        return out

    # -- predictions and checks (bayesml.predict, bayesml.criteria)
    def posterior_linpred(self, newdata=None, transform: bool = False, **kw):
        """Linear predictor draws (draws × rows); see ``bayesml.predict``."""
        return predict.posterior_linpred(self, newdata, transform, **kw)

    def posterior_epred(self, newdata=None, **kw):
        """Expected-response draws (draws × rows); see ``bayesml.predict``."""
        return predict.posterior_epred(self, newdata, **kw)

    def posterior_predict(self, newdata=None, **kw):
        """New-response draws (draws × rows); without newdata also stored in
        ``idata["posterior_predictive"]``."""
        x = predict.posterior_predict(self, newdata, **kw)
        if newdata is None and not kw:
            c, d = self.posterior.sizes["chain"], self.posterior.sizes["draw"]
            self.idata["posterior_predictive"] = xr.Dataset(
                {self.model.response_name: (("chain", "draw", "obs"), x.reshape(c, d, -1))}
            )
        return x

    def fitted(self, newdata=None, prob: float = 0.95, robust: bool = False, **kw):
        return predict.fitted(self, newdata, prob, robust, **kw)

    def predict(self, newdata=None, prob: float = 0.95, robust: bool = False, **kw):
        return predict.predict(self, newdata, prob, robust, **kw)

    def loo(self):
        return criteria.loo(self)

    def waic(self):
        return criteria.waic(self)

    def bayes_R2(self, prob: float = 0.95, robust: bool = False):  # noqa: N802 - brms's name
        return criteria.bayes_R2(self, prob, robust)

    def hypothesis(self, hypotheses, class_: str = "b", alpha: float = 0.05):
        return criteria.hypothesis(self, hypotheses, class_, alpha)

    # -- plots (bayesml.plots)
    def plot(self, var_names=None, kind: str = "trace"):
        """Density with trace (brms's ``plot(fit)``) or rank plots per parameter."""
        return plots.plot_fit(self, var_names, kind)

    def mcmc_plot(self, variable=None, type: str = "intervals", **kw):  # noqa: A002
        """brms's ``mcmc_plot`` (``bayesml.mcmc_plot``)."""
        return plots.mcmc_plot(self, variable, type, **kw)

    def plot_prior_posterior(self, var_names=None, seed: int | None = None):
        """Prior beside posterior densities (``bayesml.plot_prior_posterior``)."""
        return plots.plot_prior_posterior(self, var_names, seed)

    def pp_check(self, type: str = "dens_overlay", ndraws: int | None = None, **kw):  # noqa: A002
        """brms's ``pp_check`` (``bayesml.pp_check``)."""
        return plots.pp_check(self, type, ndraws, **kw)

    def conditional_effects(self, effects=None, **kw):
        return plots.conditional_effects(self, effects, **kw)

    def conditional_smooths(self, smooths=None, **kw):
        """Each smooth and GP term along its covariates (``bayesml.conditional_smooths``)."""
        return plots.conditional_smooths(self, smooths, **kw)

    def posterior_smooths(self, smooth: str, newdata=None, **kw):
        """Draws of one smooth term's contribution (``bayesml.posterior_smooths``)."""
        return predict.posterior_smooths(self, smooth, newdata, **kw)

    # -- saving
    def save(self, path, overwrite: bool = False):
        """Save draws and everything needed to rebuild the model (a zarr store, a folder).

        Anything at ``path`` that is not a saved bayesml fit is never written over (an error
        says so); an existing saved fit is replaced only with ``overwrite=True``. The store is
        written beside ``path`` first and moved into place when complete, so an interrupted
        save leaves what was there intact. Returns the path.
        """
        return save_fit(self, path, overwrite)

    @classmethod
    def from_saved(
        cls,
        model: BrmsModel,
        idata,
        settings: SamplerSettings,
        data_name: str,
        seed: int | None = None,
    ):
        """A fit from draws already under brms's names (``bayesml.load``)."""
        fit = cls.__new__(cls)
        fit.model, fit.idata, fit.settings, fit.data_name = model, idata, settings, data_name
        fit.seed = seed
        _set_observed_data(fit.idata, model)
        fit._diag = None
        fit._diag_error = None
        return fit

    def warn_convergence(self) -> None:
        for msg in self.convergence_warnings():
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)


class UnknownGroupError(KeyError):
    """A grouping factor the model does not have (the message lists the ones it has)."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class GroupVarCorr:
    """One entry of ``varcorr()``: ``sd`` (coef × stat); ``cor``/``cov`` (coef × (coef, stat))."""

    sd: pd.DataFrame
    cor: pd.DataFrame | None = None
    cov: pd.DataFrame | None = None


def _set_observed_data(idata: xr.DataTree, model: BrmsModel) -> None:
    """The response in ``observed_data`` as ``posterior_predict`` returns it (ordinal
    categories 1..K), also where the likelihood is a potential (marginal or weighted models),
    so ``pp_check`` and ArviZ's checks find it."""
    if model.design.response is None:
        return
    y = np.asarray(model.design.response.y)
    if model.family.has_categories:
        y = y + 1  # categories 1..K, as posterior_predict returns them
    idata["observed_data"] = xr.Dataset({model.response_name: (("obs",), y)})


def _deparse(text: str) -> str:
    """A formula as R prints it: ``(1 |p| g)`` → ``(1 | p | g)``."""
    return re.sub(r"\s*(\|\|?)\s*", r" \1 ", text)


def constant_dpars(design, family) -> dict[str, float]:
    """Distributional parameters that are constants, not draws: fixed in ``bf()``
    (``quantile = 0.9``) or by the family (ordinal models' ``disc = 1``) when not predicted."""
    out = {
        p.name: p.fixed for p in family.dpars if p.fixed is not None and p.name not in design.dpars
    }
    out.update(design.fixed_dpars)
    return out


def _formula_lines(formula) -> list[str]:
    """brms's Formula lines: mu's formula, then one line per other parameter's formula."""
    out = [f"Formula: {_deparse(formula.display or formula.text)} "]
    out += [f"         {_deparse(p.text)}" for p in formula.dpars]
    out += [f"         {name} = {r_num(value)}" for name, value in formula.fixed_dpars]
    return out


def _base_name(name: str) -> str:
    """``Intercept[2]`` -> ``Intercept`` (brms matches ordinal thresholds to the intercept)."""
    return name.split("[", 1)[0]


def _matrix_frame(x: np.ndarray, coefs: list[str], prob: float, robust: bool) -> pd.DataFrame:
    frames = {c: stat_frame(x[:, :, j], coefs, prob, robust) for j, c in enumerate(coefs)}
    return pd.concat(frames, axis=1)


def load(path) -> Fit:
    """Load a fit saved with ``Fit.save`` (or by ``brm(..., file=...)``): the draws, and the
    model rebuilt from the saved formula, data (with its column types), family and priors.

    Raises
    ------
    FitStoreError
        The path does not exist, is not a saved bayesml fit, or the store is damaged.
    """
    saved = read_store(path)
    bm = make_model(saved.formula, saved.data, saved.family, saved.priors, saved.group_effects)
    fit = Fit.from_saved(bm, saved.tree, saved.settings, saved.data_name, saved.seed)
    fit.signature = saved.signature
    return fit
