"""`hall message` and `hall signal` through click's runner (issue 12, item 5): a message to one case,
correlated by --key, narrowed by --process, starting a case by its message start event; a signal
to every waiting case; and every refusal one `error:` line, exit 1, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES
from hall.cli import main

NOW = "2026-11-24T09:00:00+08:00"
MESSAGES = FIXTURES / "messages"


@pytest.fixture
def hall(db_url: str):
    """`hall` on a database with the message and signal diagrams deployed: (exit code, out, err)."""
    runner = CliRunner()

    def run(*args: str):
        result = runner.invoke(main, ["--db", db_url, "--now", NOW, *args], catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert run("init", "--rehearsal")[0] == 0
    files = [str(p) for p in sorted(MESSAGES.glob("*.bpmn")) if p.name != "juel_conditions.bpmn"]
    assert run("deploy", *files)[0] == 0
    return run


def started(hall, *args: str) -> dict:
    code, out, err = hall("start", *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_a_message_correlated_by_key_reaches_its_case(hall) -> None:
    started(hall, "msg_wait_paid", "--key", "TS-1")
    two = started(hall, "msg_wait_paid", "--key", "TS-2")
    code, out, err = hall("message", "fee_paid", "--key", "TS-2", "--set", "amount:=30")
    assert code == 0, err
    assert out.startswith(f"instance {two['id']}  msg_wait_paid v1  key TS-2  [running]")
    assert "Issue the licence" in out
    shown = json.loads(hall("show", str(two["id"]), "--json")[1])
    assert shown["variables"]["paid_Response"] == {"amount": 30}


def test_a_message_to_an_instance_still_works(hall) -> None:
    case = started(hall, "msg_wait_paid", "--key", "TS-1")
    code, out, _ = hall("message", str(case["id"]), "fee_paid")
    assert code == 0 and "Issue the licence" in out


def test_a_message_starts_a_case_of_the_process_named(hall) -> None:
    code, out, err = hall("message", "--process", "msg_start_filing", "filing_received", "--key", "BA-1")
    assert code == 0, err
    assert "msg_start_filing v1  key BA-1  [running]" in out and "Check the filing" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (("fee_paid", "--key", "TS-X"), "error: message 'fee_paid' with correlation key 'TS-X' was not correlated"),
        (("fee_paid",), "error: message 'fee_paid' without a correlation key fits 2 targets"),
        (("--process", "nope", "fee_paid"), "error: unknown process 'nope'"),
        (("99", "fee_paid"), "error: unknown instance 99"),
        (("1", "filing_received"), "error: instance 1 is not waiting for message 'filing_received'"),
    ],
)
def test_a_message_nothing_takes_is_one_error_line_and_writes_nothing(
    hall, args: tuple[str, ...], message: str
) -> None:
    started(hall, "msg_wait_paid", "--key", "TS-1")
    started(hall, "msg_wait_paid", "--key", "TS-2")
    before = hall("instances", "--json")[1], hall("history", "1", "--json")[1]
    code, out, err = hall("message", *args)
    assert code == 1 and out == ""
    assert err.startswith(message) and err.count("\n") == 1
    assert (hall("instances", "--json")[1], hall("history", "1", "--json")[1]) == before


def test_instance_with_key_is_a_usage_error(hall) -> None:
    code, _, err = hall("message", "1", "fee_paid", "--key", "TS-1")
    assert code == 2 and "give INSTANCE NAME, or NAME with --key/--process" in err


def test_a_signal_reaches_every_waiting_case(hall) -> None:
    a = started(hall, "sig_wait")
    b = started(hall, "sig_wait")
    code, out, err = hall("signal", "hall_closing", "--set", "closed_by=王芳", "--json")
    assert code == 0, err
    sent = json.loads(out)
    assert sent["reached"] == [a["id"], b["id"]] and len(sent["started"]) == 1
    assert json.loads(hall("show", str(a["id"]), "--json")[1])["variables"]["closed_by"] == "王芳"
    code, out, _ = hall("signal", "nobody_listens")
    assert code == 0 and out == "signal nobody_listens: reached 0 case(s) [], started []\n"


def test_a_signal_with_a_variable_shadowing_the_scripts_is_refused(hall, tmp_path: Path) -> None:
    case = started(hall, "sig_wait")
    code, _, err = hall("signal", "hall_closing", "--set", "eval=1")
    assert code == 1 and err.startswith("error: signal variables: variable 'eval'")
    assert json.loads(hall("show", str(case["id"]), "--json")[1])["status"] == "running"
    assert json.loads(hall("show", str(case["id"]), "--json")[1])["tasks"] == []
