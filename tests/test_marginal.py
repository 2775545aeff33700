"""Gaussian varying effects integrated out: the marginal density against a dense multivariate
normal, the component split, and the conditional draws against their exact moments."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import linalg, stats

from bayesml import make_model
from bayesml.marginal import components, draw_group_effects
from bayesml.priors import parse_prior

from .test_families import case_data


def _value(m, name, point):
    model = m.model
    expr = model.replace_rvs_by_values([model[name]])[0]
    return np.asarray(
        model.compile_fn(expr, inputs=model.value_vars, on_unused_input="ignore")(point)
    )


def _random_point(m, seed=0):
    point = m.model.initial_point()
    rng = np.random.default_rng(seed)
    return {k: v + rng.normal(0, 0.3, np.shape(v)) for k, v in point.items()}


def _dense(m, point):
    """Z (all levels of all blocks side by side) and the block-diagonal Λ at a point."""
    d = m.design
    Zs, covs = [], []
    for blk in d.blocks:
        sd = _value(m, f"sd_{blk.id}", point)
        if blk.has_cor:
            L = _value(m, f"L_{blk.id}", point)
            S = np.diag(sd) @ L @ L.T @ np.diag(sd)
        else:
            S = np.diag(sd**2)
        for j in range(blk.n_levels):
            Zs.append(blk.Z * (blk.index == j)[:, None])
            covs.append(S)
    return np.hstack(Zs), linalg.block_diag(*covs)


def _population(m, point):
    d = m.design
    eta = np.full(d.nobs, float(_value(m, "Intercept", point)))
    if d.fixed.coefs:
        eta = eta + d.fixed.Xc @ _value(m, "b", point)
    return eta


def _crossed_nested(seed=3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 120
    school = rng.integers(0, 6, n)
    cls = school * 3 + rng.integers(0, 3, n)
    item = rng.integers(0, 8, n)
    x = rng.normal(size=n)
    y = 1 + 0.5 * x + rng.normal(size=n)
    return pd.DataFrame(
        {"y": y, "x": x, "school": school, "cls": cls.astype(str), "item": item.astype(str)}
    )


FORMULAS = [
    ("sleep", "Reaction ~ Days + (Days | Subject)"),
    ("sleep", "Reaction ~ Days + (Days || Subject)"),
    ("sleep", "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)"),
    ("synthetic", "y ~ x + (1 | school/cls)"),
    ("synthetic", "y ~ x + (x | school) + (1 | item)"),
]


@pytest.mark.parametrize(("data", "formula"), FORMULAS)
def test_marginal_density_equals_dense_multivariate_normal(sleep, data, formula):
    df = sleep if data == "sleep" else _crossed_nested()
    m = make_model(formula, df, group_effects="marginal")
    point = _random_point(m)
    Z, Lam = _dense(m, point)
    sigma = float(_value(m, "sigma", point))
    cov = sigma**2 * np.eye(m.design.nobs) + Z @ Lam @ Z.T
    expected = stats.multivariate_normal.logpdf(m.design.y, _population(m, point), cov)
    # the marginal likelihood's potential (the other one is the shifted intercept's prior)
    name = next(p.name for p in m.model.potentials if not p.name.startswith("population_prior"))
    got = m.model.point_logps(point, round_vals=12)[name]
    assert got == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize(
    "formula", ["y | se(s) ~ 1 + (1 | g)", "y | se(s, sigma = TRUE) ~ x + (1 | g)"]
)
def test_marginal_density_with_known_standard_errors(formula):
    d = case_data("gaussian")
    m = make_model(formula, d, group_effects="marginal")
    point = _random_point(m, 1)
    Z, Lam = _dense(m, point)
    v = d["s"].to_numpy() ** 2
    if "sigma" in m.model.named_vars:
        v = v + float(_value(m, "sigma", point)) ** 2
    cov = np.diag(v) + Z @ Lam @ Z.T
    expected = stats.multivariate_normal.logpdf(m.design.y, _population(m, point), cov)
    # the marginal likelihood's potential (the other one is the shifted intercept's prior)
    name = next(p.name for p in m.model.potentials if not p.name.startswith("population_prior"))
    assert m.model.point_logps(point, round_vals=12)[name] == pytest.approx(expected, rel=1e-10)


def test_components_follow_nesting_and_crossing(sleep):
    df = _crossed_nested()
    nested = make_model("y ~ x + (1 | school/cls)", df, group_effects="marginal").design
    assert components(nested).n_components == df["school"].nunique()
    crossed = make_model("y ~ x + (1 | school) + (1 | item)", df, group_effects="marginal").design
    assert components(crossed).n_components == 1
    single = make_model("Reaction ~ Days + (Days | Subject)", sleep).design
    assert components(single).n_components == 18


def test_conditional_draws_have_the_exact_moments():
    df = _crossed_nested(5)
    m = make_model("y ~ x + (x | school) + (1 | item)", df, group_effects="marginal")
    d = m.design
    point = _random_point(m, 2)
    Z, Lam = _dense(m, point)
    sigma = float(_value(m, "sigma", point))
    resid = d.y - _population(m, point)
    M = np.linalg.inv(Lam) + Z.T @ Z / sigma**2
    cov = np.linalg.inv(M)
    mean = cov @ Z.T @ resid / sigma**2
    S = 20000
    cov_inv = []
    for blk in d.blocks:
        sd = _value(m, f"sd_{blk.id}", point)
        if blk.has_cor:
            L = _value(m, f"L_{blk.id}", point)
            c = np.linalg.inv(np.diag(sd) @ L @ L.T @ np.diag(sd))
        else:
            c = np.diag(1 / sd**2)
        cov_inv.append(np.broadcast_to(c, (S, *c.shape)))
    draws = draw_group_effects(
        d,
        components(d),
        np.broadcast_to(resid, (S, d.nobs)),
        np.full(S, sigma**2),
        cov_inv,
        np.random.default_rng(0),
    )
    # same column order as _dense: block by block, level by level, coefficient by coefficient
    u = np.concatenate([r.reshape(S, -1) for r in draws], axis=1)
    se = np.sqrt(np.diag(cov) / S)
    assert np.all(np.abs(u.mean(0) - mean) < 4.5 * se)
    emp = np.cov(u.T)
    assert np.allclose(np.diag(emp), np.diag(cov), rtol=0.06)
    assert np.abs(emp - cov).max() < 0.06 * np.diag(cov).max()


def test_auto_integrates_out_only_where_it_applies(sleep):
    assert make_model("Reaction ~ Days + (Days | Subject)", sleep).group_effects == "marginal"
    d = case_data("bernoulli")
    assert make_model("y ~ x + (1 | g)", d, "bernoulli").group_effects == "noncentred"
    w = case_data("gaussian_weights")
    assert make_model("y | weights(w) ~ x + (1 | g)", w).group_effects == "noncentred"
    with pytest.raises(ValueError, match="only for gaussian models with the identity link"):
        make_model("y ~ x + (1 | g)", case_data("poisson"), "poisson", group_effects="marginal")


def test_signed_scales_have_brms_prior_and_sign_symmetric_density(sleep):
    m = make_model("Reaction ~ Days + (Days | Subject)", sleep)
    free = {v.name for v in m.model.free_RVs}
    assert {"sd_1_signed", "L_1_signed"} <= free and "sd_1" not in free
    point = _random_point(m, 4)
    point["sd_1_signed"] = np.array([-25.0, 6.0])
    # the signed scale's density is the half-t prior of brms over 2 (both signs)
    nu, loc, scale = parse_prior(m.priors.resolve("sd", "Intercept", "Subject").prior).args
    got = m.model.compile_logp(vars=[m.model["sd_1_signed"]], jacobian=False)(point)
    assert got == pytest.approx(np.sum(stats.t(nu, loc, scale).logpdf([-25.0, 6.0])))
    assert np.allclose(_value(m, "sd_1", point), [25.0, 6.0])
    # flipping one sign with R -> S R S: the same covariance, density and brms parameters
    tr = m.model.rvs_to_transforms[m.model["L_1_signed"]]
    L = tr.backward(point["L_1_signed_cpc_cholesky_corr__"]).eval()
    S = np.diag([1.0, -1.0])
    flipped = dict(point)
    flipped["sd_1_signed"] = S @ point["sd_1_signed"]
    flipped["L_1_signed_cpc_cholesky_corr__"] = tr.forward(S @ L @ S).eval()
    # the marginal likelihood's potential (the other one is the shifted intercept's prior)
    name = next(p.name for p in m.model.potentials if not p.name.startswith("population_prior"))
    assert m.model.point_logps(flipped, round_vals=12)[name] == pytest.approx(
        m.model.point_logps(point, round_vals=12)[name], rel=1e-12
    )
    for pt_ in (point, flipped):
        Lk = _value(m, "L_1", pt_)
        assert (Lk @ Lk.T)[1, 0] == pytest.approx(-(L @ L.T)[1, 0])  # cor = sign(s0 s1) R
        assert np.allclose(_value(m, "sd_1", pt_), [25.0, 6.0])


def test_exponential_sd_prior_is_signed_as_double_exponential(sleep):
    from bayesml import prior

    m = make_model(
        "Reaction ~ Days + (Days | Subject)", sleep, prior=prior("exponential(0.1)", class_="sd")
    )
    point = _random_point(m, 5)
    point["sd_1_signed"] = np.array([-12.0, 3.0])
    got = m.model.compile_logp(vars=[m.model["sd_1_signed"]], jacobian=False)(point)
    # half the exponential density at |s|, for each sign
    expected = np.sum(stats.expon(scale=10).logpdf([12.0, 3.0]) - np.log(2))
    assert got == pytest.approx(expected)
    assert "sd_1_signed[Days] ~ double_exponential(0, 10);" in m.code()
    assert "sd_1[Days] = |sd_1_signed[Days]| ~ exponential(0.1)  <lower=0>" in m.code()


def test_sd_priors_without_a_signed_form_stay_on_the_log_scale(sleep):
    from bayesml import prior

    m = make_model(
        "Reaction ~ Days + (Days | Subject)", sleep, prior=prior("gamma(2, 0.1)", class_="sd")
    )
    free = {v.name for v in m.model.free_RVs}
    assert "sd_1" in free and "sd_1_signed" not in free


def test_partially_integrated_density_is_the_exact_marginal_of_those_blocks(monkeypatch):
    """Where integrating every block out is too large, the blocks that fit are integrated out
    and the others stay non-centred: the density is then N(eta + Z_other r_other, σ²I +
    Z_int Λ Z_intᵀ), here with the crossed design's limit lowered so that only one fits."""
    from bayesml import effects

    df = _crossed_nested()
    full = make_model("y ~ x + (1 | school) + (1 | item)", df, group_effects="marginal")
    assert full.integrated == (1, 2)
    monkeypatch.setattr(effects, "MARGINAL_MAX_FLOPS", 100.0)  # one component of 14: 915
    m = make_model("y ~ x + (1 | school) + (1 | item)", df)
    # school has 20 rows per level, item 15: the data-rich factor is integrated out
    assert m.group_effects == "marginal" and m.integrated == (1,)
    free = {v.name for v in m.model.free_RVs}
    assert "z_2" in free and "z_1" not in free
    point = _random_point(m, 6)
    school, item = m.design.blocks
    Z = np.column_stack([school.Z[:, 0] * (school.index == j) for j in range(school.n_levels)])
    lam = float(_value(m, "sd_1", point)[0]) ** 2 * np.eye(school.n_levels)
    r_item = _value(m, "r_2", point)[:, 0]
    sigma = float(_value(m, "sigma", point))
    mean = _population(m, point) + r_item[item.index]
    cov = sigma**2 * np.eye(m.design.nobs) + Z @ lam @ Z.T
    expected = stats.multivariate_normal.logpdf(m.design.y, mean, cov)
    # the marginal likelihood's potential (the other one is the shifted intercept's prior)
    name = next(p.name for p in m.model.potentials if not p.name.startswith("population_prior"))
    assert m.model.point_logps(point, round_vals=12)[name] == pytest.approx(expected, rel=1e-10)
    assert "r_1 = " not in m.code() and "r_2 = (diag(sd_2) * z_2)'" in m.code()


