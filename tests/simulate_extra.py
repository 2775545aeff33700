"""Simulated data for the families and response terms beyond the first ten (zero-inflated,
hurdle, categorical and sequential ordinal, survival and other continuous families; cens(),
trunc(), rate()). The data seed is fixed here, before any fit.

``python -m tests.simulate_extra`` writes tests/data/extra/<name>.csv, which both the brms
reference script (tools/brms_extra_reference.R) and the tests read.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import special, stats

SEED = 20261129
N_GROUPS, PER_GROUP = 20, 10
HERE = Path(__file__).parent / "data" / "extra"


def _base(rng) -> pd.DataFrame:
    g = np.repeat(np.arange(1, N_GROUPS + 1), PER_GROUP)
    return pd.DataFrame({"g": g.astype(str), "x": np.round(rng.normal(size=g.size), 3)})


def _effects(rng, df, sd) -> np.ndarray:
    return rng.normal(0, sd, N_GROUPS)[df.g.astype(int) - 1]


def zip_(df, rng):
    mu = np.exp(0.8 + 0.5 * df.x + _effects(rng, df, 0.4))
    zi = special.expit(-0.5 + 0.8 * df.x)
    df["y"] = np.where(rng.random(len(df)) < zi, 0, rng.poisson(mu))


def zinb(df, rng):
    mu, shape = np.exp(1.0 + 0.4 * df.x), 3.0
    y = rng.negative_binomial(shape, shape / (shape + mu))
    df["y"] = np.where(rng.random(len(df)) < 0.3, 0, y)


def zib(df, rng):
    p = special.expit(0.2 + 0.7 * df.x)
    df["n"] = 10
    df["y"] = np.where(rng.random(len(df)) < 0.25, 0, rng.binomial(10, p))


def _beta(rng, mu, phi):
    return np.clip(rng.beta(mu * phi, (1 - mu) * phi), 1e-4, 1 - 1e-4).round(5)


def zibeta(df, rng):
    y = _beta(rng, special.expit(0.3 + 0.6 * df.x), 8.0)
    df["y"] = np.where(rng.random(len(df)) < 0.2, 0.0, y)


def zoib(df, rng):
    y = _beta(rng, special.expit(0.3 + 0.6 * df.x), 8.0)
    ones = rng.random(len(df)) < 0.4
    df["y"] = np.where(rng.random(len(df)) < 0.2, ones.astype(float), y)


def hurdle_counts(df, rng):
    mu = np.exp(1.0 + 0.4 * df.x)
    y = rng.poisson(mu)
    while (bad := (y == 0)).any():  # zero-truncated counts for the non-zero part
        y[bad] = rng.poisson(mu[bad])
    df["y"] = np.where(rng.random(len(df)) < 0.3, 0, y)


def hurdle_nb(df, rng):
    mu, shape = np.exp(1.2 + 0.4 * df.x), 2.0
    p = shape / (shape + mu)
    y = rng.negative_binomial(shape, p)
    while (bad := (y == 0)).any():
        y[bad] = rng.negative_binomial(shape, p[bad])
    df["y"] = np.where(rng.random(len(df)) < special.expit(-0.8 + 0.5 * df.x), 0, y)


def hurdle_positive(df, rng):
    y = rng.gamma(4.0, np.exp(0.5 + 0.3 * df.x) / 4.0).round(4)
    df["y"] = np.where(rng.random(len(df)) < 0.25, 0.0, y)


def categorical(df, rng):
    eta = np.column_stack(
        [np.zeros(len(df)), 0.5 + 1.0 * df.x, -0.5 + 0.5 * df.x + _effects(rng, df, 0.5)]
    )
    p = special.softmax(eta, axis=1)
    df["y"] = 1 + (rng.random(len(df))[:, None] > np.cumsum(p, axis=1)).sum(axis=1)


def ordinal(df, rng):
    latent = 0.8 * df.x + rng.logistic(size=len(df))
    df["y"] = 1 + np.digitize(latent, [-1.0, 0.3, 1.5])


def survival(df, rng):
    shape = 2.0
    mu = np.exp(1.0 + 0.3 * df.x)
    t = rng.weibull(shape, len(df)) * mu / special.gamma(1 + 1 / shape)
    c = rng.uniform(1.0, 5.0, len(df))
    df["y"] = np.minimum(t, c).round(4)
    df["censored"] = (t > c).astype(int)  # brms: 1 = right censored


def positive(df, rng):
    df["y"] = rng.gamma(3.0, np.exp(0.5 + 0.3 * df.x) / 3.0).round(4)


def real(df, rng):
    df["y"] = (
        1 + 0.5 * df.x + stats.skewnorm.rvs(3, scale=1.0, size=len(df), random_state=rng)
    ).round(4)


def shifted(df, rng):
    df["y"] = (0.3 + np.exp(rng.normal(-0.5 + 0.3 * df.x, 0.5))).round(4)


def angles(df, rng):
    df["y"] = (2 * np.arctan(0.5 * df.x) + rng.vonmises(0, 4, len(df))).clip(-3.14, 3.14).round(4)


def counts(df, rng):
    df["y"] = rng.geometric(1 / (1 + np.exp(1.0 + 0.3 * df.x))) - 1


def truncated(df, rng):
    y = 0.5 + 0.8 * df.x + rng.normal(0, 1, len(df))
    while (bad := (y <= 0)).any():
        y[bad] = 0.5 + 0.8 * df.x[bad] + rng.normal(0, 1, int(bad.sum()))
    df["y"] = np.round(y, 4)


def interval(df, rng):
    y = 1 + 0.5 * df.x + rng.normal(0, 1, len(df))
    kind = rng.choice(["none", "left", "right", "interval"], size=len(df), p=[0.6, 0.1, 0.1, 0.2])
    lo = np.floor(y)
    df["y"] = np.where(kind == "interval", lo, np.where(kind == "left", np.ceil(y), np.floor(y)))
    df["y"] = np.where(kind == "none", np.round(y, 4), df["y"])
    df["y2"] = np.where(kind == "interval", lo + 1, 0.0)
    df["cens"] = kind


def exposure(df, rng):
    df["expo"] = rng.integers(1, 10, len(df))
    df["y"] = rng.poisson(df.expo * np.exp(-0.5 + 0.4 * df.x))


def betabinomial(df, rng):
    p = rng.beta(special.expit(0.3 + 0.5 * df.x) * 5, (1 - special.expit(0.3 + 0.5 * df.x)) * 5)
    df["n"] = 10
    df["y"] = rng.binomial(10, p)


DATA = {
    f.__name__.rstrip("_"): f
    for f in (
        zip_, zinb, zib, zibeta, zoib, hurdle_counts, hurdle_nb, hurdle_positive, categorical,
        ordinal, survival, positive, real, shifted, angles, counts, truncated, interval,
        exposure, betabinomial,
    )
}  # fmt: skip


def simulate(name: str) -> pd.DataFrame:
    rng = np.random.default_rng([SEED, list(DATA).index(name)])
    df = _base(rng)
    DATA[name](df, rng)
    return df


def load(name: str) -> pd.DataFrame:
    df = pd.read_csv(HERE / f"{name}.csv")
    df["g"] = df["g"].astype(str)
    return df


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    out.mkdir(parents=True, exist_ok=True)
    for name in DATA:
        simulate(name).to_csv(out / f"{name}.csv", index=False)
