"""The dataset registry (data/registry.toml) and the loader that reads it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from bayesml import datasets
from bayesml.datasets import SEED_MODELS, load, registry

from .conftest import SHARED, missing_shared

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = SHARED / "data"


@pytest.fixture(autouse=True)
def shared_data():
    if not SHARED_DATA.is_dir():
        missing_shared(str(SHARED_DATA))


def _shared_sums() -> dict[str, str]:
    sums = {}
    for line in (SHARED_DATA / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split()
        sums[name.removesuffix(".csv")] = digest
    return sums


def test_the_registry_names_every_seed_dataset_with_its_published_sum():
    reg = registry()
    assert set(SEED_MODELS.values()) <= set(reg)
    assert {k: v.sha256 for k, v in reg.items()} == _shared_sums()
    for entry in reg.values():
        assert entry.source and entry.licence and entry.url.startswith("https://")
        if not entry.bundled:
            assert entry.url.endswith(f"/{entry.name}.csv")
    assert [n for n, e in reg.items() if e.bundled] == ["sleepstudy"]
    # the package's data folder is the top-level data/ folder
    assert (ROOT / "bayesml" / "data").resolve() == (ROOT / "data").resolve()


@pytest.mark.parametrize("name", sorted(set(SEED_MODELS.values()) | {"mathachieveschool"}))
def test_every_dataset_loads_with_the_registry_column_types(name):
    entry = registry()[name]
    df = load(name)
    kinds = {"float": "float64", "integer": "int64"}
    for col, kind in entry.columns.items():
        if kind in kinds:
            assert str(df[col].dtype) == kinds[kind], col
        else:  # category codes and text are strings, as R's factors print them
            assert all(isinstance(v, str) for v in df[col]), col
    assert df.attrs["name"] == name
    raw = pd.read_csv(SHARED_DATA / f"{name}.csv")
    assert len(df) == len(raw)
    if entry.join:
        school = registry()[entry.join["dataset"]].columns
        assert list(df.columns) == [*entry.columns, *[c for c in school if c != "school"]]
    else:
        assert list(df.columns) == list(entry.columns)


def test_grouping_codes_that_look_like_numbers_are_categories():
    assert load("rats")["batch"].iloc[:3].tolist() == ["1", "2", "3"]
    assert load("sleepstudy")["Subject"].iloc[0] == "308"


def test_a_file_that_lacks_a_registered_column_is_named(tmp_path, monkeypatch):
    shutil.copy(SHARED_DATA / "rats.csv", tmp_path / "rats.csv")
    monkeypatch.setenv("BAYESML_DATA", str(tmp_path))
    entry = registry()["rats"]
    monkeypatch.setitem(
        registry(), "rats", datasets.Dataset(**{**entry.__dict__, "columns": {"dose": "float"}})
    )
    with pytest.raises(OSError, match="does not match the published sha256"):
        (tmp_path / "rats.csv").write_text("batch,m,n\n1,0,20\n")
        load("rats")
    shutil.copy(SHARED_DATA / "rats.csv", tmp_path / "rats.csv")
    with pytest.raises(ValueError, match=r"rats.csv lacks the column\(s\) dose of 'rats'"):
        load("rats")


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="Unknown dataset 'sleep'; known: sleepstudy, rats"):
        load("sleep")


def test_an_unknown_column_type_in_the_registry_is_refused(tmp_path, monkeypatch):
    (tmp_path / "registry.toml").write_text(
        '[x]\nurl = "https://e.org/x.csv"\nsha256 = ""\nsource = ""\nlicence = ""\n'
        'columns = { a = "date" }\n'
    )
    monkeypatch.setattr(datasets, "BUNDLED_DIR", tmp_path)
    datasets.registry.cache_clear()
    try:
        with pytest.raises(
            ValueError, match=r"dataset 'x' has unknown column types \{'a': 'date'\}"
        ):
            datasets.registry()
    finally:
        monkeypatch.undo()
        datasets.registry.cache_clear()


def test_the_built_wheel_carries_the_registry_and_sleepstudy(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, env=dict(os.environ, PIP_NO_INDEX="1"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = tmp_path.glob("bayesml-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {"bayesml/data/registry.toml", "bayesml/data/sleepstudy.csv"} <= set(names)
    data = zipfile.ZipFile(wheel).read("bayesml/data/sleepstudy.csv")
    assert data == (ROOT / "data" / "sleepstudy.csv").read_bytes()