def test_marginal_refuses_by_size_when_no_block_fits(monkeypatch):
    from bayesml import effects

    monkeypatch.setattr(effects, "MARGINAL_MAX_FLOPS", 0.0)
    df = _crossed_nested()
    assert make_model("y ~ x + (1 | school)", df).group_effects == "noncentred"
    with pytest.raises(
        ValueError,
        match=r"No block of varying effects is small enough .*"
        r"its largest factorisation has 1 effects \(2 flops per evaluation\)",
    ):
        make_model("y ~ x + (1 | school)", df, group_effects="marginal")


def _crossed(n_a: int, n_b: int, rows: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n_a, rows), rng.integers(0, n_b, rows)
    y = rng.normal(0, 0.6, n_a)[a] + rng.normal(0, 0.4, n_b)[b] + rng.normal(size=rows)
    return pd.DataFrame({"y": y, "a": a.astype(str), "b": b.astype(str)})


def test_nesting_of_grouping_factors():
    from bayesml.effects import nested

    df = _crossed_nested()
    school, cls, item = make_model(
        "y ~ x + (1 | school) + (1 | cls) + (1 | item)", df
    ).design.blocks
    assert nested(cls, school) and not nested(school, cls)
    assert nested(school, school)
    assert not nested(item, school) and not nested(school, item)


