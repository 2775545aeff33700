"""Fitting one seed model as the benchmarks do: brms defaults, seed 1, the reference's formula."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

from bayesml import brm, datasets

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "brms"


def fit_seed_model(name: str):
    """(reference JSON, Fit, wall seconds of brm())."""
    ref = json.loads((REFERENCE / f"{name}.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = datasets.seed_model_data(name)
        t0 = time.perf_counter()
        fit = brm(ref["formula"], data, family=ref["family"], seed=1, progressbar=False)
    return ref, fit, time.perf_counter() - t0
