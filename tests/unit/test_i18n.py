"""The CLI's message catalogs (issue 17, item 3): every message the code passes to tr()/say() has a
Chinese translation with the same {fields}, and the compiled hall.mo is the current hall.po."""

from __future__ import annotations

import gettext
import re
import string

import pytest
from conftest import ROOT
from hall.terminal import i18n

PO = ROOT / "locale" / "zh_CN" / "LC_MESSAGES" / "hall.po"
MO = PO.with_suffix(".mo")
# the literal messages of tr("..."), say("...") and N_("...") calls (Babel's extractor: pybabel extract -k tr
# -k say -k N_); N_ marks a message translated later (the shapes of an error's text, terminal/errors.py)
SOURCES = [ROOT / "cli.py", *sorted((ROOT / "terminal").glob("*.py"))]


def catalog() -> dict[str, str]:
    from babel.messages.pofile import read_po

    with PO.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


def used_messages() -> set[str]:
    from babel.messages.extract import extract_python

    found: set[str] = set()
    for path in SOURCES:
        with path.open("rb") as f:
            for _line, func, message, _comments in extract_python(f, ["tr", "say", "N_"], [], {}):
                first = message[0] if isinstance(message, tuple) else message  # keywords follow the text
                if func in ("tr", "say", "N_") and isinstance(first, str) and first.strip():
                    found.add(first)
    return found


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_message_the_cli_prints_has_a_chinese_translation_with_the_same_fields() -> None:
    zh, used = catalog(), used_messages()
    assert len(used) > 30  # the extractor found the CLI's messages
    missing = sorted(m for m in used if not zh.get(m))
    assert missing == []
    for msgid, msgstr in zh.items():
        assert fields(msgid) == fields(msgstr), msgid


def test_the_compiled_catalog_is_the_source_catalog() -> None:
    """hall.mo is what `pybabel compile -d locale -D hall` makes of hall.po: a changed .po not compiled fails here."""
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    for msgid, msgstr in catalog().items():
        assert compiled.gettext(msgid) == msgstr, msgid


def test_the_locale_comes_from_hall_lang_then_hall_yaml_then_zh_cn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HALL_LANG", raising=False)
    assert i18n.choose(None) == "zh_CN" and i18n.choose("en") == "en" and i18n.choose("zh-CN") == "zh_CN"
    monkeypatch.setenv("HALL_LANG", "en_US.UTF-8")
    assert i18n.choose("zh_CN") == "en"
    monkeypatch.setenv("HALL_LANG", "klingon")  # no catalog: the configured one
    assert i18n.choose("zh_CN") == "zh_CN"
    with pytest.raises(ValueError, match=re.escape("display.locale: 'fr' has no catalog (available: en, zh_CN)")):
        i18n.check_locale("fr")


def test_tr_translates_and_fills_fields() -> None:
    try:
        i18n.use("zh_CN")
        assert i18n.tr("{span} left", span="3分钟") == "剩余 3分钟"
        assert i18n.tr("a message with no translation") == "a message with no translation"
        i18n.use("en")
        assert i18n.tr("{span} left", span="3m") == "3m left"
    finally:
        i18n.use("en")