def test_crossed_factors_are_integrated_out_together_only_into_small_components():
    """Integrating crossed factors out together makes one factorisation of all their levels;
    beyond MARGINAL_MAX_CROSSED effects the data-rich factor alone is integrated out (the
    other stays non-centred), while nested factors are integrated out together."""
    from bayesml.effects import MARGINAL_MAX_CROSSED

    small = make_model("y ~ 1 + (1 | a) + (1 | b)", _crossed(10, 8, 200))
    assert small.integrated == (1, 2) and 18 <= MARGINAL_MAX_CROSSED
    large = make_model("y ~ 1 + (1 | a) + (1 | b)", _crossed(14, 11, 250))
    # b has 22.7 rows per level, a 17.9: b is integrated out, a keeps z_1
    assert large.group_effects == "marginal" and large.integrated == (2,)
    assert "z_1" in {v.name for v in large.model.free_RVs}
    rng = np.random.default_rng(1)
    school = np.repeat(np.arange(6), 150)
    cls = school * 30 + np.tile(np.repeat(np.arange(30), 5), 6)  # 31 effects per school
    nest = pd.DataFrame({"y": rng.normal(size=900), "s": school, "c": cls})
    assert make_model("y ~ 1 + (1 | s) + (1 | c)", nest).integrated == (1, 2)


