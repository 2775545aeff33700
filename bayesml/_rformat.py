"""R-compatible number formatting, statistics and table printing.

brms prints with R's conventions; matching its text exactly needs R's rules for
``as.character`` on doubles, ``round``, ``mad`` and the way ``print.data.frame``
right-justifies columns and wraps them at the console width.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

R_CONSOLE_WIDTH = 80


def r_round(x: float, digits: int = 0) -> float:
    """R's ``round(x, digits)`` (R >= 4.0).

    R 4 rounds the decimal value closest to the stored double, ties to even, which is what
    Python's ``round`` does for floats too; the function exists so that callers say which rule
    they follow.
    """
    return round(float(x), digits)


def r_mad(x: np.ndarray) -> float:
    """R's ``mad``: 1.4826 * median(|x - median(x)|)."""
    x = np.asarray(x, dtype=float)
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def r_num(x: float) -> str:
    """R's ``as.character`` for a double: 15 significant digits, fixed or scientific.

    R picks scientific notation when it is narrower than fixed notation, e.g. 1e+05 and
    1e-04, but 123456 and 0.001.
    """
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if x == 0:
        return "0"
    mant, exp = f"{x:.14e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    e = int(exp)
    sci = f"{mant}e{'-' if e < 0 else '+'}{abs(e):02d}"
    sig = len(mant.replace("-", "").replace(".", ""))
    decimals = max(0, sig - 1 - e)
    fixed = f"{x:.{decimals}f}"
    return fixed if len(fixed) <= len(sci) else sci


def r_collate(s: str) -> tuple[str, str]:
    """Sort key of R's ``sort`` on text in an English UTF-8 locale: letters compare without
    regard to case first, and on a tie lower case comes before upper case ("no" < "Yes")."""
    return (s.casefold(), s.swapcase())


def r_call(name: str, args: Sequence[float]) -> str:
    """Render a prior call the way brms does: ``student_t(3, 288.7, 59.3)``."""
    return f"{name}({', '.join(r_num(a) for a in args)})"


def format_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    row_names: Sequence[str] | None = None,
    width: int = R_CONSOLE_WIDTH,
) -> list[str]:
    """Lay out a character table like R's ``print`` of a matrix or data frame.

    Cells and headers are right-justified, row names left-justified, columns separated by one
    space; columns that do not fit in ``width`` characters continue in a further block below,
    as R wraps wide tables.
    """
    ncol = len(header)
    names = list(row_names) if row_names is not None else [""] * len(rows)
    name_w = max([len(n) for n in names], default=0)
    col_w = [max([len(header[j])] + [len(r[j]) for r in rows]) for j in range(ncol)]
    blocks: list[list[int]] = []
    current: list[int] = []
    used = name_w
    for j in range(ncol):
        need = col_w[j] + 1
        if current and used + need >= width:  # R keeps a line below its width
            blocks.append(current)
            current, used = [], name_w
        current.append(j)
        used += need
    if current:
        blocks.append(current)
    lines: list[str] = []
    for block in blocks:
        lines.append(" " * name_w + "".join(" " + header[j].rjust(col_w[j]) for j in block))
        for name, row in zip(names, rows, strict=True):
            lines.append(name.ljust(name_w) + "".join(" " + row[j].rjust(col_w[j]) for j in block))
    return lines
