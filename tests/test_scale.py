"""Scale and sampler robustness, by default settings (brms's: 4 chains, 2000 iterations, seed
1): the Poisson GLMM with crossed factors and a predictor in the hundreds against brms 2.18
(tests/reference/brms_robust.json, tools/brms_robust_reference.R), a Poisson model with
correlated slopes of an uncentred predictor against brms (tests/reference/brms_slopes.json,
tools/brms_slopes_reference.R), and the 75k-row crossed
Gaussian model against lme4's REML fit of the same data (tests/reference/lme4_scale.json,
tools/lme4_scale_reference.R). Time and memory are benchmarks (benchmarks/bench_scale.py)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest

from bayesml import brm

from .brms_compare import posterior_problems
from .simulate_scale import HERE, simulate

REFERENCE = Path(__file__).parent / "reference"


def _all_rhat(fit) -> dict[str, float]:
    """The largest R-hat of every parameter of the posterior (varying effects included)."""
    rhat = az.rhat(fit.posterior)
    return {v: float(np.nanmax(rhat[v].values)) for v in rhat.data_vars}


def _poisson_fit(name: str, formula: str):
    """brm() with brms's defaults (seed 1) on tests/data/scale/<name>.csv."""
    df = pd.read_csv(HERE / f"{name}.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return brm(formula, df, family="poisson", seed=1, progressbar=False)


@pytest.fixture(scope="module")
def stuck_poisson_fit():
    return _poisson_fit("stuck_poisson", "y ~ x + (1 | g1) + (1 | g2)")


@pytest.mark.slow
def test_poisson_glmm_with_an_unscaled_predictor_mixes_and_matches_brms(stuck_poisson_fit):
    """Before the slopes were sampled in their design's coordinates, 2-4 of 4 chains stuck
    at tree depth 10 on this model (R-hat 3.9-5.2, bulk ESS 4); brms mixes."""
    fit = stuck_poisson_fit
    rhat = _all_rhat(fit)
    assert max(rhat.values()) <= 1.01, {k: v for k, v in rhat.items() if v > 1.01}
    ref = json.loads((REFERENCE / "brms_robust.json").read_text())
    long = {r["variable"]: r for r in ref["long"]["draws"]}
    assert posterior_problems(fit, ref["default"]["draws"], long) == []
    assert float(fit.draws("b_x").std()) == pytest.approx(long["b_x"]["sd"], rel=0.1)


@pytest.fixture(scope="module")
def slopes_poisson_fit():
    return _poisson_fit("slopes_poisson", "y ~ x + (x | g)")


@pytest.mark.slow
def test_correlated_poisson_slopes_of_an_uncentred_predictor_mix_and_match_brms(
    slopes_poisson_fit,
):
    """While correlated effects were sampled in brms's coordinates (``r = diag(sd) L z``),
    chains stuck on this model in 5 of 6 runs (seeds 1-3, low-rank and diagonal adaptation:
    R-hat 1.5-8.5); brms mixes. The centred square root (``effects._centred_root``) and
    signed sds stopped the sticking but left two of seeds 1-8 at R-hat 1.03 with 126-134
    divergent transitions. With ``b`` sampled at its varying effects' mean
    (``bayesml.mean_shift``) and Stan's kind of diagonal adaptation, seeds 1-8 give a max
    R-hat over b, sd and cor of 1.005-1.011 and 0-5 divergences (brms: 0-1 per 4,000
    draws; benchmarks/README.md). The bounds leave room for that seed-to-seed spread and
    fail on either earlier state; the posterior is held to brms's by the project's rule."""
    fit = slopes_poisson_fit
    free = {v.name for v in fit.model.model.free_RVs}
    assert {"sd_1_signed", "L_1_signed", "b_shifted", "Intercept_shifted"} <= free
    rhat = _all_rhat(fit)
    assert max(rhat.values()) <= 1.02, {k: v for k, v in rhat.items() if v > 1.02}
    assert int(fit.idata["sample_stats"]["diverging"].sum()) <= 20
    ref = json.loads((REFERENCE / "brms_slopes.json").read_text())
    long = {r["variable"]: r for r in ref["long"]["draws"]}
    assert posterior_problems(fit, ref["default"]["draws"], long) == []


@pytest.fixture(scope="module")
def crossed_fit():
    df = simulate("crossed_75k")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return brm("y ~ 1 + (1 | s) + (1 | d) + (1 | dept:service)", df, seed=1,
                   progressbar=False)  # fmt: skip


@pytest.mark.slow
def test_crossed_model_at_75k_rows_fits_by_default_and_agrees_with_lme4(crossed_fit):
    fit = crossed_fit
    assert fit.model.group_effects == "marginal"
    assert [b.group for b in fit.model.design.blocks if b.id in fit.model.integrated] == [
        "dept:service"
    ]
    rhat = _all_rhat(fit)
    assert max(rhat.values()) <= 1.01, {k: v for k, v in rhat.items() if v > 1.01}
    lme4 = json.loads((REFERENCE / "lme4_scale.json").read_text())["crossed_75k"]["sd"]
    for group in ("s", "d"):  # hundreds of levels: the posterior mean within 3% of REML
        ours = float(fit.draws(f"sd_{group}__Intercept").mean())
        assert ours == pytest.approx(lme4[f"{group}__(Intercept)"], rel=0.03)
    assert float(fit.draws("sigma").mean()) == pytest.approx(lme4["Residual"], rel=0.01)
    cells = fit.draws("sd_dept:service__Intercept")
    lo, hi = np.quantile(cells, [0.05, 0.95])
    assert lo < lme4["dept:service__(Intercept)"] < hi
    assert fit.posterior["r_dept:service"].shape[-2:] == (28, 1)
