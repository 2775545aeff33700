"""The notebooks run from top to bottom in a Jupyter kernel, quietly, and show what they say.

Outputs are kept out of git (checked here); tools/make_notebooks.py writes the seed
document's notebooks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# Text each notebook must show (in its text or HTML outputs).
SHOWS = {
    "01_rats": ["sd(Intercept)", "~batch (Number of levels: 71)",
                "correlation of raw and shrunken rates: 0.9"],
    "02_alcohol": ["~country (Number of levels:", "ICC: 0."],
    "03_sleepstudy": ["cor(Intercept,Days)", "lme4 REML", "elpd_diff"],
    "04_classroom": ["~schoolid:classid2 (Number of levels:", "~schoolid (Number of levels:"],
    "05_blp": ["~participant (Number of levels:", "~spelling (Number of levels:"],
    "06_mathachieve": ["pracad", "ses:himinty", "Post.Prob"],
    "07_bernoulli": ["Family: bernoulli", "Estimate"],
    "08_priors": ["normal(10, 5)", "lkj_corr_cholesky(2)", "b_Days prior draws: mean 10, sd 5"],
    "tour": ["Formula: Reaction ~ Days + (Days | Subject)"],
}  # fmt: skip


def _outputs_text(nb) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                parts.append(out.get("text", ""))
            for key in ("text/plain", "text/html"):
                parts.append(out.get("data", {}).get(key, ""))
    return "\n".join(parts)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_are_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None


def test_every_notebook_is_checked():
    assert {p.stem for p in NOTEBOOKS} == set(SHOWS)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_quietly_and_shows_its_results(path, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    errors = [
        out.get("text", "")
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]
    # no progress lines, no "install ipywidgets", no warnings a reader did not ask for
    assert errors == []
    text = _outputs_text(nb)
    for expected in SHOWS[path.stem]:
        assert expected in text, f"{path.name} does not show {expected!r}"


@pytest.mark.slow
def test_progress_in_a_kernel_is_nutpies_html_without_warnings(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    code = ('import bayesml as bm\nsleep = bm.datasets.load("sleepstudy")\n'
            'fit = bm.brm("Reaction ~ Days + (1 | Subject)", sleep, seed=1)')  # fmt: skip
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3").execute()
    outputs = nb.cells[0]["outputs"]
    html = [o["data"].get("text/html", "") for o in outputs if o["output_type"] == "display_data"]
    assert any("Sampler Progress" in h for h in html)  # nutpie's own HTML progress
    stderr = [o["text"] for o in outputs if o.get("name") == "stderr"]
    assert not any("ipywidgets" in t or "IProgress" in t for t in stderr)
    # anything else on stderr could only be a convergence warning about this fit
    assert all("ConvergenceWarning" in t for t in stderr)
