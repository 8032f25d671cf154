"""Finding cases: which values of a case are searchable, and how they are normalised.

Which variables are searchable (`cases.search`) and which name the customer (`cases.customer`, the
first with a value) is configuration (hall.yaml `cases:`); the engine knows no variable names of its
own, so with nothing configured only business keys are searchable. Values are normalised the same
way when stored (`case_search`, written with the step that changes them) and when searched: Unicode
NFKC (full-width ＡＢ１ is AB1), case folded, and spaces and punctuation dropped, so
`TS20261124-0002`, `ts202611240002` and `138 0013 8000` find what was typed either way.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

KEY_FIELD = ":key"  # the business key's row (a variable name is an identifier: no clash)
MAX_VALUE = 200  # characters of a normalised value kept (the column's width)


def normalise(text: Any) -> str:
    """A value as stored and searched: NFKC, case folded, without spaces, punctuation and controls."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZC")[:MAX_VALUE]


@dataclass(frozen=True)
class CaseFields:
    """The searchable variables and the customer's, from hall.yaml's `cases: {search, customer}`."""

    search: tuple[str, ...] = ()
    customer: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> CaseFields:
        section = (settings or {}).get("cases") or {}
        return cls(tuple(section.get("search") or ()), tuple(section.get("customer") or ()))

    def values(self, variables: Mapping[str, Any] | None, business_key: str | None) -> dict[str, str]:
        """{field: normalised value} of a case: its key (KEY_FIELD) and each searchable variable
        holding text or a number; empty values are left out."""
        out: dict[str, str] = {}
        if business_key:
            value = normalise(business_key)
            if value:
                out[KEY_FIELD] = value
        for name in self.search:
            raw = (variables or {}).get(name)
            if raw is None or isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
                continue
            value = normalise(raw)
            if value:
                out[name] = value
        return out

    def customer_of(self, variables: Mapping[str, Any] | None) -> str | None:
        """The customer of a case: the first of the customer variables holding a non-empty text."""
        for name in self.customer:
            value = (variables or {}).get(name)
            if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
                return str(value).strip()
        return None


def check_cases(section: Any) -> None:
    """hall.yaml's `cases:` section: `search` and `customer`, each a list of variable names."""
    if section is None:
        return
    if not isinstance(section, Mapping):
        raise ValueError("cases: must be a mapping like {search: [来访企业, 联系电话], customer: [来访企业]}")
    for key, names in section.items():
        if key not in ("search", "customer"):
            raise ValueError(f"cases.{key}: unknown key (known: search, customer)")
        if not isinstance(names, list) or not all(isinstance(n, str) and n.isidentifier() for n in names):
            raise ValueError(f"cases.{key}: must be a list of variable names")
