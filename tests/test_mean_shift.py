"""Population-level effects sampled shifted by their varying effects' means
(``bayesml.mean_shift``): which columns are shifted, and that the log density is brms's
model's exactly (the shift has unit Jacobian and the priors are evaluated at ``b``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bayesml import bf, make_model, prior
from bayesml.model import build_model
from bayesml.sampling import sample_prior_only


def _data(seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 90
    d = pd.DataFrame(
        {
            "x": rng.uniform(0, 9, n).round(2),
            "z": rng.normal(size=n).round(3),
            "g": [f"g{i % 15:02d}" for i in range(n)],
            "h": [f"h{i % 7}" for i in range(n)],
        }
    )
    d["y"] = rng.poisson(np.exp(0.3 + 0.1 * d["x"]))
    d["w"] = np.round(1 + 0.5 * d["x"] + rng.normal(size=n), 3)
    return d


def _plan(bm):
    return {
        dpar: ({c: sorted(p) for c, p in s.slopes.items()}, sorted(s.intercept))
        for dpar, s in bm.graph["mean_shift"].items()
    }


def test_the_columns_a_non_centred_block_repeats_are_shifted():
    d = _data()
    bm = make_model("y ~ x + z + (x | g)", d, family="poisson")
    # slope x (position 0) by block 1's column 1, the intercept by its column 0; z has no
    # varying effect
    assert _plan(bm) == {"mu": ({0: [(1, 1)]}, [(1, 0)])}
    free = {v.name for v in bm.model.free_RVs}
    assert {"b_shifted", "Intercept_shifted"} <= free and not {"b", "Intercept"} & free
    # crossed factors both shift the intercept
    assert _plan(make_model("y ~ x + (1 | g) + (1 | h)", d, family="poisson")) == {
        "mu": ({}, [(1, 0), (2, 0)])
    }
    # no population intercept: only the slope; no population slope: only the intercept
    assert _plan(make_model("y ~ 0 + x + (1 + x | g)", d, family="poisson")) == {
        "mu": ({0: [(1, 1)]}, [])
    }
    assert _plan(make_model("y ~ 1 + (1 + x | g)", d, family="poisson")) == {"mu": ({}, [(1, 0)])}
    # a varying effect of another column shifts nothing
    assert _plan(make_model("y ~ 1 + x + (0 + z | g)", d, family="poisson")) == {}


def test_distributional_blocks_shift_each_predictor_by_its_own_columns():
    d = _data()
    bm = make_model(bf("w ~ x + (1 |p| g)", sigma="~ x + (1 |p| g)"), d, group_effects="noncentred")
    assert _plan(bm) == {"mu": ({}, [(1, 0)]), "sigma": ({}, [(1, 1)])}
    assert {"Intercept_shifted", "Intercept_sigma_shifted"} <= {v.name for v in bm.model.free_RVs}


def test_nothing_is_shifted_where_it_cannot_be():
    d = _data()
    bounded = prior("normal(0, 1)", class_="b", lb=0)
    bm = make_model("y ~ x + (x | g)", d, family="poisson", prior=bounded)
    assert bm.graph["mean_shift"] == {}
    assert "b" in {v.name for v in bm.model.free_RVs}
    # integrated-out effects (Gaussian marginal model) have no ridge to remove
    assert make_model("w ~ x + (x | g)", d).graph["mean_shift"] == {}


def _log_density_pair(bm, seed: int):
    """The shifted model's log density at a random point, and brms's model's (built without
    the shift) at the same parameters."""
    shifted = bm.model
    plain = build_model(bm.design, bm.family, bm.priors, bm.group_effects, mean_shift=False)
    rng = np.random.default_rng(seed)
    point = {k: rng.normal(scale=0.7, size=np.shape(v)) for k, v in shifted.initial_point().items()}
    names = [v.name for v in plain.free_RVs if v.name not in shifted.named_vars or
             shifted[v.name] not in shifted.free_RVs]  # fmt: skip

    def computed_var(name):  # a slope with a prior of its own is an element of b
        if name in shifted.named_vars:
            return shifted[name]
        coefs = list(shifted.coords["b_coef"])
        return shifted["b"][coefs.index(name.removeprefix("b_"))]

    computed = shifted.compile_fn(
        shifted.replace_rvs_by_values([computed_var(n) for n in names]),
        inputs=shifted.value_vars, on_unused_input="ignore", mode="FAST_COMPILE",
    )(point)  # fmt: skip
    plain_point = {k: v for k, v in point.items() if k in {x.name for x in plain.value_vars}}
    for name, value in zip(names, computed, strict=True):
        rv = plain[name]
        transform = plain.rvs_to_transforms.get(rv)
        value_var = plain.rvs_to_values[rv]
        plain_point[value_var.name] = (
            value if transform is None else transform.forward(value, *rv.owner.inputs).eval()
        )
    fast = {"mode": "FAST_COMPILE"}
    return shifted.compile_logp(**fast)(point), plain.compile_logp(**fast)(plain_point)


@pytest.mark.parametrize(
    "formula, family, priors",
    [
        ("y ~ x + z + (x | g)", "poisson", None),
        ("y ~ x + (1 | g) + (1 | h)", "poisson", None),
        # priors of their own on each slope and the intercept, evaluated at b
        (
            "y ~ x + z + (x + z | g)",
            "poisson",
            prior("normal(0.1, 0.5)", class_="b", coef="x")
            + prior("student_t(4, 0, 2)", class_="b", coef="z")
            + prior("normal(1, 2)", class_="Intercept"),
        ),
        ("y ~ 0 + x + (1 + x | g)", "poisson", prior("normal(0, 1)", class_="b")),
    ],
)
def test_the_shift_leaves_the_log_density_of_brms_model(formula, family, priors):
    bm = make_model(formula, _data(), family=family, prior=priors)
    assert bm.graph["mean_shift"]
    for seed in (1, 2):
        got, expected = _log_density_pair(bm, seed)
        assert np.isfinite(expected)
        assert got == pytest.approx(expected, rel=1e-10, abs=1e-8)


def test_a_distributional_shift_leaves_the_log_density_of_brms_model():
    bm = make_model(
        bf("w ~ x + (1 + x |p| g)", sigma="~ x + (1 |p| g)"), _data(), group_effects="noncentred"
    )
    got, expected = _log_density_pair(bm, 3)
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-8)


def test_prior_draws_come_from_the_unshifted_priors():
    bm = make_model(
        "y ~ x + (x | g)", _data(), family="poisson",
        prior=prior("normal(0.5, 2)", class_="b") + prior("normal(-1, 0.5)", class_="Intercept"),
    )  # fmt: skip
    assert bm.graph["mean_shift"]
    draws = sample_prior_only(bm, chains=2, iter=4000, seed=3)["posterior"]
    b = draws["b"].values.ravel()
    # 4000 independent draws: the mean within 4 standard errors, the sd within 5%
    assert abs(b.mean() - 0.5) < 4 * 2 / np.sqrt(b.size)
    assert b.std() == pytest.approx(2.0, rel=0.05)
    icpt = draws["Intercept"].values.ravel()
    assert abs(icpt.mean() + 1.0) < 4 * 0.5 / np.sqrt(icpt.size)
