"""The hall's own diagrams, forms and default `hall.yaml`, shipped inside the installed package.

Found with importlib.resources, so `hall demo` works from any folder after `pip install`.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def root() -> Path:
    """The folder of the installed `hall` package (a clone's top folder in an editable install)."""
    return Path(str(files("hall")))


def processes() -> Path:
    """The hall's BPMN diagrams (and their decision tables)."""
    return root() / "processes"


def forms() -> Path:
    """The hall's form files."""
    return root() / "forms"


def config() -> Path:
    """The hall's default configuration (`hall.yaml`)."""
    return root() / "hall.yaml"
