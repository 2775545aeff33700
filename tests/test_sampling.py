"""The sampling stage: one chain, thinning, interrupts, argument checks, convergence warnings."""

from __future__ import annotations

import select
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import bayesml as bm
from bayesml.sampling import SamplerSettings, check_settings, convergence_messages
from bayesml.stats import diagnostics_table, rhat

ROOT = Path(__file__).resolve().parents[1]


def test_one_chain_returns_a_fit_with_its_draws(sleep):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        fit = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, chains=1, iter=400, seed=3)
    assert fit.posterior.sizes["chain"] == 1 and fit.posterior.sizes["draw"] == 200
    diag = fit.diagnostics()
    # split R-hat is defined for one chain (its two halves), as in brms
    assert np.isfinite(diag.loc["b_Days", "Rhat"])
    days = fit.draws("b_Days")
    assert diag.loc["b_Days", "Rhat"] == pytest.approx(rhat(days[None, :]))
    text = str(fit.summary())
    assert "Draws: 1 chains, each with iter = 400; warmup = 200; thin = 1;" in text
    assert "total post-warmup draws = 200" in text


def test_thinning_keeps_every_nth_draw(sleep):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bm.ConvergenceWarning)
        full = bm.brm("Reaction ~ Days", sleep, chains=2, iter=600, seed=8, progressbar=False)
        thin = bm.brm(
            "Reaction ~ Days", sleep, chains=2, iter=600, thin=3, seed=8, progressbar=False
        )
    assert thin.posterior.sizes["draw"] == 100 and thin.settings.total_draws == 200
    np.testing.assert_array_equal(
        thin.posterior["b_Days"].values, full.posterior["b_Days"].values[:, ::3]
    )
    assert "thin = 3;" in str(thin.summary()) and "total post-warmup draws = 200" in str(
        thin.summary()
    )
    assert thin.posterior_epred().shape == (200, 180)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": -5}, "seed must lie in [0, 2**32), got -5."),
        ({"seed": 1.5}, "seed must be a whole number in [0, 2**32) or None, got 1.5."),
        ({"seed": "1"}, "seed must be a whole number in [0, 2**32) or None, got '1'."),
        ({"chains": 0}, "chains must be at least 1, got 0."),
        ({"chains": 2.0}, "chains must be a whole number, got 2.0."),
        ({"iter": 100, "warmup": 100}, "warmup must lie in [0, iter); got warmup=100, iter=100."),
        ({"thin": 0}, "thin must be at least 1, got 0."),
        ({"iter": 10, "thin": 20}, "thin = 20 keeps no draw of the 5 post-warmup iterations."),
    ],
)
def test_sampler_arguments_are_checked_before_anything_is_built(kwargs, message):
    args = {"chains": 4, "iter": 2000, "warmup": None, "thin": 1, "seed": None, **kwargs}
    with pytest.raises(ValueError) as err:
        check_settings(**args)
    assert str(err.value) == message


def test_brm_checks_the_seed_before_sampling(sleep, monkeypatch):
    import importlib

    brm_module = importlib.import_module("bayesml.brm")
    monkeypatch.setattr(brm_module, "make_model", lambda *a, **k: pytest.fail("model built"))
    with pytest.raises(ValueError, match=r"seed must lie in \[0, 2\*\*32\), got -5"):
        bm.brm("Reaction ~ Days", sleep, seed=-5)


# -- convergence warnings: each fires on draws that deserve it, with its numbers ----------------


def _posterior(x: np.ndarray) -> xr.Dataset:
    return xr.Dataset({"theta": (("chain", "draw"), x)})


