"""Which blocks a Gaussian model integrates out: all of them, or the data-rich one alone
(run by hand).

    BAYESML_DATA=../shared/data .venv/bin/python benchmarks/bench_crossed.py \\
        crossed:20:15:300 nested:20:29:5 seed:blp_crossed [--seeds 1,2]

A CASE is ``crossed:A:B:ROWS`` (a simulated ``y ~ 1 + (1 | a) + (1 | b)`` with A and B levels
drawn at random for ROWS rows; sds 0.6 and 0.4, sigma 1, data seed 0), ``nested:S:C:N``
(``y ~ 1 + (1 | s/c)``: S schools of C classes of N pupils) or ``seed:NAME`` (a seed model
with its reference formula). Each is fitted with every block integrated out ("all": the
crossed bound ``MARGINAL_MAX_CROSSED`` lifted) and with one block only ("one": the
factorisation bound lowered so that no two blocks join). One Markdown row per fit: the blocks
integrated out, the largest component, the seconds inside nutpie, the smallest bulk ESS over
b, sd, cor and sigma, bulk ESS per sampler second and the largest R-hat.
"""

from __future__ import annotations

import argparse
import json
import warnings

import numpy as np
import pandas as pd

# this folder is on the path when run as a script
from _seed import REFERENCE, sampler_clock  # this folder is on the path

import bayesml as bm
from bayesml import datasets, effects
from bayesml.marginal import marginal_cost

VARIANTS = {
    "all": {"MARGINAL_MAX_CROSSED": 10**9},
    "one": {"MARGINAL_MAX_FLOPS": 1e3},  # a (1 | g) block alone is g/3 flops
}
KEEP = ("b_", "sd_", "cor_", "sigma")


def case_model(case: str) -> tuple[str, pd.DataFrame, str]:
    """(formula, data, family) of a CASE."""
    kind, _, spec = case.partition(":")
    if kind == "seed":
        ref = json.loads((REFERENCE / f"{spec}.json").read_text())
        return ref["formula"], datasets.seed_model_data(spec), ref["family"]
    rng = np.random.default_rng(0)
    if kind == "crossed":
        n_a, n_b, rows = map(int, spec.split(":"))
        a, b = rng.integers(0, n_a, rows), rng.integers(0, n_b, rows)
        y = 2 + rng.normal(0, 0.6, n_a)[a] + rng.normal(0, 0.4, n_b)[b] + rng.normal(size=rows)
        data = pd.DataFrame({"y": y, "a": a.astype(str), "b": b.astype(str)})
        return "y ~ 1 + (1 | a) + (1 | b)", data, "gaussian"
    n_s, n_c, n_p = map(int, spec.split(":"))
    s = np.repeat(np.arange(n_s), n_c * n_p)
    c = np.tile(np.repeat(np.arange(n_c), n_p), n_s)
    y = 2 + rng.normal(0, 0.6, n_s)[s] + rng.normal(0, 0.4, (n_s, n_c))[s, c]
    data = pd.DataFrame({"y": y + rng.normal(size=s.size), "s": s.astype(str), "c": c.astype(str)})
    return "y ~ 1 + (1 | s/c)", data, "gaussian"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--seeds", default="1")
    args = parser.parse_args()
    clock = sampler_clock()
    defaults = {k: getattr(effects, k) for v in VARIANTS.values() for k in v}
    print("| case | variant | integrated | largest component | seed | sampler s | min bulk ESS "
          "| ESS per s | max R-hat |\n|---|---|---|---|---|---|---|---|---|")  # fmt: skip
    for case in args.cases:
        formula, data, fam = case_model(case)
        for variant, settings in VARIANTS.items():
            for name, value in {**defaults, **settings}.items():
                setattr(effects, name, value)
            design = bm.make_design(formula, data)
            ids = effects.integrated_blocks(design)
            largest = marginal_cost(effects.integrated_design(design, ids)).max_effects
            for seed in (int(s) for s in args.seeds.split(",")):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = bm.brm(formula, data, family=fam, seed=seed, progressbar=False)
                diag = fit.diagnostics()
                d = diag.loc[[v for v in diag.index if v.startswith(KEEP)]]
                ess = d.Bulk_ESS.min()
                print(
                    f"| {case} | {variant} | {ids} | {largest} | {seed} | {clock['s']:.2f} "
                    f"| {ess:.0f} | {ess / clock['s']:.0f} | {d.Rhat.max():.4f} |",
                    flush=True,
                )
    for name, value in defaults.items():
        setattr(effects, name, value)


if __name__ == "__main__":
    main()
