"""mgcv's smooth bases as brms 2.18 uses them (``bayesml.smooth_bases``), against brms itself.

Reference: tools/brms_smooth_reference.R wrote, for ten smooth specs, brms's ``make_standata`` on
the data (tests/data/smooth/<name>.csv) and ``standata`` of an empty fit on a 7-point grid of new
data (tests/reference/brms_smooth.json, "bases"): the unpenalised columns ``Xs`` and every
penalised block ``Zs_<i>_<j>`` with its size ``knots_<i>``.

* every penalised block: brms's size and ``Z Zᵀ`` to 1e-8 of its largest element (the
  likelihood and the ``sds`` posterior depend on nothing else);
* the unpenalised columns: brms's number and span, on the data and on the grid through the
  same linear map; equal to brms's columns where mgcv's result does not depend on how LAPACK
  orients a null space (``EXACT``), up to sign for ``t2`` (see the module docstring);
* bad input is refused with a message naming the term and the column.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bayesml.smooth_bases import SmoothBasis, SmoothSpec, smooth_bases

from .simulate_smooth import load

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference/brms_smooth.json").read_text())["bases"]

SPECS = {
    "tp": SmoothSpec("s", ("x",)),
    "tp_k5": SmoothSpec("s", ("x",), k=5),
    "cr": SmoothSpec("s", ("x",), bs="cr"),
    "cs": SmoothSpec("s", ("x",), bs="cs"),
    "cc": SmoothSpec("s", ("x",), bs="cc"),
    "ps": SmoothSpec("s", ("x",), bs="ps"),
    "by_factor": SmoothSpec("s", ("x",), by="g"),
    "by_numeric": SmoothSpec("s", ("x",), by="z"),
    "tp_2d": SmoothSpec("s", ("x", "z")),
    "t2": SmoothSpec("t2", ("x", "z")),
}
# unpenalised columns equal to brms's; t2's only up to sign; tp_2d's only in span
EXACT = ("tp", "tp_k5", "cr", "ps", "by_factor", "by_numeric")
WHERE = ("data", "grid")
LEVELS = ["a", "b", "c"]


def _columns(df: pd.DataFrame) -> dict:
    out = {c: df[c].to_numpy(dtype=float) for c in df if c != "g"}
    if "g" in df:
        out["g"] = pd.Categorical(df["g"].astype(str), categories=LEVELS)
    return out


@cache
def _data(name: str, where: str) -> dict:
    ref = REF[name]
    df = load(ref["data"]) if where == "data" else pd.DataFrame(ref["grid"])
    return _columns(df)


@cache
def _bases(name: str) -> list[SmoothBasis]:
    return smooth_bases(SPECS[name], _data(name, "data"))


def _brms(name: str, where: str) -> dict:
    return REF[name]["standata" if where == "data" else "newdata"]


def _rows(values, n: int) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return a.reshape(n, -1) if a.size else np.zeros((n, 0))


def _fixed(name: str, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Ours and brms's unpenalised columns (brms's concatenated over the smooths)."""
    data = _data(name, where)
    ours = np.hstack([b.fixed(data) for b in _bases(name)])
    n = len(next(iter(data.values())))
    return ours, _rows(_brms(name, where)["Xs"], n)


def _scale(a: np.ndarray) -> float:
    return float(np.abs(a).max()) if a.size else 0.0


# -- penalised blocks ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("name", sorted(SPECS))
def test_penalised_blocks_have_brms_sizes_and_gram_matrices(name, where):
    data, brms = _data(name, where), _brms(name, where)
    n = len(next(iter(data.values())))
    bases = _bases(name)
    assert len(bases) == sum(k.startswith("knots_") for k in brms)
    for i, basis in enumerate(bases, 1):
        blocks = basis.random(data)
        assert basis.block_sizes == tuple(np.ravel(brms[f"knots_{i}"]).astype(int))
        assert [Z.shape for Z in blocks] == [(n, s) for s in basis.block_sizes]
        for j, Z in enumerate(blocks, 1):
            R = _rows(brms[f"Zs_{i}_{j}"], n)
            ref = R @ R.T
            np.testing.assert_allclose(Z @ Z.T, ref, rtol=0, atol=1e-8 * _scale(ref))


# -- unpenalised columns ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SPECS))
def test_unpenalised_columns_span_brms_space_on_data_and_grid(name):
    """One linear map takes our columns to brms's on the data and on the grid alike."""
    ours, brms = _fixed(name, "data")
    assert ours.shape == brms.shape
    assert sum(b.n_fixed for b in _bases(name)) == brms.shape[1]
    if not brms.shape[1]:
        return
    M = np.linalg.lstsq(ours, brms, rcond=None)[0]
    np.testing.assert_allclose(ours @ M, brms, rtol=0, atol=1e-8 * _scale(brms))
    assert np.linalg.matrix_rank(M) == brms.shape[1]
    ours_new, brms_new = _fixed(name, "grid")
    np.testing.assert_allclose(ours_new @ M, brms_new, rtol=0, atol=1e-8 * _scale(brms_new))


@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("name", EXACT)
def test_unpenalised_columns_equal_brms(name, where):
    ours, brms = _fixed(name, where)
    np.testing.assert_allclose(ours, brms, rtol=0, atol=1e-10 * _scale(brms))


