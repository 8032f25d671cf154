"""Progress for long commands (deploying many diagrams, a purge, re-indexing every case): a spinner
with what is being done and the seconds so far, on stderr and only on a terminal, so pipes, files and
--json stay as they are. The work itself reports nothing; this shows it has not hung."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


@contextmanager
def steps(message: str, stream: TextIO, is_terminal: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A progress bar on `stream`, only when `is_terminal`, that the block moves on by calling the
    function it is given: `step(text, done, total)` shows what is being done and how far the work is
    (`done` of `total`). The bar is cleared when the block ends; elsewhere `step` does nothing."""
    if not is_terminal:
        yield lambda text, done, total: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    console = Console(file=stream, force_terminal=True, highlight=False, markup=False, emoji=False)
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task(message, total=None)

        def step(text: str, done: int, total: int) -> None:
            bar.update(task, description=text, completed=done, total=total)
            bar.refresh()  # drawn now: a step may take less than the bar's refresh interval

        yield step
