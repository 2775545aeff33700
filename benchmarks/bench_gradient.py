"""Microseconds per log-density + gradient evaluation (run by hand).

    .venv/bin/python benchmarks/bench_gradient.py              # sleepstudy, by PyTensor mode
    BAYESML_DATA=../shared/data .venv/bin/python benchmarks/bench_gradient.py --seed-models

``--seed-models``: every Gaussian seed model's log density and gradient as nutpie calls it
(the compiled C function of ``sampling.compile_nutpie``, through ctypes), at the sampler's
first initial point (seed 1: jittered, so that the log density is finite; the unjittered
support point has zero standard deviations, where the log density is NaN and the
evaluation stops early), best of 5 runs of 2,000 calls.
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
    from pymc.initial_point import make_initial_point_fn

    # jittered, as the sampler starts: at the support point the sds are 0 and logp is NaN
    point = make_initial_point_fn(
        model=bm.model, jitter_rvs=set(bm.model.free_RVs), return_transformed=True
    )(1)
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
        print(f"| {name} | {_compiled_microseconds(bm):.0f} |", flush=True)


def _compiled_microseconds(bm, n: int = 2000, repeats: int = 5) -> float:
    """nutpie's compiled log density and gradient, called as nutpie calls it."""
    import ctypes

    from bayesml.sampling import compile_nutpie

    def pointer(a):
        return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = compile_nutpie(bm.model)
    x = np.ascontiguousarray(compiled.initial_point_func(1))
    grad, value = np.zeros_like(x), np.zeros(())
    args = (x.size, pointer(x), pointer(grad), pointer(value), compiled.user_data.ctypes.data)
    function = compiled.compiled_logp_func.ctypes
    assert function(*args) == 0 and np.isfinite(value), "the log density is not finite"
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            function(*args)
        best = min(best, (time.perf_counter() - t0) / n * 1e6)
    return best


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
