"""Wall time, ESS and divergences of brm() on the seed models (run by hand).

    BAYESML_DATA=../shared/data .venv/bin/python benchmarks/bench_fit.py [--seed N] [model ...]

Prints one Markdown row per model; compare with the brms seconds in ../shared/reference/brms.
"""

from __future__ import annotations

import sys

from _seed import divergences, fit_seed_model, parse_args

from bayesml.datasets import SEED_MODELS


def main(names: list[str], seed: int = 1) -> None:
    print(
        "| model | brm() wall s | brms s | min bulk ESS | min tail ESS | max Rhat | divergences |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in names or SEED_MODELS:
        ref, fit, wall = fit_seed_model(name, seed)
        keep = [r["variable"] for r in ref["summary"]]
        diag = fit.diagnostics().loc[keep]
        print(
            f"| {name} | {wall:.1f} | {ref['total_elapsed_s']:.1f} | {diag['Bulk_ESS'].min():.0f} "
            f"| {diag['Tail_ESS'].min():.0f} | {diag['Rhat'].max():.4f} | {divergences(fit)} |",
            flush=True,
        )


if __name__ == "__main__":
    main(*parse_args(sys.argv[1:]))
