"""Notebook displays: HTML tables holding the same numbers as the printed text."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from bayesml.display import html_table, summary_cell
from bayesml.fit import Summary


class _Tables(HTMLParser):
    """Cells of every table, and the text of headings and <pre> blocks."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.captions: list[str] = []
        self.headings: list[str] = []
        self.pre: list[str] = []
        self._cell: list[str] | None = None
        self._where = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag in ("h4", "pre", "caption"):
            self._where, self._cell = tag, []

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None
        elif tag in ("h4", "pre", "caption"):
            text = "".join(self._cell)
            {"h4": self.headings, "pre": self.pre, "caption": self.captions}[tag].append(text)
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> _Tables:
    p = _Tables()
    p.feed(html)
    return p


def test_html_table_formats_numbers_as_the_text_does_and_marks_rhat():
    frame = pd.DataFrame(
        {"Estimate": [1.234, np.nan], "Rhat": [1.0, 1.02], "Bulk_ESS": [1234.4, 88.6]},
        index=["a<b", "c"],
    )
    p = parse(html_table(frame, caption="~g (Number of levels: 3)"))
    assert p.tables[0] == [
        ["", "Estimate", "Rhat", "Bulk_ESS"],
        ["a<b", "1.23", "1.00", "1234"],
        ["c", "NA", "1.02", "89"],
    ]
    assert p.captions == ["~g (Number of levels: 3)"]
    html = html_table(frame)
    assert "a&lt;b" in html  # names are escaped
    assert html.count("font-weight:bold") == 1  # only the R-hat above 1.01
    assert summary_cell("Estimate", -0.004) == "-0.00"


def _summary_values(text: str, row: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(row + " "))
    return line[len(row) :].split()


@pytest.mark.slow
def test_fit_html_holds_every_section_and_number_of_the_printed_summary(seed_fit):
    fit = seed_fit("sleep_full")
    summary = fit.summary()
    text = str(summary)
    p = parse(fit._repr_html_())
    assert p.headings == [
        "Group-Level Effects:",
        "Population-Level Effects:",
        "Family Specific Parameters:",
    ]
    assert p.captions == ["~Subject (Number of levels: 18)"]
    assert p.pre[0].splitlines() == [line.rstrip() for line in summary.header]
    assert "Bulk_ESS" in p.pre[-1]
    # every row of every HTML table is the printed row, cell for cell
    rows = [r for table in p.tables for r in table[1:]]
    assert [r[0] for r in rows] == [
        "sd(Intercept)", "sd(Days)", "cor(Intercept,Days)", "Intercept", "Days", "sigma",
    ]  # fmt: skip
    for r in rows:
        assert r[1:] == _summary_values(text, r[0])
    assert re.search(r"<table", fit._repr_html_()).start() > 0


def test_summary_text_layout_is_unchanged_by_the_sections_refactor():
    table = pd.DataFrame(
        {"Estimate": [0.5], "Est.Error": [0.1], "l-95% CI": [0.3], "u-95% CI": [0.7],
         "Rhat": [1.0], "Bulk_ESS": [1000.0], "Tail_ESS": [900.0]},
        index=["sd(Intercept)"],
    )  # fmt: skip
    fixed = table.rename(index={"sd(Intercept)": "Intercept"})
    family = table.rename(index={"sd(Intercept)": "sigma"})
    s = Summary([" Family: gaussian "], {"g": (3, table), "h": (4, table)}, fixed, family)
    lines = s.lines()
    header = [" Family: gaussian ", "", "Group-Level Effects: ", "~g (Number of levels: 3) "]
    assert lines[:4] == header
    assert lines.count("Group-Level Effects: ") == 1
    assert "~h (Number of levels: 4) " in lines
    assert lines.index("Population-Level Effects: ") < lines.index("Family Specific Parameters: ")
    assert lines[-3].startswith("Draws were sampled using sampling(NUTS).")
    assert parse(s._repr_html_()).headings == [
        "Group-Level Effects:", "Population-Level Effects:", "Family Specific Parameters:",
    ]  # fmt: skip
