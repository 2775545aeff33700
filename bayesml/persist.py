"""Saving and loading fits: the draws plus what rebuilds the model (formula, family, priors,
data with its column types, sampler settings), so that predictions work after loading.

A saved fit is a zarr store (a folder). Saving never removes anything bayesml did not write:
a path that holds anything other than a bayesml store is refused, and an existing bayesml
store is replaced only with ``overwrite=True``. The new store is written to a hidden sibling
folder first and renamed into place, so an interrupted save leaves the old store as it was.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .families import get_family
from .priors import PriorRow, PriorTable
from .sampling import SamplerSettings

__all__ = [
    "FitStoreError",
    "SavedFit",
    "check_save_path",
    "fit_signature",
    "is_fit_store",
    "read_store",
    "save_fit",
]

FORMAT = "bayesml-fit-2"
READABLE_FORMATS = ("bayesml-fit-1", FORMAT)
DATA_GROUP = "bayesml_data"  # the model's data, one zarr array per column


class FitStoreError(ValueError):
    """A path that is not a saved bayesml fit, or one that cannot be written or read."""


# -- what a store is ---------------------------------------------------------------------------


def _store_attrs(path: Path) -> dict | None:
    """The root attributes of a zarr store (v3 ``zarr.json`` or v2 ``.zattrs``), or None."""
    for name in ("zarr.json", ".zattrs"):
        meta = path / name
        if meta.is_file():
            try:
                text = json.loads(meta.read_text())
            except (OSError, ValueError):
                return None
            return text.get("attributes", {}) if name == "zarr.json" else text
    return None


def is_fit_store(path) -> bool:
    """Whether ``path`` is a folder holding a fit saved by bayesml."""
    path = Path(path)
    attrs = _store_attrs(path) if path.is_dir() else None
    return bool(attrs) and "bayesml" in attrs


_ZARR_FILES = {"zarr.json", ".zattrs", ".zgroup", ".zarray", ".zmetadata"}


def _foreign_file(store: Path) -> Path | None:
    """A file inside a store that zarr did not write (so replacing the store would lose it)."""
    for folder, _, files in os.walk(store):
        rel = Path(folder).relative_to(store)
        in_chunks = "c" in rel.parts  # zarr v3 keeps chunks under <array>/c/
        for f in files:
            if f in _ZARR_FILES or in_chunks or f.replace(".", "").isdigit():
                continue
            return Path(folder) / f
    return None


def check_save_path(path, overwrite: bool) -> Path:
    """Check that a fit may be written at ``path``; nothing is written.

    Raises
    ------
    FitStoreError
        ``path`` holds something that is not a bayesml store (a file, a folder with other
        contents), a bayesml store while ``overwrite`` is False, or its folder does not exist.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        if not is_fit_store(path) or path.is_symlink():
            kind = "folder" if path.is_dir() else "file"
            raise FitStoreError(
                f"'{path}' is an existing {kind} that is not a saved bayesml fit; bayesml will "
                "not write over it. Choose a new path, such as 'fit.zarr'."
            )
        if not overwrite:
            raise FitStoreError(
                f"'{path}' already holds a saved fit; pass overwrite=True to replace it."
            )
        foreign = _foreign_file(path)
        if foreign is not None:
            raise FitStoreError(
                f"'{path}' holds a saved fit and also '{foreign.relative_to(path)}', which "
                "bayesml did not write; bayesml will not replace the folder. Move that file out "
                "or choose a new path."
            )
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FitStoreError(f"Cannot save to '{path}': folder '{parent}' does not exist.")
    return path


# -- the data, column by column ---------------------------------------------------------------


