"""bayesml: Bayesian multilevel models with brms/lme4 formulas, on PyMC.

Pipeline stages, each callable on its own:
``parse_formula`` → ``make_design`` → ``get_prior`` → ``make_model`` → ``sample`` → ``Fit``;
``brm`` composes them.
"""

import gc as _gc
import inspect as _inspect
import os as _os
import sys as _sys
import warnings as _warnings

# Importing bayesml's libraries (PyMC, PyTensor, Numba, pandas, ArviZ) creates some 260,000
# long-lived objects, and every full garbage collection afterwards walks them all (0.1 s
# each): in one sleepstudy process they cost 0.3 s of the import, about 0.4 s of the first
# brm() and 0.6 s at interpreter exit (benchmarks/README.md). So the collector pauses
# during the import and the objects then present are frozen (gc.freeze(): never examined
# again, as CPython's documentation suggests for long-lived state). Objects made later are
# collected as usual. BAYESML_GC_FREEZE=0 turns this off.
_FREEZE_AFTER_IMPORT = _os.environ.get("BAYESML_GC_FREEZE", "1") != "0"
_GC_WAS_ENABLED = _gc.isenabled()
if _FREEZE_AFTER_IMPORT:
    _gc.disable()


def _stack_without_source(context: int = 1) -> list[_inspect.FrameInfo]:
    """``inspect.stack()`` with each frame's file, line and function, but no source lines.

    ``lazy_loader`` calls ``inspect.stack()`` for every optional module it cannot find
    (ArviZ: ``jax`` and ``numpyro``), to name the importing line in a later error. The real
    one looks up each frame's module by walking every loaded module's file path: 0.2-0.4 s
    per process (benchmarks/README.md). Used only while bayesml imports its libraries.
    """
    frames = []
    frame = _sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        frames.append(
            _inspect.FrameInfo(frame, code.co_filename, frame.f_lineno, code.co_name, None, None)
        )
        frame = frame.f_back
    return frames


_INSPECT_STACK = _inspect.stack
_inspect.stack = _stack_without_source

try:
    # PyTensor's default linker here is Numba, which calls BLAS itself; the warning that the C
    # backend found no BLAS does not apply (benchmarks/README.md: 15 us per gradient).
    _warnings.filterwarnings(
        "ignore", message="PyTensor could not link to a BLAS", category=UserWarning
    )

    from . import datasets
    from .brm import InterruptedSamplingWarning, PostprocessingError, brm, update
    from .columns import DataError
    from .criteria import bayes_R2, hypothesis, loo, loo_compare, waic
    from .design import DataWarning, Design, make_design
    from .families import (
        FAMILIES,
        Family,
        ResponseCodingWarning,
        ResponseError,
        family,
        get_family,
    )
    from .fit import Fit, Summary, load
    from .formula import BrmsFormula, FormulaError, GroupTerm, bf, parse_formula
    from .interpret import (
        avg_comparisons,
        avg_predictions,
        avg_slopes,
        comparisons,
        datagrid,
        posterior_draws,
        predictions,
        slopes,
    )
    from .model import BrmsModel, build_model, make_model, model_code
    from .model_priors import default_priors, get_prior, validate_prior
    from .persist import FitStoreError
    from .plots import (
        conditional_effects,
        conditional_smooths,
        mcmc_plot,
        plot_fit,
        plot_prior_posterior,
        plot_priors,
        plot_ranef,
        pp_check,
        ppc_bars_data,
    )
    from .predict import (
        fitted,
        posterior_epred,
        posterior_linpred,
        posterior_predict,
        posterior_smooths,
        predict,
    )
    from .priors import PriorError, PriorSpec, PriorTable, prior
    from .refit import KFold, brm_multiple, kfold, kfold_split_random
    from .sampling import ConvergenceWarning, SamplingInterrupted, sample, sample_prior_only

    if _FREEZE_AFTER_IMPORT:
        _gc.freeze()
finally:
    _inspect.stack = _INSPECT_STACK
    # the collector's state is restored even when an import fails
    if _FREEZE_AFTER_IMPORT and _GC_WAS_ENABLED:
        _gc.enable()

__version__ = "0.1.0"

__all__ = [
    "FAMILIES",
    "BrmsFormula",
    "BrmsModel",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "Design",
    "Family",
    "Fit",
    "FitStoreError",
    "FormulaError",
    "GroupTerm",
    "InterruptedSamplingWarning",
    "PostprocessingError",
    "PriorError",
    "PriorSpec",
    "PriorTable",
    "ResponseCodingWarning",
    "ResponseError",
    "SamplingInterrupted",
    "Summary",
    "bayes_R2",
    "bf",
    "brm",
    "brm_multiple",
    "kfold",
    "kfold_split_random",
    "KFold",
    "update",
    "fitted",
    "hypothesis",
    "load",
    "loo",
    "loo_compare",
    "posterior_epred",
    "posterior_linpred",
    "posterior_predict",
    "posterior_smooths",
    "predict",
    "waic",
    "build_model",
    "datasets",
    "default_priors",
    "family",
    "get_family",
    "get_prior",
    "make_design",
    "make_model",
    "model_code",
    "parse_formula",
    "mcmc_plot",
    "plot_fit",
    "plot_prior_posterior",
    "plot_priors",
    "plot_ranef",
    "pp_check",
    "ppc_bars_data",
    "conditional_effects",
    "conditional_smooths",
    "prior",
    "sample",
    "sample_prior_only",
    "validate_prior",
    "predictions",
    "avg_predictions",
    "comparisons",
    "avg_comparisons",
    "slopes",
    "avg_slopes",
    "datagrid",
    "posterior_draws",
]
