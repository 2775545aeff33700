"""Wall time, ESS and divergences of brm() on the Gaussian seed models (run by hand).

    BAYESML_DATA=../shared/data .venv/bin/python benchmarks/bench_fit.py [model ...]

Prints one Markdown row per model; compare with the brms seconds in ../shared/reference/brms.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path

from bayesml import brm, datasets
from bayesml.datasets import SEED_MODELS

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "brms"
MODELS = SEED_MODELS


def main(names: list[str]) -> None:
    print(
        "| model | brm() wall s | brms s | min bulk ESS | min tail ESS | max Rhat | divergences |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names or MODELS:
        ref = json.loads((REFERENCE / f"{name}.json").read_text())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data = datasets.seed_model_data(name)
            t0 = time.perf_counter()
            fit = brm(ref["formula"], data, family=ref["family"], seed=1, progressbar=False)
            wall = time.perf_counter() - t0
        keep = [r["variable"] for r in ref["summary"]]
        diag = fit.diagnostics().loc[keep]
        div = int(fit.idata["sample_stats"].to_dataset()["diverging"].sum())
        print(
            f"| {name} | {wall:.1f} | {ref['total_elapsed_s']:.1f} | {diag['Bulk_ESS'].min():.0f} "
            f"| {diag['Tail_ESS'].min():.0f} | {diag['Rhat'].max():.4f} | {div} |",
            flush=True,
        )


if __name__ == "__main__":
    main(sys.argv[1:])
