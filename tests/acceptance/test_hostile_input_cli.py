"""Every bad input is one line (issue 15, item 5): bytes that are not UTF-8, a lone surrogate, a
5,000-digit number, a date that does not exist, deep nesting, YAML alias bombs, control characters
in hall.yaml, non-finite numbers, over-long keys: one `error:` line, exit 1, the database as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from hall.cli import main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}' if prev else 'x'] * 9)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g"], ["a", "b", "c", "d", "e", "f", "g", "h"])
)


@pytest.fixture
def hall(tmp_path: Path):
    config = tmp_path / "hall.yaml"
    config.write_text("calendar: {}\n", encoding="utf-8")
    db = tmp_path / "hall.db"
    runner = CliRunner()

    def run(*args: str, config_file: Path = config) -> tuple[int, str, str]:
        base = ["--db", str(db), "--forms", str(FIXTURES / "forms"), "--config", str(config_file)]
        result = runner.invoke(main, base + list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    assert run("init")[0] == 0 and run("deploy", str(FIXTURES))[0] == 0
    run.db = db  # type: ignore[attr-defined]
    run.tmp = tmp_path  # type: ignore[attr-defined]
    return run


def data_file(tmp: Path, text: str) -> str:
    path = tmp / "data.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    return str(path)


def one_line(hall, args: list[str], expected: str) -> None:
    before = hall.db.read_bytes()
    code, out, err = hall(*args)
    assert code == 1 and out == "", (args, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1 and expected in err, err
    assert hall.db.read_bytes() == before


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["start", "review", "--set", "amount=\udcff"], "--set 'amount=\\udcff': is not UTF-8 text"),
        (["start", "review", "--key", "K-\udcff", "--set", "amount=1"], "--key 'K-\\udcff': is not UTF-8 text"),
        (["start", "rev\udcffiew"], "PROCESS 'rev\\udcffiew': is not UTF-8 text"),
        (["start", "review", "--set", "amount:=Infinity"], "--set amount: a number is not finite (inf)"),
        (["start", "review", "--set", "amount:=" + "9" * 5000], "--set amount: not storable JSON"),
        (["start", "review", "--set", "x:=" + "[" * 50000 + "]" * 50000], "--set x: not storable JSON"),
        (["start", "review", "--set", "x:=" + "[" * 40 + "]" * 40], "deeper than 32 levels"),
        (["start", "review", "--key", "K" * 201, "--set", "amount=1"], "is 201 characters long (at most 200)"),
        (["--user", "u" * 201, "start", "review", "--set", "amount=1"], "user 'uuuu"),
    ],
)
def test_bad_arguments_are_one_line(hall, args: list[str], expected: str) -> None:
    one_line(hall, args, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"amount": "\\ud800"}', "a value (amount) is not UTF-8 text"),
        ('{"amount": ' + "9" * 5000 + "}", "data.yaml:1: amount: not valid YAML/JSON: Exceeds the limit"),
        ("amount: 1\nsigned: 2026-02-30\n", "data.yaml:2: signed: not valid YAML/JSON: day is out of range for month"),
        # the field is named where it sits: a list's item by its index, a mapping's by its key
        ("amount: 1\nvisits:\n  - on: 2026-11-24\n  - on: 2026-13-01\n", "data.yaml:4: visits[1].on: not valid"),
        ('{"amount": 1, "x": ' + "[" * 100000 + "]" * 100000 + "}", "deeper than 32 levels"),
        ("amount: 1\n" + BOMB, "holds more than 100,000 values"),
        ("amount: .inf\n", "a number (amount) is not finite (inf)"),
        ("amount: .nan\n", "a number (amount) is not finite (nan)"),
    ],
)
def test_bad_data_files_are_one_line(hall, text: str, expected: str) -> None:
    one_line(hall, ["start", "review", "--data", data_file(hall.tmp, text)], f"{hall.tmp / 'data.yaml'}")
    one_line(hall, ["start", "review", "--data", data_file(hall.tmp, text)], expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("calendar: {}\nsettings:\n  x: a\x01b\n", ":3: not valid YAML: control character U+0001"),
        ("calendar: {}\nsettings:\n" + "".join("  " + line + "\n" for line in BOMB.splitlines()), "expands to more"),
    ],
)
def test_bad_hall_yaml_is_one_line(hall, text: str, expected: str) -> None:
    config = hall.tmp / "bad.yaml"
    config.write_text(text, encoding="utf-8")
    for args in (["tasks"], ["config", "check"]):
        code, out, err = hall(*args, config_file=config)
        assert code == 1 and "Traceback" not in err and expected in out + err, (args, out, err)


def test_show_json_is_always_json(hall) -> None:
    """Non-finite numbers are refused where data enters, so `show --json` never prints Infinity."""
    code, out, _ = hall("start", "review", "--set", "amount=1", "--set", "ratio:=1e308", "--json")
    assert code == 0
    json.loads(hall("show", str(json.loads(out)["id"]), "--json")[1], parse_constant=pytest.fail)
    one_line(hall, ["start", "review", "--set", "amount=1", "--set", "ratio:=1e999"], "is not finite (inf)")
