"""The service hall's access rules: which cases are confidential (R-C10) and who received a case
first (R-F6), as defaults for hall.yaml's `confidential` and `first_receiver` sections; and which
variables name the customer and are searchable (`cases`, issue 17).

The engine has no such rule of its own (a foreign diagram's 类型=举报 is just a value). The hall's
command applies these where its hall.yaml leaves them out, key by key, so a hall.yaml without the
sections behaves as it always has: `hall` (cli.py) passes `with_defaults(settings)` to its Engine.
An integrator who opens an Engine on the hall's processes does the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# 类型 is set at classification; 投诉类型 is what an intake (another channel, a transfer) may already
# carry at registration, so a 举报 is confidential from its first step (R-C10). A placeholder keeps
# the case number (投诉编号, 备案编号).
CONFIDENTIAL: dict[str, Any] = {
    "variables": ["是否保密"],
    "when": {"类型": ["举报"], "投诉类型": ["举报"]},
    "keep": ["投诉编号", "备案编号"],
}
# R-F6: the first-question responsible person and the receptionist always see the case's status.
FIRST_RECEIVER: dict[str, Any] = {"variables": ["首问负责人", "接待人员"]}

# `hall find` and the customer column of `tasks` / `instances` (issue 17): the variables of the
# hall's forms that name the customer (its company, else the person) and those staff search by:
# numbers, company and person names, phone numbers.
CASES: dict[str, Any] = {
    "customer": ["来访企业", "咨询企业", "投诉企业", "联系人", "来访人", "客户姓名"],
    "search": [
        "来访企业",
        "咨询企业",
        "投诉企业",
        "被投诉企业",
        "来访人",
        "企业联系人",
        "联系人",
        "客户姓名",
        "来访人电话",
        "联系电话",
        "联系人移动电话",
        "固定电话",
        "客户电话",
        "合同备案编号",
    ],
}

DEFAULTS: dict[str, dict[str, Any]] = {"confidential": CONFIDENTIAL, "first_receiver": FIRST_RECEIVER, "cases": CASES}


def with_defaults(settings: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of the settings in which every key of `confidential`, `first_receiver` and `cases` that
    hall.yaml does not give is the hall's (a key given, even empty, is kept as given)."""
    out = dict(settings or {})
    for section, defaults in DEFAULTS.items():
        out[section] = {**defaults, **(out.get(section) or {})}
    return out
