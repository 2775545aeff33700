"""Microseconds per log-density + gradient evaluation of the sleepstudy model, by PyTensor mode.

.venv/bin/python benchmarks/bench_gradient.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np

from bayesml import datasets, make_model


def main() -> None:
    bm = make_model("Reaction ~ Days + (Days | Subject)", datasets.load("sleepstudy"))
    point = bm.model.initial_point()
    x0 = np.concatenate([np.ravel(v) for v in point.values()])
    for mode in ("NUMBA", "FAST_RUN", "FAST_COMPILE"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fn = bm.model.logp_dlogp_function(mode=mode, ravel_inputs=True)
        fn.set_extra_values({})
        fn(x0)
        n = 2000 if mode != "FAST_COMPILE" else 200
        t0 = time.perf_counter()
        for _ in range(n):
            fn(x0)
        print(f"{mode:12s} {(time.perf_counter() - t0) / n * 1e6:8.1f} us per logp+gradient")


if __name__ == "__main__":
    main()