def test_crossed_model_at_75k_rows_integrates_out_its_data_rich_factor():
    """The InstEval-sized crossed model: integrating all 4,128 effects out would need 2e10
    flops per evaluation; lecturers (65 rows each, nested in departments) with the 28
    department × service cells would be 14 components of about 82 effects (2.6e6 flops, a
    gradient 6x as costly as the non-centred model's); the cells alone (2,600 rows each, where
    non-centred effects mix worst) are integrated out, the lecturers and the 2,972 students
    (25 rows each) stay non-centred."""
    from bayesml.effects import MARGINAL_MAX_FLOPS, integrated_blocks
    from bayesml.marginal import marginal_cost

    from .simulate_scale import simulate

    df = simulate("crossed_75k")
    m = make_model("y ~ 1 + (1 | s) + (1 | d) + (1 | dept:service)", df, group_effects="noncentred")
    d = m.design
    whole = marginal_cost(d)
    assert whole.max_effects == 2972 + 1128 + 28
    assert whole.cholesky_flops > 2e10
    assert [b.group for b in d.blocks] == ["s", "d", "dept:service"]
    assert integrated_blocks(d) == (3,)
    lecturers_and_cells = marginal_cost(replace(d, blocks=d.blocks[1:]))
    assert lecturers_and_cells.max_effects < 150
    assert 2e6 < lecturers_and_cells.cholesky_flops
    assert MARGINAL_MAX_FLOPS < lecturers_and_cells.cholesky_flops
    assert marginal_cost(replace(d, blocks=d.blocks[2:])).max_effects == 1


def test_a_nested_components_classes_come_before_their_school_and_start_its_envelope():
    """Effects ordered by how many effects share their rows: each class first, its school
    last, so a class's rows of M are zero left of the class itself (``Batch.envelope``), and
    the Cholesky loop skips them."""
    df = _crossed_nested()
    design = make_model("y ~ x + (1 | school/cls)", df, group_effects="marginal").design
    school = [i for i, blk in enumerate(design.blocks) if blk.group == "school"]
    assert len(school) == 1 and len(design.blocks) == 2
    for b in components(design).batches:
        envelope = b.envelope
        levels, rows, pos = b.where[school[0]]
        for r, p in zip(rows, pos[:, 0], strict=True):
            n_real = (b.pad_eye[r].diagonal() == 0).sum()
            assert p == n_real - 1  # the school's effect is the component's last
            assert envelope[r, p] == 0  # it shares observations with every class
            classes = np.arange(n_real - 1)
            np.testing.assert_array_equal(envelope[r, classes], classes)
        # padded slots start at their own diagonal
        padded = b.pad_eye.diagonal(axis1=1, axis2=2) == 1
        np.testing.assert_array_equal(envelope[padded], np.nonzero(padded)[1])
