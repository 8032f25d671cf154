"""Indicators (R-K1, R-K2, R-C2, R-C3, R-S2) on histories with known answers: real complaint cases
driven through processes/complaint.bpmn with its forms, at controlled times (FixedClock)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from click.testing import CliRunner
from hall.engine.calendar import BusinessCalendar
from hall.servicehall import kpi
from hall.terminal.indicators import kpi_lines
from scenario import ROOT, at, hall_fixture
from scenario import Hall as Scenario


class Hall(Scenario):
    """The real complaint process, worked through to the outcomes the indicators count."""

    def start(self, when: str, **data) -> dict:
        return super().start("complaint", when, user="hotline", **dict({"渠道": "热线"}, **data))

    def to_investigate(self, case: dict, type_="投诉", topic="服务收费", major=False) -> dict:
        case = self.work(case, "register", who="小孙")
        case = self.work(case, "classify", who="小孙", 类型=type_, 专题=topic, 是否重大投诉=major)
        return self.work(case, "contact", who="张经理")

    def resolve(self, case: dict, when: str | None = None, rounds: int = 1) -> dict:
        """Investigation, `rounds` PDCA rounds (the last accepted), report approved: the case reaches revisit."""
        case = self.work(case, "investigate", who="张经理", when=when, 需要延期=False)
        for r in range(rounds):
            case = self.work(case, "rectify", who="张经理")
            case = self.work(case, "hall_review", who="刘主任", 大厅审核意见="通过")
            case = self.work(case, "feedback", who="刘主任", 客户是否满意=(r == rounds - 1))
        case = self.work(case, "report", who="张经理")
        return self.work(case, "manager_review", who="黄经理", 审核结论="同意")

    def close(self, case: dict, answer: str = "满意", when: str | None = None) -> dict:
        case = self.work(case, "revisit", who="小孙", when=when, 回访满意度=answer)
        case = self.work(case, "rate", who="小孙")
        return self.work(case, "archive", who="小周")

    def kpi(self, first: str, last: str, now: str) -> dict:
        self.clock.set(at(now))
        return kpi.indicators(self.eng, kpi.Period(date.fromisoformat(first), date.fromisoformat(last)))


hall = hall_fixture(Hall, "2026-11-02T09:00:00")


def rates(k: dict) -> dict:
    return {r["key"]: (r["numerator"], r["denominator"]) for r in k["rates"]}


def test_no_complaints_gives_dashes_not_errors(hall: Hall) -> None:
    k = hall.kpi("2026-11-01", "2026-11-30", "2026-12-01T09:00:00")
    assert rates(k) == {"timely": (0, 0), "revisit": (0, 0), "satisfied": (0, 0)}
    assert all(r["rate"] is None for r in k["rates"])
    text = "\n".join(kpi_lines(k, UTC))
    assert "投诉及时办结率 = 0/0 = —" in text
    assert k["handling_hours"]["average"] is None and k["pdca"]["average"] is None
    assert "average —" in text


def test_closed_exactly_at_the_deadline_counts_as_in_time(hall: Hall) -> None:
    on_time = hall.to_investigate(hall.start("2026-11-02T09:00:00"))
    limit = hall.task(on_time, "investigate")["due_at"]
    late = hall.to_investigate(hall.start("2026-11-02T09:00:00"))
    assert hall.task(late, "investigate")["due_at"] == limit  # same moment, same limit
    # the first reaches revisit exactly at its limit; the second one minute later
    on_time = hall.resolve(on_time, when=limit)
    hall.clock.set(datetime.fromisoformat(limit) + timedelta(minutes=1))
    late = hall.resolve(late)
    k = hall.kpi("2026-11-01", "2026-11-30", "2026-12-01T09:00:00")
    assert rates(k)["timely"] == (1, 2)
    assert k["cases"]["late"] == [late["id"]]
    assert k["rates"][0]["rate"] == 0.5
    assert "投诉及时办结率 = 1/2 = 50.0%" in "\n".join(kpi_lines(k, UTC))


def test_counted_once_in_the_period_its_outcome_is_known(hall: Hall) -> None:
    """Resolved early: counted when resolved. Unresolved: counted when the limit passes (late)."""
    early = hall.resolve(hall.to_investigate(hall.start("2026-11-27T09:00:00")), when="2026-11-27T11:00:00")
    open_ = hall.to_investigate(hall.start("2026-11-27T09:30:00"))
    limit = datetime.fromisoformat(hall.task(open_, "investigate")["due_at"])
    assert limit.astimezone(timezone(timedelta(hours=8))).month == 12
    nov = hall.kpi("2026-11-01", "2026-11-30", "2026-12-20T09:00:00")
    dec = hall.kpi("2026-12-01", "2026-12-31", "2027-01-05T09:00:00")
    assert rates(nov)["timely"] == (1, 1) and rates(dec)["timely"] == (0, 1)
    assert dec["cases"]["late"] == [open_["id"]] and early["id"] not in dec["cases"]["late"]
    # as of a moment before the limit, the open case is not due yet
    assert rates(hall.kpi("2026-12-01", "2026-12-31", "2026-12-01T09:00:00"))["timely"] == (0, 0)
    # overdue now: the open case's investigation, and the early one's revisit (2 working days passed)
    over = dec["overdue_now"]
    assert over["cases"] == 2 and over["by_process"]["complaint"]["tasks"] == {"investigate": 1, "revisit": 1}


def test_handling_time_in_working_hours_skips_the_national_day_holiday() -> None:
    cal = BusinessCalendar()
    # Wed 09-30 16:00-17:30 = 1.5 h; 10-01..10-07 closed; Thu 10-08 08:50-17:30 = 8 h 40; Fri 10-09 08:50-10:00
    hours = kpi.working_hours(cal, at("2026-09-30T16:00:00"), at("2026-10-09T10:00:00"))
    assert hours == pytest.approx(1.5 + 8 + 40 / 60 + 70 / 60)
    assert kpi.working_hours(cal, at("2026-10-02T10:00:00"), at("2026-10-05T10:00:00")) == 0
    assert kpi.working_hours(cal, at("2026-10-09T10:00:00"), at("2026-10-09T10:00:00")) == 0


def test_case_across_the_holiday(hall: Hall) -> None:
    case = hall.to_investigate(hall.start("2026-09-30T16:00:00"))
    case = hall.resolve(case, when="2026-10-09T10:00:00")
    k = hall.kpi("2026-10-01", "2026-10-31", "2026-11-02T09:00:00")
    h = k["handling_hours"]
    assert h["count"] == 1
    assert h["average"] == pytest.approx(round(1.5 + 8 + 40 / 60 + 70 / 60, 2))
    assert h["p90"] == h["average"]
    assert rates(k)["timely"] == (1, 1)  # 5 working days from 09-30 end after the holiday


def test_revisit_rates_types_topics_rounds_and_workload(hall: Hall) -> None:
    # a complaint that needs two PDCA rounds, then an unsatisfied revisit, a third round and a satisfied one
    a = hall.resolve(
        hall.to_investigate(hall.start("2026-11-02T09:00:00"), topic="服务质量"), when="2026-11-03T09:00:00", rounds=2
    )
    a = hall.work(a, "revisit", who="小孙", when="2026-11-03T10:00:00", 回访满意度="不满意")
    a = hall.work(a, "rectify", who="张经理")
    a = hall.work(a, "hall_review", who="刘主任", 大厅审核意见="通过")
    a = hall.work(a, "feedback", who="刘主任", 客户是否满意=True)
    a = hall.work(a, "report", who="张经理")
    a = hall.work(a, "manager_review", who="黄经理", 审核结论="同意")
    a = hall.close(a, "基本满意", when="2026-11-04T10:00:00")
    assert a["status"] == "completed"
    # a second complaint resolved and never revisited: its revisit limit (2 working days) passes
    b = hall.resolve(hall.to_investigate(hall.start("2026-11-05T09:00:00")), when="2026-11-05T10:00:00")
    # a consultation (咨询): not a valid complaint, counted by type only
    c = hall.work(
        hall.work(hall.start("2026-11-06T09:00:00"), "register", who="小孙"),
        "classify",
        who="小孙",
        类型="咨询",
        专题="信息沟通",
    )
    k = hall.kpi("2026-11-01", "2026-11-30", "2026-12-01T09:00:00")
    r = rates(k)
    assert r["revisit"] == (1, 2) and k["cases"]["not_revisited"] == [b["id"]]
    assert r["satisfied"] == (1, 2)  # 不满意 then 基本满意 (satisfied by default)
    assert k["revisit_answers"] == {"不满意": 1, "基本满意": 1}
    assert k["received"] == 3
    assert k["by_type"] == {"投诉": 2, "咨询": 1}
    assert k["by_topic"] == {"服务质量": 1, "服务收费": 1, "信息沟通": 1}
    assert k["pdca"] == {"complaints": 1, "average": 3.0, "max": 3, "rounds": {"3": 1}}
    staff = {w["actor"]: w["tasks"] for w in k["workload"]}
    assert staff["刘主任"] == 2 * 3 + 2 and staff["黄经理"] == 3 and staff["小周"] == 1
    assert c["status"] == "running"


def test_unsatisfied_values_are_configuration(hall: Hall) -> None:
    a = hall.resolve(hall.to_investigate(hall.start("2026-11-02T09:00:00")), when="2026-11-02T11:00:00")
    hall.close(a, "基本满意", when="2026-11-02T12:00:00")
    hall.eng.settings["kpi"] = {"complaint": {"satisfied": ["满意"]}}
    assert rates(hall.kpi("2026-11-01", "2026-11-30", "2026-12-01T09:00:00"))["satisfied"] == (0, 1)


def test_compute_callbacks_per_agency_and_weights() -> None:
    t0 = at("2026-11-10T15:00:00").astimezone(UTC)
    cb = lambda i, a, e, p: (i, t0, "小赵", "callback", {"data": {"服务态度": a, "服务效率": e, "服务价格": p}})  # noqa: E731
    raw = {
        key: []
        for key in (
            "limit_created",
            "resolved_created",
            "revisit_created",
            "revisit_done",
            "cancelled",
            "started",
            "classified",
            "rounds",
            "ended",
            "workload",
            "overdue",
        )
    }
    raw.update(
        start=t0 - timedelta(days=9),
        end=t0 + timedelta(days=20),
        asof=t0 + timedelta(days=1),
        now=t0 + timedelta(days=1),
    )
    raw["callbacks"] = [cb(1, 10, 8, 6), cb(2, 6, 6, 6), cb(3, 10, 10, 10)]
    raw["agreements"] = [
        (1, t0, "x", "sign_agreement", {"data": {"服务机构": "甲咨询"}}),
        (2, t0, "x", "sign_agreement", {"data": {"服务机构": "甲咨询"}}),
        (3, t0, "x", "sign_agreement", {"data": {"服务机构": "乙会计"}}),
    ]
    raw["workload"] = [("小赵", "filing", 3), (None, "complaint", 1)]
    k = kpi.compute(raw, kpi.KpiConfig(), BusinessCalendar())
    assert k["callbacks"] == [
        {"agency": "甲咨询", "calls": 2, "服务态度": 8.0, "服务效率": 7.0, "服务价格": 6.0, "综合得分": 7.0},
        {"agency": "乙会计", "calls": 1, "服务态度": 10.0, "服务效率": 10.0, "服务价格": 10.0, "综合得分": 10.0},
    ]
    weighted = kpi.compute(
        raw, kpi.KpiConfig.from_settings({"settings": {"综合得分权重": [2, 1, 1]}}), BusinessCalendar()
    )
    assert weighted["callbacks"][0]["综合得分"] == pytest.approx((8.5 + 6.0) / 2)
    assert [w["actor"] for w in k["workload"]] == ["小赵", "-"]


def test_percentile_is_nearest_rank() -> None:
    assert kpi.percentile([], 90) is None
    assert kpi.percentile([5.0], 90) == 5.0
    assert kpi.percentile([float(i) for i in range(1, 11)], 90) == 9.0
    assert kpi.percentile([float(i) for i in range(1, 12)], 90) == 10.0


def test_config_rejects_unknown_keys() -> None:
    from hall.engine.errors import ConfigInvalid

    with pytest.raises(ConfigInvalid):
        kpi.KpiConfig.from_settings({"kpi": {"complain": {}}})
    with pytest.raises(ConfigInvalid):
        kpi.KpiConfig.from_settings({"kpi": {"complaint": {"limit": "middle"}}})


def test_cli_kpi_text_and_json(hall: Hall, db_url: str) -> None:
    from hall import cli

    hall.resolve(hall.to_investigate(hall.start("2026-11-02T09:00:00")), when="2026-11-02T11:00:00")
    hall.eng.close()
    runner = CliRunner()
    base = ["--db", db_url, "--now", "2026-12-01T09:00:00+08:00", "--config", str(ROOT / "hall.yaml")]
    out = runner.invoke(cli.main, base + ["kpi", "--from", "2026-11-01", "--to", "2026-11-30"])
    assert out.exit_code == 0, out.output
    assert "投诉及时办结率 = 1/1 = 100.0%  " in out.output
    assert "(resolved within the limit / complaints due in the period)" in out.output
    assert "投诉回访率" in out.output and "= 0/1 = 0.0%" in out.output
    assert "投诉回访满意率 = 0/0 = —" in out.output
    js = runner.invoke(cli.main, base + ["kpi", "--from", "2026-11-01", "--to", "2026-11-30", "--json"])
    doc = json.loads(js.output)
    assert doc["rates"][0] == {
        "key": "timely",
        "name": "投诉及时办结率",
        "numerator": 1,
        "denominator": 1,
        "rate": 1.0,
        "meaning": "resolved within the limit / complaints due in the period",
    }
    assert doc["period"]["from"] == "2026-11-01" and doc["period"]["to"] == "2026-11-30"
    bad = runner.invoke(cli.main, base + ["kpi", "--from", "2026-11-31"])
    assert bad.exit_code == 1 and bad.output.startswith("error: --from")
