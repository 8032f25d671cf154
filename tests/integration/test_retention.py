"""Case files and retention (R-C9, R-F2, R-F7): export, purge inside/outside the retention period."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from hall.engine import Engine, FixedClock
from hall.engine.errors import HallError, InstanceNotFound
from hall.servicehall import retention

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is in tests/TIER/)
FIXTURES = ROOT / "tests" / "fixtures"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


@pytest.fixture
def eng(db_url: str, tmp_path: Path):
    """Fixture processes (linear7, parent/child) stand in for the hall's: their retention is configured."""
    clock = FixedClock(at("2026-01-05T09:00:00"))
    e = Engine(
        db_url,
        clock=clock,
        forms_dir=FIXTURES / "forms",
        settings={
            "retention": {
                "default": "never",
                "archive": str(tmp_path / "archive"),
                "processes": {"linear7": "6 months", "review": "never", "parent": "6 months", "child": "6 months"},
            }
        },
    )
    e.init()
    e.deploy([FIXTURES])
    yield e
    e.close()


def finish(e: Engine, process: str, when: str, data: dict | None = None) -> dict:
    e.clock.set(at(when))
    case = e.start(process, None, data or {}, user="clerk")
    while case["status"] == "running" and case["tasks"]:
        case = e.complete(case["tasks"][0]["id"], {"step": case["tasks"][0]["name"]}, user="clerk")
    return case


def counts(e: Engine) -> dict:
    with e.reading() as rows:
        return rows.table_counts()


def test_export_has_instance_variables_history_forms_links(eng: Engine) -> None:
    case = finish(eng, "linear7", "2026-01-05T09:00:00")
    doc = retention.export_case(eng, case["id"])
    assert doc["instance"]["id"] == case["id"] and doc["instance"]["status"] == "completed"
    assert doc["variables"] == case["variables"]
    kinds = [h["kind"] for h in doc["history"]]
    assert kinds[0] == "started" and kinds[-1] == "ended"
    assert len(doc["forms"]) == kinds.count("task_completed") == 7
    assert doc["forms"][0]["data"] == {"step": doc["forms"][0]["element"]}
    assert doc["links"] == {"parent": None, "children": []}
    json.dumps(doc, ensure_ascii=False)


def test_purge_refuses_a_date_inside_the_retention_period(eng: Engine) -> None:
    finish(eng, "linear7", "2026-01-05T09:00:00")
    eng.clock.set(at("2026-06-01T09:00:00"))  # 6 months after 2026-01-05 is 2026-07-05
    before = counts(eng)
    with pytest.raises(HallError, match=r"inside the retention period: linear7 cases are kept 6 months.*2025-12-01"):
        retention.plan_purge(eng, date(2026, 1, 6))
    assert counts(eng) == before


def test_purge_deletes_old_finished_cases_and_nothing_else(eng: Engine) -> None:
    old = finish(eng, "linear7", "2026-01-05T09:00:00")
    eng.clock.set(at("2026-01-05T10:00:00"))
    kept_forever = eng.cancel(eng.start("review", None, {}, user="clerk")["id"], "withdrawn", user="clerk")
    running = eng.start("linear7", None, {}, user="clerk")
    young = finish(eng, "linear7", "2026-07-01T09:00:00")
    eng.clock.set(at("2026-08-01T09:00:00"))
    others = {i: (eng.show(i), eng.history(i)) for i in (kept_forever["id"], running["id"], young["id"])}
    before = counts(eng)
    plan = retention.plan_purge(eng, date(2026, 1, 31))
    assert [d["id"] for d in plan["delete"]] == [old["id"]]
    assert [(k["id"], "kept forever" in k["reason"]) for k in plan["kept"]] == [(kept_forever["id"], True)]
    history = eng.history(old["id"])
    result = retention.purge(eng, plan)
    assert result["deleted"] == [old["id"]]
    # archived, never silently deleted: the whole case file is in the archive folder first
    archived = Path(result["archived"][old["id"]])
    assert archived.parts[-3:] == ("linear7", "2026", f"{old['id']}.json")
    assert json.loads(archived.read_text(encoding="utf-8"))["history"] == history
    after = counts(eng)
    assert after["instances"] == before["instances"] - 1
    # the case's rows go, one row saying so stays (not silently deleted, R-C9)
    assert after["history"] == before["history"] - result["rows"]["history"] + 1 and result["rows"]["history"] > 0
    assert result["rows"]["human_tasks"] == 7
    for read in (eng.show, eng.history):
        with pytest.raises(
            InstanceNotFound,
            match=rf"instance {old['id']} was purged on 2026-08-01T01:00:00\+00:00 "
            r"by an administrator \(retention 6 months, purge --before 2026-01-31\)",
        ):
            read(old["id"])
    assert {i: (eng.show(i), eng.history(i)) for i in others} == others


