"""Posterior agreement with brms 2.18 on every seed model (../shared/reference/brms).

Each model is fitted once with brms's defaults (4 chains, iter 2000, warmup 1000) and seed 1.

* Posterior means: within 4 combined Monte Carlo standard errors (ours and brms's, each
  sd / sqrt(bulk ESS)) of brms's mean, or within 0.1 posterior sd, whichever is larger.
* 95% interval ends: within 0.2 posterior sd, or within 4 combined Monte Carlo standard errors
  of the quantile, whichever is larger. Ours comes from ArviZ's quantile MCSE; brms's is
  ours rescaled by the ratio of tail ESS (both estimate the same quantile of the same
  posterior), since the reference files do not carry quantile MCSEs.
* R-hat of every b_, sd_, cor_ and sigma at most 1.01 for the Gaussian models, whose varying
  effects are integrated out and whose sds are sampled as signed scales (smallest bulk ESS
  near 3000 at seed 1, largest R-hat 1.004; benchmarks/README.md). The two GLMMs keep brms's
  non-centred parameterisation, where a parameter with bulk ESS of a few hundred moves R-hat by
  about +-0.005 between equivalent runs (sleep_glmm: 1.0074 and 1.0092), so they are held to
  1.02; brms's own reference fits reach 1.0196 (alcohol).
* The five interval ends where the seed-1 references differ from bayesml by more than 0.2 sd
  are also checked against brms's own long runs (tests/reference/brms_long_runs.json), which
  they match within 0.01-0.18 sd.
"""

from __future__ import annotations

import json
from pathlib import Path

import arviz_stats as azs
import numpy as np
import pytest

from .conftest import ALL_SEED, GAUSSIAN_SEED, reference

pytestmark = pytest.mark.slow

RHAT_MAX = {"gaussian": 1.01, "glmm": 1.02}


def _quantile_mcse(fit, var: str, prob: float) -> float:
    ds = fit.posterior[[var]]
    return float(azs.mcse(ds, method="quantile", prob=prob)[var])


@pytest.mark.parametrize("name", ALL_SEED)
def test_posterior_matches_brms(name, seed_fit):
    ref = reference(name)
    fit = seed_fit(name)
    diag = fit.diagnostics()
    problems = []
    for row in ref["summary"]:
        var, sd = row["variable"], row["sd"]
        assert var in fit.posterior, f"{var} missing from the posterior"
        x = fit.draws(var)
        ours_mcse = x.std(ddof=1) / np.sqrt(diag.loc[var, "Bulk_ESS"])
        brms_mcse = sd / np.sqrt(row["ess_bulk"])
        tol_mean = max(4 * np.hypot(ours_mcse, brms_mcse), 0.1 * sd)
        if abs(x.mean() - row["mean"]) > tol_mean:
            problems.append(
                f"{var}: mean {x.mean():.4g} vs brms {row['mean']:.4g} (tol {tol_mean:.3g})"
            )
        for prob, key in ((0.025, "q2.5"), (0.975, "q97.5")):
            q = np.quantile(x, prob)
            mq = _quantile_mcse(fit, var, prob)
            mq_brms = mq * np.sqrt(diag.loc[var, "Tail_ESS"] / row["ess_tail"])
            tol_q = max(0.2 * sd, 4 * np.hypot(mq, mq_brms))
            if abs(q - row[key]) > tol_q:
                problems.append(f"{var}: {key} {q:.4g} vs brms {row[key]:.4g} (tol {tol_q:.3g})")
        rhat_max = RHAT_MAX["gaussian" if name in GAUSSIAN_SEED else "glmm"]
        if diag.loc[var, "Rhat"] > rhat_max:
            problems.append(f"{var}: Rhat {diag.loc[var, 'Rhat']:.4f} > {rhat_max}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ALL_SEED)
def test_fitted_prior_summary_equals_brms(name, seed_fit):
    ref = reference(name)
    assert seed_fit(name).prior_summary().lines() == ref["fit_prior"]


LONG_RUNS = json.loads((Path(__file__).parent / "reference" / "brms_long_runs.json").read_text())


@pytest.mark.parametrize("end", LONG_RUNS["ends"], ids=lambda e: f"{e['model']}-{e['variable']}")
def test_interval_ends_match_brms_long_runs(end, seed_fit):
    # where the seed-1 references carry Monte Carlo error of about 0.2 sd, brms's own long runs
    # are the better target: ends within max(0.2 sd, 4 combined quantile MCSE) of them
    fit = seed_fit(end["model"])
    var, sd = end["variable"], end["sd"]
    x = fit.draws(var)
    tail_ess = fit.diagnostics().loc[var, "Tail_ESS"]
    for prob, key in ((0.025, "q2.5"), (0.975, "q97.5")):
        mq = _quantile_mcse(fit, var, prob)
        mq_brms = mq * np.sqrt(tail_ess / end["ess_tail"])
        tol = max(0.2 * sd, 4 * np.hypot(mq, mq_brms))
        assert abs(np.quantile(x, prob) - end[key]) <= tol, (key, np.quantile(x, prob), end[key])
