"""Simulated data for smooth terms and Gaussian processes (``s()``, ``t2()``, ``gp()``). The data
seed is fixed here, before any fit.

``python -m tests.simulate_smooth`` writes tests/data/smooth/<name>.csv, which the brms and mgcv
reference script (tools/brms_smooth_reference.R) and the tests read.

* ``curve``: a motorcycle-crash-like curve (flat, a dip, a peak, damping) with noise growing
  with x, 133 rows as in MASS::mcycle;
* ``byfactor``: three groups with curves of their own (``s(x, by = g) + g``);
* ``surface``: a smooth surface over (x, z) for ``s(x, z)`` and ``t2(x, z)``;
* ``gp``: a smooth function for ``gp(x)``, 80 rows (the exact GP is O(n^3));
* ``counts``: Poisson counts along a smooth curve with a varying intercept over 10 groups.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20261130
HERE = Path(__file__).parent / "data" / "smooth"


def curve(rng) -> pd.DataFrame:
    x = np.sort(np.round(rng.uniform(2, 58, 133), 1))
    mean = np.where(x < 14, 0, -110 * np.sin((x - 14) / 8.5) * np.exp(-(x - 14) / 14))
    sd = 2 + 0.6 * np.clip(x - 14, 0, None)
    return pd.DataFrame({"x": x, "y": np.round(mean + rng.normal(0, sd), 2)})


def byfactor(rng) -> pd.DataFrame:
    n = 150
    g = np.repeat(["a", "b", "c"], n // 3)
    x = np.round(rng.uniform(0, 1, n), 4)
    shape = {"a": np.sin(2 * np.pi * x), "b": 1.5 * x**2, "c": -np.cos(3 * x)}
    mean = np.select([g == "a", g == "b", g == "c"], [shape["a"], shape["b"], shape["c"]])
    mean = mean + np.select([g == "a", g == "b", g == "c"], [0.0, 0.5, -0.3])
    return pd.DataFrame({"g": g, "x": x, "y": np.round(mean + rng.normal(0, 0.3, n), 4)})


def surface(rng) -> pd.DataFrame:
    n = 200
    x, z = np.round(rng.uniform(0, 1, n), 4), np.round(rng.uniform(0, 1, n), 4)
    mean = np.sin(3 * x) * np.cos(2 * z) + 0.5 * x * z
    return pd.DataFrame({"x": x, "z": z, "y": np.round(mean + rng.normal(0, 0.2, n), 4)})


def gp(rng) -> pd.DataFrame:
    n = 80
    x = np.sort(np.round(rng.uniform(-3, 3, n), 3))
    mean = np.sin(1.5 * x) + 0.3 * x
    return pd.DataFrame({"x": x, "y": np.round(mean + rng.normal(0, 0.3, n), 4)})


def counts(rng) -> pd.DataFrame:
    n_groups, per = 10, 20
    g = np.repeat(np.arange(1, n_groups + 1), per).astype(str)
    x = np.round(rng.uniform(0, 10, g.size), 3)
    effect = rng.normal(0, 0.3, n_groups)[g.astype(int) - 1]
    mu = np.exp(1.0 + 0.8 * np.sin(x / 1.6) + effect)
    return pd.DataFrame({"g": g, "x": x, "y": rng.poisson(mu)})


DATA = {f.__name__: f for f in (curve, byfactor, surface, gp, counts)}


def simulate(name: str) -> pd.DataFrame:
    return DATA[name](np.random.default_rng([SEED, list(DATA).index(name)]))


def load(name: str) -> pd.DataFrame:
    df = pd.read_csv(HERE / f"{name}.csv")
    if "g" in df:
        df["g"] = df["g"].astype(str)
    return df


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    out.mkdir(parents=True, exist_ok=True)
    for name in DATA:
        simulate(name).to_csv(out / f"{name}.csv", index=False)
