"""Tables for the terminal, lined up by display width (a Chinese character takes two columns), with a
header row; colour only on a terminal, and never when ``NO_COLOR`` is set.

One function, :func:`table`, for every list the CLI prints: it returns the text, so the caller
prints it where it prints everything else (and tests read it as they read other output). Widths come
from rich's cell measure (East Asian wide characters, combining marks, emoji); the lines are laid out
here, since a 500-task queue laid out by rich's renderer cost most of a second.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

#: ANSI styles of whole rows by state: overdue tasks bold red, those due soon yellow.
STYLES = {"overdue": "\x1b[1;31m", "soon": "\x1b[33m"}
BOLD, RESET = "\x1b[1m", "\x1b[0m"
GAP = "  "  # between columns


def colour_wanted(is_terminal: bool) -> bool:
    """Colour only on a terminal, and not when the NO_COLOR convention asks for none."""
    return is_terminal and not os.environ.get("NO_COLOR")


def table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    states: Sequence[str | None] | None = None,
    colour: bool = False,
    right: Sequence[int] = (),
) -> str:
    """The rows under their headers and a line of dashes, columns padded by display width, two spaces
    apart; ``states`` (one per row, a key of :data:`STYLES` or None) colour whole rows when
    ``colour``; ``right``: the indexes of columns aligned right (numbers). Cells are never cut; an
    empty cell shows ``-``, a line break in a cell ``⏎``."""
    from rich.cells import cell_len

    cells = [[_cell(v) for v in row] for row in rows]
    head = [str(h) for h in headers]
    widths = [max(cell_len(text) for text in column) for column in zip(head, *cells)]

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, (text, width) in enumerate(zip(values, widths)):
            pad = " " * (width - cell_len(text))
            parts.append(pad + text if i in right else text + pad)
        return GAP.join(parts).rstrip()

    out = [line(head), "-" * (sum(widths) + len(GAP) * (len(widths) - 1))]
    if colour:
        out[0] = BOLD + out[0] + RESET
    for i, row in enumerate(cells):
        text = line(row)
        style = STYLES.get((states[i] if states else None) or "") if colour else None
        out.append(style + text + RESET if style else text)
    return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return str(value).replace("\r\n", "⏎").replace("\n", "⏎")
