"""Saving and loading fits: the draws plus what rebuilds the model (formula, family, priors,
data, sampler settings), so that predictions work after loading."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import pandas as pd
import xarray as xr

from .families import get_family
from .model import make_model
from .priors import PriorRow, PriorTable
from .sampling import SamplerSettings

__all__ = ["load", "save_fit", "fit_signature"]

FORMAT = "bayesml-fit-1"


def _data_json(df: pd.DataFrame) -> str:
    return df.to_json(orient="split", date_format="iso", double_precision=15)


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
        _data_json(data),
    ):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def save_fit(fit, path) -> None:
    path = Path(path)
    if path.exists():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    meta = {
        "format": FORMAT,
        "formula": fit.formula.text,
        "family": fit.family.name,
        "link": fit.family.link_name,
        "group_effects": fit.model.group_effects,
        "priors": [r.__dict__ for r in fit.model.priors.rows],
        "settings": fit.settings.__dict__,
        "data_name": fit.data_name,
        "data": _data_json(fit.model.design.data),
        "dtypes": {c: str(t) for c, t in fit.model.design.data.dtypes.items()},
        "signature": getattr(fit, "signature", ""),
    }
    tree = fit.idata.copy()
    tree.attrs = {**tree.attrs, "bayesml": json.dumps(meta)}
    tree.to_zarr(path)


def load(path):
    """Load a fit saved with ``Fit.save`` (or by ``brm(..., file=...)``)."""
    from .fit import Fit

    tree = xr.open_datatree(Path(path), engine="zarr").load()
    meta = json.loads(tree.attrs["bayesml"])
    if meta.get("format") != FORMAT:
        raise ValueError(f"{path} is not a saved bayesml fit.")
    data = pd.read_json(io.StringIO(meta["data"]), orient="split")
    for col, dtype in meta["dtypes"].items():
        if dtype in ("object", "str", "string") or dtype.startswith("string"):
            data[col] = data[col].astype(str)
        elif dtype == "bool":
            data[col] = data[col].astype(bool)
    priors = PriorTable([PriorRow(**r) for r in meta["priors"]])
    family = get_family(meta["family"], meta["link"])
    bm = make_model(meta["formula"], data, family, priors, meta["group_effects"])
    fit = Fit.from_saved(bm, tree, SamplerSettings(**meta["settings"]), meta["data_name"])
    fit.signature = meta.get("signature", "")
    return fit
