"""Saving and loading fits: nothing the user has is overwritten, column types survive."""

from __future__ import annotations

import importlib
import os
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesml as bm
from bayesml.persist import FitStoreError, decode_data, encode_data, is_fit_store

brm_module = importlib.import_module("bayesml.brm")  # the module (bayesml.brm is the function)

SMALL = dict(chains=2, iter=300, seed=4, progressbar=False)


@pytest.fixture(scope="module")
def small_fit(sleep):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **SMALL)


def _no_sampling(*args, **kwargs):
    raise AssertionError("brm sampled although it should not have")


# -- nothing at the path is lost ----------------------------------------------------------------


def test_save_refuses_a_folder_holding_user_files(small_fit, tmp_path, monkeypatch):
    results = tmp_path / "results"
    results.mkdir()
    (results / "notes.txt").write_text("my notes")
    with pytest.raises(FitStoreError) as err:
        small_fit.save(results)
    assert str(err.value) == (
        f"'{results}' is an existing folder that is not a saved bayesml fit; bayesml will not "
        "write over it. Choose a new path, such as 'fit.zarr'."
    )
    assert (results / "notes.txt").read_text() == "my notes"
    # the working directory itself ("." in a notebook)
    monkeypatch.chdir(results)
    with pytest.raises(FitStoreError, match="existing folder that is not a saved bayesml fit"):
        small_fit.save(".")
    with pytest.raises(FitStoreError, match="existing file that is not a saved bayesml fit"):
        small_fit.save("notes.txt")
    assert sorted(os.listdir(results)) == ["notes.txt"]
    assert (results / "notes.txt").read_text() == "my notes"


def test_save_refuses_an_empty_folder_and_a_missing_parent(small_fit, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FitStoreError, match="not a saved bayesml fit"):
        small_fit.save(tmp_path / "empty")
    with pytest.raises(FitStoreError, match="folder '.*nowhere' does not exist"):
        small_fit.save(tmp_path / "nowhere" / "fit.zarr")


def test_an_existing_store_is_replaced_only_with_overwrite(small_fit, sleep, tmp_path):
    path = tmp_path / "fit.zarr"
    assert small_fit.save(path) == path
    assert is_fit_store(path)
    with pytest.raises(FitStoreError) as err:
        small_fit.save(path)
    assert str(err.value) == (
        f"'{path}' already holds a saved fit; pass overwrite=True to replace it."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **{**SMALL, "seed": 9})
    other.save(path, overwrite=True)
    np.testing.assert_array_equal(bm.load(path).draws("b_Days"), other.draws("b_Days"))
    assert sorted(os.listdir(tmp_path)) == ["fit.zarr"]  # no temporary siblings left


def test_a_store_holding_a_user_file_is_not_replaced(small_fit, tmp_path):
    path = tmp_path / "fit.zarr"
    small_fit.save(path)
    (path / "README.txt").write_text("about this fit")
    with pytest.raises(FitStoreError, match="also 'README.txt', which bayesml did not write"):
        small_fit.save(path, overwrite=True)
    assert (path / "README.txt").read_text() == "about this fit"


def test_an_interrupted_save_leaves_the_old_store_intact(small_fit, tmp_path, monkeypatch):
    path = tmp_path / "fit.zarr"
    small_fit.save(path)
    before = bm.load(path).draws("b_Days")
    original = xr.DataTree.to_zarr

    def interrupted(self, store, *args, **kwargs):
        original(self["posterior"], store)  # part of the new store is written ...
        raise KeyboardInterrupt  # ... when the user presses Ctrl-C

    monkeypatch.setattr(xr.DataTree, "to_zarr", interrupted)
    with pytest.raises(KeyboardInterrupt):
        small_fit.save(path, overwrite=True)
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == ["fit.zarr"]
    np.testing.assert_array_equal(bm.load(path).draws("b_Days"), before)


def test_brm_file_refuses_a_user_path_before_sampling(sleep, tmp_path, monkeypatch):
    target = tmp_path / "analysis"
    target.mkdir()
    (target / "data.csv").write_text("a,b\n")
    monkeypatch.setattr(brm_module, "sample", _no_sampling)
    with pytest.raises(FitStoreError, match="is an existing folder that is not a saved bayesml"):
        bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **SMALL, file=str(target))
    assert os.listdir(target) == ["data.csv"]


def test_brm_file_reuses_a_matching_fit_without_sampling(sleep, tmp_path, monkeypatch):
    path = tmp_path / "m.zarr"
    kw = {**SMALL, "file": str(path)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **kw)
    assert is_fit_store(path)
    with monkeypatch.context() as m:
        m.setattr(brm_module, "sample", _no_sampling)
        again = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **kw)
    np.testing.assert_array_equal(again.draws("b_Days"), first.draws("b_Days"))
    # a change of seed refits and replaces the store, and says so
    with (
        warnings.catch_warnings(),
        pytest.warns(UserWarning, match="held a fit of a different model, data or settings"),
    ):
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        other = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **{**kw, "seed": 5})
    assert not np.array_equal(other.draws("b_Days"), first.draws("b_Days"))
    np.testing.assert_array_equal(bm.load(path).draws("b_Days"), other.draws("b_Days"))
    # file_refit="never" returns the saved fit whatever changed (brms's default)
    with monkeypatch.context() as m:
        m.setattr(brm_module, "sample", _no_sampling)
        stale = bm.brm("Reaction ~ Days", sleep, **kw, file_refit="never")
    assert stale.formula.text == "Reaction ~ Days + (1 | Subject)"


