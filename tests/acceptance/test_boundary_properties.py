"""Property-based tests over the CLI and API boundary (issue 15, item 5): arbitrary --set values, data
files, ids and dates give either success or one `error:` line (a usage error: click's message, exit
2), never a traceback, and a command that fails leaves the SQLite database file byte for byte as it was.
Bounded: a few dozen examples each, no deadline (a command opens a database)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hall.cli import main
from hall.engine import Engine, FixedClock
from hall.engine.errors import HallError
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BOUNDED = settings(
    max_examples=30, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow], database=None
)

# text as terminals and files deliver it: any character, now and then a lone surrogate (bytes that
# were not UTF-8), a control character or digits
TEXT = st.one_of(
    st.text(max_size=30),
    st.text(st.characters(categories=["Cs", "Cc"]), min_size=1, max_size=4),
    st.from_regex(r"-?[0-9]{1,60}(\.[0-9]+)?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(["Infinity", "-Infinity", "NaN", "1e999", "2026-02-30", "null", "[[[[", '{"a":']),
)
NAME = st.one_of(
    st.sampled_from(["amount", "x", "备注", "__builtins__", "globals", "next_number"]), st.text(max_size=8)
)
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(NAME, inner, max_size=4)),
    max_leaves=20,
)
DATE = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.from_regex(r"[0-9]{1,6}-[0-9]{1,2}(-[0-9]{1,2}(T[0-9]{2}:[0-9]{2}([+-][0-9]{2}:[0-9]{2})?)?)?", fullmatch=True),
    TEXT,
)
ID = st.one_of(st.integers().map(str), TEXT)


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A rehearsal database with the fixtures deployed and one case waiting at its first task."""
    tmp = tmp_path_factory.mktemp("boundary")
    config = tmp / "hall.yaml"
    config.write_text("calendar: {}\n", encoding="utf-8")
    db = tmp / "hall.db"
    base = ["--db", str(db), "--forms", str(FIXTURES / "forms"), "--config", str(config)]
    runner = CliRunner()
    assert runner.invoke(main, [*base, "init", "--rehearsal"]).exit_code == 0
    assert runner.invoke(main, [*base, "deploy", str(FIXTURES)]).exit_code == 0
    started = runner.invoke(main, [*base, "start", "review", "--set", "amount=1", "--json"])
    case = json.loads(started.stdout)
    return {"base": base, "db": db, "tmp": tmp, "runner": runner, "task": str(case["tasks"][0]["id"])}


def quiet(db: Path) -> bytes:
    """The database file once SQLite's log is copied into it and emptied: what a command may change."""
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return db.read_bytes()


def invoke(hall: dict[str, Any], args: list[str]) -> None:
    """Run `hall ARGS`: success, one `error:` line (exit 1) or a usage error (exit 2); on failure the
    database file is byte for byte what it was."""
    before = quiet(hall["db"])
    result = hall["runner"].invoke(main, [*hall["base"], *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, result.exception)
    err = result.stderr
    assert "Traceback" not in err, (args, err)
    if result.exit_code == 1:
        assert err.startswith("error: ") and err.count("\n") == 1, (args, err)
    elif result.exit_code == 2:
        assert err.strip().splitlines()[-1].startswith("Error: "), (args, err)
    else:
        assert result.exit_code == 0, (args, result.exit_code, err)
    if result.exit_code:
        assert hall["db"].read_bytes() == before, args
    elif "--json" in args:  # JSON, never Infinity or NaN
        json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"{args}: {c} in --json"))


@BOUNDED
@given(pairs=st.lists(st.tuples(NAME, st.booleans(), TEXT), min_size=1, max_size=3), complete=st.booleans())
def test_any_set_values_give_success_or_one_line(hall: dict[str, Any], pairs: list, complete: bool) -> None:
    sets = []
    for name, typed, value in pairs:
        sets += ["--set", f"{name}{':=' if typed else '='}{value}"]
    command = ["complete", hall["task"]] if complete else ["start", "review", "--set", "amount=1"]
    invoke(hall, [*command, *sets, "--json"])


@BOUNDED
@given(document=st.one_of(JSON, TEXT), as_json=st.booleans())
def test_any_data_file_gives_success_or_one_line(hall: dict[str, Any], document: Any, as_json: bool) -> None:
    path = hall["tmp"] / "data.json"
    text = json.dumps(document, ensure_ascii=False) if as_json else str(document)
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    invoke(hall, ["start", "review", "--data", str(path)])


@BOUNDED
@given(command=st.sampled_from(["show", "history", "task", "claim", "cancel", "retry"]), ident=ID)
def test_any_id_gives_success_or_one_line(hall: dict[str, Any], command: str, ident: str) -> None:
    invoke(hall, [command, ident, *(["--reason", "x"] if command == "cancel" else [])])


@BOUNDED
@given(now=DATE, month=DATE, before=DATE)
def test_any_dates_give_success_or_one_line(hall: dict[str, Any], now: str, month: str, before: str) -> None:
    invoke(hall, ["--now", now, "tasks"])
    invoke(hall, ["calendar", month])
    invoke(hall, ["kpi", "--from", before])
    invoke(hall, ["purge", "--before", before])


@BOUNDED
@given(key=st.one_of(st.none(), TEXT), data=st.dictionaries(NAME, JSON, max_size=4))
@example(key=None, data={"ratio": float("inf")})
@example(key="K\udcff", data={})
def test_the_api_takes_any_data_or_refuses_it_with_a_hall_error(
    hall: dict[str, Any], key: str | None, data: dict
) -> None:
    before = quiet(hall["db"])
    eng = Engine(str(hall["db"]), clock=FixedClock(NOW), forms_dir=FIXTURES / "forms")
    try:
        case = eng.start("review", key, dict(data, amount=1))
    except HallError as exc:
        assert "\n" not in str(exc)
        eng.close()
        assert hall["db"].read_bytes() == before
    else:
        json.dumps(eng.show(case["id"]), allow_nan=False)  # what --json prints is JSON
        eng.close()
