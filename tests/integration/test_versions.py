"""Versions as Cockpit shows them (issue 18): cases per version in `definitions`, each case's version in
`instances`, and `undeploy` of a version no case uses — the latest one rolls new cases back to the
previous version (its start timers too) — recorded in the hall's own history."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES, TESTS
from hall.engine import Engine
from hall.engine.errors import HallError, ProcessNotFound


def changed(tmp_path: Path) -> Path:
    p = tmp_path / "review.bpmn"
    p.write_text((FIXTURES / "review.bpmn").read_text().replace("total = amount * 2", "total = amount * 3"))
    return p


def test_definitions_count_cases_per_version_and_instances_show_theirs(engine: Engine, tmp_path: Path) -> None:
    first = engine.start("review", None, {"amount": 1})
    engine.deploy([changed(tmp_path)])
    second = engine.start("review", None, {"amount": 2})
    engine.cancel(second["id"], "test")
    third = engine.start("review", None, {"amount": 3})
    rows = {(d["process"], d["version"]): d for d in engine.definitions()}
    assert rows[("review", 1)]["running"] == 1 and rows[("review", 1)]["cases"] == {"running": 1}
    assert rows[("review", 2)]["running"] == 1 and rows[("review", 2)]["cases"] == {"cancelled": 1, "running": 1}
    assert {i["id"]: i["version"] for i in engine.instances(process="review")} == {
        first["id"]: 1,
        second["id"]: 2,
        third["id"]: 2,
    }


def test_a_version_with_cases_is_not_withdrawn(engine: Engine, tmp_path: Path) -> None:
    engine.start("review", None, {"amount": 1})
    with pytest.raises(HallError, match=r"review v1 still has 1 case\(s\) \(1 running\).*nothing was changed"):
        engine.undeploy("review", 1)
    with pytest.raises(HallError, match=r"process review has no version 7 \(deployed: 1\)"):
        engine.undeploy("review", 7)
    with pytest.raises(ProcessNotFound):
        engine.undeploy("nosuch", 1)
    assert [d["version"] for d in engine.definitions() if d["process"] == "review"] == [1]


def test_withdrawing_the_latest_version_rolls_new_cases_back_and_is_recorded(engine: Engine, tmp_path: Path) -> None:
    engine.deploy([changed(tmp_path)])
    assert engine.undeploy("review", 2, user="admin") == {"process": "review", "version": 2, "latest": 1}
    case = engine.start("review", None, {"amount": 1})
    assert case["version"] == 1
    [row] = [h for h in engine.history(None) if h["kind"] == "undeployed"]
    assert row["actor"] == "admin" and row["detail"] == {"process": "review", "version": 2, "latest": 1}
    assert engine.deploy([changed(tmp_path)])[0]["version"] == 2  # deployed again: the number is free


def test_withdrawing_a_timer_started_version_hands_its_start_timers_back(make_engine, tmp_path: Path) -> None:
    eng = make_engine()
    eng.init()
    daily = TESTS / "start_timers" / "timer_start_daily.bpmn"
    eng.deploy([daily])
    before = eng.start_schedule()
    hourly = tmp_path / "timer_start_daily.bpmn"
    hourly.write_text(daily.read_text().replace("every working day at 15:00", "every working day at 16:00"))
    eng.deploy([hourly])
    assert eng.start_schedule() != before
    process = before[0]["process"]
    eng.undeploy(process, 2)
    assert eng.start_schedule() == before
    eng.undeploy(process, 1)
    assert eng.start_schedule() == []


def test_rolling_back_the_latest_version_for_new_cases_while_its_cases_run_on(engine: Engine, tmp_path: Path) -> None:
    engine.deploy([changed(tmp_path)])
    on_v2 = engine.start("review", None, {"amount": 1})
    assert on_v2["version"] == 2
    assert engine.rollback("review", user="admin") == {"process": "review", "from": 2, "to": 1, "running": 1}
    assert engine.start("review", None, {"amount": 2})["version"] == 1
    assert engine.show(on_v2["id"])["version"] == 2  # its cases run on
    rows = {d["version"]: d for d in engine.definitions() if d["process"] == "review"}
    assert rows[2]["withdrawn"] and not rows[1]["withdrawn"]
    [row] = [h for h in engine.history(None) if h["kind"] == "rolled_back"]
    assert row["actor"] == "admin" and row["detail"]["from"] == 2
    with pytest.raises(
        HallError, match=r"review has no earlier version to roll back to \(versions: v1, v2 withdrawn\)"
    ):
        engine.rollback("review")
    assert engine.deploy([changed(tmp_path)])[0]["version"] == 3  # a new number after the withdrawn one
    assert engine.start("review", None, {"amount": 3})["version"] == 3


def test_rolling_back_a_timer_started_process_hands_the_start_timers_back(make_engine, tmp_path: Path) -> None:
    eng = make_engine()
    eng.init()
    daily = TESTS / "start_timers" / "timer_start_daily.bpmn"
    eng.deploy([daily])
    before = eng.start_schedule()
    later = tmp_path / "timer_start_daily.bpmn"
    later.write_text(daily.read_text().replace("every working day at 15:00", "every working day at 16:00"))
    eng.deploy([later])
    assert eng.start_schedule() != before
    eng.rollback(before[0]["process"])
    assert eng.start_schedule() == before
