"""The documentation site builds with warnings as errors and holds every page."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_docs_build_strictly_with_every_page(tmp_path):
    pytest.importorskip("mkdocs")
    out = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert "WARNING" not in out.stderr
    site = tmp_path / "site"
    for page in ("brms-users", "api", "bad-inputs", "sbc", "notebooks/01_rats",
                 "notebooks/08_priors", "notebooks/tour"):  # fmt: skip
        assert (site / page / "index.html").is_file(), page
    api = (site / "api" / "index.html").read_text()
    # the API page is made from the docstrings
    assert "Fit a Bayesian (multilevel) regression model with brms" in api
    assert "avg_slopes" in api and "datagrid" in api
    users = (site / "brms-users" / "index.html").read_text()
    assert "get_prior" in users and "class_" in users
