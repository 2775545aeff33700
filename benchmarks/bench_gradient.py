"""Microseconds per log-density + gradient evaluation (run by hand).

    .venv/bin/python benchmarks/bench_gradient.py              # sleepstudy, by PyTensor mode
    BAYESML_DATA=../shared/data .venv/bin/python benchmarks/bench_gradient.py --seed-models

``--seed-models``: every Gaussian seed model's log density and gradient in the default
(Numba) mode at its initial point, best of 3 runs of 500 calls.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings

import numpy as np

from bayesml import datasets, make_model

GAUSSIAN_SEED_MODELS = [
    "sleep_full", "sleep_vi", "sleep_vs", "sleep_diag", "alcohol", "classroom_uncorr",
    "classroom_nested", "blp_crossed", "mathach_glp", "mathach_glp_int",
]  # fmt: skip


def _function(bm, mode: str):
    point = bm.model.initial_point()
    x0 = np.concatenate([np.ravel(v) for v in point.values()])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fn = bm.model.logp_dlogp_function(mode=mode, ravel_inputs=True)
    fn.set_extra_values({})
    fn(x0)
    return fn, x0


def _microseconds(fn, x0, n: int, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            fn(x0)
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


def by_mode() -> None:
    bm = make_model("Reaction ~ Days + (Days | Subject)", datasets.load("sleepstudy"))
    for mode in ("NUMBA", "FAST_RUN", "FAST_COMPILE"):
        fn, x0 = _function(bm, mode)
        n = 2000 if mode != "FAST_COMPILE" else 200
        print(f"{mode:12s} {_microseconds(fn, x0, n, repeats=1):8.1f} us per logp+gradient")


def seed_models() -> None:
    from _seed import REFERENCE  # this folder is on the path when run as a script

    print("| model | µs per log density + gradient |\n|---|---|")
    for name in GAUSSIAN_SEED_MODELS:
        ref = json.loads((REFERENCE / f"{name}.json").read_text())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bm = make_model(ref["formula"], datasets.seed_model_data(name), family=ref["family"])
        fn, x0 = _function(bm, "NUMBA")
        print(f"| {name} | {_microseconds(fn, x0, 500):.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed-models", action="store_true")
    args = parser.parse_args()
    if args.seed_models:
        seed_models()
    else:
        by_mode()


if __name__ == "__main__":
    main()
