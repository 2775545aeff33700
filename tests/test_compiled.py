"""The compiled log density: equal to PyTensor's, data swapped without compiling, and the
disk cache that lets a later process skip compilation."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bayesml as bm
from bayesml.compiled import cache_dir, compile_numba
from bayesml.sampling import model_fingerprint

ROOT = Path(__file__).resolve().parents[1]
FORMULA = "Reaction ~ Days + (Days | Subject)"


def _pointer(a: np.ndarray):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))


def logp_and_grad(compiled, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Call the C log density the way nutpie does."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad, value = np.zeros_like(x), np.zeros(())
    code = compiled.compiled_logp_func.ctypes(
        x.size, _pointer(x), _pointer(grad), _pointer(value), compiled.user_data.ctypes.data
    )
    assert code == 0
    return float(value), grad


def expand(compiled, x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.zeros(compiled.n_expanded)
    code = compiled.compiled_expand_func.ctypes(
        x.size, out.size, _pointer(x), _pointer(out), compiled.user_data.ctypes.data
    )
    assert code == 0
    return out


def point(compiled, x: np.ndarray) -> dict[str, np.ndarray]:
    names, slices, shapes = compiled.shape_info
    return {
        name: x[s].reshape(shape)
        for name, s, shape in zip(names, slices, shapes, strict=True)
        if s.stop <= compiled.n_dim
    }


@pytest.fixture(scope="module")
def sleep_model():
    return bm.make_model(FORMULA, bm.datasets.load("sleepstudy")).model


@pytest.fixture(scope="module")
def compiled(sleep_model):
    """The sleepstudy model compiled without the disk cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BAYESML_CACHE_DIR", "")
        return compile_numba(sleep_model, model_fingerprint(sleep_model))


