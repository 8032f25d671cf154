"""Archives and retention under attack (issue 15 item 2) and the archivist's recorded period (issue 14,
R-C9): confidential cases purged only with the permission, private archive files never overwritten,
ids never reused, and a case kept as long as its 保存期限 or its linked filing."""

from __future__ import annotations

import re
import stat
from datetime import date, datetime
from pathlib import Path

import pytest
from hall.engine import Engine, FixedClock
from hall.engine.errors import HallError, InstanceNotFound, PermissionDenied
from hall.servicehall import retention

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


def settings(tmp_path: Path, **extra: object) -> dict:
    return {
        "retention": {
            "default": "never",
            "archive": str(tmp_path / "archive"),
            "processes": {"linear7": "6 months", "review": "never", "parent": "never", "child": "6 months"},
        },
        **extra,
    }


PEOPLE = {
    "roles": {
        "clerk": {"serves": ["clerk"]},
        "manager": {"serves": [], "may": ["manage"]},
        "archivist": {"serves": [], "may": ["manage", "confidential"]},
        "auditor": {"serves": [], "may": ["see_all"]},
    },
    "users": [
        {"id": "ann", "name": "Ann", "roles": ["clerk"]},
        {"id": "max", "name": "Max", "roles": ["manager"]},
        {"id": "ada", "name": "Ada", "roles": ["archivist"]},
        {"id": "sam", "name": "Sam", "roles": ["auditor"]},
    ],
    "confidential": {"variables": ["secret"]},
}


@pytest.fixture
def eng(db_url: str, tmp_path: Path):
    e = Engine(
        db_url, clock=FixedClock(at("2026-01-05T09:00:00")), forms_dir=FIXTURES / "forms", settings=settings(tmp_path)
    )
    e.init()
    e.deploy([FIXTURES])
    yield e
    e.close()


def finish(e: Engine, when: str, data: dict | None = None, user: str | None = None) -> dict:
    e.clock.set(at(when))
    case = e.start("linear7", None, data or {}, user=user)
    while case["status"] == "running" and case["tasks"]:
        case = e.complete(case["tasks"][0]["id"], {"step": case["tasks"][0]["name"]}, user=user)
    return case


def purge_before(e: Engine, when: str, before: date, user: str | None = None) -> dict:
    e.clock.set(at(when))
    return retention.purge(e, retention.plan_purge(e, before, user=user), user=user)


def test_r_c9_a_purged_cases_id_is_never_handed_out_again(eng: Engine) -> None:
    """SQLite gave the newest purged case's id to the next case, which inherited its `purged` row and
    overwrote its archive file; PostgreSQL's sequences never did. Both: a new id, a new file."""
    old = finish(eng, "2026-01-05T09:00:00")
    first = purge_before(eng, "2026-08-01T09:00:00", date(2026, 2, 1))
    assert first["deleted"] == [old["id"]]
    new = finish(eng, "2026-08-01T10:00:00")
    assert new["id"] > old["id"]
    assert [h["kind"] for h in eng.history(new["id"])][0] == "started"  # no `purged` row of another case
    # a file of that name already there (an id reused by an earlier release) is never overwritten
    taken = Path(first["archived"][old["id"]]).with_name(f"{new['id']}.json")
    taken.write_text("earlier", encoding="utf-8")
    second = purge_before(eng, "2027-03-01T09:00:00", date(2026, 9, 1))
    paths = [Path(first["archived"][old["id"]]), Path(second["archived"][new["id"]])]
    assert taken.read_text(encoding="utf-8") == "earlier" and paths[1].name == f"{new['id']}-2.json"
    assert all(p.read_text(encoding="utf-8") for p in paths)