@pytest.mark.parametrize("where", WHERE)
def test_t2_unpenalised_columns_equal_brms_up_to_sign(where):
    """The signs, taken from the data, hold on the grid too."""
    signs = np.sign(np.sum(np.prod(_fixed("t2", "data"), axis=0), axis=0))
    ours, brms = _fixed("t2", where)
    assert ours.shape[1] == 3 and np.all(signs != 0)
    np.testing.assert_allclose(ours * signs, brms, rtol=0, atol=1e-10 * _scale(brms))


def test_labels_and_levels_are_mgcv_s():
    assert [b.label for b in _bases("tp")] == ["s(x)"]
    assert [(b.label, b.by_level) for b in _bases("by_factor")] == [
        ("s(x):ga", "a"),
        ("s(x):gb", "b"),
        ("s(x):gc", "c"),
    ]
    assert [(b.label, b.by_level) for b in _bases("by_numeric")] == [("s(x):z", None)]
    assert [b.label for b in _bases("tp_2d")] == ["s(x,z)"]
    assert [(b.label, b.n_fixed, b.block_sizes) for b in _bases("t2")] == [
        ("t2(x,z)", 3, (9, 6, 6))
    ]


def test_new_data_rows_are_evaluated_one_by_one():
    """Predictions at a subset of the rows are those rows of the full evaluation."""
    data = _data("by_factor", "data")
    rows = np.array([3, 77, 120, 5])
    sub = {k: v[rows] for k, v in data.items()}
    for b in _bases("by_factor"):
        np.testing.assert_allclose(b.fixed(sub), b.fixed(data)[rows], rtol=0, atol=1e-13)
        for Z, Zall in zip(b.random(sub), b.random(data), strict=True):
            np.testing.assert_allclose(Z, Zall[rows], rtol=0, atol=1e-12)


@pytest.mark.parametrize("bs", ["tp", "cr", "cs", "cc", "ps"])
def test_new_data_beyond_the_range_is_finite(bs):
    data = _data("cr", "data")
    b = smooth_bases(SmoothSpec("s", ("x",), bs=bs), data)[0]
    new = {"x": np.array([-10.0, 0.0, 30.0, 70.0, 100.0])}
    assert np.isfinite(b.fixed(new)).all() and np.isfinite(b.random(new)[0]).all()


# -- bad input ----------------------------------------------------------------------------------


def _few_values() -> dict:
    return {"x": np.repeat([1.0, 2.0, 3.0, 4.0, 5.0], 4)}


@pytest.mark.parametrize("bs", ["tp", "cr", "cs", "cc", "ps"])
def test_k_larger_than_unique_values_names_term_and_column(bs):
    with pytest.raises(ValueError, match=r"^s\(x\): covariate 'x' has 5 unique values.*k = 10"):
        smooth_bases(SmoothSpec("s", ("x",), bs=bs), _few_values())


def test_t2_margin_with_too_few_values_is_named():
    data = {"x": np.repeat([1.0, 2.0, 3.0], 4), "z": np.linspace(0, 1, 12)}
    with pytest.raises(ValueError, match=r"^t2\(x,z\): covariate 'x' has 3 unique values.*k = 5"):
        smooth_bases(SmoothSpec("t2", ("x", "z")), data)


def test_unknown_basis_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^s\(x\): unknown basis bs = 'gp'; supported: tp, cr"):
        smooth_bases(SmoothSpec("s", ("x",), bs="gp"), _data("cr", "data"))


def test_non_numeric_covariate_is_refused_by_name():
    data = {"x": np.array(["a", "b", "c"] * 10, dtype=object)}
    with pytest.raises(ValueError, match=r"^s\(x\): covariate 'x' must be numeric"):
        smooth_bases(SmoothSpec("s", ("x",)), data)
    with pytest.raises(ValueError, match=r"^s\(x\): covariate 'x' must be numeric, not a factor"):
        smooth_bases(SmoothSpec("s", ("x",)), {"x": pd.Categorical(["a", "b"] * 10)})


def test_missing_covariate_values_are_refused_by_name():
    data = dict(_data("cr", "data"))
    data["x"] = data["x"].copy()
    data["x"][4] = np.nan
    with pytest.raises(ValueError, match=r"^s\(x\): covariate 'x' has missing values \(NaN\)"):
        smooth_bases(SmoothSpec("s", ("x",)), data)


def test_by_level_without_rows_is_refused_by_name():
    data = dict(_data("by_factor", "data"))
    data["g"] = pd.Categorical(data["g"].astype(str), categories=["a", "b", "c", "d"])
    with pytest.raises(ValueError, match=r"^s\(x\): level 'd' of by-variable g has no rows"):
        smooth_bases(SmoothSpec("s", ("x",), by="g"), data)


def test_new_by_value_outside_the_levels_is_refused_by_name():
    b = _bases("by_factor")[0]
    new = {"x": np.array([0.2, 0.5]), "g": np.array(["a", "e"], dtype=object)}
    with pytest.raises(ValueError, match=r"^s\(x\):ga: value 'e' of by-variable g is not one"):
        b.fixed(new)


def test_new_data_without_a_covariate_is_refused_by_name():
    with pytest.raises(ValueError, match=r"^s\(x,z\): column 'z' is not in the data"):
        _bases("tp_2d")[0].random({"x": np.array([0.5])})