def test_convergence_messages_name_rhat_and_ess_with_their_values():
    rng = np.random.default_rng(1)
    # chains stuck at different places: R-hat far above 1.01, ESS tiny
    stuck = rng.normal(size=(4, 500)) * 0.1 + np.array([0.0, 0.0, 3.0, 3.0])[:, None]
    msgs = convergence_messages(_posterior(stuck), None)
    diag = diagnostics_table(_posterior(stuck))
    assert msgs[0] == (
        f"The largest R-hat is {diag.loc['theta', 'Rhat']:.3f} (for theta), indicating chains "
        "have not mixed. Running more iterations may help."
    )
    assert msgs[1].startswith("Bulk Effective Samples Size (ESS) is too low: ")
    assert msgs[1].endswith("for theta (below 400). Running more iterations may help.")
    assert msgs[2].startswith("Tail Effective Samples Size (ESS) is too low: ")
    # independent draws: no message
    assert convergence_messages(_posterior(rng.normal(size=(4, 500))), None) == []


def test_convergence_messages_count_divergences_and_tree_depth():
    rng = np.random.default_rng(2)
    stats = xr.Dataset(
        {
            "diverging": (("chain", "draw"), np.arange(2000).reshape(4, 500) % 100 == 0),
            "maxdepth_reached": (("chain", "draw"), np.arange(2000).reshape(4, 500) < 3),
        }
    )
    msgs = convergence_messages(_posterior(rng.normal(size=(4, 500))), stats)
    assert msgs == [
        "There were 20 divergent transitions after warmup. Increasing target_accept above 0.8 "
        "may help.",
        "There were 3 transitions after warmup that exceeded the maximum treedepth. Increase "
        "max_treedepth above 10.",
    ]


def test_convergence_messages_on_one_chain_and_constant_draws():
    rng = np.random.default_rng(3)
    post = xr.Dataset(
        {
            "a": (("chain", "draw"), rng.normal(size=(1, 1000))),
            "fixed": (("chain", "draw"), np.ones((1, 1000))),
        }
    )
    assert convergence_messages(post, None) == []


def test_brm_warns_when_a_short_run_has_not_converged(sleep):
    with pytest.warns(bm.ConvergenceWarning) as record:
        bm.brm(
            "Reaction ~ Days + (Days | Subject)",
            sleep,
            chains=2,
            iter=60,
            seed=1,
            progressbar=False,
            group_effects="noncentred",
        )
    texts = [str(w.message) for w in record]
    assert any(t.startswith("Bulk Effective Samples Size (ESS) is too low") for t in texts)


def test_a_fit_of_an_interrupted_run_is_marked_incomplete():
    settings = SamplerSettings(chains=4, iter=2000, warmup=1000, thin=2, completed=301)
    assert settings.incomplete and settings.draws_per_chain == 151
    assert settings.total_draws == 604
    assert not SamplerSettings().incomplete and SamplerSettings().total_draws == 4000


# -- Ctrl-C during sampling --------------------------------------------------------------------

_CHILD = """
import signal, sys, warnings
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in an interactive session
import bayesml as bm

original = bm.sampling.run_nutpie  # called once the model is compiled, to start nutpie
def announce(*args, **kwargs):
    print("SAMPLING", flush=True)
    return original(*args, **kwargs)
bm.sampling.run_nutpie = announce

sleep = bm.datasets.load("sleepstudy")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        fit = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, chains=2, iter={iter},
                     warmup={warmup}, seed=1, progressbar=False, group_effects="noncentred",
                     file={file!r})
    except bm.SamplingInterrupted as err:
        print("NOFIT", err, flush=True)
        sys.exit(0)
for w in caught:
    if issubclass(w.category, bm.InterruptedSamplingWarning):
        print("WARNING", w.message, flush=True)
print("INCOMPLETE", fit.incomplete, fit.posterior.sizes["draw"], fit.settings.total_draws)
print("FINITE", bool((abs(fit.draws("b_Days")) < 1e6).all()))
print(fit.summary().header[-1])
"""


