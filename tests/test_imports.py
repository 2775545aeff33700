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


def _gc_state_after_import(env_freeze: str | None, disabled_before: bool) -> tuple[int, bool]:
    """Objects the import froze, and whether the collector runs afterwards."""
    code = (
        "import gc\n"
        + ("gc.disable()\n" if disabled_before else "")
        + "before = gc.get_freeze_count()\n"
        "import bayesml\n"
        "print(gc.get_freeze_count() - before, gc.isenabled())\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "BAYESML_GC_FREEZE"}
    if env_freeze is not None:
        env["BAYESML_GC_FREEZE"] = env_freeze
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    count, enabled = out.stdout.split()
    return int(count), enabled == "True"


def test_import_freezes_the_libraries_objects_and_restores_the_collector():
    count, enabled = _gc_state_after_import(None, disabled_before=False)
    # PyMC, PyTensor, Numba, pandas and ArviZ leave far more than 100,000 objects
    assert count > 100_000 and enabled
    # a collector the user had turned off stays off
    assert _gc_state_after_import(None, disabled_before=True)[1] is False


def test_the_freeze_can_be_turned_off():
    assert _gc_state_after_import("0", disabled_before=False) == (0, True)


def test_the_quick_stack_names_the_same_frames_as_inspect_and_is_undone_after_import():
    import inspect

    import bayesml

    # the import put the real inspect.stack back
    assert inspect.stack is bayesml._INSPECT_STACK

    def where() -> tuple[list, list]:
        return bayesml._stack_without_source(), inspect.stack()

    quick, real = where()
    assert len(quick) == len(real) > 2
    for q, r in zip(quick, real, strict=True):
        assert (q.frame, q.filename, q.lineno, q.function) == (
            r.frame,
            r.filename,
            r.lineno,
            r.function,
        )
        assert q.code_context is None
    # element 1 is the caller's line, as lazy_loader uses it
    assert quick[0].function == "where"
    assert quick[1].frame is inspect.currentframe()
