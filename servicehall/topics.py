"""The topics (专题) complaints are classified by (R-C2) and ranked as the period's hot issues (R-K2):
`hall.yaml`'s `topics` section, a mapping of topic to what it covers, with a default for an SME
service hall (seed 000: agencies serve enterprises under a contract the hall files)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The default topics: what seed 000's callback script asks about (attitude, timeliness, fulfilment
#: of the contract, fees) plus the hall's own service and information, and 其他 for the rest.
DEFAULT_TOPICS: dict[str, str] = {
    "服务态度": "服务机构或大厅人员的态度、文明用语",
    "服务效率": "未按约定时间完成、办理超时、答复不及时",
    "服务收费": "收费不合理、超出协议约定、乱收费",
    "合同履行": "服务内容或成果未达到协议约定",
    "服务质量": "业务水平、业务差错、成果质量",
    "信息沟通": "政策和办事信息不清、告知不到位、联系不上",
    "大厅环境": "大厅设施、环境、秩序",
    "其他": "以上都不是",
}
_SEPARATORS = "、,，/"  # a topic is typed in as one answer: these separate answers


def topics(settings: Mapping[str, Any]) -> dict[str, str]:
    """The configured topics in their order (name → what it covers), else the default."""
    value = settings.get("topics")
    if not value:
        return dict(DEFAULT_TOPICS)
    if isinstance(value, list):
        return {str(name): "" for name in value}
    return {str(name): str(about or "") for name, about in dict(value).items()}


def check_topics(settings: Mapping[str, Any]) -> None:
    """`hall config check`: `topics` is a mapping of topic name to a line saying what it covers."""
    value = settings.get("topics")
    if value is None:
        return
    if not isinstance(value, dict):
        raise ValueError("topics: must be a mapping of topic to what it covers, e.g. `服务态度: 人员的态度、文明用语`")
    if not value:
        raise ValueError("topics: lists no topic: leave the section out for the default, or name at least one")
    for name, about in value.items():
        where = f"topics.{name}"
        text = str(name).strip()
        if isinstance(name, bool) or not text:
            raise ValueError(f"{where}: a topic is a word or short phrase")
        if len(text) > 20:
            raise ValueError(f"{where}: a topic is at most 20 characters (say more in its description)")
        if any(c in text for c in _SEPARATORS):
            raise ValueError(f"{where}: a topic may not contain {' '.join(_SEPARATORS)} (one answer each)")
        if about is not None and not isinstance(about, str):
            raise ValueError(f"{where}: what the topic covers is a line of text")