def _encode_column(i: int, name, s: pd.Series) -> dict[str, xr.DataArray]:
    """One data column as zarr-storable arrays, with what restores its pandas dtype: category
    codes with their categories and order, text as text (so "01" stays "01"), missing values as
    a mask."""
    attrs = {"column": json.dumps(name), "pandas_dtype": str(s.dtype)}
    var = f"c{i}"
    out = {}
    missing = s.isna().to_numpy()
    if missing.any():
        out[f"{var}_missing"] = xr.DataArray(missing, dims="row")
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        attrs.update(kind="category", ordered=int(bool(s.cat.ordered)))
        out[var] = xr.DataArray(s.cat.codes.to_numpy(np.int64), dims="row", attrs=attrs)
        out[f"{var}_categories"] = xr.DataArray(
            _storable(cats.to_numpy()), dims=f"{var}_level", attrs={"pandas_dtype": str(cats.dtype)}
        )
        return out
    if s.dtype == object or pd.api.types.is_string_dtype(s.dtype):
        values = np.array(["" if m else str(v) for v, m in zip(s, missing, strict=True)], object)
    elif pd.api.types.is_extension_array_dtype(s.dtype):  # Int64, boolean, Float64, ...
        fill = s.dtype.numpy_dtype.type(0)
        values = s.to_numpy(dtype=s.dtype.numpy_dtype, na_value=fill)
    else:
        values = s.to_numpy()
    out[var] = xr.DataArray(values, dims="row", attrs=attrs)
    return out


def _storable(values: np.ndarray) -> np.ndarray:
    """Object arrays as text (zarr stores strings, not Python objects)."""
    return np.array([str(v) for v in values], dtype=object) if values.dtype == object else values


def _restored(values: np.ndarray, dtype: str) -> pd.Index:
    """Stored values with their pandas dtype again."""
    if dtype in ("object", "O"):
        return pd.Index([str(v) for v in values], dtype=object)
    return pd.Index(values).astype(dtype)


def encode_data(df: pd.DataFrame) -> xr.Dataset:
    """A data frame as an xarray Dataset that zarr stores with every column's type."""
    out: dict[str, xr.DataArray] = {}
    for i, (name, s) in enumerate(df.items()):
        out.update(_encode_column(i, name, s))
    return xr.Dataset(out, attrs={"columns": len(df.columns), "rows": len(df)})


def decode_data(ds: xr.Dataset) -> pd.DataFrame:
    """The inverse of ``encode_data``: the same columns, values and pandas dtypes."""
    cols = {}
    for i in range(int(ds.attrs["columns"])):
        v = ds[f"c{i}"]
        if v.attrs.get("kind") == "category":
            cv = ds[f"c{i}_categories"]
            cats = _restored(np.asarray(cv.values), cv.attrs["pandas_dtype"])
            codes = v.values.astype(np.int64)
            col = pd.Series(
                pd.Categorical.from_codes(codes, categories=cats, ordered=bool(v.attrs["ordered"]))
            )
        else:
            col = pd.Series(_restored(v.values, v.attrs["pandas_dtype"]))
            if f"c{i}_missing" in ds:
                col = col.mask(ds[f"c{i}_missing"].values.astype(bool))
        cols[json.loads(v.attrs["column"])] = col
    df = pd.DataFrame(cols)
    return df if len(df.columns) else pd.DataFrame(index=range(int(ds.attrs["rows"])))


def _data_digest(df: pd.DataFrame) -> str:
    """A hash of a data frame's columns, types (category order included) and values."""
    h = hashlib.sha256()
    for name, s in df.items():
        h.update(repr(name).encode())
        if isinstance(s.dtype, pd.CategoricalDtype):
            h.update(repr((list(s.cat.categories), s.cat.ordered)).encode())
            h.update(s.cat.codes.to_numpy(np.int64).tobytes())
        else:
            h.update(str(s.dtype).encode())
            h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())
    return h.hexdigest()