def test_log_density_gradient_and_draws_equal_pytensors_and_nutpies(sleep_model, compiled):
    import nutpie

    reference = nutpie.compile_pymc_model(sleep_model, backend="numba")
    logp = sleep_model.compile_logp()
    dlogp = sleep_model.compile_dlogp()
    rng = np.random.default_rng(5)
    for _ in range(3):
        x = rng.normal(scale=0.5, size=compiled.n_dim)
        value, grad = logp_and_grad(compiled, x)
        assert value == pytest.approx(float(logp(point(compiled, x))), rel=1e-12)
        np.testing.assert_allclose(grad, dlogp(point(compiled, x)), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(expand(compiled, x), expand(reference, x), rtol=1e-12)
    assert compiled.shape_info[0] == reference.shape_info[0]
    assert compiled.n_expanded == reference.n_expanded


def test_initial_points_are_pymcs_jittered_support_points_in_the_layouts_order(
    sleep_model, compiled
):
    from pymc.initial_point import make_initial_point_fn

    reference = make_initial_point_fn(
        model=sleep_model,
        default_strategy="support_point",
        jitter_rvs=set(sleep_model.free_RVs),
        return_transformed=True,
    )
    names, slices, _ = compiled.shape_info
    for seed in (1, 2, 12345):
        x = compiled.initial_point_func(seed)
        expected = reference(seed)
        assert x.shape == (compiled.n_dim,)
        for name, sl in zip(names, slices, strict=True):
            if sl.stop <= compiled.n_dim:
                np.testing.assert_array_equal(x[sl], np.ravel(expected[name]))
    # jittered: another seed, another point
    assert not np.array_equal(compiled.initial_point_func(1), compiled.initial_point_func(2))


def test_new_data_values_go_in_without_compiling(sleep_model, compiled):
    y = sleep_model["Y"].get_value()
    moved = compiled.with_data(Y=y + 10.0)
    x = np.random.default_rng(1).normal(scale=0.5, size=compiled.n_dim)
    original = sleep_model["Y"].get_value().copy()
    try:
        sleep_model["Y"].set_value(y + 10.0)
        expected = float(sleep_model.compile_logp()(point(compiled, x)))
    finally:
        sleep_model["Y"].set_value(original)
    assert logp_and_grad(moved, x)[0] == pytest.approx(expected, rel=1e-12)
    assert logp_and_grad(compiled, x)[0] != pytest.approx(expected, rel=1e-6)
    assert moved.compiled_logp_func is compiled.compiled_logp_func
    with pytest.raises(ValueError, match="Y must have rank 1"):
        compiled.with_data(Y=np.zeros((2, 2)))
    with pytest.raises(KeyError, match="Unknown data container: nope"):
        compiled.with_data(nope=np.zeros(3))


def test_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("BAYESML_CACHE_DIR", str(tmp_path))
    assert cache_dir() == tmp_path
    monkeypatch.setenv("BAYESML_CACHE_DIR", "")
    assert cache_dir() is None
    monkeypatch.delenv("BAYESML_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "bayesml" / "compiled"


SCRIPT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    import bayesml as bm
    from bayesml.compiled import compile_numba
    from bayesml.sampling import model_fingerprint
    model = bm.make_model(sys.argv[1], bm.datasets.load("sleepstudy")).model
    start = time.perf_counter()
    compiled = compile_numba(model, model_fingerprint(model))
    seconds = time.perf_counter() - start
    x = np.linspace(-0.5, 0.5, compiled.n_dim)
    grad, value = np.zeros_like(x), np.zeros(())
    import ctypes
    p = lambda a: a.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    compiled.compiled_logp_func.ctypes(x.size, p(x), p(grad), p(value),
                                       compiled.user_data.ctypes.data)
    draws = None
    if len(sys.argv) > 2:  # a short seeded run: its draws
        import nutpie
        data = {v.name: v.get_value() for v in model.data_vars}
        run = nutpie.sample(compiled.with_data(**data), chains=1, draws=150, tune=150,
                            seed=3, progress_bar=False)
        draws = [float(np.asarray(run.posterior[v]).sum()) for v in sorted(run.posterior.data_vars)]
    print(json.dumps({"hits": compiled.compiled_logp_func.cache_hits
                      + compiled.compiled_expand_func.cache_hits,
                      "seconds": seconds, "logp": float(value), "grad": grad.tolist(),
                      "draws": draws}))
    """
)


def _run(tmp_path: Path, formula: str, *extra: str) -> dict:
    env = dict(os.environ, BAYESML_CACHE_DIR=str(tmp_path / "cache"))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, formula, *extra], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_later_process_loads_the_compiled_model_from_disk(tmp_path):
    first = _run(tmp_path, FORMULA)
    second = _run(tmp_path, FORMULA)
    assert first["hits"] == 0
    assert second["hits"] == 2  # the log density and the draws both loaded
    assert second["logp"] == first["logp"]
    assert second["grad"] == first["grad"]
    entries = sorted(p.suffix for p in (tmp_path / "cache").glob("model_*"))
    assert entries == [".json", ".py"]


@pytest.mark.slow
def test_a_fresh_compile_and_a_cache_load_give_the_same_draws(tmp_path):
    # a monotonic effect's simplex: with fast-math, the freshly compiled and the cached
    # gradient differed in the last bit at some points, and a seeded fit's draws with them
    formula = "Reaction ~ mo(Days) + (1 | Subject)"
    first = _run(tmp_path, formula, "draws")
    second = _run(tmp_path, formula, "draws")
    assert (first["hits"], second["hits"]) == (0, 2)
    assert second["draws"] == first["draws"]


def test_a_damaged_cache_entry_is_compiled_afresh(tmp_path, sleep_model, monkeypatch):
    monkeypatch.setenv("BAYESML_CACHE_DIR", str(tmp_path))
    key = model_fingerprint(sleep_model)
    first = compile_numba(sleep_model, key)
    x = np.linspace(-0.5, 0.5, first.n_dim)
    (meta,) = tmp_path.glob("model_*.json")
    meta.write_text("{not json")
    again = compile_numba(sleep_model, key)
    assert logp_and_grad(again, x)[0] == logp_and_grad(first, x)[0]
    assert json.loads(meta.read_text())["n_dim"] == first.n_dim


def test_an_unwritable_cache_folder_compiles_in_memory(
    tmp_path, sleep_model, compiled, monkeypatch
):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("BAYESML_CACHE_DIR", str(blocked))
    again = compile_numba(sleep_model, model_fingerprint(sleep_model))
    x = np.linspace(-0.5, 0.5, compiled.n_dim)
    assert logp_and_grad(again, x)[0] == logp_and_grad(compiled, x)[0]
    assert blocked.read_text() == "not a folder"


def test_the_cache_key_follows_the_code_of_every_module(monkeypatch, tmp_path):
    """The fingerprint names operations and distributions, not the code of their log
    densities or kernels: an edit to any module of the package gives another cache key."""
    import shutil

    from bayesml import compiled

    key = compiled._versions()
    copy = tmp_path / "bayesml"
    shutil.copytree(Path(compiled.__file__).parent, copy, ignore=shutil.ignore_patterns("*.pyc"))
    monkeypatch.setattr(compiled, "__file__", str(copy / "compiled.py"))
    assert compiled._versions() == key  # the same code elsewhere: the same key
    for module in ("densities.py", "cholesky_terms.py", "transforms.py"):
        text = (copy / module).read_text()
        (copy / module).write_text(text + "\n# an edited log density\n")
        assert compiled._versions() != key, module
        (copy / module).write_text(text)
        assert compiled._versions() == key
