"""Datasets of the seed document: the bundled sleepstudy and a download-and-cache loader.

``load("sleepstudy")`` reads the copy shipped in ``bayesml/data``. The course datasets
(rats, alcohol, classroom, blp-short2, mathachieve, mathachieveschool) are looked up in the
data home (``$BAYESML_DATA``, else the user cache folder) and otherwise downloaded from their
public URL, checked against their sha256 sum and cached.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

import pandas as pd

__all__ = ["BUNDLED", "REMOTE", "data_home", "load"]

BUNDLED_DIR = Path(__file__).parent / "data"
BUNDLED = ("sleepstudy",)
URL = "https://raw.githubusercontent.com/mark-andrews/immr05/main/data/{name}.csv"
REMOTE: dict[str, str] = {
    "alcohol": "47546d91bb248bd344fde4d38ced6e4be6fb0ebb90439291f34bcd9e4b8a887e",
    "blp-short2": "1e16a2756551a7c7f3cdae6aff96ef55b3a4ee7b562fce5ce3cb923683668d9d",
    "classroom": "3d4f6574ba1ee04468f5bf24b1f2cdee8d20158ab479f06c1f47fa210f70c33c",
    "mathachieve": "e9d7cfdc6d0a302a8d769df4dc29a7dddb0b480668ca2300311a0bd66fe62e2f",
    "mathachieveschool": "a7d66c1580ef913676cd302d5c095f6ba90959ba00196b67b27d982bfdbe89af",
    "rats": "d70191d32ee73d3148965f9932300df8d22e197bea59f85b57b8176ac45c6d86",
}
# The seed document's models and the dataset each is fitted to (tests, benchmarks).
SEED_MODELS: dict[str, str] = {
    "rats": "rats",
    "sleep_full": "sleepstudy",
    "sleep_vi": "sleepstudy",
    "sleep_vs": "sleepstudy",
    "sleep_diag": "sleepstudy",
    "alcohol": "alcohol",
    "classroom_uncorr": "classroom",
    "classroom_nested": "classroom",
    "blp_crossed": "blp-short2",
    "mathach_glp": "mathachieve",
    "mathach_glp_int": "mathachieve",
    "sleep_glmm": "sleepstudy",
}
GAUSSIAN_SEED_MODELS = tuple(m for m in SEED_MODELS if m not in ("rats", "sleep_glmm"))
# Column types as the seed document uses them: grouping codes are categories, not numbers.
CATEGORICAL = {"sleepstudy": ["Subject"], "rats": ["batch"]}


def seed_model_data(model: str) -> pd.DataFrame:
    """The data of one seed model, prepared as the seed document does.

    ``sleep_glmm`` adds ``fast_rt = Reaction < median(Reaction)`` to sleepstudy.
    """
    df = load(SEED_MODELS[model])
    if model == "sleep_glmm":
        df = df.assign(fast_rt=df["Reaction"] < df["Reaction"].median())
        df.attrs["name"] = "sleepstudy"
    return df


def data_home() -> Path:
    """Where downloaded datasets live: ``$BAYESML_DATA`` or ``~/.cache/bayesml``."""
    env = os.environ.get("BAYESML_DATA")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "bayesml"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fetch(name: str) -> Path:
    home = data_home()
    path = home / f"{name}.csv"
    if path.exists():
        return path
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bayesml"
    cached = cache / f"{name}.csv"
    if cached.exists():
        return cached
    cache.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".part")
    try:
        urllib.request.urlretrieve(URL.format(name=name), tmp)  # noqa: S310 - fixed https URL
    except OSError as err:
        raise OSError(
            f"Dataset '{name}' is not in {home} and could not be downloaded ({err}). "
            "Set BAYESML_DATA to a folder holding the CSV files."
        ) from err
    got = _sha256(tmp)
    if got != REMOTE[name]:
        tmp.unlink(missing_ok=True)
        raise OSError(f"Downloaded '{name}' has sha256 {got}, expected {REMOTE[name]}.")
    tmp.replace(cached)
    return cached


def load(name: str) -> pd.DataFrame:
    """Load a dataset of the seed document by name.

    ``"mathachieve"`` returns the pupils joined with their schools (``mathachieveschool``),
    as the seed's school-level models need.

    Raises
    ------
    KeyError
        An unknown name (the known ones are listed).
    """
    if name in BUNDLED:
        df = pd.read_csv(BUNDLED_DIR / f"{name}.csv")
    elif name in REMOTE:
        path = _fetch(name)
        if _sha256(path) != REMOTE[name]:
            raise OSError(f"{path} does not match the published sha256 sum of '{name}'.")
        df = pd.read_csv(path)
        if name == "mathachieve":
            df = df.merge(load("mathachieveschool"), on="school", how="left")
    else:
        raise KeyError(f"Unknown dataset '{name}'; known: {', '.join((*BUNDLED, *REMOTE))}.")
    for col in CATEGORICAL.get(name, []):
        df[col] = df[col].astype(str)
    df.attrs["name"] = name
    return df
