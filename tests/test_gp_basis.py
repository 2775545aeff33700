"""The data of gp() terms against brms 2.18 (tests/reference/brms_gp.json, written by
tools/brms_gp_reference.R), the default length-scale priors against brms's get_prior(), the
approximate GP against PyMC's HSGP, and the pytensor GP pieces against direct computations."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest

from bayesml.gp_basis import (
    GPSpec,
    cov_exp_quad,
    default_lscale_prior,
    gp_approx_latent,
    gp_bases,
    gp_conditional,
    gp_latent,
    spd_cov_exp_quad,
)

HERE = Path(__file__).parent
REF = json.loads((HERE / "reference" / "brms_gp.json").read_text())
SMOOTH_PRIORS = json.loads((HERE / "reference" / "brms_smooth.json").read_text())["priors"]
TOL = 1e-10

SPECS = {
    "gp": GPSpec(("x",)),
    "gp_approx": GPSpec(("x",), k=20, c=5 / 4),
    "gp_noscale": GPSpec(("x",), scale=False),
    "gp_noscale_approx": GPSpec(("x",), k=20, c=5 / 4, scale=False),
    "gp_2d": GPSpec(("x", "z")),
    "gp_2d_aniso": GPSpec(("x", "z"), iso=False),
    "gp_2d_approx": GPSpec(("x", "z"), k=5, c=5 / 4),
    "gp_by": GPSpec(("x",), by="g"),
    "gp_by_approx_c": GPSpec(("x",), by="g", k=10, c=5 / 4),
    "gp_bynum": GPSpec(("x",), by="z"),
    "gp_nogr": GPSpec(("x",), gr=False),
}
# the get_prior() texts of tests/reference/brms_smooth.json ("priors") with a gp() term
SMOOTH_SPECS = {
    "gp": "gp",
    "gp_approx": "gp_approx",
    "gp_noscale": "gp_noscale",
    "gp_2d": "gp_2d",
    "gp_2d_aniso": "gp_2d_aniso",
    "gp_by": "gp_by",
}


def read_data(name: str) -> pd.DataFrame:
    return pd.read_csv(HERE / "data" / "smooth" / f"{name}.csv")


def arr(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


def matrix(values, ncol: int) -> np.ndarray:
    return arr(values).reshape(-1, ncol)


def suffixes(bases) -> list[str]:
    return ["_1"] if len(bases) == 1 else [f"_1_{j + 1}" for j in range(len(bases))]


def brms218_basis(basis, data):
    """The basis as brms 2.18's standata(newdata=) builds it: L recomputed from new data."""
    x = basis.covariates(data)
    spread = float(x.max() - x.min()) if x.size else 1.0
    return dataclasses.replace(basis, L=basis.spec.c_per_dim() * max(1.0, spread))


def check_part(spec, bases, sd, data, approx_l: str = "stored") -> float:
    """Every GP entry of brms's standata `sd` against ours; the largest deviation."""
    dev = 0.0
    assert sd["Dgp_1"] == len(spec.variables)
    assert sd["Kgp_1"] == len(bases)
    for basis, sfx in zip(bases, suffixes(bases), strict=True):
        idx, mult = basis.rows(data)
        if "Igp" + sfx in sd:
            np.testing.assert_array_equal(idx + 1, arr(sd["Igp" + sfx]))
            np.testing.assert_array_equal(mult, arr(sd["Cgp" + sfx]))
        elif "Cgp" + sfx in sd:
            np.testing.assert_array_equal(mult, arr(sd["Cgp" + sfx]))
        if spec.gr:
            np.testing.assert_array_equal(basis.groups(data) + 1, arr(sd["Jgp" + sfx]))
        else:
            assert "Jgp" + sfx not in sd
        if spec.k is None:
            ours = basis.covariates(data)
        else:
            if approx_l == "brms218":
                basis = brms218_basis(basis, data)
            ours = basis.eigenfunctions(data)
            assert sd["NBgp_1"] == spec.k ** len(spec.variables) == ours.shape[1]
            theirs = matrix(sd["slambda" + sfx], len(spec.variables))
            np.testing.assert_allclose(basis.slambda, theirs, rtol=0, atol=TOL)
            dev = max(dev, np.abs(basis.slambda - theirs).max())
        theirs = matrix(sd["Xgp" + sfx], ours.shape[1])
        assert theirs.shape == ours.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)
        dev = max(dev, np.abs(ours - theirs).max(initial=0.0))
    return dev


@pytest.mark.parametrize("name", list(SPECS))
def test_standata_matches_brms(name):
    ref = REF["specs"][name]
    spec, data = SPECS[name], read_data(ref["data"])
    bases = gp_bases(spec, data)
    sd = ref["standata"]
    check_part(spec, bases, sd, data)
    if spec.gr and len(bases) == 1:
        assert sd["Nsubgp_1"] == len(bases[0].x_fit)
    elif spec.gr:
        assert sd["Nsubgp_1"] == [len(b.x_fit) for b in bases]
        assert sd["Ngp_1"] == [len(b.rows(data)[0]) for b in bases]


