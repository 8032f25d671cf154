"""R-C2: a complaint is classified by the topics of the hall's configuration, not a fixed list."""

from __future__ import annotations

import pytest
from hall.engine import FixedClock
from hall.engine.config import load_config
from hall.engine.errors import FormInvalid
from scenario import ROOT, Hall, at


def test_r_c2_classify_accepts_the_configured_topics_and_refuses_others(db_url: str) -> None:
    settings = load_config(ROOT / "hall.yaml")
    settings["topics"] = {"窗口服务": "窗口人员与流程", "政策兑现": "补贴、奖励的申报与发放"}
    with Hall(db_url, FixedClock(at("2026-11-24T09:00")), settings=settings) as h:
        case = h.start("complaint", user="hotline", 渠道="热线")
        case = h.work(case, "register", who="小孙")
        with pytest.raises(FormInvalid) as refused:
            h.work(case, "classify", who="小孙", 类型="投诉", 专题="服务态度")
        assert "只能选：窗口服务、政策兑现" in refused.value.errors["专题"]
        case = h.work(case, "classify", who="小孙", 类型="投诉", 专题="政策兑现")
        assert case["variables"]["专题"] == "政策兑现"
