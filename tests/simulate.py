"""Simulated multilevel data with known parameters, one set per family.

Every data set has ``n_groups`` levels of ``g`` with ``per_group`` rows each, a standard-normal
predictor ``x`` and a varying intercept with standard deviation ``sd`` (the 30 effects sit at
the normal quantiles, in random order). ``TRUTH[family]`` holds the values
in brms's variable names, so recovery tests compare posterior intervals with them directly.
``python -m tests.simulate DIR`` writes the CSV files the brms reference script reads.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

N_GROUPS, PER_GROUP = 30, 10

TRUTH: dict[str, dict[str, float]] = {
    "gaussian": {"b_Intercept": 1.0, "b_x": 0.5, "sd_g__Intercept": 0.8, "sigma": 1.0},
    "student": {"b_Intercept": 1.0, "b_x": 0.5, "sd_g__Intercept": 0.8, "sigma": 1.0, "nu": 4.0},
    "bernoulli": {"b_Intercept": -0.3, "b_x": 1.0, "sd_g__Intercept": 0.8},
    "binomial": {"b_Intercept": 0.2, "b_x": 0.7, "sd_g__Intercept": 0.6},
    "poisson": {"b_Intercept": 1.0, "b_x": 0.4, "sd_g__Intercept": 0.5},
    "negbinomial": {"b_Intercept": 1.5, "b_x": 0.4, "sd_g__Intercept": 0.5, "shape": 3.0},
    "lognormal": {"b_Intercept": 1.0, "b_x": 0.3, "sd_g__Intercept": 0.6, "sigma": 0.5},
    "gamma": {"b_Intercept": 1.0, "b_x": 0.4, "sd_g__Intercept": 0.5, "shape": 4.0},
    "beta": {"b_Intercept": 0.3, "b_x": 0.6, "sd_g__Intercept": 0.5, "phi": 10.0},
    "cumulative": {
        "b_Intercept[1]": -1.0,
        "b_Intercept[2]": 0.5,
        "b_Intercept[3]": 2.0,
        "b_x": 1.0,
        "sd_g__Intercept": 0.7,
    },
}


def simulate(family: str, seed: int = 20261125) -> pd.DataFrame:
    """One data set for ``family`` with the parameters in ``TRUTH[family]``."""
    t = TRUTH[family]
    rng = np.random.default_rng([seed, list(TRUTH).index(family)])
    g = np.repeat(np.arange(1, N_GROUPS + 1), PER_GROUP)
    x = np.round(rng.normal(size=g.size), 3)
    # group effects at the normal quantiles, in random order: their sample mean is exactly 0,
    # so the population intercept is not shifted by the luck of 30 draws (with iid draws the
    # realised mean has sd = sd_g / sqrt(30) and alone moves b_Intercept out of its interval
    # one time in twenty)
    q = stats.norm.ppf((np.arange(N_GROUPS) + 0.5) / N_GROUPS)
    r = (t["sd_g__Intercept"] * rng.permutation(q))[g - 1]
    eta = t.get("b_Intercept", 0.0) + t["b_x"] * x + r
    df = pd.DataFrame({"g": g.astype(str), "x": x})
    n = len(df)
    if family == "gaussian":
        y = eta + rng.normal(0, t["sigma"], n)
        # known standard errors (meta-analysis form) and case weights for the addition terms
        df["s"] = 0.5 + 0.1 * (np.arange(n) % 5)
        df["w"] = 1.0 + (np.arange(n) % 3)
    elif family == "student":
        y = eta + t["sigma"] * stats.t.rvs(t["nu"], size=n, random_state=rng)
    elif family == "bernoulli":
        y = rng.binomial(1, special.expit(eta))
    elif family == "binomial":
        df["n"] = rng.integers(5, 16, n)
        y = rng.binomial(df["n"].to_numpy(), special.expit(eta))
    elif family == "poisson":
        y = rng.poisson(np.exp(eta))
    elif family == "negbinomial":
        mu, k = np.exp(eta), t["shape"]
        y = rng.negative_binomial(k, k / (k + mu))
    elif family == "lognormal":
        y = np.exp(eta + rng.normal(0, t["sigma"], n))
    elif family == "gamma":
        mu, k = np.exp(eta), t["shape"]
        y = rng.gamma(k, mu / k)
    elif family == "beta":
        mu, phi = special.expit(eta), t["phi"]
        y = rng.beta(mu * phi, (1 - mu) * phi)
    elif family == "cumulative":
        thr = np.array([t[f"b_Intercept[{k}]"] for k in (1, 2, 3)])
        cdf = special.expit(thr[None, :] - eta[:, None])
        p = np.diff(np.column_stack([np.zeros(n), cdf, np.ones(n)]), axis=1)
        y = np.array([rng.choice(4, p=pi) for pi in p]) + 1
    else:
        raise KeyError(family)
    if np.issubdtype(np.asarray(y).dtype, np.floating):
        y = np.round(y, 6)
    if family in ("lognormal", "gamma"):
        y = np.maximum(y, 1e-6)
    if family == "beta":
        y = np.clip(y, 1e-6, 1 - 1e-6)
    df.insert(0, "y", y)
    return df


def main(out: str) -> None:
    path = Path(out)
    path.mkdir(parents=True, exist_ok=True)
    for fam in TRUTH:
        simulate(fam).to_csv(path / f"{fam}.csv", index=False)


if __name__ == "__main__":
    main(sys.argv[1])