@pytest.mark.parametrize("name", list(SPECS))
def test_stored_basis_matches_brms(name):
    ref = REF["specs"][name]
    spec, data = SPECS[name], read_data(ref["data"])
    bases = gp_bases(spec, data)
    basis_ref = ref["basis"]
    for basis, sfx in zip(bases, suffixes(bases), strict=True):
        if spec.scale:
            assert basis.dmax == pytest.approx(basis_ref["dmax" + sfx], rel=1e-14)
        else:
            assert basis.dmax is None and "dmax" + sfx not in basis_ref
        np.testing.assert_allclose(basis.cmeans, arr(basis_ref["cmeans" + sfx]), atol=TOL)
        prior_x = matrix(basis_ref["Xgp_prior" + sfx], len(spec.variables))
        np.testing.assert_allclose(basis.x_fit, prior_x, rtol=0, atol=TOL)
        # new data carry the fitted Xgp along (exact GPs condition on it)
        old = arr(ref["newdata"]["Xgp" + sfx + "_old"])
        fitted = basis.x_fit if spec.k is None else basis.eigenfunctions(data)
        np.testing.assert_allclose(fitted, old.reshape(fitted.shape), rtol=0, atol=TOL)


@pytest.mark.parametrize("name", list(SPECS))
def test_newdata_matches_brms(name):
    ref = REF["specs"][name]
    spec, data = SPECS[name], read_data(ref["data"])
    bases = gp_bases(spec, data)
    grid = pd.DataFrame(ref["grid"])
    # brms 2.18 recomputes L of an approximate GP from the new data's range: the same basis
    # unless new scaled x reach beyond max(1, fitted range)
    check_part(spec, bases, ref["newdata"], grid, approx_l="brms218")
    if spec.k is not None and name != "gp_by_approx_c":
        check_part(spec, bases, ref["newdata"], grid)


def test_brms218_recomputes_l_on_new_data():
    """Level a of gp(x, by = g, k = 10): the grid spans all levels' x, beyond level a's dmax."""
    ref = REF["specs"]["gp_by_approx_c"]
    data, grid = read_data(ref["data"]), pd.DataFrame(ref["grid"])
    basis = gp_bases(SPECS["gp_by_approx_c"], data)[0]
    redone = brms218_basis(basis, grid)
    assert redone.L[0] > basis.L[0] == pytest.approx(1.25)
    theirs = matrix(ref["newdata"]["Xgp_1_1"], 10)
    assert np.abs(basis.eigenfunctions(grid) - theirs).max() > 1e-3  # stored L: what was fitted
    np.testing.assert_allclose(redone.eigenfunctions(grid), theirs, atol=TOL)


def test_brms218_needs_c_with_k():
    """brms 2.18 stops without c; GPSpec defaults to 5/4 (brms >= 2.19's default)."""
    assert "'c' must be specified" in REF["specs"]["gp_by_approx"]["error"]
    assert GPSpec(("x",), by="g", k=10) == SPECS["gp_by_approx_c"]


def test_names_are_brms():
    data = read_data("byfactor")
    assert [b.label for b in gp_bases(GPSpec(("x",), by="g"), data)] == ["gpxga", "gpxgb", "gpxgc"]
    surface = read_data("surface")
    (aniso,) = gp_bases(GPSpec(("x", "z"), iso=False), surface)
    assert (aniso.label, aniso.lscale_coefs) == ("gpxz", ("gpxzx", "gpxzz"))
    assert gp_bases(GPSpec(("x",), by="z"), surface)[0].label == "gpxz"


PRIOR_LINE = re.compile(r"^\s*inv_gamma\(([-0-9.e]+), ([-0-9.e]+)\)\s+lscale\s+(\S+)")


def printed_lscale_priors(lines: list[str]) -> list[tuple[str, float, float]]:
    out = []
    for line in lines:
        m = PRIOR_LINE.match(line)
        if m:
            out.append((m.group(3), float(m.group(1)), float(m.group(2))))
    return out


def assert_priors_equal(ours, printed) -> None:
    assert [p.coef for p in ours] == [p[0] for p in printed]
    for p, (_, shape, scale) in zip(ours, printed, strict=True):
        assert (p.shape, p.scale) == (shape, scale)


@pytest.mark.parametrize("name", list(SPECS))
def test_default_lscale_prior_matches_get_prior(name):
    ref = REF["specs"][name]
    ours = default_lscale_prior(SPECS[name], read_data(ref["data"]))
    assert_priors_equal(ours, printed_lscale_priors(ref["get_prior"]))


