"""Tables for the terminal, lined up by display width (a Chinese character takes two columns), with a
header row; colour only on a terminal, and never when ``NO_COLOR`` is set (rich honours it).

One function, :func:`table`, for every list the CLI prints: it returns the text, so the caller
prints it where it prints everything else (and tests read it as they read other output).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

#: Row styles by state: overdue tasks red, those due soon yellow.
STYLES = {"overdue": "bold red", "soon": "yellow"}


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
    """The rows under their headers, columns padded by display width, two spaces apart; ``states``
    (one per row, a key of :data:`STYLES` or None) colour whole rows when ``colour``; ``right``: the
    indexes of columns aligned right (numbers). Cells are never cut or wrapped."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    _DASHES = _dashes()

    grid = Table(box=box.SIMPLE_HEAD if colour else _DASHES, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    for i, header in enumerate(headers):
        grid.add_column(header, justify="right" if i in right else "left", no_wrap=True)
    for i, row in enumerate(rows):
        state = states[i] if states else None
        grid.add_row(*(_cell(v) for v in row), style=STYLES.get(state or "") if colour else None)
    out = io.StringIO()
    console = Console(
        file=out,
        width=100_000,  # never wrap: a pipe or a file gets whole lines
        force_terminal=colour,
        no_color=not colour,
        color_system="standard" if colour else None,
        highlight=False,
        emoji=False,
        markup=False,
    )
    console.print(grid)
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines() if line.strip())


def _dashes() -> Any:
    """rich's SIMPLE_HEAD in ASCII: one line of dashes under the header, for pipes and files."""
    from rich.box import Box

    return Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


def _cell(value: Any) -> str:
    if value is None or value == "":
        return "-"
    return str(value)
