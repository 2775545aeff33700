"""The ``bayesml`` command line: outputs, files, exit codes and help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesml as bm
from bayesml.cli import main, parse_prior

ROOT = Path(__file__).resolve().parents[1]
FORMULA = "Reaction ~ Days + (1 | Subject)"


def run(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bayesml", *argv], cwd=cwd, capture_output=True, text=True,
        env=dict(os.environ), timeout=600,
    )  # fmt: skip


def test_priors_prints_get_priors_table_with_user_priors(sleep, capsys):
    code = main(["priors", FORMULA, "--data", "sleepstudy",
                 "--prior", "normal(0, 1), class = b, coef = Days"])  # fmt: skip
    assert code == 0
    expected = bm.get_prior(FORMULA, sleep, prior=bm.prior("normal(0, 1)", coef="Days"))
    assert capsys.readouterr().out == str(expected) + "\n"


def test_a_prior_is_read_as_set_priors_arguments():
    spec = parse_prior("student_t(3, 0, 20), class = sd, group = Subject, coef = Days")
    assert spec == bm.prior("student_t(3, 0, 20)", class_="sd", group="Subject", coef="Days")
    assert parse_prior("lkj(2), class = cor") == bm.prior("lkj(2)", class_="cor")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["priors", FORMULA, "--data", "nope.csv"],
         "bayesml priors: --data 'nope.csv' is neither a file nor a dataset of the registry"),
        (["priors", FORMULA, "--data", "sleepstudy", "--prior", "normal(0, 1), klass = b"],
         "'klass = b' is not one of class = ..., coef = ..."),
        (["priors", "Reaction ~ Dayz", "--data", "sleepstudy"], "Dayz"),
        (["summary", "missing.zarr"], "bayesml summary: "),
    ],
)  # fmt: skip
def test_refused_input_exits_1_with_one_line_naming_it(argv, message, capsys, tmp_path):
    os.chdir(tmp_path)
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_usage_errors_exit_2_and_every_command_has_help():
    out = run("bogus")
    assert out.returncode == 2 and "invalid choice: 'bogus'" in out.stderr
    top = run("--help")
    assert top.returncode == 0
    for command in ("priors", "fit", "summary", "predict", "datasets"):
        assert command in top.stdout
        sub = run(command, "--help")
        assert sub.returncode == 0 and sub.stdout.startswith(f"usage: bayesml {command}")
    assert "--newdata" in run("predict", "--help").stdout
    assert "--overwrite" in run("fit", "--help").stdout


def test_datasets_lists_the_registry():
    out = run("datasets", "-v")
    assert out.returncode == 0
    assert out.stdout.splitlines()[0] == "sleepstudy  (bundled; GPL-2)"
    assert "  columns: batch, m, n" in out.stdout
    assert "sha256: d70191d32ee73d3148965f9932300df8d22e197bea59f85b57b8176ac45c6d86" in out.stdout


@pytest.mark.slow
def test_fit_summary_and_predict_round_trip(tmp_path, sleep):
    data = tmp_path / "sleep.csv"
    sleep.to_csv(data, index=False)
    out = run("fit", FORMULA, "--data", str(data), "--chains", "2", "--iter", "400",
              "--seed", "2", "--quiet", "--out", "fit.zarr", cwd=tmp_path)  # fmt: skip
    assert out.returncode == 0, out.stderr
    # warnings (a short run may warn about R-hat) are one line each, without source lines
    assert all(line.startswith("bayesml fit: ") for line in out.stderr.splitlines())
    assert "Formula: Reaction ~ Days + (1 | Subject)" in out.stdout
    assert "Data: sleep (Number of observations: 180)" in out.stdout
    assert out.stdout.rstrip().endswith("Saved to fit.zarr")
    fit = bm.load(tmp_path / "fit.zarr")
    assert fit.settings.chains == 2 and fit.seed == 2
    summary = run("summary", "fit.zarr", "--prob", "0.9", cwd=tmp_path)
    assert summary.returncode == 0
    assert summary.stdout == str(fit.summary(prob=0.9)) + "\n"
    # a second fit to the same --out is refused unless asked
    again = run("fit", FORMULA, "--data", str(data), "--out", "fit.zarr", cwd=tmp_path)
    assert again.returncode == 1
    assert "fit.zarr exists; pass --overwrite" in again.stderr
    sleep.head(4).to_csv(tmp_path / "new.csv", index=False)
    pred = run("predict", "fit.zarr", "--newdata", "new.csv", cwd=tmp_path)
    assert pred.returncode == 0, pred.stderr
    table = pd.read_csv(pd.io.common.StringIO(pred.stdout))
    expected = fit.fitted(sleep.head(4))
    assert list(table.columns) == ["Estimate", "Est.Error", "Q2.5", "Q97.5"]
    np.testing.assert_allclose(table.to_numpy(), expected.to_numpy(), rtol=1e-12)
