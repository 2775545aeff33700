"""A model's fit whose posterior is a given set of brms draws (brms's names), so that the
pointwise log-likelihood and predictions can be compared with brms's at the same parameters."""

from __future__ import annotations

import re

import numpy as np
import xarray as xr

from bayesml.fit import Fit
from bayesml.model import BrmsModel
from bayesml.sampling import SamplerSettings
from bayesml.terms.base import dpar_suffix


def brms_level(level: str) -> str:
    """brms writes spaces in level names as dots."""
    return level.replace(" ", ".")


def fit_at_brms_draws(bm: BrmsModel, draws: list[dict], posterior: xr.Dataset | None = None):
    """``bm`` with its posterior replaced by brms's draws (one chain).

    ``posterior`` gives the variables' coordinates for the varying effects ``r_<g>``
    (a fitted model's posterior); without it, levels come from the design.
    """
    values: dict[str, np.ndarray] = {}
    effects: dict[str, dict[tuple[str, str], np.ndarray]] = {}
    for name in draws[0]:
        if name.startswith("."):
            continue
        x = np.array([d[name] for d in draws], dtype=float)
        m = re.fullmatch(r"r_([^[]+)\[(.+),([^,]+)\]", name)
        if m:
            effects.setdefault(m.group(1), {})[(m.group(2), m.group(3))] = x
        else:
            values[name] = x
    post = {k: (("chain", "draw"), v[None]) for k, v in values.items()}
    for dpar, pred in bm.design.predictors.items():
        fx = pred.fixed
        sfx = dpar_suffix(dpar)
        shift = sum(
            (values[f"b{sfx}_{c}"] * m for c, m in zip(fx.coefs, fx.means, strict=True)), 0.0
        )
        if dpar == "mu" and bm.family.ordinal:  # centred thresholds
            for k in range(1, bm.design.response.n_thresholds + 1):
                # brms's b_Intercept[k] = Intercept[k] + means · b (thresholds move with eta)
                centred = values[f"b_Intercept[{k}]"] - shift
                post[f"Intercept[{k}]"] = (("chain", "draw"), centred[None])
        elif fx.intercept:  # the centred intercept the model samples
            centred = values[f"b{sfx}_Intercept"] + shift
            post[f"Intercept{sfx}"] = (("chain", "draw"), centred[None])
    for name, cells in effects.items():  # r_g or r_g__<dpar>
        g = name.split("__")[0]
        blk = next(b for b in bm.design.blocks if b.group == g)
        levels = [str(v) for v in blk.levels]
        coefs = list(dict.fromkeys(c for _, c in cells))
        arr = np.stack(
            [np.stack([cells[(brms_level(lv), c)] for c in coefs], -1) for lv in levels], 1
        )
        post[f"r_{name}"] = xr.DataArray(
            arr[None],
            dims=("chain", "draw", g, f"{g}__coef"),
            coords={g: levels, f"{g}__coef": coefs},
        )
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(post)})
    n = len(draws)
    return Fit.from_saved(bm, tree, SamplerSettings(1, 2 * n, n, 1), "brms draws")
