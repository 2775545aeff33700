"""Nanoseconds per row of a log density and its gradient, by family and data size (run by hand).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_likelihood.py [--rows 180,2000,20000]

Simulated data (seed 0): ``x`` standard normal, ``g`` 50 levels, the response drawn from the
family at ``0.3 + 0.5 x + r_g`` (``r_g`` standard normal; binomial trials 1-20). For each
family and size, ``y ~ x`` and ``y ~ x + (1 | g)`` with ``make_model``'s defaults, timed as
nutpie calls the compiled function (``bench_gradient._compiled_microseconds``). Run it from
another checkout (``PYTHONPATH`` pointing there) to compare versions.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from bench_gradient import _compiled_microseconds  # this folder is on the path
from scipy import special

import bayesml as bm

FAMILIES = ("bernoulli", "binomial", "poisson", "negbinomial")


def simulate(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    g = rng.integers(0, 50, rows)
    eta = 0.3 + 0.5 * x + rng.normal(size=50)[g]
    trials = rng.integers(1, 21, rows)
    mu = np.exp(eta)
    return pd.DataFrame(
        {
            "x": x,
            "g": g.astype(str),
            "bernoulli": rng.binomial(1, special.expit(eta)),
            "binomial": rng.binomial(trials, special.expit(eta)),
            "n": trials,
            "poisson": rng.poisson(mu),
            "negbinomial": rng.negative_binomial(2.0, 2.0 / (2.0 + mu)),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", default="180,2000,20000")
    args = parser.parse_args()
    print("| family | rows | y ~ x: µs | ns per row | y ~ x + (1 \\| g): µs | ns per row |")
    print("|---|---|---|---|---|---|")
    for rows in map(int, args.rows.split(",")):
        data = simulate(rows)
        for fam in FAMILIES:
            response = f"{fam} | trials(n)" if fam == "binomial" else fam
            cells = []
            for rhs in ("x", "x + (1 | g)"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    model = bm.make_model(f"{response} ~ {rhs}", data, fam)
                us = _compiled_microseconds(model, n=max(200, 400_000 // rows))
                cells += [f"{us:.1f}", f"{us * 1000 / rows:.1f}"]
            print(f"| {fam} | {rows} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
