"""Where a whole-process fit's time goes, and what cannot be removed (run by hand).

    .venv/bin/python benchmarks/bench_floor.py imports [--repeats N]
    .venv/bin/python benchmarks/bench_floor.py phases
    .venv/bin/python benchmarks/bench_floor.py numba-opt [--levels 3 0] [model ...]

``imports``: wall time of fresh processes that only import (numpy; PyMC, nutpie and pandas;
bayesml), best of N. ``phases``: one process with a warm model cache, timing the stages of
its first ``brm()`` on sleepstudy. ``numba-opt``: LLVM's optimisation level for the generated
nutpie callbacks (``numba.core.config.OPT`` while they compile): a new structure's first
``brm()``, the callbacks' compile time and two later fits in the same process, each level in
a fresh process with an empty model cache.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

IMPORTS = {
    "numpy": "import numpy",
    "pymc, nutpie, pandas": "import pymc, nutpie, pandas",
    "bayesml": "import bayesml",
}

PHASES = """
import json, time, warnings
warnings.simplefilter("ignore")
start = time.perf_counter()
import bayesml as bm
import bayesml.compiled as compiled
import bayesml.sampling as sampling
times = {"import bayesml": time.perf_counter() - start}

def timed(module, name, label):
    inner = getattr(module, name)
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            times[label] = times.get(label, 0.0) + time.perf_counter() - t
    setattr(module, name, wrapper)

timed(compiled, "_cached", "load compiled code from the cache")
timed(compiled, "_flat_initial_point", "build the initial point function")
timed(sampling, "run_nutpie", "nutpie in all")
import sys, nutpie.sample
background = sys.modules["nutpie.sample"]._BackgroundSampler
timed(background, "_extract", "nutpie: conversion of the draws to ArviZ")
data = bm.datasets.load("sleepstudy")
t = time.perf_counter()
bm.brm("Reaction ~ Days + (Days | Subject)", data, seed=1, progressbar=False)
times["brm() in all"] = time.perf_counter() - t
first = dict(times)
t = time.perf_counter()
bm.brm("Reaction ~ Days + (Days | Subject)", data, seed=2, progressbar=False)
first["a second brm() in the same process"] = time.perf_counter() - t
print(json.dumps(first))
"""

OPT = """
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
from numba.core import config
import bayesml as bm
import bayesml.compiled as compiled
level, name = int(sys.argv[1]), sys.argv[2]
inner, spent = compiled._cfuncs, {}

def at_level(module, cache):
    old, t = config.OPT, time.perf_counter()
    config.OPT = config._OptLevel(level)
    try:
        return inner(module, cache)
    finally:
        config.OPT = old
        spent["callbacks"] = time.perf_counter() - t

compiled._cfuncs = at_level
ref = json.loads(open(os.path.join(os.environ["REFERENCE"], name + ".json")).read())
data = bm.datasets.seed_model_data(name)
t = time.perf_counter()
fit = bm.brm(ref["formula"], data, family=ref["family"], seed=1, progressbar=False)
first = time.perf_counter() - t
later = []
for seed in (2, 3):
    t = time.perf_counter()
    bm.brm(ref["formula"], data, family=ref["family"], seed=seed, progressbar=False)
    later.append(time.perf_counter() - t)
checksum = float(fit.idata["posterior"]["b_Intercept"].values.sum())
print(json.dumps({"first": first, "callbacks": spent["callbacks"], "later": later,
                  "checksum": checksum}))
"""


def _python(code: str, *args: str, env: dict | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return time.perf_counter() - start, out.stdout.strip().splitlines()[-1] if out.stdout else ""


def imports(repeats: int) -> None:
    print(f"| imports | process wall s (best of {repeats}) |\n|---|---|")
    for label, code in IMPORTS.items():
        best = min(_python(code)[0] for _ in range(repeats))
        print(f"| {label} | {best:.2f} |", flush=True)


def phases() -> None:
    _python(PHASES)  # leaves the model in the cache
    _, line = _python(PHASES)
    print("| stage (warm model cache) | s |\n|---|---|")
    for label, seconds in json.loads(line).items():
        print(f"| {label} | {seconds:.2f} |")


def numba_opt(levels: list[int], models: list[str]) -> None:
    reference = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "reference", "brms")
    print("| model | LLVM level | first brm() s | callbacks compile s | later fits s | draws |")
    print("|---|---|---|---|---|---|")
    for name in models:
        for level in levels:
            with tempfile.TemporaryDirectory() as cache:
                env = dict(os.environ, BAYESML_CACHE_DIR=cache, REFERENCE=reference)
                _, line = _python(OPT, str(level), name, env=env)
            r = json.loads(line)
            later = ", ".join(f"{t:.2f}" for t in r["later"])
            print(f"| {name} | {level} | {r['first']:.2f} | {r['callbacks']:.2f} | {later} "
                  f"| {r['checksum']:.6g} |", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["imports", "phases", "numba-opt"])
    parser.add_argument("models", nargs="*", default=["sleep_full", "sleep_glmm"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--levels", type=int, nargs="+", default=[3, 0])
    args = parser.parse_args()
    if args.what == "imports":
        imports(args.repeats)
    elif args.what == "phases":
        phases()
    else:
        numba_opt(args.levels, args.models)


if __name__ == "__main__":
    main()
