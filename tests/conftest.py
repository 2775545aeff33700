"""Shared fixtures: the seed datasets from ../shared/data and session-scoped fits."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import pytest

from bayesml.datasets import GAUSSIAN_SEED_MODELS, SEED_MODELS

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BAYESML_SHARED", ROOT.parent / "shared"))
REFERENCE = SHARED / "reference"

# The course datasets are read from the shared folder, never downloaded during tests.
if (SHARED / "data").is_dir():
    os.environ.setdefault("BAYESML_DATA", str(SHARED / "data"))

# Seed models: name -> dataset (the reference JSON holds the formula and family).
SEED_DATA = SEED_MODELS
GAUSSIAN_SEED = list(GAUSSIAN_SEED_MODELS)
GLMM_SEED = [m for m in SEED_DATA if m not in GAUSSIAN_SEED]
ALL_SEED = list(SEED_DATA)


# In CI (CI=true) a missing ../shared is an error: a green run must mean that every brms
# comparison ran. Elsewhere the comparisons that need it are skipped.
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_shared(what: str):
    if IN_CI:
        pytest.fail(f"{what} is missing; CI must run every comparison with brms.", pytrace=False)
    pytest.skip(f"{what} is not available")


def reference(name: str) -> dict:
    path = REFERENCE / "brms" / f"{name}.json"
    if not path.exists():
        missing_shared(f"reference file {path}")
    return json.loads(path.read_text())


def seed_data(name: str):
    from bayesml import datasets

    if not (SHARED / "data").is_dir() and SEED_DATA[name] != "sleepstudy":
        missing_shared(f"{SHARED / 'data'}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return datasets.seed_model_data(name)


@pytest.fixture(scope="session")
def sleep():
    from bayesml import datasets

    return datasets.load("sleepstudy")


class _FitCache:
    """Fits each seed model once per session with brms's defaults and a fixed seed."""

    def __init__(self):
        self._fits = {}
        self.seconds = {}

    def __call__(self, name: str):
        if name not in self._fits:
            import time

            from bayesml import brm

            ref = reference(name)
            data = seed_data(name)
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._fits[name] = brm(
                    ref["formula"], data, family=ref["family"], seed=1, progressbar=False
                )
            self.seconds[name] = time.perf_counter() - t0
        return self._fits[name]


@pytest.fixture(scope="session")
def seed_fit():
    return _FitCache()
