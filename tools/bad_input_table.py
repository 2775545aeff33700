"""Render docs/bad-inputs.md: every case of tests/bad_inputs.py with the message it gives today.

    .venv/bin/python tools/bad_input_table.py            (from the project root)

The verdict column says whether the error came as the catalogue expects and which parts of the
input the message names (found in its text, not written by hand).
"""

from __future__ import annotations

import re
import sys
import tempfile
import warnings
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bayesml as bm  # noqa: E402
from tests.bad_inputs import CASES, Context  # noqa: E402

NAMED = [
    ("column", r"[Cc]olumns? '|column named|[Rr]esponse '|successes '"),
    ("term", r"term '|term [\w(]|effects? '"),
    ("place in the formula", r"\n\s*\^"),
    ("row", r"\brows? \d"),
    ("prior", r"[Pp]rior '|class '"),
    ("parameter", r"[Pp]arameter '|[Cc]oefficient '|[Gg]roups? '"),
    ("value given", r"got |\(e\.g\. "),
    ("path", r"'(/|<tmp>)"),
    ("family", r"[Ff]amily '"),
    (
        "way out",
        r"[Pp]ass |[Rr]emove|[Rr]ename|[Cc]onvert|[Mm]ake it|write |[Cc]hoose|[Uu]se |give "
        r"them|name the|[Pp]ut ",
    ),
]


def verdict(case, err: BaseException | None) -> str:
    if err is None:
        return "NO ERROR"
    if not isinstance(err, case.error) or not re.search(case.message, str(err), re.S):
        return f"UNEXPECTED ({type(err).__name__})"
    parts = [name for name, pattern in NAMED if re.search(pattern, str(err))]
    return "clear; names " + ", ".join(parts) if parts else "clear"


def main() -> None:
    sleep = bm.datasets.load("sleepstudy")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        ctx = Context(sleep, Path(tmp))
        for case in CASES:
            err = None
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    case.call(ctx)
                except Exception as e:  # noqa: BLE001 - every outcome is tabulated
                    err = e
            raw = str(err) if err is not None else ""
            verdicts = verdict(case, err)
            msg = " ".join(raw.split())
            msg = msg.replace("|", "\\|").replace(tmp, "<tmp>")
            kind = type(err).__name__ if err is not None else "-"
            rows.append(f"| {case.area} | {case.what} | `{kind}` | {msg} | {verdicts} |")
    text = [
        "# Bad input and the errors it gives",
        "",
        f"Made by `tools/bad_input_table.py` on {date.today().isoformat()} from the catalogue in",
        "`tests/bad_inputs.py`, which `tests/test_bad_inputs.py` checks on every test run. Every",
        "error below is raised before anything is compiled or sampled. The verdict lists the",
        "parts of the input that the message names.",
        "",
        "| area | input | error | message | verdict |",
        "|---|---|---|---|---|",
        *rows,
        "",
    ]
    (ROOT / "docs" / "bad-inputs.md").write_text("\n".join(text))
    bad = [r for r in rows if "UNEXPECTED" in r or "NO ERROR" in r]
    print(f"{len(rows)} cases, {len(bad)} unexpected")


if __name__ == "__main__":
    main()
