"""The test suite itself: in CI a missing ../shared fails the brms comparisons."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEST = "tests/test_reference.py::test_posterior_matches_brms[alcohol]"


def _run(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "BAYESML_DATA")}
    env["BAYESML_SHARED"] = str(tmp_path / "no-shared")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")  # no cached copy of the datasets either
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_missing_shared_fails_in_ci_and_skips_elsewhere(tmp_path):
    in_ci = _run(tmp_path, "true")
    assert in_ci.returncode == 1, in_ci.stdout
    assert "1 failed" in in_ci.stdout
    assert "is missing; CI must run every comparison with brms" in in_ci.stdout
    local = _run(tmp_path, None)
    assert local.returncode == 0, local.stdout
    assert "1 skipped" in local.stdout