def _interrupt(tmp_path: Path, iter: int, warmup: int, file: str | None) -> list[str]:
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(_CHILD.format(iter=iter, warmup=warmup, file=file)))
    proc = subprocess.Popen(
        [sys.executable, str(script)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # a child that never reaches the sampler fails the test instead of hanging it
    ready, _, _ = select.select([proc.stdout], [], [], 300)
    if not ready:
        proc.kill()
        pytest.fail("the child did not start sampling within 300 s: " + proc.stderr.read())
    line = proc.stdout.readline()
    assert line.strip() == "SAMPLING", line + proc.stderr.read()
    time.sleep(4.0)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out.splitlines()


@pytest.mark.slow
def test_ctrl_c_after_warmup_keeps_the_draws_as_an_incomplete_fit(tmp_path):
    path = tmp_path / "fit.zarr"
    lines = _interrupt(tmp_path, iter=10_000_000, warmup=500, file=str(path))
    warning = [ln for ln in lines if ln.startswith("WARNING")]
    assert len(warning) == 2
    assert warning[0].startswith("WARNING Sampling was interrupted: the fit keeps the ")
    assert warning[0].endswith(
        " of 9999500 post-warmup draws per chain that every chain completed (fit.incomplete "
        "is True)."
    )
    assert warning[1] == f"WARNING The interrupted fit was not saved to '{path}'."
    state = next(ln for ln in lines if ln.startswith("INCOMPLETE")).split()
    kept = int(warning[0].split("keeps the ")[1].split()[0])
    assert state[1] == "True" and int(state[2]) == kept and int(state[3]) == 2 * kept
    assert 0 < kept < 9_999_500
    assert "FINITE True" in lines
    assert (
        lines[-1] == f"         (interrupted: {kept} of 9999500 post-warmup iterations per chain)"
    )
    assert not path.exists() and list(tmp_path.iterdir()) == [tmp_path / "child.py"]


@pytest.mark.slow
def test_ctrl_c_during_warmup_stops_with_one_line(tmp_path):
    lines = _interrupt(tmp_path, iter=20_000_000, warmup=10_000_000, file=None)
    assert lines[-1] == (
        "NOFIT Sampling was interrupted during warmup; no post-warmup draw was made."
    )


# -- compiled models reused within a process ---------------------------------------------------


def test_a_second_fit_of_the_same_model_compiles_nothing_and_gives_the_same_draws(monkeypatch):
    from bayesml import sampling

    sleep = bm.datasets.load("sleepstudy")
    calls = []
    compile_ = sampling.compile_numba

    def counting(model, key):
        calls.append(model)
        return compile_(model, key)

    monkeypatch.setattr(sampling, "compile_numba", counting)
    monkeypatch.setattr(sampling, "_COMPILED", type(sampling._COMPILED)())
    kw = dict(chains=2, iter=300, seed=3, progressbar=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **kw)
        second = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **kw)
        assert len(calls) == 1
        np.testing.assert_array_equal(first.draws("b_Days"), second.draws("b_Days"))
        # new response values (same default priors, same shape) go in as data
        moved = sleep.assign(Reaction=sleep["Reaction"] + 0.001)
        shifted = bm.brm("Reaction ~ Days + (1 | Subject)", moved, **kw)
        assert len(calls) == 1
        assert not np.array_equal(first.draws("b_Intercept"), shifted.draws("b_Intercept"))
        # a prior that changes the graph's constants is compiled anew
        p = bm.prior("normal(0, 5)", class_="b")
        third = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, prior=p, **kw)
        assert len(calls) == 2
    assert not np.array_equal(first.draws("b_Days"), third.draws("b_Days"))