@pytest.mark.parametrize("name", list(SMOOTH_SPECS))
def test_default_lscale_prior_matches_smooth_reference(name):
    ref = SMOOTH_PRIORS[name]
    ours = default_lscale_prior(SPECS[SMOOTH_SPECS[name]], read_data(ref["data"]))
    assert_priors_equal(ours, printed_lscale_priors(ref["get_prior"]))


@pytest.mark.parametrize("case", REF["prior_cases"], ids=lambda c: str(c["x"]))
def test_default_lscale_prior_small_data(case):
    """brms's nleqslv stops at its tolerance: at large shapes its last printed digit can be one
    unit off the exact root ours rounds (x = 0, 0.5, 1: brms 45.631904, exact 45.6319046)."""
    (ours,) = default_lscale_prior(GPSpec(("x",), scale=False), {"x": arr(case["x"])})
    if case["prior"].startswith("normal"):
        assert ours.shape is None and ours.text == case["prior"]
        return
    shape, scale = map(float, re.findall(r"[-0-9.e]+", case["prior"]))
    assert ours.shape == pytest.approx(shape, abs=1.01e-6)
    assert ours.scale == pytest.approx(scale, abs=1.01e-6)


@pytest.mark.parametrize(("name", "k"), [("gp", 20), ("surface", 5)])
def test_eigenfunctions_match_pymc_hsgp(name, k):
    """PyMC's HSGP gives the same basis and sqrt(psd) once its box is brms's.

    Differences in PyMC's defaults: it centres x at the midpoint (max + min) / 2 of the first
    X it sees (brms: the column means of the fitted distinct rows), and its ``c`` multiplies
    the half-range per dimension (brms: L = c · max(1, range over all centred columns)), so
    ``HSGP(m, c=5/4)`` is a box half as wide on scaled data. Passing ``L`` and fixing the
    centre with a first call whose midpoint is brms's centre makes them identical.
    """
    pm = pytest.importorskip("pymc")
    data = read_data(name)
    variables = ("x",) if name == "gp" else ("x", "z")
    basis = gp_bases(GPSpec(variables, k=k, c=5 / 4), data)[0]
    dim, ls, eta = len(variables), 0.3, 1.7
    cov = eta**2 * pm.gp.cov.ExpQuad(dim, ls=ls)
    hsgp = pm.gp.HSGP(m=[k] * dim, L=list(basis.L), cov_func=cov)
    hsgp.prior_linearized(np.vstack([basis.cmeans - 1, basis.cmeans + 1]))
    phi, sqrt_psd = hsgp.prior_linearized(basis.x_fit)
    phi = phi.eval() if hasattr(phi, "eval") else phi
    np.testing.assert_allclose(phi, basis.eigenfunctions(data), rtol=0, atol=1e-12)
    ours = spd_cov_exp_quad(basis.slambda, eta, ls).eval()
    np.testing.assert_allclose(sqrt_psd.eval(), ours, rtol=1e-12)
    default = pm.gp.HSGP(m=[k] * dim, c=5 / 4, cov_func=cov)
    default.prior_linearized(basis.x_fit)
    assert not np.allclose(default.L.eval(), basis.L)


def direct_cov(x, y, sdgp, lscale):
    out = np.empty((len(x), len(y)))
    for i in range(len(x)):
        for j in range(len(y)):
            out[i, j] = sdgp**2 * np.exp(-np.sum(((x[i] - y[j]) / lscale) ** 2) / 2)
    return out


def test_cov_exp_quad_as_pytensor_function():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(7, 2)), rng.normal(size=(4, 2))
    xs, ys, sd = pt.matrix("x"), pt.matrix("y"), pt.scalar("sd")
    for ls, lscale in ((pt.scalar("ls"), 0.7), (pt.vector("ls"), [0.4, 1.3])):
        f = pytensor.function(
            [xs, ys, sd, ls], [cov_exp_quad(xs, sd, ls), cov_exp_quad(xs, sd, ls, ys)]
        )
        k, cross = f(x, y, 1.6, lscale)
        np.testing.assert_allclose(k, direct_cov(x, x, 1.6, np.array(lscale)), rtol=1e-13)
        np.testing.assert_allclose(cross, direct_cov(x, y, 1.6, np.array(lscale)), rtol=1e-13)
    # brms's iso lscale is vector[1]: a length-1 constant broadcasts over the dimensions
    np.testing.assert_allclose(
        cov_exp_quad(x, 1.6, np.array([0.7])).eval(), direct_cov(x, x, 1.6, 0.7), rtol=1e-13
    )
    one_d = cov_exp_quad(x[:, 0], 0.5, 0.2).eval()
    np.testing.assert_allclose(one_d, direct_cov(x[:, :1], x[:, :1], 0.5, 0.2), rtol=1e-13)


