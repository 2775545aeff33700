"""Simulated data for distributional regression and monotonic effects, one set per model.

The data seed is fixed here, before any fit. ``python -m tests.simulate_dpar`` writes the CSV
files under tests/data/dpar/ that both the brms reference script
(tools/brms_dpar_reference.R) and the tests read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special

SEED = 20261128
N_GROUPS, PER_GROUP = 30, 10
HERE = Path(__file__).parent / "data" / "dpar"

# model name -> (data set, formula as brms writes it, family)
MODELS: dict[str, tuple[str, str, str]] = {
    "gaussian_sigma": ("gaussian", "bf(y ~ x, sigma ~ x)", "gaussian"),
    "gaussian_sigma_g": ("gaussian_g", "bf(y ~ x + (1 | g), sigma ~ x + (1 | g))", "gaussian"),
    "gaussian_id": ("gaussian_g", "bf(y ~ x + (1 |p| g), sigma ~ x + (1 |p| g))", "gaussian"),
    "student_sigma_nu": ("student", "bf(y ~ x, sigma ~ x, nu ~ 1)", "student"),
    "negbinomial_shape": ("negbinomial", "bf(y ~ x, shape ~ x)", "negbinomial"),
    "beta_phi": ("beta", "bf(y ~ x, phi ~ x)", "Beta"),
    "lognormal_sigma": ("lognormal", "bf(y ~ x, sigma ~ x)", "lognormal"),
    "cumulative_disc": ("cumulative", "bf(y ~ x, disc ~ 0 + x)", "cumulative"),
    "mo": ("mo", "y ~ mo(m)", "gaussian"),
    "mo_z": ("mo", "y ~ z + mo(m):z", "gaussian"),
    "mo_g": ("mo_g", "y ~ mo(m) + (mo(m) | g)", "gaussian"),
}


def _base(rng: np.random.Generator) -> pd.DataFrame:
    g = np.repeat(np.arange(1, N_GROUPS + 1), PER_GROUP)
    return pd.DataFrame({"g": g.astype(str), "x": np.round(rng.normal(size=g.size), 3)})


def _group_effects(rng, sds, cor=0.0) -> np.ndarray:
    cov = np.array([[sds[0] ** 2, cor * sds[0] * sds[1]], [cor * sds[0] * sds[1], sds[1] ** 2]])
    return rng.multivariate_normal(np.zeros(2), cov, size=N_GROUPS)


def simulate(name: str) -> pd.DataFrame:
    """One data set (see MODELS for which model uses which)."""
    rng = np.random.default_rng([SEED, list(_DATA).index(name)])
    df = _base(rng)
    _DATA[name](df, rng)
    return df


def _gaussian(df, rng):
    sigma = np.exp(-0.2 + 0.5 * df.x)
    df["y"] = np.round(1 + 0.5 * df.x + rng.normal(0, sigma), 4)


def _gaussian_g(df, rng):
    u = _group_effects(rng, (0.7, 0.3), cor=0.6)[df.g.astype(int) - 1]
    sigma = np.exp(-0.2 + 0.4 * df.x + u[:, 1])
    df["y"] = np.round(1 + 0.5 * df.x + u[:, 0] + rng.normal(0, sigma), 4)


def _student(df, rng):
    sigma = np.exp(-0.2 + 0.4 * df.x)
    df["y"] = np.round(1 + 0.5 * df.x + sigma * rng.standard_t(5, len(df)), 4)


def _negbinomial(df, rng):
    mu, shape = np.exp(1 + 0.4 * df.x), np.exp(0.5 + 0.5 * df.x)
    df["y"] = rng.negative_binomial(shape, shape / (shape + mu))


def _beta(df, rng):
    mu, phi = special.expit(0.3 + 0.6 * df.x), np.exp(2 + 0.5 * df.x)
    df["y"] = np.clip(np.round(rng.beta(mu * phi, (1 - mu) * phi), 5), 1e-5, 1 - 1e-5)


def _lognormal(df, rng):
    df["y"] = np.round(np.exp(rng.normal(1 + 0.3 * df.x, np.exp(-0.7 + 0.3 * df.x))), 4)


def _cumulative(df, rng):
    # brms: P(y <= k) = logistic(disc * (thres_k - eta)), disc = exp(0.5 x)
    disc = np.exp(0.5 * df.x)
    latent = 1.0 * df.x + rng.logistic(size=len(df)) / disc
    df["y"] = 1 + np.digitize(latent, [-1.0, 0.5, 2.0])


def _monotonic(m: np.ndarray, simplex) -> np.ndarray:
    """brms's mo(): D * sum of the first m simplex entries (D = number of steps)."""
    cum = np.concatenate([[0.0], np.cumsum(simplex)])
    return len(simplex) * cum[m]


def _mo(df, rng):
    df["m"] = rng.integers(0, 4, len(df))
    df["z"] = np.round(rng.normal(size=len(df)), 3)
    mo = _monotonic(df.m.to_numpy(), [0.5, 0.3, 0.2])
    y = 1 + 0.4 * mo + 0.4 * df.z + 0.3 * mo * df.z + rng.normal(0, 1, len(df))
    df["y"] = np.round(y, 4)


def _mo_g(df, rng):
    df["m"] = rng.integers(0, 4, len(df))
    slope = 0.4 + rng.normal(0, 0.2, N_GROUPS)[df.g.astype(int) - 1]
    icpt = rng.normal(0, 0.6, N_GROUPS)[df.g.astype(int) - 1]
    mo = _monotonic(df.m.to_numpy(), [0.5, 0.3, 0.2])
    df["y"] = np.round(1 + icpt + slope * mo + rng.normal(0, 1, len(df)), 4)


_DATA = {
    "gaussian": _gaussian,
    "gaussian_g": _gaussian_g,
    "student": _student,
    "negbinomial": _negbinomial,
    "beta": _beta,
    "lognormal": _lognormal,
    "cumulative": _cumulative,
    "mo": _mo,
    "mo_g": _mo_g,
}


def load(name: str) -> pd.DataFrame:
    """The data set of a model in MODELS, as the tests read it."""
    df = pd.read_csv(HERE / f"{MODELS[name][0]}.csv")
    df["g"] = df["g"].astype(str)
    return df


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    out.mkdir(parents=True, exist_ok=True)
    for data_name in _DATA:
        simulate(data_name).to_csv(out / f"{data_name}.csv", index=False)
