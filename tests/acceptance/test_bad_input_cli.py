"""Bad input at the command line is one line and a non-zero exit, never a traceback (issue 15, item 5):
a month past the calendar's years, a list limit past what the database's integers hold, a --now
that has no time in UTC."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from hall.cli import main


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = str(tmp_path / "hall.db")
    result = CliRunner().invoke(main, ["--db", path, "init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("month", ["99999-01", "9999-12"])
def test_a_month_past_the_calendars_years_is_one_line(db: str, month: str) -> None:
    code, out, err = run("--db", db, "calendar", month)
    year = month.split("-")[0]
    assert code == 1 and out == ""
    assert err.splitlines()[-1] == f"error: year {year} is outside the calendar (years 1 to 9998; write e.g. 2026-10)"


@pytest.mark.parametrize("command", ["instances", "tasks"])
def test_a_limit_past_the_databases_integers_lists_everything(db: str, command: str) -> None:
    code, _out, err = run("--db", db, command, "--limit", str(10**30))
    assert code == 0 and "Traceback" not in err and "error" not in err


def test_a_now_with_no_time_in_utc_is_a_usage_error(db: str) -> None:
    code, _out, err = run("--db", db, "--now", "0001-01-01T00:00+14:00", "tasks")
    assert code == 2
    assert "'0001-01-01T00:00+14:00' lies outside the years 1 to 9999 in UTC" in err
