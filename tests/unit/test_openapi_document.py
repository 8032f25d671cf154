"""The OpenAPI document of `hall serve` (issue 16): the checked-in docs/openapi.json is the one the
server serves (regenerate with `python -m hall.server.app > docs/openapi.json`), every route is
in it, and every schema it names exists."""

from __future__ import annotations

import json

from conftest import ROOT
from hall.server.app import OPS, openapi_text
from hall.server.openapi import document


def test_the_checked_in_document_is_the_served_one() -> None:
    assert (ROOT / "docs" / "openapi.json").read_text(encoding="utf-8") == openapi_text()


def test_every_route_is_documented_with_its_problems() -> None:
    doc = document(OPS)
    for op in OPS:
        entry = doc["paths"][op.path][op.method.lower()]
        assert str(op.status) in entry["responses"], op.path
        if op.auth:
            assert "401" in entry["responses"] and "security" not in entry, op.path
        else:
            assert entry["security"] == [], op.path


def test_every_schema_reference_resolves() -> None:
    doc = document(OPS)
    refs = {part.split('"')[0] for part in json.dumps(doc).split('"$ref": "#/components/schemas/')[1:]}
    assert refs and refs <= set(doc["components"]["schemas"])
