"""Cases run their scripts restricted (issue 15), through the API on each database: a hostile script
cannot be deployed, one that gets past deploy (an older deployment) stops as an incident at its task
without doing anything, an endless loop stops at the configured limit, and data that would shadow the
scripts' environment is refused where it enters (start, complete, message, retry)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import FIXTURES
from hall import Engine
from hall.engine.errors import DataInvalid, DefinitionInvalid

DIVIDE = (FIXTURES / "divide.bpmn").read_text()
SCRIPT = "partial = 1\nresult = 100 / divisor"


def divide_with(tmp_path: Path, script: str, name: str = "hostile.bpmn") -> Path:
    """divide.bpmn with another script at its task `compute` (line 6 of the file is the script's first)."""
    path = tmp_path / name
    path.write_text(DIVIDE.replace(SCRIPT, script.replace("<", "&lt;")))
    return path


def run_to_compute(engine: Engine, data: dict | None = None) -> dict:
    case = engine.start("divide", None, {})
    return engine.complete(case["tasks"][0]["id"], {"divisor": 4, **(data or {})})


@pytest.mark.parametrize(
    "script, finding",
    [
        ("import socket\nresult = 1", "hostile.bpmn:6: compute: script uses import"),
        ("x = 1\nimport os\nos.system('id')", "hostile.bpmn:7: compute: script uses import"),
        ("x = open('/etc/hostname').read()", "hostile.bpmn:6: compute: script uses forbidden builtin open"),
        ("__import__('os').system('id')", "hostile.bpmn:6: compute: script uses forbidden builtin __import__"),
        (
            "x = ().__class__.__base__.__subclasses__()",
            "hostile.bpmn:6: compute: script uses dunder attribute __class__",
        ),
        ("x = getattr(divisor, '__class__')", "hostile.bpmn:6: compute: script uses dunder attribute __class__"),
    ],
)
def test_a_hostile_script_cannot_be_deployed(engine: Engine, tmp_path: Path, script: str, finding: str) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        engine.deploy([divide_with(tmp_path, script)])
    assert finding in [str(f).replace(str(tmp_path) + "/", "") for f in caught.value.findings]
    assert engine.start("divide", None, {})["version"] == 1  # nothing deployed


def _deploy_unchecked(engine: Engine, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deploy as a hall before issue 15 did, without the restricted checks (an older deployment)."""
    from hall.engine import restricted

    with monkeypatch.context() as patch:
        patch.setattr(restricted, "problems", lambda source, mode="exec": [])
        engine.deploy([path])


@pytest.mark.parametrize(
    "script, error",
    [
        ("import os\nos.system('touch {marker}')", "script uses import"),
        ("open('{marker}', 'w').write('x')", "script uses forbidden builtin open"),
        ("__import__('os').system('touch {marker}')", "script uses forbidden builtin __import__"),
        (
            "[c for c in ().__class__.__base__.__subclasses__() if c.__name__ == 'Popen'][0](['touch', '{marker}'])",
            "script uses dunder attribute __class__",
        ),
        ("os.system('touch {marker}')", "name 'os' is not defined"),
        ("k = getattr(divisor, '_' + '_class__')", "starts with"),
    ],
)
def test_a_hostile_script_of_an_older_deployment_stops_at_its_task_and_does_nothing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, error: str
) -> None:
    marker = tmp_path / "touched"
    _deploy_unchecked(engine, divide_with(tmp_path, script.format(marker=marker)), monkeypatch)
    case = run_to_compute(engine)
    assert case["status"] == "incident" and case["incident"]["element"] == "compute"
    assert error in case["incident"]["error"]
    assert not marker.exists()
    assert "result" not in case["variables"]


def test_an_endless_loop_becomes_an_incident_within_the_limit(make_engine, tmp_path: Path) -> None:
    engine = make_engine(settings={"scripts": {"timeout": "500 ms"}})
    engine.init()
    engine.deploy([divide_with(tmp_path, "n = 0\nwhile True:\n    n += 1")])
    began = time.monotonic()
    case = run_to_compute(engine)
    assert time.monotonic() - began < 5
    assert case["status"] == "incident"
    assert case["incident"]["element"] == "compute"
    assert "script ran longer than 0.5 s" in case["incident"]["error"]
    assert "n" not in case["variables"]  # the task is back as it was before it ran
    # fixed by a new version, the case goes on
    engine.deploy([divide_with(tmp_path, "result = 100 / divisor", "fixed.bpmn")])
    case = engine.retry(case["id"], latest=True)
    assert case["status"] == "running" and case["variables"]["result"] == 25


def test_an_endless_condition_becomes_an_incident(make_engine, tmp_path: Path) -> None:
    engine = make_engine(settings={"scripts": {"timeout": 0.3}})
    engine.init()
    path = tmp_path / "review.bpmn"
    endless = "approved == True and sum(1 for a in range(10**6) for b in range(10**6)) &gt; 0"
    path.write_text((FIXTURES / "review.bpmn").read_text().replace("approved == True", endless))
    engine.deploy([path])
    case = engine.start("review", None, {})
    case = engine.complete(case["tasks"][0]["id"], {"amount": 150})
    began = time.monotonic()
    case = engine.complete(case["tasks"][0]["id"], {"approved": True})
    assert time.monotonic() - began < 5
    assert case["status"] == "incident" and case["incident"]["element"] in ("decide", "f_yes")
    assert "longer than 0.3 s" in case["incident"]["error"]


def test_what_the_diagrams_do_still_runs(engine: Engine, tmp_path: Path) -> None:
    script = "\n".join(
        [
            "parts = [divisor * i for i in range(3)]",
            "table = {'n': divisor}",
            "table['m'] = 2",
            "total = 0",
            "for p in parts:",
            "    total += p",
            "label = globals().get('label') or 'none'",
            "when = (date(2026, 11, 24) + timedelta(days=1)).isoformat()",
            "result = 100 / divisor",
        ]
    )
    engine.deploy([divide_with(tmp_path, script)])
    case = run_to_compute(engine)
    assert case["status"] == "running", case.get("incident")
    v = case["variables"]
    assert (v["parts"], v["table"], v["total"], v["label"], v["when"], v["result"]) == (
        [0, 4, 8],
        {"n": 4, "m": 2},
        12,
        "none",
        "2026-11-25",
        25,
    )


# -- data that would shadow the scripts' environment --------------------------------------------
SHADOWING = ["__builtins__", "globals", "_getattr_", "_secret", "next_number", "datetime", "eval"]


@pytest.mark.parametrize("name", SHADOWING)
def test_shadowing_data_is_refused_at_start_and_complete(engine: Engine, name: str) -> None:
    with pytest.raises(DataInvalid, match=f"variable '{name}' would shadow the scripts' environment"):
        engine.start("divide", None, {name: 1})
    case = engine.start("divide", None, {})
    before = engine.show(case["id"]), engine.history(case["id"])
    with pytest.raises(DataInvalid, match=f"'{name}'"):
        engine.complete(case["tasks"][0]["id"], {"divisor": 4, name: {}})
    assert (engine.show(case["id"]), engine.history(case["id"])) == before
    assert str(DataInvalid("data", "x")).count("\n") == 0


def test_shadowing_data_is_refused_at_retry(engine: Engine) -> None:
    case = run_to_compute(engine, {"divisor": 0})
    assert case["status"] == "incident"
    with pytest.raises(DataInvalid, match="variable '__builtins__'"):
        engine.retry(case["id"], {"__builtins__": {"open": 1}})
    assert engine.show(case["id"])["status"] == "incident"
    assert engine.retry(case["id"], {"divisor": 5})["variables"]["result"] == 20


def test_shadowing_data_is_refused_in_a_message(engine: Engine) -> None:
    case = engine.start("divide", None, {})
    with pytest.raises(DataInvalid, match="message payload: variable 'globals'"):
        engine.send_message(case["id"], "anything", {"globals": 1})
