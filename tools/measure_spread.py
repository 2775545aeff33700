"""Run-to-run Monte Carlo spread of bayesml's WAIC, LOO and ranef() summaries on the four
post-fit reference models (tests/reference/brms_post_fit.json), measured by refitting each
with seeds 1-8 (brms's defaults otherwise). Writes tests/reference/bayesml_spread.json:
per model the sd over seeds of elpd_waic, elpd_loo and its standard error, and per varying
effect (group, level, coef) the sd over seeds of its mean, 2.5% and 97.5% quantiles.

The tests use it where a single fit's MCSE estimate understates the error of a statistic:
WAIC, whose error the four chains' spread estimates poorly (sleep_glmm: 0.07 from the
chains of one fit, 0.17-0.32 over seeds), PSIS-LOO with Pareto k > 0.7 points, and tail
quantiles of the bernoulli GLMM's varying intercepts (8 seeds: sd 0.51 of
r_Subject[371, Intercept]'s 97.5% quantile, where a fit's quantile MCSE says 0.19).

    BAYESML_DATA=../shared/data .venv/bin/python tools/measure_spread.py   (about 4 minutes)
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bayesml as bm  # noqa: E402
from tests.conftest import seed_data  # noqa: E402

SEEDS = range(1, 9)


def measure(name: str, ref: dict) -> dict:
    waic, loo, loo_se, effects = [], [], [], {}
    for seed in SEEDS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = bm.brm(ref["formula"], seed_data(name), family=ref["family"], seed=seed,
                         progressbar=False)  # fmt: skip
            waic.append(float(fit.waic()["elpd_waic"]))
            estimate = fit.loo()
            loo.append(float(estimate.elpd))
            loo_se.append(float(estimate.se))
        table = fit.ranef()
        for g, frame in table.items():
            for level in frame.index:
                for coef in dict.fromkeys(c for c, _ in frame.columns):
                    row = frame[coef].loc[level]
                    key = f"{g}|{level}|{coef}"
                    effects.setdefault(key, []).append([row["Estimate"], row["Q2.5"], row["Q97.5"]])
        print(name, seed, loo[-1], flush=True)
    return {
        "seeds": list(SEEDS),
        "sd_elpd_waic": float(np.std(waic, ddof=1)),
        "mean_elpd_waic": float(np.mean(waic)),
        "sd_elpd_loo": float(np.std(loo, ddof=1)),
        "mean_elpd_loo": float(np.mean(loo)),
        "sd_se_elpd_loo": float(np.std(loo_se, ddof=1)),
        "mean_se_elpd_loo": float(np.mean(loo_se)),
        "ranef": {
            key: dict(
                zip(
                    ("sd_mean", "sd_q2.5", "sd_q97.5"),
                    np.std(np.array(v), axis=0, ddof=1).tolist(),
                    strict=True,
                )
            )
            for key, v in effects.items()
        },  # fmt: skip
    }


def main() -> None:
    refs = json.loads((ROOT / "tests/reference/brms_post_fit.json").read_text())
    out = {name: measure(name, ref) for name, ref in refs.items()}
    path = ROOT / "tests/reference/bayesml_spread.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