def test_load_errors_name_the_problem(tmp_path):
    with pytest.raises(FitStoreError, match="No saved fit at '.*missing.zarr': the path does"):
        bm.load(tmp_path / "missing.zarr")
    (tmp_path / "plain").mkdir()
    with pytest.raises(FitStoreError, match="is not a fit saved by bayesml"):
        bm.load(tmp_path / "plain")
    xr.DataTree.from_dict({"a": xr.Dataset({"x": ("i", [1.0])})}).to_zarr(tmp_path / "other")
    with pytest.raises(FitStoreError, match="is not a fit saved by bayesml"):
        bm.load(tmp_path / "other")


def test_load_of_a_damaged_store_says_so(small_fit, tmp_path):
    path = tmp_path / "fit.zarr"
    small_fit.save(path)
    chunks = [p for p in (path / "posterior" / "b_Days").rglob("*") if p.is_file()]
    chunk = next(p for p in chunks if p.name != "zarr.json")
    chunk.write_bytes(b"not a zarr chunk")
    with pytest.raises(FitStoreError, match="cannot be read"):
        bm.load(path)


# -- column types survive ------------------------------------------------------------------------


DTYPE_COLUMNS = {
    "float64": pd.Series([1.5, -2.0, 3.25]),
    "float32": pd.Series([1.5, -2.0, 3.25], dtype="float32"),
    "int64": pd.Series([1, 2, 3]),
    "int32": pd.Series([1, 2, 3], dtype="int32"),
    "int8": pd.Series([1, -2, 3], dtype="int8"),
    "uint16": pd.Series([1, 2, 3], dtype="uint16"),
    "bool": pd.Series([True, False, True]),
    "str codes": pd.Series(["01", "1", "010"]),
    "object codes": pd.Series(["01", "02", "10"], dtype=object),
    "string": pd.Series(["a", "b", "01"], dtype="string"),
    "Int64": pd.Series([1, 2, 3], dtype="Int64"),
    "Int64 with NA": pd.Series([1, None, 3], dtype="Int64"),
    "boolean": pd.Series([True, False, None], dtype="boolean"),
    "Float64": pd.Series([0.5, 1.5, None], dtype="Float64"),
    "category": pd.Series(pd.Categorical(["b", "a", "b"], categories=["b", "a"])),
    "ordered": pd.Series(
        pd.Categorical(["lo", "hi", "mid"], categories=["lo", "mid", "hi"], ordered=True)
    ),
    "int categories": pd.Series(pd.Categorical([10, 2, 10], categories=[10, 2])),
    "code categories": pd.Series(pd.Categorical(["01", "1", "01"], categories=["1", "01"])),
}


@pytest.mark.parametrize("name", list(DTYPE_COLUMNS))
def test_every_column_type_survives_the_store(name, tmp_path):
    df = pd.DataFrame({name: DTYPE_COLUMNS[name], 3: [7, 8, 9]})
    xr.DataTree.from_dict({"d": encode_data(df)}).to_zarr(tmp_path / "s.zarr")
    stored = xr.open_datatree(tmp_path / "s.zarr", engine="zarr").load()["d"].to_dataset()
    back = decode_data(stored)
    pd.testing.assert_frame_equal(back, df)
    assert list(back.columns) == [name, 3]


@pytest.fixture(scope="module")
def ordinal_codes():
    """An ordered-categorical response with text grouping codes such as "01"."""
    rng = np.random.default_rng(20261128)
    g = np.repeat([f"{i:02d}" for i in range(1, 7)], 10)
    x = rng.normal(size=g.size)
    latent = 0.8 * x + np.repeat(rng.normal(0, 0.5, 6), 10) + rng.logistic(size=g.size)
    y = pd.Categorical.from_codes(
        np.digitize(latent, [-0.7, 0.9]), categories=["low", "mid", "high"], ordered=True
    )
    return pd.DataFrame({"y": y, "x": x, "g": g})


def test_ordered_response_and_text_codes_round_trip_and_predict_identically(
    ordinal_codes, tmp_path
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.brm("y ~ x + (1 | g)", ordinal_codes, family="cumulative", **SMALL)
    path = fit.save(tmp_path / "ord.zarr")
    back = bm.load(path)
    pd.testing.assert_frame_equal(back.data, fit.data)
    assert list(back.data["y"].cat.categories) == ["low", "mid", "high"]
    assert back.data["g"].iloc[0] == "01"
    new = pd.DataFrame({"x": [-1.0, 0.0, 1.5], "g": ["01", "06", "03"]})
    np.testing.assert_array_equal(
        back.posterior_predict(new, seed=2), fit.posterior_predict(new, seed=2)
    )
    np.testing.assert_array_equal(back.posterior_epred(new), fit.posterior_epred(new))
    assert str(back.summary()) == str(fit.summary())