def test_spd_and_latent_gps():
    data = read_data("surface")
    basis = gp_bases(GPSpec(("x", "z"), k=5, iso=False), data)[0]
    sl, ls = basis.slambda, np.array([0.3, 0.6])
    spd = 1.3**2 * 2 * np.pi * np.prod(ls) * np.exp(-0.5 * (sl**2 @ ls**2))
    np.testing.assert_allclose(spd_cov_exp_quad(sl, 1.3, ls).eval(), np.sqrt(spd), rtol=1e-13)
    iso = 1.3**2 * 2 * np.pi * 0.3**2 * np.exp(-0.5 * 0.3**2 * np.sum(sl**2, axis=1))
    np.testing.assert_allclose(spd_cov_exp_quad(sl, 1.3, 0.3).eval(), np.sqrt(iso), rtol=1e-13)
    z = np.random.default_rng(2).normal(size=sl.shape[0])
    phi = basis.eigenfunctions(data)
    np.testing.assert_allclose(
        gp_approx_latent(phi, sl, 1.3, ls, z).eval(), phi @ (np.sqrt(spd) * z), rtol=1e-12
    )
    # well-separated points keep K + 1e-12 I well conditioned, so both Choleskys agree
    x = np.linspace(-0.5, 0.5, 20)[:, None]
    z = np.random.default_rng(3).normal(size=len(x))
    chol = np.linalg.cholesky(direct_cov(x, x, 1.1, 0.1) + 1e-12 * np.eye(len(x)))
    np.testing.assert_allclose(gp_latent(x, 1.1, 0.1, z).eval(), chol @ z, atol=1e-10)


def test_gp_conditional_matches_direct_formula():
    x = gp_bases(GPSpec(("x",)), read_data("gp"))[0].x_fit[::4]
    f = np.sin(6 * x[:, 0])
    x_new = np.linspace(-0.5, 0.5, 9)[:, None]
    mean, cov = gp_conditional(x_new, x, f, 1.2, 0.15)
    k = direct_cov(x, x, 1.2, 0.15) + 1e-12 * np.eye(len(x))
    cross = direct_cov(x, x_new, 1.2, 0.15)
    np.testing.assert_allclose(mean, cross.T @ np.linalg.solve(k, f), atol=1e-8)
    direct = direct_cov(x_new, x_new, 1.2, 0.15) - cross.T @ np.linalg.solve(k, cross)
    np.testing.assert_allclose(cov, direct + 1e-8 * np.eye(9), atol=1e-8)
    at_old, cov_old = gp_conditional(x, x, f, 1.2, 0.15)
    np.testing.assert_allclose(at_old, f, atol=1e-6)
    assert np.abs(cov_old).max() < 1e-6


BAD_DATA = [
    (GPSpec(("g",)), "byfactor", "gp(g): column 'g' is not numeric"),
    (GPSpec(("x",)), {"x": [1.0, np.nan, 2.0]}, "'x' has missing or infinite values (row 2)"),
    (GPSpec(("w",)), "gp", "gp(w): column 'w' not found"),
    (GPSpec(("x",)), {"x": [2.0, 2.0, 2.0]}, "gp(x): Could not scale GP covariates"),
    (
        GPSpec(("x",), by="g"),
        {"x": [1.0, 2.0, 3.0], "g": ["a", "a", "b"]},
        "gp(x, by = g), level 'b' of 'g': Could not scale GP covariates",
    ),
    (GPSpec(("x",), by="g"), {"x": [1.0, 2.0], "g": ["a", None]}, "'g' has missing values"),
]


@pytest.mark.parametrize(("spec", "data", "message"), BAD_DATA)
def test_bad_data_messages(spec, data, message):
    data = read_data(data) if isinstance(data, str) else data
    with pytest.raises(ValueError, match=re.escape(message)):
        gp_bases(spec, data)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "gp(x, k = 0, c = 1.25): 'k' must be positive"),
        ({"k": 10, "c": 0.0}, "gp(x, k = 10, c = 0): 'c' must be positive"),
        ({"k": 10, "c": (1.0, 1.0, 1.0)}, "'c' must be of the same length"),
    ],
)
def test_bad_spec_messages(kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        GPSpec(("x",), **kwargs)


def test_eigenfunctions_need_k():
    data = read_data("gp")
    with pytest.raises(ValueError, match=re.escape("gp(x): eigenfunctions need")):
        gp_bases(GPSpec(("x",)), data)[0].eigenfunctions(data)


def test_scale_false_allows_one_point():
    (basis,) = gp_bases(GPSpec(("x",), scale=False), {"x": [2.0, 2.0]})
    assert basis.dmax is None and basis.x_fit.shape == (1, 1)
    assert default_lscale_prior(GPSpec(("x",), scale=False), {"x": [2.0, 2.0]})[0].shape is None
