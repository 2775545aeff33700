"""Posterior agreement with brms 2.18 per seed model, as the reference tests measure it.

    BAYESML_DATA=../shared/data python benchmarks/reference_table.py [--seed N] [model ...]

Columns: the largest |mean - brms mean| relative to the mean tolerance (max(4 combined MCSE,
0.1 sd); below 1 passes), the worst 95% interval end in posterior sd, the ends beyond 0.2 sd,
and the largest R-hat.
"""

from __future__ import annotations

import sys

import arviz_stats as azs
import numpy as np
from _seed import fit_seed_model, parse_args

from bayesml.datasets import SEED_MODELS


def main(names: list[str], seed: int = 1) -> None:
    print("| model | max dmean/tol | worst end (sd) | ends > 0.2 sd | max Rhat |")
    print("|---|---|---|---|---|")
    for name in names or SEED_MODELS:
        ref, fit, _ = fit_seed_model(name, seed)
        diag = fit.diagnostics()
        ratios, ends, far, rhats = [], [], [], []
        for row in ref["summary"]:
            var, sd = row["variable"], row["sd"]
            x = fit.draws(var)
            mcse = np.hypot(
                x.std(ddof=1) / np.sqrt(diag.loc[var, "Bulk_ESS"]), sd / np.sqrt(row["ess_bulk"])
            )
            ratios.append(abs(x.mean() - row["mean"]) / max(4 * mcse, 0.1 * sd))
            for prob, key in ((0.025, "q2.5"), (0.975, "q97.5")):
                q = np.quantile(x, prob)
                gap = abs(q - row[key]) / sd
                ends.append((gap, f"{var} {key}"))
                if gap > 0.2:
                    mq = float(azs.mcse(fit.posterior[[var]], method="quantile", prob=prob)[var])
                    far.append(
                        f"{var} {key} {q:.3f} vs {row[key]:.3f} "
                        f"({gap:.2f} sd; 4 MCSE = {4 * mq / sd:.2f} sd)"
                    )
            rhats.append(diag.loc[var, "Rhat"])
        worst = max(ends)
        print(
            f"| {name} | {max(ratios):.2f} | {worst[0]:.2f} ({worst[1]}) | "
            f"{'; '.join(far) or '—'} | {max(rhats):.4f} |",
            flush=True,
        )


if __name__ == "__main__":
    main(*parse_args(sys.argv[1:]))
