"""The built package: a wheel (what ``pip install bayesml`` installs) holds every module and
data file of the source tree, subpackages included."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_wheel_holds_every_module_and_data_file(tmp_path):
    source = tmp_path / "source"  # a copy, so that the build writes nothing into the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "bayesml", source / "bayesml",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
         "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("bayesml-*.whl")
    packed = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        (Path(folder) / name).relative_to(ROOT).as_posix()
        # bayesml/data is a link to the project's data folder
        for folder, _, names in os.walk(ROOT / "bayesml", followlinks=True)
        for name in names
        if "__pycache__" not in folder and name.endswith((".py", ".csv", ".toml"))
    }
    assert "bayesml/terms/population.py" in expected and "bayesml/data/sleepstudy.csv" in expected
    assert expected - packed == set()
