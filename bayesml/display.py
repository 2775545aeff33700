"""HTML for notebooks: the same tables the text output prints, as HTML tables.

Jupyter calls an object's ``_repr_html_``; the plain-text layout (brms's) stays the
``print`` output. Numbers are formatted as in the text (two decimals; ESS whole), missing
values as ``NA``, and an R-hat above 1.01 is marked so that it stands out.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import pandas as pd

__all__ = ["html_table", "html_text", "summary_cell"]

RHAT_MARK = 1.01


def summary_cell(column: str, value) -> str:
    """One cell of a summary table as the text output writes it."""
    if pd.isna(value):
        return "NA"
    if column in ("Bulk_ESS", "Tail_ESS"):
        return f"{value:.0f}"
    if isinstance(value, int | float):
        return f"{value:.2f}"
    return str(value)


def html_table(frame: pd.DataFrame, index: bool = True, caption: str = "") -> str:
    """A DataFrame as a small HTML table with the text output's number formats."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    rows = []
    for name, row in frame.iterrows():
        cells = []
        for column in frame.columns:
            text = html.escape(summary_cell(column, row[column]))
            flagged = column == "Rhat" and not pd.isna(row[column]) and row[column] > RHAT_MARK
            style = ' style="color:#b00020;font-weight:bold"' if flagged else ""
            cells.append(f"<td{style}>{text}</td>")
        label = f"<th>{html.escape(str(name))}</th>" if index else ""
        rows.append(f"<tr>{label}{''.join(cells)}</tr>")
    corner = "<th></th>" if index else ""
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return (
        f'<table class="bayesml">{cap}<thead><tr>{corner}{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def html_text(lines: Sequence[str]) -> str:
    """Lines kept as written (monospace), for headers and notes."""
    return "<pre>" + html.escape("\n".join(line.rstrip() for line in lines)) + "</pre>"
