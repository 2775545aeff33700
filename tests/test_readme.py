"""Every Python block of README.md runs as written, in order, in one namespace (as a reader
pasting them into a notebook would)."""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_readme_has_its_python_blocks():
    blocks = python_blocks((ROOT / "README.md").read_text())
    assert len(blocks) == 7
    assert blocks[0].startswith("import bayesml as bm")


@pytest.mark.slow
def test_every_readme_block_runs_as_written(tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)  # fit.save("sleep.zarr") writes here
    namespace: dict = {"__name__": "readme"}
    printed = io.StringIO()
    with warnings.catch_warnings(), contextlib.redirect_stdout(printed):
        warnings.simplefilter("ignore")
        for i, block in enumerate(python_blocks((ROOT / "README.md").read_text())):
            try:
                exec(compile(block, f"README.md block {i + 1}", "exec"), namespace)  # noqa: S102
            finally:
                plt.close("all")
    text = printed.getvalue()
    # what the blocks print: brms's prior table, summary and the validated user priors
    # printed in one block (brms's text at R's 80 columns continues source below)
    assert "prior     class      coef   group resp dpar nlpar lb ub       source\n" in text
    assert "(flat)         b      Days                               (vectorized)\n" in text
    assert "Formula: Reaction ~ Days + (Days | Subject)" in text
    assert "normal(0, 1)         b      Days" in text
    ns = namespace
    assert ns["fit2"].posterior.sizes["draw"] == 1000
    assert (tmp_path / "sleep.zarr").is_dir()
    # Reaction + 10 with the first fit's priors: the intercept moves by 10 (lme4: 251.405)
    assert float(ns["fit2"].fixef().loc["Intercept", "Estimate"]) == pytest.approx(261.4, abs=1.5)
    assert ns["rate"].sizes["batch"] == 71
    assert set(ns["curves"].columns) >= {"x", "estimate__"}
