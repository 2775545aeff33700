"""Datasets of the seed document, described by the registry ``data/registry.toml``.

The registry gives each dataset's public URL, sha256 sum, source, licence and columns with
their types (which integer-looking columns are grouping codes). ``load("sleepstudy")`` reads
the copy bundled in the package's ``data`` folder; the course datasets (rats, alcohol,
classroom, blp-short2, mathachieve, mathachieveschool) are looked up in the data home
(``$BAYESML_DATA``, else the user cache folder) and otherwise downloaded from their URL,
checked against their sha256 sum and cached.
"""

from __future__ import annotations

import hashlib
import os
import tomllib
import urllib.request
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

__all__ = ["Dataset", "data_home", "load", "registry"]

BUNDLED_DIR = Path(__file__).parent / "data"
COLUMN_TYPES = ("float", "integer", "text", "category")


@dataclass(frozen=True)
class Dataset:
    """One registry entry: where the data come from and what their columns hold."""

    name: str
    url: str
    sha256: str
    source: str
    licence: str
    columns: dict[str, str]
    bundled: bool = False
    join: dict[str, str] = field(default_factory=dict)


@cache
def registry() -> dict[str, Dataset]:
    """The datasets ``load`` knows, by name (read from ``data/registry.toml``)."""
    with open(BUNDLED_DIR / "registry.toml", "rb") as f:
        entries = tomllib.load(f)
    out = {}
    for name, entry in entries.items():
        bad = {c: t for c, t in entry["columns"].items() if t not in COLUMN_TYPES}
        if bad:
            raise ValueError(f"registry: dataset '{name}' has unknown column types {bad}.")
        out[name] = Dataset(name=name, **entry)
    return out


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


def _fetch(entry: Dataset) -> Path:
    home = data_home()
    path = home / f"{entry.name}.csv"
    if path.exists():
        return path
    cache_folder = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bayesml"
    cached = cache_folder / f"{entry.name}.csv"
    if cached.exists():
        return cached
    cache_folder.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".part")
    try:
        urllib.request.urlretrieve(entry.url, tmp)  # noqa: S310 - https URL from the registry
    except OSError as err:
        raise OSError(
            f"Dataset '{entry.name}' is not in {home} and could not be downloaded ({err}). "
            "Set BAYESML_DATA to a folder holding the CSV files."
        ) from err
    got = _sha256(tmp)
    if got != entry.sha256:
        tmp.unlink(missing_ok=True)
        raise OSError(f"Downloaded '{entry.name}' has sha256 {got}, expected {entry.sha256}.")
    tmp.replace(cached)
    return cached


def _typed(df: pd.DataFrame, entry: Dataset, path: Path) -> pd.DataFrame:
    """The columns with the registry's types; a column the registry names but the file lacks
    (or one that will not convert) is an error naming the file."""
    missing = [c for c in entry.columns if c not in df.columns]
    if missing:
        raise ValueError(f"{path} lacks the column(s) {', '.join(missing)} of '{entry.name}'.")
    for col, kind in entry.columns.items():
        try:
            if kind == "category":
                df[col] = df[col].astype(str)
            elif kind == "integer":
                df[col] = df[col].astype("int64")
            elif kind == "float":
                df[col] = df[col].astype("float64")
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"{path}: column '{col}' of '{entry.name}' is not {kind} ({err})."
            ) from err
    return df


def load(name: str) -> pd.DataFrame:
    """Load a dataset of the registry by name.

    ``"mathachieve"`` returns the pupils joined with their schools (``mathachieveschool``),
    as the seed's school-level models need.

    Raises
    ------
    KeyError
        An unknown name (the known ones are listed).
    OSError
        A file whose sha256 sum is not the registry's, or a download that failed.
    """
    known = registry()
    if name not in known:
        raise KeyError(f"Unknown dataset '{name}'; known: {', '.join(known)}.")
    entry = known[name]
    path = BUNDLED_DIR / f"{name}.csv" if entry.bundled else _fetch(entry)
    if _sha256(path) != entry.sha256:
        raise OSError(f"{path} does not match the published sha256 sum of '{name}'.")
    df = _typed(pd.read_csv(path), entry, path)
    if entry.join:
        df = df.merge(load(entry.join["dataset"]), on=entry.join["on"], how="left")
    df.attrs["name"] = name
    return df