def test_r_c9_archive_folders_are_0700_and_files_0600_inside_the_archive(eng: Engine, tmp_path: Path) -> None:
    case = finish(eng, "2026-01-05T09:00:00")
    result = purge_before(eng, "2026-08-01T09:00:00", date(2026, 2, 1))
    path = Path(result["archived"][case["id"]])
    root = tmp_path / "archive"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (root, root / "linear7", root / "linear7" / "2026"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert root in path.parents and not list(root.rglob("*.tmp"))


def test_r_c10_purging_a_confidential_case_needs_the_confidential_permission(db_url: str, tmp_path: Path) -> None:
    eng = Engine(
        db_url,
        clock=FixedClock(at("2026-01-05T09:00:00")),
        forms_dir=FIXTURES / "forms",
        settings=settings(tmp_path, **PEOPLE),
    )
    eng.init()
    eng.deploy([FIXTURES])
    try:
        secret = finish(eng, "2026-01-05T09:00:00", {"secret": True})
        plain = finish(eng, "2026-01-05T09:30:00")
        eng.clock.set(at("2026-08-01T09:00:00"))
        plan = retention.plan_purge(eng, date(2026, 2, 1), user="max")
        assert [d["id"] for d in plan["delete"]] == [plain["id"]]
        assert [(k["id"], "confidential" in k["reason"]) for k in plan["kept"]] == [(secret["id"], True)]
        archive = tmp_path / "archive"
        by_hand = dict(plan, delete=plan["delete"] + [dict(plan["delete"][0], id=secret["id"])])
        with pytest.raises(PermissionDenied, match=f"max may not purge confidential case {secret['id']}"):
            retention.purge(eng, by_hand, user="max")
        assert not archive.exists() and eng.show(secret["id"])["status"] == "completed"
        done = retention.purge(eng, retention.plan_purge(eng, date(2026, 2, 1), user="ada"), user="ada")
        assert sorted(done["deleted"]) == sorted([secret["id"], plain["id"]])
    finally:
        eng.close()


def test_a_purged_case_is_an_unknown_one_to_a_user_who_could_not_see_it(db_url: str, tmp_path: Path) -> None:
    """`show`/`history` of a purged id told anybody who purged it and when, so that a case of that id
    had existed; now only those who could see the case hear it, everyone else what a free id says."""
    config = settings(tmp_path, **PEOPLE)
    config["retention"]["processes"]["review"] = "6 months"
    eng = Engine(db_url, clock=FixedClock(at("2026-01-05T09:00:00")), forms_dir=FIXTURES / "forms", settings=config)
    eng.init()
    eng.deploy([FIXTURES])
    try:

        def received_by_ann(data: dict) -> dict:  # ann started it (its first receiver), the steps done by the system
            case = eng.start("linear7", None, data, user="ann")
            while case["tasks"]:
                case = eng.complete(case["tasks"][0]["id"], {"step": case["tasks"][0]["name"]})
            return case

        secret, plain = received_by_ann({"secret": True}), received_by_ann({})
        review = eng.start("review", None, {}, user="max")
        eng.complete(review["tasks"][0]["id"], {"amount": 5}, user="ann")  # ann's role did its first task
        eng.cancel(review["id"], "withdrawn")
        purge_before(eng, "2026-08-01T09:00:00", date(2026, 2, 1), user="ada")
        free = max(secret["id"], plain["id"], review["id"]) + 1

        def answer(user: str, case_id: int) -> str:
            for read in (eng.show, eng.history):
                with pytest.raises(HallError) as caught:
                    read(case_id, user=user)
            return re.sub(rf"(?<=instance ){case_id}\b", "N", str(caught.value))

        told = (
            "instance N was purged on 2026-08-01T01:00:00+00:00 by ada (retention 6 months, purge --before 2026-02-01)"
        )
        assert answer("ann", free) == "unknown instance N"
        # ann received them first and worked on the review, but may not read the confidential case
        assert [answer("ann", c["id"]) for c in (plain, review, secret)] == [told, told, "unknown instance N"]
        # max manages cases but none of these was his: unknown, as a free id
        assert [answer("max", c["id"]) for c in (plain, secret)] == ["unknown instance N"] * 2
        # sam sees every case, the confidential one only as a placeholder: that one is unknown
        assert [answer("sam", c["id"]) for c in (plain, secret)] == [told, "unknown instance N"]
        # ada purged them, and the system (no user) is told everything
        assert [answer("ada", c["id"]) for c in (plain, secret)] == [told, told]
        with pytest.raises(InstanceNotFound, match="was purged on"):
            eng.show(secret["id"])
    finally:
        eng.close()


@pytest.mark.parametrize(
    ("recorded", "kept"),
    [
        ("长期", "never purged automatically"),
        ("永久", "never purged automatically"),
        ("一年", "kept until 2027-01-05"),
        ("两年半", "not a period hall.yaml retention.periods knows"),
        ("六个月", None),
        ("", None),
    ],
)
def test_r_c9_purge_keeps_the_period_the_archivist_recorded(eng: Engine, recorded: str, kept: str | None) -> None:
    """The longer of the floor (6 months) and 保存期限 wins; 长期/永久 are never purged automatically."""
    case = finish(eng, "2026-01-05T09:00:00", {"保存期限": recorded})
    eng.clock.set(at("2026-08-01T09:00:00"))
    plan = retention.plan_purge(eng, date(2026, 2, 1))
    if kept is None:
        assert [d["id"] for d in plan["delete"]] == [case["id"]]
    else:
        assert plan["delete"] == [] and kept in plan["kept"][0]["reason"], plan


def test_r_c9_the_recorded_periods_are_configurable(eng: Engine) -> None:
    eng.settings["retention"]["periods"] = {"长期": "2 years", "暂存": "1 month"}
    keep_two = finish(eng, "2026-01-05T09:00:00", {"保存期限": "长期"})
    forever = finish(eng, "2026-01-05T09:10:00", {"保存期限": "永久"})  # the defaults stay
    eng.clock.set(at("2028-03-01T09:00:00"))
    plan = retention.plan_purge(eng, date(2026, 2, 1))
    assert [d["id"] for d in plan["delete"]] == [keep_two["id"]]
    assert [k["id"] for k in plan["kept"]] == [forever["id"]]


def test_r_c9_a_case_started_by_a_kept_case_is_never_deleted(eng: Engine) -> None:
    """A complaint started by a filing (kept forever, R-F2) stays with it: the filing's link never
    points at nothing."""
    eng.clock.set(at("2026-01-05T09:00:00"))
    parent = eng.start("parent", None, {"question": "q"})
    child_id = parent["links"]["children"][0]["id"]
    eng.cancel(child_id, "test") if eng.show(child_id)["status"] == "running" else None
    eng.cancel(parent["id"], "test") if eng.show(parent["id"])["status"] == "running" else None
    eng.clock.set(at("2026-09-01T09:00:00"))
    plan = retention.plan_purge(eng, date(2026, 2, 1))
    assert child_id not in [d["id"] for d in plan["delete"]]
    assert any(k["id"] == child_id and f"linked case(s) {parent['id']}" in k["reason"] for k in plan["kept"])
