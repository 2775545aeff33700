"""The package's import structure: data flows one way (no cycles), no private names across
modules. The same check as ``python tools/check_imports.py``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import check_imports  # noqa: E402


def test_no_import_cycle_and_no_private_name_across_modules():
    graph, private = check_imports.import_graph()
    assert check_imports.cycles(graph) == []
    assert private == []
    # the graph is real: the predictor layer's modules and their imports are in it
    assert {"terms.population", "terms.group", "terms.monotonic", "parameters"} <= set(graph)
    assert "terms.monotonic" in graph["terms"] and "parameters" in graph["model_priors"]


def test_the_checker_finds_a_cycle_and_a_private_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}
    assert check_imports.cycles(graph) == [["a", "b", "c", "a"]]


def test_the_command_reports_a_clean_package():
    out = subprocess.run(
        [sys.executable, "tools/check_imports.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stdout
    assert out.stdout.rstrip().endswith("no cycle, no private name across modules")
