"""The CLI's own messages in the hall's language: gettext catalogs under ``locale/`` (``hall.po``,
compiled to ``hall.mo`` with Babel: ``pybabel compile -d locale -D hall``).

The messages in the code are English (the msgids); ``zh_CN`` is this hall's locale (``hall.yaml``
``display: {locale: zh_CN}``), and ``HALL_LANG`` overrides it (tests set ``en``). One active
catalog per process, chosen by :func:`use` when a command starts; :func:`_` translates.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path
from typing import Any

DOMAIN = "hall"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DEFAULT_LOCALE = "zh_CN"
#: The locales with a catalog, and English (the messages as written in the code).
AVAILABLE = ("en", "zh_CN")
ENV = "HALL_LANG"

_active: gettext.NullTranslations = gettext.NullTranslations()
_name = "en"


def normalise(name: str | None) -> str | None:
    """A locale as people write it (``zh-CN``, ``zh_CN.UTF-8``, ``zh``, ``en_US``) as one of
    :data:`AVAILABLE`, or None when no catalog fits."""
    if not name:
        return None
    base = name.split(".")[0].replace("-", "_")
    if base in AVAILABLE:
        return base
    lang = base.split("_")[0].lower()
    if lang == "zh":
        return "zh_CN"
    if lang in ("en", "c", "posix"):
        return "en"
    return None


def choose(configured: str | None) -> str:
    """The locale to use: ``HALL_LANG`` if set and known, else the configured one, else zh_CN."""
    return normalise(os.environ.get(ENV)) or normalise(configured) or DEFAULT_LOCALE


def use(name: str) -> None:
    """Make ``name`` (one of :data:`AVAILABLE`) the active language of :func:`tr`."""
    global _active, _name
    _name = name
    if name == "en":
        _active = gettext.NullTranslations()
    else:
        _active = gettext.translation(DOMAIN, localedir=LOCALE_DIR, languages=[name], fallback=True)


def current() -> str:
    """The active locale's name."""
    return _name


def tr(message: str, **values: Any) -> str:
    """``message`` in the active language, its ``{name}`` fields filled from ``values``."""
    text = _active.gettext(message)
    return text.format(**values) if values else text


def N_(message: str) -> str:  # noqa: N802 - gettext's name for it
    """Mark an English message for the catalog where it is not translated at once (a table of the
    shapes an error's text can have): `tr` translates it when it is used."""
    return message


def check_locale(value: Any) -> None:
    """``display.locale`` of hall.yaml: a locale with a catalog (ValueError names the choices)."""
    if not isinstance(value, str) or normalise(value) is None:
        raise ValueError(f"display.locale: {value!r} has no catalog (available: {', '.join(AVAILABLE)})")
