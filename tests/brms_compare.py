"""The project's rule for a posterior against a brms reference fit: means within max(4
combined MCSE, 0.1 sd), 95% interval ends within max(0.2 sd, 4 combined quantile MCSE)."""

from __future__ import annotations

import re

import arviz_stats as azs
import numpy as np


def mcse(fit, var, **kw) -> float:
    return float(azs.mcse(fit.posterior[[var]], **kw)[var])


def posterior_problems(fit, rows: list[dict], long: dict | None = None) -> list[str]:
    """Every breach of the rule, as text (empty: the posterior agrees).

    ``rows`` are brms's summarise_draws records (mean, sd, q2.5, q97.5 and their MCSEs);
    ``long`` maps variables to records of a long brms run whose interval ends replace the
    reference's (their error scaled from ours by the tail ESS ratio).
    """
    problems = []
    for row in rows:
        var, sd = row["variable"], row["sd"]
        if var not in fit.posterior:
            problems.append(f"{var} missing")
            continue
        x = fit.draws(var)
        tol = max(4 * np.hypot(mcse(fit, var, method="mean"), row["mcse_mean"]), 0.1 * sd)
        if abs(x.mean() - row["mean"]) > tol:
            problems.append(f"{var}: mean {x.mean():.4g} vs {row['mean']:.4g} (tol {tol:.3g})")
        ref_long = (long or {}).get(var)
        for prob, key in ((0.025, "q2.5"), (0.975, "q97.5")):
            ours = mcse(fit, var, method="quantile", prob=prob)
            if ref_long is None:
                q_err, target = np.hypot(ours, row[f"mcse_{key}"]), row[key]
            else:
                tail = fit.diagnostics().loc[var, "Tail_ESS"]
                q_err, target = ours * np.sqrt(1 + tail / ref_long["ess_tail"]), ref_long[key]
            tol = max(0.2 * sd, 4 * q_err)
            q = np.quantile(x, prob)
            if abs(q - target) > tol:
                problems.append(f"{var}: {key} {q:.4g} vs {target:.4g} (tol {tol:.3g})")
    return problems


def _skeleton(line: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"-?\d+(\.\d+)?", "#", line)).strip()


def assert_summary_layout(fit, ref: list[str]) -> None:
    """The summary has brms's lines: the first three equal, the others equal with every number
    replaced by '#' (the Data line, which names the data, aside)."""
    summary = fit.summary()
    ours = summary.lines()[: len(summary.lines()) - len(summary.notes)]  # notes: our warnings
    assert len(ours) == len(ref), "\n".join(ours)
    assert ours[:3] == ref[:3]
    for a, b in zip(ours[3:], ref[3:], strict=True):
        if b.startswith("   Data:"):
            continue
        assert _skeleton(a) == _skeleton(b), (a, b)
