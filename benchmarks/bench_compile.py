"""Whole-process wall time of one brm() on sleepstudy, cold and warm (run by hand).

    .venv/bin/python benchmarks/bench_compile.py [--formula F] [--repeats N]

Each row is a fresh Python process running ``import bayesml; brm(...)`` with brms's defaults:
first with an empty model cache (``BAYESML_CACHE_DIR`` set to a new folder: the model
structure is compiled), then with the cache that run left (the compiled code is loaded).
Numba's and PyTensor's own caches (``~/.pytensor``) are left as they are. Also a second
``brm()`` and an ``update()`` with new responses in the same process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

SCRIPT = """
import json, sys, time
start = time.perf_counter()
import bayesml as bm
imported = time.perf_counter()
data = bm.datasets.load("sleepstudy")
fit = bm.brm(sys.argv[1], data, seed=1, progressbar=False)
first = time.perf_counter()
again = bm.brm(sys.argv[1], data, seed=2, progressbar=False)
second = time.perf_counter()
moved = data.assign(Reaction=data["Reaction"] * 1.01)
updated = fit.update(newdata=moved)
third = time.perf_counter()
print(json.dumps({"import": imported - start, "brm": first - imported,
                  "second": second - first, "update": third - second}))
"""


def run(formula: str, cache: str) -> dict:
    env = dict(os.environ, BAYESML_CACHE_DIR=cache)
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, formula], env=env, capture_output=True, text=True
    )
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # the process from start to exit, interpreter start-up included
    result["process"] = time.perf_counter() - start - result["second"] - result["update"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--formula", default="Reaction ~ Days + (Days | Subject)")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    print("| cache | import s | first brm() s | process to first fit s | second brm() s "
          "| update() s |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            for state in ("cold (new structure)", "warm (loaded from disk)"):
                r = run(args.formula, cache)
                print(
                    f"| {state} | {r['import']:.2f} | {r['brm']:.2f} | {r['process']:.2f} "
                    f"| {r['second']:.2f} | {r['update']:.2f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
