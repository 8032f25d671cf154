"""Progress for long commands (deploying many diagrams, a purge, re-indexing every case): a spinner
with what is being done and the seconds so far, on stderr and only on a terminal, so pipes, files and
--json stay as they are. The work itself reports nothing; this shows it has not hung."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


@contextmanager
def working(message: str, stream: TextIO, is_terminal: bool) -> Iterator[None]:
    """Show `message` with a spinner on `stream` while the block runs, when `is_terminal`; the line is
    cleared when the block ends (its result is printed by the command as usual)."""
    if not is_terminal:
        yield
        return
    from rich.console import Console

    console = Console(file=stream, force_terminal=True, highlight=False, markup=False, emoji=False)
    with console.status(message, spinner="dots"):
        yield
