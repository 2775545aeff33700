"""Fitting one seed model as the benchmarks do: brms defaults, seed 1 (or another), the
reference's formula."""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

from bayesml import brm, datasets

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "brms"


def fit_seed_model(name: str, seed: int = 1):
    """(reference JSON, Fit, wall seconds of brm())."""
    ref = json.loads((REFERENCE / f"{name}.json").read_text())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = datasets.seed_model_data(name)
        t0 = time.perf_counter()
        fit = brm(ref["formula"], data, family=ref["family"], seed=seed, progressbar=False)
    return ref, fit, time.perf_counter() - t0


def parse_args(argv: list[str]) -> tuple[list[str], int]:
    """``[--seed N] [model ...]``: the models (all seed models if none) and the seed."""
    seed = 1
    if "--seed" in argv:
        i = argv.index("--seed")
        seed = int(argv[i + 1])
        argv = argv[:i] + argv[i + 2 :]
    return argv, seed


def divergences(fit) -> int:
    """Divergent transitions over every chain of a fit."""
    return int(fit.idata["sample_stats"].to_dataset()["diverging"].sum())


def sampler_clock() -> dict:
    """Time nutpie's own run from now on: the returned dict's ``"s"`` holds the seconds of
    the last fit's sampling (compilation excluded)."""
    from bayesml import sampling

    clock: dict = {}
    run_nutpie = sampling.run_nutpie

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return run_nutpie(*args, **kwargs)
        finally:
            clock["s"] = time.perf_counter() - t

    sampling.run_nutpie = timed
    return clock