def fit_signature(
    formula, data: pd.DataFrame, family, priors: PriorTable, settings, extra=()
) -> str:
    """A hash of what determines a fit (brms's check behind ``file=``)."""
    fam = get_family(family)
    h = hashlib.sha256()
    for part in (
        str(formula),
        f"{fam.name}:{fam.link_name}",
        str(priors),
        repr(settings),
        repr(extra),
        _data_digest(data),
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


# -- saving ----------------------------------------------------------------------------------


def save_fit(fit, path, overwrite: bool = False) -> Path:
    """Write a fit to a new zarr store at ``path`` (see the module notes on safety).

    Raises
    ------
    FitStoreError
        See ``check_save_path``.
    """
    path = check_save_path(path, overwrite)
    meta = {
        "format": FORMAT,
        "formula": fit.formula.source,
        "family": fit.family.name,
        "link": fit.family.link_name,
        "group_effects": fit.model.group_effects,
        "priors": [r.__dict__ for r in fit.model.priors.rows],
        "settings": fit.settings.__dict__,
        "data_name": fit.data_name,
        "signature": getattr(fit, "signature", ""),
        "seed": fit.seed,  # update() of a loaded fit samples with the same seed
    }
    tree = fit.idata.copy()
    tree.attrs = {**tree.attrs, "bayesml": json.dumps(meta)}
    tree[DATA_GROUP] = encode_data(fit.model.design.data)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    try:
        with warnings.catch_warnings():
            # xarray consolidates the metadata (one read on load); zarr 3 notes that its
            # format does not specify that yet, on every save
            warnings.filterwarnings("ignore", "Consolidated metadata", UserWarning)
            tree.to_zarr(tmp)
        _replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def _replace(new: Path, path: Path) -> None:
    """Move the finished store ``new`` to ``path``; an old store there is removed only after
    the new one is in place (and put back if the move fails)."""
    if not path.exists():
        os.replace(new, path)
        return
    old = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.old")
    os.replace(path, old)
    try:
        os.replace(new, path)
    except BaseException:
        os.replace(old, path)
        raise
    shutil.rmtree(old, ignore_errors=True)


# -- loading ---------------------------------------------------------------------------------


@dataclass
class SavedFit:
    """What a store holds: the draws and what rebuilds the model."""

    tree: xr.DataTree
    formula: str
    data: pd.DataFrame
    family: object
    priors: PriorTable
    group_effects: str
    settings: SamplerSettings
    data_name: str
    signature: str
    seed: int | None = None


def read_store(path) -> SavedFit:
    """Read a fit saved with ``Fit.save`` (``bayesml.load`` rebuilds the model from it).

    Raises
    ------
    FitStoreError
        The path does not exist, is not a saved bayesml fit, or the store is damaged.
    """
    path = Path(path)
    if not path.exists():
        raise FitStoreError(f"No saved fit at '{path}': the path does not exist.")
    if not is_fit_store(path):
        raise FitStoreError(
            f"'{path}' is not a fit saved by bayesml (no bayesml metadata in a zarr store)."
        )
    try:
        tree = xr.open_datatree(path, engine="zarr").load()
        meta = json.loads(tree.attrs["bayesml"])
    except Exception as err:  # zarr and xarray raise many types for damaged stores
        raise FitStoreError(f"The saved fit at '{path}' cannot be read: {err}") from err
    if meta.get("format") not in READABLE_FORMATS:
        raise FitStoreError(
            f"'{path}' was saved in format '{meta.get('format')}', which this version of "
            f"bayesml cannot read (it reads {', '.join(READABLE_FORMATS)})."
        )
    try:
        if DATA_GROUP in tree.children:
            data = decode_data(tree[DATA_GROUP].to_dataset())
            tree = tree.drop_nodes(DATA_GROUP)
        else:
            data = _json_data(meta)
        return SavedFit(
            tree,
            meta["formula"],
            data,
            get_family(meta["family"], meta["link"]),
            PriorTable([PriorRow(**r) for r in meta["priors"]]),
            meta["group_effects"],
            SamplerSettings(**meta["settings"]),
            meta["data_name"],
            meta.get("signature", ""),
            meta.get("seed"),
        )
    except (KeyError, ValueError, TypeError) as err:
        raise FitStoreError(f"The saved fit at '{path}' is damaged: {err}") from err


def _json_data(meta: dict) -> pd.DataFrame:
    """The data of a format-1 store (JSON, text and bool columns restored)."""
    data = pd.read_json(io.StringIO(meta["data"]), orient="split")
    for col, dtype in meta["dtypes"].items():
        if dtype in ("object", "str", "string") or dtype.startswith("string"):
            data[col] = data[col].astype(str)
        elif dtype == "bool":
            data[col] = data[col].astype(bool)
    return data