def test_update_with_new_data_of_the_same_shape_compiles_nothing(monkeypatch):
    """brms's update(newdata=): the prior table, settings and seed are kept; the slopes keep
    the first fit's sampler coordinates, so that new covariate values are data."""
    from bayesml import sampling

    sleep = bm.datasets.load("sleepstudy")
    calls = []
    compile_ = sampling.compile_numba
    monkeypatch.setattr(
        sampling, "compile_numba", lambda m, key: calls.append(m) or compile_(m, key)
    )
    monkeypatch.setattr(sampling, "_COMPILED", type(sampling._COMPILED)())
    f = "Reaction ~ Days + (1 | Subject)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = bm.brm(f, sleep, chains=2, iter=600, seed=3, progressbar=False)
        doubled = sleep.assign(Days=sleep["Days"] * 2)
        updated = first.update(newdata=doubled)
        assert len(calls) == 1
        assert updated.model.priors is first.model.priors
        assert (updated.settings.chains, updated.settings.iter, updated.seed) == (2, 600, 3)
        # the same model on x 2 the days: half the slope, within Monte Carlo error
        b1, b2 = first.draws("b_Days"), updated.draws("b_Days")
        assert abs(b2.mean() - b1.mean() / 2) < 0.25 * b2.std()
        assert b2.std() == pytest.approx(b1.std() / 2, rel=0.2)
        # without the first fit's coordinates the slope's map is another constant
        bm.brm(f, doubled, chains=2, iter=600, seed=3, progressbar=False)
        assert len(calls) == 2
        # a new formula: brms's default priors for it, compiled anew
        other = bm.update(first, "Reaction ~ Days + (Days | Subject)", iter=300)
        assert len(calls) == 3
        assert other.settings.iter == 300
        assert "sd_Subject__Days" in other.posterior


def test_fingerprint_sees_constants_data_shapes_and_coordinates():
    from bayesml.sampling import model_fingerprint

    sleep = bm.datasets.load("sleepstudy")
    f = "Reaction ~ Days + (1 | Subject)"
    base = model_fingerprint(bm.make_model(f, sleep).model)
    assert model_fingerprint(bm.make_model(f, sleep).model) == base
    # Days enters as centred data, its slope in coordinates from its scale (a constant)
    assert model_fingerprint(bm.make_model(f, sleep.assign(Days=sleep.Days * 2)).model) != base
    assert model_fingerprint(bm.make_model(f, sleep.iloc[:-1]).model) != base
    renamed = sleep.assign(Subject="s" + sleep["Subject"].astype(str))
    assert model_fingerprint(bm.make_model(f, renamed).model) != base


def test_jax_backend_samples_the_same_posterior_as_numba():
    """nutpie with JAX evaluating the log density and gradient (``backend="jax"``): the same
    posterior as the Numba backend within Monte Carlo error; its compiled functions hold the
    data as constants, so new data compile again rather than reuse stale values."""
    pytest.importorskip("jax")
    sleep = bm.datasets.load("sleepstudy")
    kw = dict(chains=2, iter=600, seed=5, progressbar=False)
    # correlated effects: the fused Cholesky operation's JAX implementation (bayesml.cholesky_terms)
    f = "Reaction ~ Days + (Days | Subject)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jax_fit = bm.brm(f, sleep, backend="jax", **kw)
        numba_fit = bm.brm(f, sleep, **kw)
        moved = bm.brm(f, sleep.assign(Reaction=sleep["Reaction"] + 100), backend="jax", **kw)
    for var in ("b_Intercept", "b_Days", "sigma", "sd_Subject__Intercept", "sd_Subject__Days"):
        a, b = jax_fit.draws(var), numba_fit.draws(var)
        assert abs(a.mean() - b.mean()) < 0.25 * b.std(), var
    shift = moved.draws("b_Intercept").mean() - jax_fit.draws("b_Intercept").mean()
    assert shift == pytest.approx(100, abs=0.5 * jax_fit.draws("b_Intercept").std())
    with pytest.raises(ValueError, match="backend must be one of numba, jax; got 'cuda'"):
        bm.brm(f, sleep, backend="cuda", **kw)


