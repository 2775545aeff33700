"""Wall time and sampling quality of smooth and GP models against brms 2.18 (run by hand).

    .venv/bin/python benchmarks/bench_smooth.py [name ...]

One Markdown row per model of tests/reference/brms_smooth.json (fits), each fitted in a fresh
process as a user would (brm() with brms's defaults, seed 1; wall time covers design, model
build, compilation and sampling). brms's seconds are its brm() wall time on this machine
(compilation included) from the reference; min bulk ESS and max R-hat over the parameters
brms summarises (not its s_ coefficients).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF = json.loads((ROOT / "tests/reference/brms_smooth.json").read_text())["fits"]

ONE = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
t0 = time.perf_counter()
import bayesml as bm
from tests.simulate_smooth import load
ref = json.loads(sys.argv[1])
fit = bm.brm(ref["formula"], load(ref["data"]), family=ref["family"], seed=1, progressbar=False)
wall = time.perf_counter() - t0
names = [r["variable"] for r in ref["summary"] if not r["variable"].startswith("s_")]
names = [n for n in names if n in fit.posterior]
d = fit.diagnostics().loc[names]
div = int(fit.idata["sample_stats"].to_dataset()["diverging"].sum())
print(json.dumps({"wall": wall, "ess": float(d["Bulk_ESS"].min()),
                  "rhat": float(d["Rhat"].max()), "div": div}))
"""


def brms_stats(ref: dict) -> tuple[float, float]:
    rows = [r for r in ref["summary"] if not r["variable"].startswith("s_")]
    return min(r["ess_bulk"] for r in rows), max(r["rhat"] for r in rows)


def main(names: list[str]) -> None:
    print("| model | bayesml wall s | bulk ESS | max Rhat | div | brms wall s | brms ESS | "
          "brms Rhat | brms div |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names or REF:
        ref = REF[name]
        out = subprocess.run(
            [sys.executable, "-c", ONE, json.dumps(ref)], cwd=ROOT, capture_output=True,
            text=True, check=True,
        )  # fmt: skip
        got = json.loads(out.stdout.strip().splitlines()[-1])
        ess, rhat = brms_stats(ref)
        print(
            f"| `{ref['formula']}` | {got['wall']:.1f} | {got['ess']:.0f} | {got['rhat']:.4f} "
            f"| {got['div']} | {ref['seconds']:.0f} | {ess:.0f} | {rhat:.2f} "
            f"| {ref['divergences']} |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
