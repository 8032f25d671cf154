"""The `hall` command through click's runner: every command, the JSON contract, and every error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main
from hall.engine.store import SCHEMA_VERSION

NOW = "2026-11-24T09:00:00+08:00"


@pytest.fixture
def hall(tmp_path: Path):
    """Run `hall` against a fresh SQLite database; returns (exit code, stdout, stderr)."""
    return _hall_on(f"sqlite:///{tmp_path / 'hall.db'}")


@pytest.fixture
def hall_db(db_url: str):
    """`hall` as the fixture above, on each backend (SQLite, and PostgreSQL when configured)."""
    return _hall_on(db_url)


def _hall_on(db: str):
    runner = CliRunner()

    def run(*args: str, user: str | None = None, now: str = NOW, input: str | None = None):
        base = ["--db", db, "--forms", str(FIXTURES / "forms"), "--now", now]
        if user:
            base += ["--user", user]
        result = runner.invoke(main, base + list(args), input=input, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert run("init", "--rehearsal")[0] == 0  # a test database: --now is allowed on it
    assert run("deploy", str(FIXTURES))[0] == 0
    return run


def as_json(out: str):
    return json.loads(out)


def test_init_twice_and_deploy_no_op(hall) -> None:
    code, out, _ = hall("init")
    assert code == 0 and f"schema already at version {SCHEMA_VERSION}" in out
    code, out, _ = hall("deploy", str(FIXTURES / "review.bpmn"))
    assert code == 0 and "review: unchanged (version 1)" in out
    code, out, _ = hall("deploy", str(FIXTURES / "review.bpmn"), "--json")
    assert as_json(out) == [
        {"process": "review", "version": 1, "file": str(FIXTURES / "review.bpmn"), "changed": False}
    ]


def test_json_contract_of_start_tasks_show_complete_history(hall) -> None:
    code, out, _ = hall("start", "review", "--key", "BA-1", "--set", "amount=3", "--json", user="ann")
    case = as_json(out)
    assert code == 0
    assert set(case) >= {
        "id",
        "process",
        "version",
        "business_key",
        "status",
        "variables",
        "tasks",
        "started_at",
        "ended_at",
    }
    assert (case["process"], case["business_key"], case["status"], case["variables"]) == (
        "review",
        "BA-1",
        "running",
        {"amount": "3"},
    )
    assert case["started_at"] == "2026-11-24T01:00:00+00:00" and case["ended_at"] is None
    code, out, _ = hall("tasks", "--json")
    [task] = as_json(out)
    assert set(task) >= {
        "id",
        "instance",
        "process",
        "name",
        "title",
        "lane",
        "role",
        "assignee",
        "created_at",
        "due_at",
        "form",
    }
    assert (task["name"], task["title"], task["role"], task["instance"]) == (
        "register",
        "Register request",
        "clerk",
        case["id"],
    )
    code, out, _ = hall("complete", str(task["id"]), "--set", "amount=4", "--json", user="ann")
    after = as_json(out)
    assert code == 0 and after["tasks"][0]["name"] == "approve"
    code, out, _ = hall("show", str(case["id"]), "--json")
    assert as_json(out)["variables"]["total"] == 8
    code, out, _ = hall("history", str(case["id"]), "--json")
    assert [h["kind"] for h in as_json(out)] == ["started", "task_created", "task_completed", "task_created"]


def test_task_filters_and_mine(hall) -> None:
    hall("start", "review", "--set", "amount=1")
    hall("start", "linear7")
    code, out, _ = hall("tasks", "--role", "clerk", "--json")
    assert [t["process"] for t in as_json(out)] == ["review"]
    code, out, _ = hall("tasks", "--process", "linear7", "--json")
    [step1] = as_json(out)
    assert hall("claim", str(step1["id"]), user="li")[0] == 0
    code, out, _ = hall("tasks", "--mine", "--json", user="li")
    assert [t["id"] for t in as_json(out)] == [step1["id"]]
    code, out, _ = hall("tasks", "--instance", str(step1["instance"]), "--json")
    assert len(as_json(out)) == 1
    code, _, err = hall("tasks", "--mine")
    assert code == 1 and err == "error: --mine needs a user: pass --user or set HALL_USER\n"
    code, out, _ = hall("unclaim", str(step1["id"]), user="li")
    assert code == 0 and "back in the" in out


def test_human_output_shows_queue_and_instance(hall) -> None:
    hall("start", "review", "--key", "K-7", "--set", "amount=1")
    code, out, _ = hall("tasks")
    assert code == 0 and "Register request" in out and "clerk" in out
    code, out, _ = hall("task", "1")
    assert "Amount so far: 1" in out and "amount" in out.lower()
    code, out, _ = hall("show", "1")
    assert "K-7" in out and "[running]" in out and "amount" in out
    code, out, _ = hall("instances", "--process", "review")
    assert "K-7" in out


def test_lifecycle_commands(hall) -> None:
    hall("start", "review", "--set", "amount=1")
    assert "[suspended]" in hall("suspend", "1", "--reason", "papers")[1]
    assert "[running]" in hall("resume", "1")[1]
    code, _, err = hall("cancel", "1")
    assert code == 2 and "--reason" in err
    code, out, _ = hall("cancel", "1", "--reason", "withdrawn", user="sup")
    assert code == 0 and "[cancelled]" in out
    code, out, _ = hall("history", "1")
    assert "cancelled" in out and "withdrawn" in out and "sup" in out


def test_incident_and_retry(hall) -> None:
    hall("start", "divide")
    code, out, _ = hall("complete", "1", "--set", "divisor:=0")
    assert code == 0 and "incident at compute" in out
    code, out, _ = hall("incidents", "--json")
    [incident] = as_json(out)
    assert incident["element"] == "compute" and "ZeroDivisionError" in incident["error"]
    code, out, _ = hall("retry", "1", "--set", "divisor:=4")
    assert code == 0 and "[running]" in out
    assert "no incidents" in hall("incidents")[1]


def test_retry_latest_runs_the_fixed_definition(hall_db, tmp_path: Path) -> None:
    hall = hall_db
    hall("start", "divide")
    assert "incident at compute" in hall("complete", "1", "--set", "divisor:=0")[1]
    fixed = tmp_path / "divide.bpmn"
    fixed.write_text((FIXTURES / "divide.bpmn").read_text().replace("100 / divisor", "100 / (divisor or 1)"))
    assert hall("deploy", str(fixed))[0] == 0
    code, out, _ = hall("retry", "1", "--latest")
    assert code == 0 and "divide v2" in out and "[running]" in out
    code, out, _ = hall("history", "1", "--json")
    assert [h["detail"] for h in as_json(out) if h["kind"] == "migrated"] == [{"from": 1, "to": 2}]


def test_lifecycle_errors_name_the_state(hall_db) -> None:
    hall = hall_db
    hall("start", "review", "--set", "amount=1")
    code, _, err = hall("resume", "1")
    assert code == 1 and err == "error: cannot resume instance 1: it is running\n"
    code, _, err = hall("cancel", "1", "--reason", " ")
    assert code == 1 and err == "error: cancelling needs a reason (--reason)\n"
    hall("suspend", "1")
    code, _, err = hall("complete", "1", "--set", "amount=2")
    assert code == 1 and err == "error: cannot complete task 1 of instance 1: it is suspended\n"
    hall("resume", "1")
    assert hall("cancel", "1", "--reason", "withdrawn")[0] == 0
    code, _, err = hall("complete", "1", "--set", "amount=2")  # its task was withdrawn with the case
    assert code == 1 and err.startswith("error: task 1 is not ready") and err.count("\n") == 1
    code, _, err = hall("suspend", "1")
    assert code == 1 and err == "error: cannot suspend instance 1: it is cancelled\n"
    hall("start", "linear7")
    for _ in range(7):
        [task] = as_json(hall("tasks", "--instance", "2", "--json")[1])
        hall("complete", str(task["id"]))
    code, _, err = hall("suspend", "2")
    assert code == 1 and err == "error: cannot suspend instance 2: it is completed\n"
    code, _, err = hall("retry", "2")
    assert code == 1 and err == "error: cannot retry instance 2: it is completed\n"


def test_a_refused_command_writes_nothing(hall_db, tmp_path: Path) -> None:
    hall = hall_db
    hall("start", "divide")
    hall("complete", "1", "--set", "divisor:=0")
    state = [hall(*args, "--json")[1] for args in (("history", "1"), ("instances",), ("tasks",), ("show", "1"))]
    renamed = tmp_path / "divide.bpmn"
    renamed.write_text((FIXTURES / "divide.bpmn").read_text().replace('"compute"', '"calc"'))
    assert hall("deploy", str(renamed))[0] == 0
    for args, message in [
        (("retry", "1", "--latest"), "cannot move instance 1 to divide v2: element(s) compute"),
        (("complete", "1", "--set", "divisor:=1"), "task 1 already completed"),
        (("start", "nope"), "unknown process 'nope'"),
        (("cancel", "1", "--reason", ""), "needs a reason"),
        (("resume", "1"), "cannot resume instance 1: it is incident"),
    ]:
        code, _, err = hall(*args)
        assert code == 1 and message in err and err.count("\n") == 1, (args, err)
    assert [hall(*args, "--json")[1] for args in (("history", "1"), ("instances",), ("tasks",), ("show", "1"))] == state


def test_definitions_lists_every_version(hall, tmp_path: Path) -> None:
    code, out, _ = hall("definitions")
    assert code == 0
    lines = out.splitlines()
    assert any(line.split()[:2] == ["review", "v1"] and str(FIXTURES / "review.bpmn") in line for line in lines)
    changed = tmp_path / "review.bpmn"
    changed.write_text((FIXTURES / "review.bpmn").read_text().replace("total = amount * 2", "total = amount * 3"))
    hall("deploy", str(changed))
    lines = hall("definitions")[1].splitlines()
    assert [line.split()[1] for line in lines if line.startswith("review ")] == ["v1", "v2"]
    assert any(line.split()[:2] == ["review", "v2"] and str(changed) in line for line in lines)


def test_validate_command(hall, tmp_path: Path) -> None:
    code, out, _ = hall("validate", str(FIXTURES / "review.bpmn"))
    assert code == 0 and out.startswith("ok")
    bad = tmp_path / "bad.bpmn"
    bad.write_text((FIXTURES / "review.bpmn").read_text().replace("total = amount * 2", "total = = 2"))
    code, out, _ = hall("validate", str(bad))
    assert code == 1 and out.startswith(f"{bad}:") and ": number: script does not compile" in out
    code, _, err = hall("deploy", str(bad))
    assert code == 1 and err.startswith("error: ") and "number: script does not compile" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    "args, message",
    [
        (("start", "nope"), "unknown process 'nope'"),
        (("show", "99"), "unknown instance 99"),
        (("history", "99"), "unknown instance 99"),
        (("complete", "99"), "unknown task 99"),
        (("claim", "99"), "unknown task 99"),
        (("start", "review", "--set", "novalue"), "--set novalue: expected NAME=VALUE"),
        (("start", "review", "--set", "a b=1"), "'a b' is not a valid variable name"),
        (("start", "review", "--set", "n:=[1"), "not valid JSON"),
        (("start", "review", "--data", "/nonexistent.yaml"), "/nonexistent.yaml: no such file"),
        (("instances", "--status", "sleeping"), "unknown status 'sleeping'"),
        (("tasks", "--process", "nope"), "unknown process 'nope'"),
        (("instances", "--process", "nope"), "unknown process 'nope'"),
        (("tasks", "--instance", "999"), "unknown instance 999"),
        (("show", "99999999999999999999"), "unknown instance 99999999999999999999"),  # beyond any integer column
        (("show", "9999999999"), "unknown instance 9999999999"),  # beyond PostgreSQL's int4
        (("complete", "99999999999999999999"), "unknown task 99999999999999999999"),
        (("task", "0"), "unknown task 0"),
        (("tasks", "--instance", "99999999999999999999"), "unknown instance 99999999999999999999"),
        (("retry", "9999999999"), "unknown instance 9999999999"),
    ],
)
def test_errors_are_one_line_and_exit_1(hall_db, args: tuple[str, ...], message: str) -> None:
    code, out, err = hall_db(*args, user="ann")
    assert code == 1 and message in err and err.startswith("error: ") and err.count("\n") == 1


def test_completing_errors(hall_db, tmp_path: Path) -> None:
    hall = hall_db
    hall("start", "review", "--set", "amount=1")
    code, _, err = hall("complete", "1", "--set", "amount=x", "--set", "colour=red")
    assert code == 1 and "amount:" in err and "colour:" in err
    assert hall("complete", "1", "--set", "amount=2", user="ann")[0] == 0
    code, _, err = hall("complete", "1", "--set", "amount=2", user="bob")
    assert code == 1 and "task 1 already completed by ann" in err
    bad = tmp_path / "bad.yaml"
    bad.write_text("approved: [yes,\n")
    code, _, err = hall("complete", "2", "--data", str(bad))
    assert code == 1 and f"{bad}:2: not valid YAML/JSON" in err


def test_data_file_yaml_and_json(hall, tmp_path: Path) -> None:
    (tmp_path / "d.yaml").write_text("amount: 5\nnote: 备注\n")
    (tmp_path / "d.json").write_text('{"approved": true}')
    hall("start", "review", "--set", "amount=1")
    assert hall("complete", "1", "--data", str(tmp_path / "d.yaml"))[0] == 0
    code, out, _ = hall("complete", "2", "--data", str(tmp_path / "d.json"), "--json")
    assert as_json(out)["status"] == "completed" and as_json(out)["variables"]["note"] == "备注"


def test_bad_database_and_missing_schema(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["--db", str(tmp_path / "no" / "such" / "dir.db"), "tasks"])
    assert result.exit_code == 1 and "no hall database at" in result.stderr
    result = runner.invoke(main, ["--db", str(tmp_path / "no" / "such" / "dir.db"), "init"])
    assert result.exit_code == 1 and "cannot open database" in result.stderr
    (tmp_path / "empty.db").touch()
    result = runner.invoke(main, ["--db", str(tmp_path / "empty.db"), "tasks"])
    assert result.exit_code == 1 and "has no hall schema: run `hall init` first" in result.stderr
    not_db = tmp_path / "notdb.db"
    not_db.write_text("x\n")
    for command in ("tasks", "init", "show 1"):
        result = runner.invoke(main, ["--db", str(not_db), *command.split()])
        assert (
            result.exit_code == 1
            and result.stderr == f"error: cannot open database sqlite:///{not_db}: file is not a database\n"
        )
    assert not_db.read_text() == "x\n"
    result = runner.invoke(main, ["--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "tasks"])
    assert result.exit_code == 1 and "cannot open database" in result.stderr
    result = runner.invoke(main, ["--now", "yesterday", "tasks"])
    assert result.exit_code == 2 and "--now" in result.stderr


def test_interactive_complete_asks_until_valid(hall, monkeypatch) -> None:
    from hall import cli

    hall("start", "review", "--set", "amount=1")
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    code, out, err = hall("complete", "1", input="minus\n-1\n12\n\n\n")  # amount, note, review: submit
    assert code == 0, err
    assert "应为整数" in err or "整数" in err
    code, out, _ = hall("show", "1", "--json")
    assert as_json(out)["variables"]["amount"] == 12


def test_interactive_complete_with_json_asks_on_stderr(hall, monkeypatch) -> None:
    from hall import cli

    hall("start", "review", "--set", "amount=1")
    monkeypatch.setattr(cli, "stdin_is_terminal", lambda: True)
    code, out, err = hall("complete", "1", "--json", input="minus\n12\n\n\n")
    assert code == 0, err
    assert as_json(out)["variables"]["amount"] == 12  # stdout is the JSON document alone
    assert "整数" in err


def test_long_lists_are_cut_at_the_limit_with_a_notice(hall_db) -> None:
    hall = hall_db
    for _ in range(3):
        hall("start", "review", "--set", "amount=1")
    code, out, err = hall("tasks", "--limit", "2")
    assert code == 0 and out.count("Register request") == 2
    assert err == "notice: showing 2 of 3 tasks; use --limit\n"
    code, out, err = hall("tasks", "--limit", "2", "--json")
    assert len(as_json(out)) == 2 and err == "notice: showing 2 of 3 tasks; use --limit\n"
    code, out, err = hall("tasks", "--limit", "3", "--json")
    assert len(as_json(out)) == 3 and err == ""
    code, out, err = hall("instances", "--limit", "1", "--json")
    assert [i["id"] for i in as_json(out)] == [3] and err == "notice: showing 1 of 3 instances; use --limit\n"
    assert hall("instances")[2] == ""
    code, _, err = hall("tasks", "--limit", "0")
    assert code == 2 and "--limit" in err


def test_configuration_errors_name_file_and_line(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "hall.yaml"
    bad.write_text("calendar:\n  timezone: Asia/Shanghai\ncalender: {}\n")
    result = runner.invoke(main, ["--config", str(bad), "--db", str(tmp_path / "x.db"), "tasks"])
    assert result.exit_code == 1 and f"{bad}:3: unknown section 'calender'" in result.stderr
    bad.write_text("calendar:\n  office_hours: '09:00-08:00'\n")
    result = runner.invoke(main, ["--config", str(bad), "--db", str(tmp_path / "x.db"), "tasks"])
    assert result.exit_code == 1 and "calendar.office_hours" in result.stderr
    result = runner.invoke(main, ["--config", str(tmp_path / "missing.yaml"), "tasks"])
    assert result.exit_code == 1 and f"configuration file {tmp_path / 'missing.yaml'} not found" in result.stderr


def test_provisional_deadlines_are_marked_and_warned_once(tmp_path: Path) -> None:
    """A deadline reaching a year without an official schedule (2027 here) is provisional (issue: time)."""
    src = tmp_path / "review.bpmn"
    src.write_text(
        (FIXTURES / "review.bpmn")
        .read_text()
        .replace('camunda:formKey="register"', 'camunda:formKey="register" camunda:dueDate="5 working days"')
    )
    runner = CliRunner()
    base = ["--db", str(tmp_path / "h.db"), "--forms", str(FIXTURES / "forms"), "--now", "2026-12-28T09:00+08:00"]
    for args in (
        ["init", "--rehearsal"],
        ["deploy", str(src)],
        ["start", "review", "--set", "amount=1"],
        ["start", "review"],
    ):
        assert runner.invoke(main, base + args).exit_code == 0
    result = runner.invoke(main, base + ["tasks"])
    assert result.exit_code == 0
    assert result.stdout.count("~") == 2 and result.stderr.count("provisional") == 1
    [task] = json.loads(runner.invoke(main, base + ["tasks", "--json", "--instance", "1"]).stdout)
    # R-T1: 元旦 2027 is closed provisionally, so the fifth working day ends on 01-05 (was: 01-04)
    assert task["due_provisional"] is True and task["due_at"].startswith("2027-01-05")


@pytest.mark.parametrize(
    "command", ["tasks", "show 1", "instances", f"deploy {FIXTURES}", "incidents", "worker --once"]
)
def test_a_mistyped_database_file_is_not_created(tmp_path: Path, command: str) -> None:
    typo = tmp_path / "typo.db"
    result = CliRunner().invoke(main, ["--db", str(typo), "--forms", str(FIXTURES / "forms"), *command.split()])
    assert result.exit_code == 1
    assert result.stderr == f"error: no hall database at {typo}: run `hall init` first (or check --db / HALL_DB)\n"
    assert list(tmp_path.iterdir()) == []
    assert CliRunner().invoke(main, ["--db", str(typo), "init"]).exit_code == 0 and typo.exists()