def test_a_fit_without_progress_bar_writes_nothing():
    # nutpie's "NUTS[nutpie]" line, Numba's and PyTensor's notes and progress all stay silent;
    # brms's default length, so that no convergence warning is due (2 chains of 600
    # iterations reached R-hat 1.011 at one seed)
    script = (
        "import bayesml as bm\n"
        "fit = bm.brm('Reaction ~ Days + (Days | Subject)', bm.datasets.load('sleepstudy'),\n"
        "             seed=3, progressbar=False)\n"
        "fit.summary(); fit.pp_check(); fit.plot()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (done.stdout, done.stderr) == ("", "")


def test_the_low_rank_adaptation_stops_where_its_tuning_cost_climbs():
    import pymc as pm

    from bayesml.sampling import LOW_RANK_MAX_PARAMETERS, nutpie_adaptation

    with pm.Model() as model:
        pm.Normal("b", 0, 1, shape=3)
    # 121 sampled values fitted in 3.5 s with the low-rank adaptation, 133 in 17-24 s
    # (benchmarks/README.md); the model's own size is counted when not given
    low_rank = {"adaptation": "low_rank", "mass_matrix_update_freq": 2**31}
    assert LOW_RANK_MAX_PARAMETERS == 121
    assert nutpie_adaptation(model) == low_rank
    assert nutpie_adaptation(model, n_dim=121) == low_rank
    assert nutpie_adaptation(model, n_dim=122) == {}


def test_correlated_noncentred_blocks_get_stan_kind_of_diagonal_adaptation(sleep):
    from bayesml import make_model, prior
    from bayesml.sampling import nutpie_adaptation

    glmm = sleep.assign(fast=(sleep["Reaction"] < 300).astype(int))
    draw_diag = {"adaptation": "draw_diag"}
    low_rank = {"adaptation": "low_rank", "mass_matrix_update_freq": 2**31}

    def chosen(formula, data=glmm, **kw):
        return nutpie_adaptation(make_model(formula, data, **kw).model)

    assert chosen("fast ~ Days + (Days | Subject)", family="bernoulli") == draw_diag
    # brms's own coordinates (log-scale sds under a prior without a signed form) too
    assert chosen(
        "fast ~ Days + (Days | Subject)", family="bernoulli",
        prior=prior("gamma(2, 1)", class_="sd"),
    ) == draw_diag  # fmt: skip
    # uncorrelated or integrated-out effects keep the adaptation chosen by size
    assert chosen("fast ~ Days + (Days || Subject)", family="bernoulli") == low_rank
    assert chosen("Reaction ~ Days + (Days | Subject)", data=sleep) == low_rank


def test_nuts_settings_given_replace_the_adaptation_chosen_by_size():
    import pymc as pm

    from bayesml.sampling import nutpie_settings

    with pm.Model() as model:
        pm.Normal("b", 0, 1, shape=3)
    assert nutpie_settings(model, {}) == {
        "adaptation": "low_rank",
        "mass_matrix_update_freq": 2**31,
    }
    # an empty dict is nutpie's defaults (its diagonal adaptation), as the README advises
    assert nutpie_settings(model, {"nuts": {}, "target_accept": 0.9}) == {"target_accept": 0.9}
    assert nutpie_settings(model, {"nuts": {"adaptation": "low_rank"}, "max_treedepth": 12}) == {
        "adaptation": "low_rank",
        "maxdepth": 12,
    }


def test_fingerprint_sees_priors_bounds_and_families_without_building_the_log_density():
    from bayesml.sampling import model_fingerprint

    sleep = bm.datasets.load("sleepstudy")
    f = "Reaction ~ Days + (Days | Subject)"
    variants = {
        "default": {},
        "normal(0, 10)": dict(prior=bm.prior("normal(0, 10)", class_="b")),
        "normal(0, 11)": dict(prior=bm.prior("normal(0, 11)", class_="b")),
        "lb 0": dict(prior=bm.prior("normal(0, 10)", class_="b", lb=0)),
        "lb 1": dict(prior=bm.prior("normal(0, 10)", class_="b", lb=1)),
        "lkj(2)": dict(prior=bm.prior("lkj(2)", class_="cor")),
        "student": dict(family="student"),
        "lognormal": dict(family="lognormal"),
    }
    prints = {
        k: model_fingerprint(bm.make_model(f, sleep, **kw).model) for k, kw in variants.items()
    }
    assert len(set(prints.values())) == len(variants), prints
    # the same model built again: the same digest (nothing in it depends on object identity)
    assert model_fingerprint(bm.make_model(f, sleep).model) == prints["default"]


def test_fingerprint_of_a_custom_density_reads_its_log_density():
    """A CustomDist's Python logp is not in the generative graph: two densities that differ
    only inside that function must not share a compiled model."""
    import pymc as pm

    from bayesml.sampling import model_fingerprint

    def model_with(scale: float) -> pm.Model:
        with pm.Model() as model:
            mu = pm.Normal("mu")
            pm.CustomDist(
                "y", mu, logp=lambda value, m: -(((value - m) / scale) ** 2), observed=np.zeros(3)
            )
        return model

    assert model_fingerprint(model_with(1.0)) != model_fingerprint(model_with(2.0))
    assert model_fingerprint(model_with(1.0)) == model_fingerprint(model_with(1.0))


def _low_rank_draws(compiled, model, **settings):
    from bayesml.sampling import run_nutpie

    idata = run_nutpie(compiled, model, 2, 50, 200, 3, 1, False, settings)
    return idata["posterior"]["b"].values


def test_the_low_rank_update_frequency_reaches_nuts_rs_and_sets_the_tuning_schedule():
    import pymc as pm

    from bayesml.sampling import _start_nutpie, compile_nutpie

    rng = np.random.default_rng(5)
    cov = np.array([[1.0, 0.95, 0.0], [0.95, 1.0, 0.3], [0.0, 0.3, 1.0]])
    y = rng.multivariate_normal(np.zeros(3), cov, size=40)
    with pm.Model() as model:
        b = pm.Normal("b", 0, 5, shape=3)
        pm.MvNormal("y", b, cov=cov, observed=y)
    compiled = compile_nutpie(model)
    run = dict(draws=10, tune=20, chains=1, cores=1, seed=1, progress_bar=False)
    sampler = _start_nutpie(compiled, {"adaptation": "low_rank", "target_accept": 0.9},
                            {"mass_matrix_update_freq": 7}, **run)  # fmt: skip
    nuts = sampler._settings.as_dict()
    sampler.wait()
    assert nuts["adaptation"] == "low_rank"
    assert nuts["settings"]["adapt_options"]["mass_matrix_update_freq"] == 7
    assert nuts["settings"]["adapt_options"]["step_size_settings"]["target_accept"] == 0.9
    assert nuts["settings"]["num_tune"] == 20 and nuts["settings"]["num_draws"] == 10
    # nutpie's own default (every 20 draws) through either route gives the same draws
    plain = _low_rank_draws(compiled, model, adaptation="low_rank")
    same = _low_rank_draws(compiled, model, adaptation="low_rank", mass_matrix_update_freq=20)
    np.testing.assert_array_equal(plain, same)
    # updating only at the adaptation windows' ends is another tuning path
    ends = _low_rank_draws(compiled, model, adaptation="low_rank", mass_matrix_update_freq=2**31)
    assert not np.array_equal(plain, ends)


def test_a_bad_update_frequency_is_refused_before_compiling(monkeypatch):
    from bayesml import sampling

    def no_compiling(*args, **kwargs):
        raise AssertionError("compiled")

    monkeypatch.setattr(sampling, "compile_nutpie", no_compiling)
    sleep = bm.datasets.load("sleepstudy")
    bad = [
        (
            {"mass_matrix_update_freq": 0},
            "nuts\\['mass_matrix_update_freq'\\] must be at least 1, got 0",
        ),
        ({"mass_matrix_update_freq": 2.5}, "must be a whole number, got 2.5"),
        (
            {"adaptation": "flow", "mass_matrix_update_freq": 5},
            "applies to the 'low_rank' and 'diag' adaptations, not 'flow'",
        ),
    ]
    for nuts, message in bad:
        with pytest.raises(ValueError, match=message):
            bm.brm("Reaction ~ Days + (1 | Subject)", sleep, nuts=nuts, progressbar=False)
