"""Sampler seconds and min bulk ESS under nutpie's mass-matrix adaptations (run by hand).

    BAYESML_DATA=../shared/data PYTHONPATH=. .venv/bin/python benchmarks/bench_adaptation.py \\
        CASE [CASE ...] [--variants default,every20,diag] [--seeds 1,2,3]

A CASE is ``seed:NAME`` (a seed model with its reference formula), ``case:NAME`` (a family
test case of tests/data/families), ``stuck`` (the crossed Poisson GLMM of tests/test_scale.py),
``slopes_test`` (the Poisson slopes data of tests/test_scale.py), ``dpar:NAME`` (a model of
tests/simulate_dpar.py on its data),
``sim:FAMILY:GROUPS:ROWS:SD`` (a simulated ``y ~ x + (1 | g)``, FAMILY poisson or bernoulli,
data seed 0) or ``slopes:FAMILY:GROUPS`` (``tests.simulate_scale.slopes``: ``y ~ x + (x | g)``
with an uncentred x from 0 to 9 in every group, data seed 0). Variants: ``default``
(bayesml's choice), ``window_ends`` (low-rank, updated at the adaptation windows' ends:
bayesml's low-rank setting, forced),
``every20`` (low-rank on nutpie's own schedule, also every 20 tuning draws), ``cutN``
(``window_ends`` keeping only the eigenvalues outside [1/N, N], N = 5, 10, 30, 100; nutpie's
default is 2), ``diag`` (nutpie's diagonal adaptation, from draws and gradients) and
``draw_diag`` (diagonal, from the draws' variances alone, as Stan's). One Markdown row per
fit: the seconds inside nutpie, the smallest bulk ESS over b, sd, cor and the family
parameters (and which), the largest R-hat and the divergences.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _seed import REFERENCE, divergences, sampler_clock  # this folder is on the path

import bayesml as bm
from bayesml import datasets
from bayesml.sampling import LOW_RANK_UPDATE_FREQ
from tests.simulate_dpar import MODELS
from tests.simulate_dpar import load as load_dpar
from tests.simulate_scale import slopes

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "default": {},
    "window_ends": {
        "nuts": {"adaptation": "low_rank", "mass_matrix_update_freq": LOW_RANK_UPDATE_FREQ}
    },
    "every20": {"nuts": {"adaptation": "low_rank", "mass_matrix_update_freq": 20}},
    "diag": {"nuts": {}},
    "draw_diag": {"nuts": {"adaptation": "draw_diag"}},
}
for _cut in (5, 10, 30, 100):  # low-rank keeping only eigenvalues outside [1/cut, cut]
    VARIANTS[f"cut{_cut}"] = {
        "nuts": {**VARIANTS["window_ends"]["nuts"], "mass_matrix_eigval_cutoff": float(_cut)}
    }
KEEP = ("b_", "sd_", "cor_", "sigma", "shape", "phi", "nu")


def case_model(case: str) -> tuple[str, pd.DataFrame, str]:
    """(formula, data, family) of a CASE."""
    if case.startswith("seed:"):
        ref = json.loads((REFERENCE / f"{case[5:]}.json").read_text())
        return ref["formula"], datasets.seed_model_data(case[5:]), ref["family"]
    if case == "stuck":
        data = pd.read_csv(ROOT / "tests/data/scale/stuck_poisson.csv")
        return "y ~ x + (1 | g1) + (1 | g2)", data, "poisson"
    if case == "slopes_test":
        data = pd.read_csv(ROOT / "tests/data/scale/slopes_poisson.csv")
        return "y ~ x + (x | g)", data, "poisson"
    if case.startswith("case:"):
        spec = {
            c["name"]: c for c in json.loads((ROOT / "tests/data/families/cases.json").read_text())
        }
        c = spec[case[5:]]
        data = pd.read_csv(ROOT / f"tests/data/families/{c['data']}.csv")
        data["g"] = data["g"].astype(str)
        return c["formula"], data, c["family"]
    if case.startswith("dpar:"):
        _, formula, fam = MODELS[case[5:]]
        return formula, load_dpar(case[5:]), fam
    if case.startswith("slopes:"):
        _, fam, groups = case.split(":")
        data = slopes(np.random.default_rng(0), fam, int(groups))
        return "y ~ x + (x | g)", data, fam
    _, fam, groups, rows, sd = case.split(":")
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(int(groups)), int(rows))
    x = rng.normal(size=g.size)
    eta = 0.3 + 0.5 * x + rng.normal(0, float(sd), int(groups))[g]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta))) if fam == "bernoulli" else rng.poisson(np.exp(eta))
    return "y ~ x + (1 | g)", pd.DataFrame({"y": y, "x": x, "g": g.astype(str)}), fam


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--variants", default="default,every20,diag")
    parser.add_argument("--seeds", default="1,2,3")
    args = parser.parse_args()
    clock = sampler_clock()
    print("| case | adaptation | seed | sampler s | min bulk ESS | slowest | max R-hat | div |")
    print("|---|---|---|---|---|---|---|---|")
    for case in args.cases:
        formula, data, fam = case_model(case)
        for variant in args.variants.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fit = bm.brm(formula, data, family=fam, seed=seed, progressbar=False,
                                 **VARIANTS[variant])  # fmt: skip
                diag = fit.diagnostics()
                d = diag.loc[[v for v in diag.index if v.startswith(KEEP)]]
                print(
                    f"| {case} | {variant} | {seed} | {clock['s']:.2f} | {d.Bulk_ESS.min():.0f} "
                    f"| {d.Bulk_ESS.idxmin()} | {d.Rhat.max():.4f} | {divergences(fit)} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
