"""Many fits of one model: kfold() against brms's kfold() on the same folds
(tests/reference/brms_kfold.json, tools/brms_kfold_reference.R), brm_multiple()'s combined
chains, and both on a real Dask cluster (a LocalCluster's scheduler and worker processes)
giving what they give here."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import bayesml as bm
from bayesml.refit import kfold_split_random

REFERENCE = Path(__file__).parent / "reference" / "brms_kfold.json"
SHORT = dict(chains=2, iter=400, seed=11, progressbar=False)


def test_random_folds_are_balanced_reproducible_and_checked():
    folds = kfold_split_random(10, 183, seed=4)
    sizes = np.bincount(folds)[1:]
    assert sizes.min() >= 18 and sizes.max() <= 19 and sizes.sum() == 183
    assert np.array_equal(folds, kfold_split_random(10, 183, seed=4))
    assert not np.array_equal(folds, kfold_split_random(10, 183, seed=5))
    with pytest.raises(ValueError, match="K must be a whole number between 2 and the 5"):
        kfold_split_random(6, 5)


@pytest.fixture(scope="module")
def sleep_fit():
    sleep = bm.datasets.load("sleepstudy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.brm("Reaction ~ Days + (Days | Subject)", sleep, seed=1, progressbar=False)


@pytest.mark.slow
def test_kfold_elpd_agrees_with_brms_on_the_same_folds(sleep_fit):
    """Both brms runs (seeds 1 and 2) on R's folds differ by their Monte Carlo error; ours
    must lie within four times the spread of brms's two runs (and 1.5 elpd)."""
    ref = json.loads(REFERENCE.read_text())
    folds = np.asarray(ref["folds"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kf = bm.kfold(sleep_fit, folds=folds, seed=1)
    runs = [r["elpd_kfold"] for r in ref["runs"]]
    spread = abs(runs[0] - runs[1])
    assert abs(kf.elpd_kfold - np.mean(runs)) <= max(4 * spread, 1.5), (kf, runs)
    se = ref["runs"][0]["se_elpd_kfold"]
    assert kf.estimates.loc["elpd_kfold", "SE"] == pytest.approx(se, rel=0.1)
    pointwise = np.mean([r["pointwise"] for r in ref["runs"]], axis=0)
    assert np.corrcoef(kf.pointwise, pointwise)[0, 1] > 0.99
    assert kf.estimates.loc["kfoldic", "Estimate"] == pytest.approx(-2 * kf.elpd_kfold)
    assert "Based on 10-fold cross-validation" in str(kf)


@pytest.fixture(scope="module")
def dask_executor():
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.slow
def test_kfold_and_brm_multiple_on_a_dask_cluster_equal_the_local_runs(dask_executor):
    sleep = bm.datasets.load("sleepstudy")
    client = dask_executor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, **SHORT)
        local = bm.kfold(fit, K=4, seed=2)
        remote = bm.kfold(fit, K=4, seed=2, executor=client.get_executor())
    np.testing.assert_allclose(remote.pointwise, local.pointwise, rtol=1e-10)
    # a worker compiles the folds' model (all of 135 rows) once, however many folds it fits
    compiled = client.run(lambda: len(__import__("bayesml").sampling._COMPILED))
    assert max(compiled.values()) == 1

    noisy = sleep.assign(Reaction=sleep["Reaction"] + np.random.default_rng(1).normal(0, 5, 180))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        multi = bm.brm_multiple(
            "Reaction ~ Days + (1 | Subject)", [sleep, noisy], executor=client.get_executor(),
            chains=2, iter=400, seed=11,
        )  # fmt: skip
        alone = [
            bm.brm("Reaction ~ Days + (1 | Subject)", d, chains=2, iter=400, seed=11 + i,
                   prior=multi.model.priors, progressbar=False)
            for i, d in enumerate([sleep, noisy])
        ]  # fmt: skip
    assert multi.posterior.sizes["chain"] == 4
    assert multi.settings.chains == 4
    pooled = np.concatenate([f.draws("b_Days") for f in alone])
    np.testing.assert_allclose(np.sort(multi.draws("b_Days")), np.sort(pooled), rtol=1e-10)
    assert list(multi.rhats_per_dataset.index) == ["data1", "data2"]
    assert "Draws: 4 chains" in str(multi.summary())
