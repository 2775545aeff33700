"""Simulated data for the sampler-robustness and scale cases. The data seeds are fixed here,
before any fit.

``python -m tests.simulate_scale [DIR]`` writes ``stuck_poisson.csv`` and
``slopes_poisson.csv`` (to tests/data/scale/) and ``crossed_75k.csv``/``ri_1m.csv`` (to DIR,
/tmp/bayesml-scale by default: they are regenerated from their seeds rather than stored),
which tools/lme4_scale_reference.R, tools/brms_robust_reference.R and
tools/brms_slopes_reference.R read.

* ``stuck_poisson``: a Poisson GLMM with two crossed grouping factors (120 and 60 levels, 400
  rows) and an unscaled predictor with values 400-550, the shape of model that left chains
  stuck before the slopes were sampled in their design's coordinates;
* ``crossed_75k``: ``y ~ 1 + (1 | s) + (1 | d) + (1 | dept:service)`` at the size of lme4's
  InstEval (73,421 rows; about 2,970 students, 1,130 lecturers nested in 14 departments, 28
  department × service cells);
* ``ri_1m``: a random-intercept model with 1,000,000 rows and 10,000 groups;
* ``slopes_poisson``: a Poisson ``y ~ x + (x | g)``, 30 groups of 10 rows, x from 0 to 9 in
  every group, on which chains stuck while correlated varying effects were sampled in brms's
  coordinates (``effects._centred_root``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261128
HERE = Path(__file__).parent / "data" / "scale"
LARGE = Path("/tmp/bayesml-scale")


def stuck_poisson(rng) -> pd.DataFrame:
    n, j1, j2 = 400, 120, 60
    g1 = rng.integers(j1, size=n)
    g2 = rng.integers(j2, size=n)
    x = np.round(rng.uniform(400, 550, size=n), 1)
    u1 = rng.normal(0, 0.5, j1)
    u2 = rng.normal(0, 0.3, j2)
    y = rng.poisson(np.exp(-4.0 + 0.01 * x + u1[g1] + u2[g2]))
    return pd.DataFrame(
        {"y": y, "x": x, "g1": [f"a{i:03d}" for i in g1], "g2": [f"b{i:02d}" for i in g2]}
    )


def crossed_75k(rng) -> pd.DataFrame:
    n, n_s, n_d, n_dept = 73421, 2972, 1128, 14
    dept_of_d = rng.integers(n_dept, size=n_d)
    s = rng.integers(n_s, size=n)
    d = rng.integers(n_d, size=n)
    service = rng.integers(2, size=n)
    dept = dept_of_d[d]
    cell = dept * 2 + service
    u_s = rng.normal(0, 0.32, n_s)
    u_d = rng.normal(0, 0.51, n_d)
    u_c = rng.normal(0, 0.15, 2 * n_dept)
    y = 3.2 + u_s[s] + u_d[d] + u_c[cell] + rng.normal(0, 1.18, n)
    return pd.DataFrame(
        {
            "y": np.round(y, 4),
            "s": [f"s{i:04d}" for i in s],
            "d": [f"d{i:04d}" for i in d],
            "dept": [f"dept{i:02d}" for i in dept],
            "service": np.where(service == 1, "yes", "no"),
        }
    )


def ri_1m(rng) -> pd.DataFrame:
    n, n_g = 1_000_000, 10_000
    g = rng.integers(n_g, size=n)
    x = rng.normal(size=n)
    u = rng.normal(0, 0.7, n_g)
    y = 1.0 + 0.5 * x + u[g] + rng.normal(0, 1.0, n)
    return pd.DataFrame({"y": np.round(y, 4), "x": np.round(x, 4), "g": g})


def slopes(rng, family: str = "poisson", groups: int = 30) -> pd.DataFrame:
    """``y ~ x + (x | g)`` with x = 0..9 in every group (not centred): sd(Intercept) 0.5,
    sd(x) 0.15, their correlation 0.3; Poisson or Bernoulli."""
    g = np.repeat(np.arange(groups), 10)
    x = np.tile(np.arange(10.0), groups)
    cov = np.array([[0.25, 0.3 * 0.5 * 0.15], [0.3 * 0.5 * 0.15, 0.15**2]])
    u = rng.multivariate_normal([0.0, 0.0], cov, size=groups)
    eta = (0.5 + 0.1 * x if family == "poisson" else 1.0 - 0.2 * x) + u[g, 0] + u[g, 1] * x
    mean = np.exp(eta) if family == "poisson" else 1 / (1 + np.exp(-eta))
    y = rng.poisson(mean) if family == "poisson" else rng.binomial(1, mean)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i:03d}" for i in g]})


DATASETS = {
    "stuck_poisson": stuck_poisson,
    "crossed_75k": crossed_75k,
    "ri_1m": ri_1m,
    "slopes_poisson": slopes,
}


def simulate(name: str) -> pd.DataFrame:
    """One dataset, from its own generator seeded with ``SEED`` and its position here."""
    position = list(DATASETS).index(name)
    return DATASETS[name](np.random.default_rng([SEED, position]))


def main(large_dir: Path = LARGE) -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    large_dir.mkdir(parents=True, exist_ok=True)
    for name in ("stuck_poisson", "slopes_poisson"):
        simulate(name).to_csv(HERE / f"{name}.csv", index=False)
    for name in ("crossed_75k", "ri_1m"):
        simulate(name).to_csv(large_dir / f"{name}.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else LARGE)
