"""Scale benchmarks: the 75k-row crossed model and the 1M-row random-intercept model of
tests/simulate_scale.py, each fitted by default (brms's settings, seed 1) in a fresh process.

    python benchmarks/bench_scale.py [crossed_75k] [ri_1m]

Prints, per model, the strategy chosen, wall time of brm() (compilation included), peak
resident memory of the process, the largest R-hat and smallest bulk ESS over every
parameter (varying effects included), and the posterior means of the sds beside lme4's REML
estimates (tests/reference/lme4_scale.json, from tools/lme4_scale_reference.R).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORMULAS = {
    "crossed_75k": "y ~ 1 + (1 | s) + (1 | d) + (1 | dept:service)",
    "ri_1m": "y ~ x + (1 | g)",
}


def run_one(name: str) -> dict:
    import arviz as az
    import numpy as np

    from bayesml import brm
    from tests.simulate_scale import simulate

    df = simulate(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        fit = brm(FORMULAS[name], df, seed=1, progressbar=False)
        wall = time.perf_counter() - t0
    post = fit.posterior
    names = [v for v in post.data_vars if not v.startswith(("z_", "Intercept"))]
    rhat = az.rhat(post[names])
    ess = az.ess(post[names], method="bulk")
    sds = {v: float(post[v].mean()) for v in post.data_vars if v.startswith("sd_") or v == "sigma"}
    q = {v: [float(post[v].quantile(p)) for p in (0.05, 0.95)] for v in sds}
    return {
        "model": name,
        "rows": len(df),
        "group_effects": fit.model.group_effects,
        "integrated": [b.group for b in fit.model.design.blocks if b.id in fit.model.integrated],
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "max_rhat": float(np.nanmax([rhat[v].max() for v in rhat.data_vars])),
        "min_ess_bulk": float(np.nanmin([ess[v].min() for v in ess.data_vars])),
        "sd_means": sds,
        "sd_90": q,
    }


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--one":
        print(json.dumps(run_one(argv[1])))
        return
    lme4 = json.loads((ROOT / "tests" / "reference" / "lme4_scale.json").read_text())
    for name in argv or list(FORMULAS):
        out = subprocess.run(
            [sys.executable, __file__, "--one", name], capture_output=True, text=True, cwd=ROOT
        )
        if out.returncode:
            print(out.stderr[-3000:])
            continue
        res = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(res, indent=1))
        ref = lme4[name]["sd"]
        print(f"lme4 ({lme4[name]['seconds']:.1f} s):", json.dumps(ref))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main(sys.argv[1:])
