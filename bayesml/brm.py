"""``brm``: the composition of the pipeline stages, as in brms."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from .families import Family
from .fit import Fit, load
from .model import make_model, prior_draws
from .persist import FitStoreError, check_save_path, fit_signature, is_fit_store
from .sampling import (
    ConvergenceWarning,
    SamplerSettings,
    check_settings,
    sample,
    sample_prior_only,
)

__all__ = ["FILE_REFIT", "InterruptedSamplingWarning", "PostprocessingError", "brm", "update"]

FILE_REFIT = ("on_change", "always", "never")


class InterruptedSamplingWarning(UserWarning):
    """Sampling was stopped early (Ctrl-C); the fit holds the draws made until then."""


class PostprocessingError(RuntimeError):
    """A step after sampling failed; ``.idata`` holds the draws, so nothing is lost."""

    def __init__(self, message: str, idata):
        super().__init__(message)
        self.idata = idata


def brm(
    formula: str,
    data: pd.DataFrame,
    family: str | Family = "gaussian",
    prior=None,
    sample_prior: str = "no",
    group_effects: str = "auto",
    chains: int = 4,
    iter: int = 2000,
    warmup: int | None = None,
    thin: int = 1,
    seed: int | None = None,
    cores: int | None = None,
    progressbar: bool = True,
    data_name: str | None = None,
    file: str | None = None,
    file_refit: str = "on_change",
    like: Fit | dict | None = None,
    **sampler_kwargs,
) -> Fit:
    """Fit a Bayesian (multilevel) regression model with brms's defaults.

    ``formula → make_design → default priors → make_model → sample → Fit``; each stage is
    public (``parse_formula``, ``make_design``, ``get_prior``, ``make_model``, ``sample``).

    Parameters
    ----------
    formula : str
        brms/lme4 formula, e.g. ``"Reaction ~ Days + (Days | Subject)"``.
    data : pandas.DataFrame
    family : str or Family
        ``"gaussian"`` by default.
    prior : prior(...) specifications or PriorTable, optional
        User priors, e.g. ``prior("normal(0, 1)", class_="b", coef="Days") +
        prior("exponential(1)", class_="sigma")``; brms's defaults elsewhere.
    sample_prior : {"no", "yes", "only"}
        ``"yes"`` adds ``prior_*`` draws beside the posterior (for ``hypothesis``);
        ``"only"`` draws from the prior alone (every parameter needs a proper prior) and
        stores prior predictive draws of the response.
    group_effects : {"auto", "marginal", "noncentred", "latent"}
        How the varying effects enter the model. ``"auto"`` integrates them out of Gaussian
        models (identity link, no weights) and draws them afterwards from their exact
        conditional, which samples far better than brms's non-centred model (used
        otherwise, with ``"noncentred"``, and where the integral's factorisation would
        be large: crossed factors with thousands of levels); in Gaussian models with smooth or GP
        terms it integrates their coefficients out instead (``"latent"``) and keeps the
        varying effects non-centred.
    chains, iter, warmup, thin : int
        brms's defaults: 4 chains of 2000 iterations, the first half warmup.
    seed : int, optional
        Makes the draws reproducible; a whole number in ``[0, 2**32)``.
    cores : int, optional
        Chains run in parallel on this many processes (default: all CPUs, at most ``chains``).
    progressbar : bool
    data_name : str, optional
        Name shown on the summary's Data line; defaults to ``data.attrs["name"]`` or "data".
    file : str, optional
        Path of a saved fit (zarr store), brms's ``file`` argument. If it holds a fit of the
        same formula, data, family, priors and settings, that fit is loaded instead of sampling
        again; otherwise the model is fitted and saved there. A path holding anything that is
        not a saved bayesml fit is refused before sampling; it is never written over.
    file_refit : {"on_change", "always", "never"}
        brms's ``file_refit``: refit when anything that determines the fit changed (default;
        brms's default "never" would return a stale fit), always, or never (load whatever fit
        is saved at ``file``).
    like : Fit or dict, optional
        A fit of the same formula and family on other data (or its model's
        ``sampler_coordinates``) whose compiled sampler this fit may reuse (``update`` and
        ``kfold`` pass it): data of the same shape then need no compilation.
    **sampler_kwargs
        Passed to ``pymc.sample`` (``target_accept``, ``nuts_sampler``, ...).

    Returns
    -------
    Fit
        If sampling is interrupted (Ctrl-C) after warmup, the fit holds the draws every chain
        completed and ``fit.incomplete`` is True (an ``InterruptedSamplingWarning`` says so);
        it is not saved to ``file``.

    Raises
    ------
    SamplingInterrupted
        Ctrl-C during warmup (no draws to keep).
    PostprocessingError
        A step after sampling failed; the error's ``idata`` holds the draws.
    """
    chains, iter, warmup, thin, seed = check_settings(chains, iter, warmup, thin, seed)
    if sample_prior not in ("no", "yes", "only"):
        raise ValueError(f"sample_prior must be 'no', 'yes' or 'only', got '{sample_prior}'.")
    if file_refit not in FILE_REFIT:
        raise ValueError(f"file_refit must be one of {', '.join(FILE_REFIT)}, got '{file_refit}'.")
    if sample_prior == "only":
        group_effects = "noncentred"  # forward sampling needs the effects themselves
    earlier = like.model if isinstance(like, Fit) else like
    bm = make_model(formula, data, family, prior, group_effects, like=earlier)
    signature = None
    if file is not None:
        settings = (chains, iter, warmup, thin, seed, sample_prior, bm.group_effects)
        signature = fit_signature(
            bm.design.formula.text,
            bm.design.data,
            bm.family,
            bm.priors,
            settings,
            sorted(sampler_kwargs.items()),
        )
        saved = _saved_fit(file, signature, file_refit)
        if saved is not None:
            return saved
    if sample_prior == "only":
        idata = sample_prior_only(bm, chains, iter, warmup, thin, seed)
    else:
        idata = sample(
            bm.model, chains, iter, warmup, thin, seed, cores, progressbar, **sampler_kwargs
        )
    name = data_name or getattr(data, "attrs", {}).get("name") or "data"
    completed = idata.attrs.get("completed_draws")
    settings = SamplerSettings(chains, iter, warmup, thin, completed)
    try:
        fit = Fit(bm, idata, settings, name, seed)
    except Exception as err:
        raise PostprocessingError(
            f"Sampling finished, but turning the draws into a fit failed ({err}). The draws "
            "are kept in this error's .idata attribute.",
            idata,
        ) from err
    if sample_prior == "yes":
        try:
            fit.add_prior_draws(prior_draws(bm, fit.settings.total_draws, seed))
        except Exception as err:  # noqa: BLE001 - prior draws are an extra; keep the fit
            warnings.warn(f"The prior draws could not be made ({err}).", stacklevel=2)
    if settings.incomplete:
        warnings.warn(
            f"Sampling was interrupted: the fit keeps the {completed} of "
            f"{iter - warmup} post-warmup draws per chain that every chain completed "
            "(fit.incomplete is True).",
            InterruptedSamplingWarning,
            stacklevel=2,
        )
    if file is not None:
        _save_to_file(fit, file, signature, file_refit)
    for msg in fit.convergence_warnings():
        warnings.warn(msg, ConvergenceWarning, stacklevel=2)
    return fit


def _saved_fit(file, signature: str, file_refit: str) -> Fit | None:
    """The fit saved at ``file`` when it may be reused (checked before any sampling).

    Raises
    ------
    FitStoreError
        ``file`` holds something that is not a saved bayesml fit.
    """
    path = Path(file)
    if not path.exists():
        check_save_path(path, overwrite=False)  # its folder must exist
        return None
    if not is_fit_store(path):
        check_save_path(path, overwrite=True)  # raises: not bayesml's
    if file_refit == "always":
        return None
    saved = load(path)
    if file_refit == "never" or getattr(saved, "signature", "") == signature:
        return saved
    return None


def _save_to_file(fit: Fit, file, signature: str, file_refit: str) -> None:
    """Save a fit for ``brm(file=)``; a fit that cannot be saved is still returned."""
    if fit.incomplete:
        warnings.warn(
            f"The interrupted fit was not saved to '{file}'.",
            InterruptedSamplingWarning,
            stacklevel=3,
        )
        return
    fit.signature = signature
    replaced = Path(file).exists()
    try:
        fit.save(file, overwrite=True)
    except (OSError, FitStoreError) as err:
        warnings.warn(f"The fit could not be saved to '{file}': {err}", stacklevel=3)
        return
    if replaced:
        warnings.warn(
            f"'{file}' held a fit of a different model, data or settings; it was replaced by "
            f"this fit (file_refit='{file_refit}').",
            stacklevel=3,
        )


def update(
    fit: Fit,
    formula: str | None = None,
    newdata: pd.DataFrame | None = None,
    **changes,
) -> Fit:
    """Fit a model again with some of its arguments changed (brms's ``update()``).

    With the same formula and family, the fit's prior table is kept as it is (brms: "data-
    dependent default priors will not be updated automatically") and so are its sampler
    settings, seed and strategy for the varying effects; new data of the same shape reuse
    the compiled sampler, so only sampling takes time.

    Parameters
    ----------
    fit : Fit
    formula : str, optional
        A new formula (its default priors are brms's for the new model unless ``prior=`` is
        given).
    newdata : pandas.DataFrame, optional
        The data to fit instead of the fit's own.
    **changes
        Any other argument of ``brm`` (``family``, ``prior``, ``iter``, ``seed``, ...).

    Returns
    -------
    Fit
    """
    bm, st = fit.model, fit.settings
    same_model = formula is None and "family" not in changes
    args = {
        "family": bm.family,
        "prior": bm.priors if same_model else None,
        "group_effects": bm.group_effects if same_model else "auto",
        "chains": st.chains,
        "iter": st.iter,
        "warmup": st.warmup,
        "thin": st.thin,
        "seed": getattr(fit, "seed", None),
        "data_name": fit.data_name if newdata is None else None,
        "like": fit if same_model else None,
    }
    if "iter" in changes and "warmup" not in changes:
        args["warmup"] = None  # brm's default for the new iter: half of it
    args.update(changes)
    data = bm.design.data if newdata is None else newdata
    return brm(formula or bm.design.formula, data, **args)


# ``fit.update(...)`` as in brms; defined here, where brm is, so that fit.py needs no brm
Fit.update = update