def test_a_case_whose_linked_case_stays_is_kept(eng: Engine) -> None:
    eng.settings["retention"]["processes"]["child"] = "never"
    eng.clock.set(at("2026-01-05T09:00:00"))
    parent = eng.start("parent", None, {"question": "q"}, user="clerk")
    child_id = parent["links"]["children"][0]["id"] if parent["links"]["children"] else None
    if child_id is None:
        pytest.skip("the parent fixture starts no child before its first task")
    eng.cancel(parent["id"], "test", user="clerk")
    eng.cancel(child_id, "test", user="clerk") if eng.show(child_id)["status"] == "running" else None
    eng.clock.set(at("2026-09-01T09:00:00"))
    plan = retention.plan_purge(eng, date(2026, 2, 1))
    assert parent["id"] not in [d["id"] for d in plan["delete"]]
    assert any(k["id"] == parent["id"] and "linked case" in k["reason"] for k in plan["kept"])


def test_default_policy_keeps_filings_forever() -> None:
    default, per = retention.policy({})
    assert per["filing"].forever and default.forever
    assert per["complaint"].text == "6 months"
    assert (
        per["complaint"].cutoff(datetime.fromisoformat("2026-08-31T12:00:00+00:00")).isoformat()
        == "2026-02-28T12:00:00+00:00"
    )
    assert retention.Keep.parse("180 days").cutoff(datetime.fromisoformat("2026-08-31T00:00:00+00:00")).date() == date(
        2026, 3, 4
    )


def test_cli_purge_asks_and_export(eng: Engine, db_url: str, tmp_path: Path) -> None:
    from hall import cli

    old = finish(eng, "linear7", "2026-01-05T09:00:00")
    finish(eng, "linear7", "2026-02-15T09:00:00")
    eng.close()
    config = tmp_path / "hall.yaml"
    config.write_text(
        f"retention:\n  default: never\n  processes: {{linear7: 6 months}}\n  archive: {tmp_path / 'arch'}\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    base = [
        "--db",
        db_url,
        "--now",
        "2026-08-01T09:00:00+08:00",
        "--config",
        str(config),
        "--forms",
        str(FIXTURES / "forms"),
    ]
    out = runner.invoke(cli.main, base + ["export", str(old["id"]), "--out", str(tmp_path / "case.json")])
    assert out.exit_code == 0, out.output
    assert json.loads((tmp_path / "case.json").read_text(encoding="utf-8"))["instance"]["id"] == old["id"]
    no = runner.invoke(cli.main, base + ["purge", "--before", "2026-02-01"], input="n\n")
    assert no.exit_code == 1 and "delete " in no.output and "nothing deleted" in no.output
    assert runner.invoke(cli.main, base + ["show", str(old["id"])]).exit_code == 0
    young = runner.invoke(cli.main, base + ["purge", "--before", "2026-03-01", "--yes"])
    assert young.exit_code == 1 and "inside the retention period" in young.output and "2026-02-01" in young.output
    assert "nothing was deleted" in young.output
    yes = runner.invoke(cli.main, base + ["purge", "--before", "2026-02-01"], input="y\n")
    assert yes.exit_code == 0 and "deleted 1 case(s)" in yes.output
    assert f"archived 1 case file(s) under {tmp_path / 'arch'}/" in yes.output
    assert (
        json.loads((tmp_path / "arch" / "linear7" / "2026" / f"{old['id']}.json").read_text(encoding="utf-8"))[
            "instance"
        ]["id"]
        == old["id"]
    )
    assert runner.invoke(cli.main, base + ["show", str(old["id"])]).exit_code == 1
    again = runner.invoke(cli.main, base + ["purge", "--before", "2026-02-01", "--yes"])
    assert "nothing to delete" in again.output


def test_purge_itself_keeps_the_floors_of_complaints_and_filings(db_url: str) -> None:
    """Whatever the settings an integrator passes: complaints at least 6 months (R-C9), filings never (R-F2)."""
    from hall.engine.errors import ConfigInvalid

    for processes, rule in (
        ({"complaint": "1 days"}, "R-C9"),
        ({"complaint": "180 days"}, "R-C9"),
        ({"filing": "10 years"}, "R-F2"),
    ):
        with Engine(
            db_url,
            clock=FixedClock(at("2026-12-01T09:00:00")),
            forms_dir=FIXTURES / "forms",
            settings={"retention": {"processes": processes}},
        ) as e:
            e.init()
            with pytest.raises(ConfigInvalid, match=rule):
                retention.plan_purge(e, date(2026, 11, 1))
    assert retention.policy({"retention": {"processes": {"complaint": "1 year"}}})[1]["complaint"].text == "1 year"


def test_purge_deletes_nothing_when_the_archive_cannot_be_written(eng: Engine) -> None:
    from hall.engine.errors import OutputNotWritable

    old = finish(eng, "linear7", "2026-01-05T09:00:00")
    eng.clock.set(at("2026-08-01T09:00:00"))
    before = counts(eng)
    with pytest.raises(OutputNotWritable, match="nothing was deleted"):
        retention.purge(eng, retention.plan_purge(eng, date(2026, 1, 31)), archive="/proc/no-archive")
    assert counts(eng) == before and eng.show(old["id"])["status"] == "completed"
