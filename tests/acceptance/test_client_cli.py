"""The `hall` command as a client of `hall serve` (issue 16): the same acceptance cases give the same
output and exit codes through the server (--url / HALL_URL) as on the database directly; the
client path loads neither SQLAlchemy nor SpiffWorkflow; `hall login` keeps its token mode 0600."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, PEOPLE_CONFIG
from hall.cli import main
from hall.server.run import Background
from hall.servicehall import access
from hall.servicehall.config import load_config

NOW = "2026-11-24T09:00:00+08:00"
CONFIG = PEOPLE_CONFIG.replace("admin: {may: [deploy]}", "admin: {may: [deploy, admin]}")
PASSWORD = "pass-word-1"
USERS = ("ann", "bob", "carl", "sup", "root")

Run = Callable[..., tuple[int, str, str]]


def embedded(tmp_path: Path, forms: Path = FIXTURES / "forms") -> tuple[Run, str, Path, dict[str, str]]:
    """A database set up on the server's machine: schema, diagrams, the users imported, passwords,
    and a token for each user (`hall token issue`); the task forms read from `forms`."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "hall.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    db = f"sqlite:///{tmp_path / 'hall.db'}"
    runner = CliRunner()

    def run(*args: str, user: str | None = None, stdin: str | None = None) -> tuple[int, str, str]:
        base = ["--db", db, "--forms", str(forms), "--now", NOW, "--config", str(config)]
        if user:
            base += ["--user", user]
        r = runner.invoke(main, base + list(args), input=stdin, catch_exceptions=False)
        return r.exit_code, r.stdout, r.stderr

    assert run("init", "--rehearsal")[0] == 0
    assert run("deploy", str(FIXTURES), user="root")[0] == 0
    code, out, err = run("user", "import", user="root")
    assert code == 0, err
    tokens = {}
    for uid in USERS:
        assert run("user", "password", uid, "--password-stdin", user="root", stdin=PASSWORD + "\n")[0] == 0
        code, out, err = run("token", "issue", uid, "--json", user="root")
        assert code == 0, err
        tokens[uid] = json.loads(out)["token"]
    return run, db, config, tokens


@contextmanager
def serving(tmp_path: Path, forms: Path = FIXTURES / "forms") -> Iterator[tuple[Run, str, dict[str, str]]]:
    """A hall server on 127.0.0.1 whose database was made a rehearsal one (`hall init --rehearsal`:
    --now passes), with a token per user, and a `hall` runner in client mode."""
    direct, db, config, tokens = embedded(tmp_path / "server", forms)
    settings = access.with_defaults(load_config(config))
    srv = Background(db, settings, forms)
    url = srv.start()
    runner = CliRunner()

    def run(*args: str, user: str | None = None, stdin: str | None = None) -> tuple[int, str, str]:
        base = ["--url", url, "--now", NOW]
        if user:
            base += ["--user", user]
        env = {"HALL_TOKEN": tokens[user]} if user in tokens else {}
        r = runner.invoke(main, base + list(args), input=stdin, env=env, catch_exceptions=False)
        return r.exit_code, r.stdout, r.stderr

    try:
        yield run, url, tokens
    finally:
        srv.stop()


@pytest.fixture
def server(tmp_path: Path, monkeypatch) -> Iterator[tuple[Run, str, dict[str, str]]]:
    """`serving` on the fixtures' forms, the client's logins kept under the test's folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    with serving(tmp_path) as served:
        yield served


SCENARIO: list[tuple[tuple[str, ...], str | None]] = [
    (("start", "review", "--key", "K-1", "--set", "amount=1", "--json"), "ann"),
    (("tasks",), "ann"),
    (("tasks", "--json"), "ann"),
    (("tasks",), "bob"),
    (("claim", "1"), "bob"),
    (("task", "1"), "ann"),
    (("claim", "1"), "ann"),
    (("tasks", "--mine"), "ann"),
    (("complete", "1", "--set", "amount=lots"), "ann"),
    (("complete", "1", "--set", "amount=2", "--json"), "ann"),
    (("complete", "1", "--set", "amount=2"), "ann"),
    (("show", "1"), "bob"),
    (("show", "1", "--json"), "sup"),
    (("show", "999"), "sup"),
    (("show", "x"), "sup"),
    (("history", "1", "--json"), "sup"),
    (("history",), "ann"),
    (("instances",), "bob"),
    (("find", "K-1", "--json"), "sup"),
    (("reassign", "2", "ann"), "sup"),
    (("unclaim", "2"), "ann"),
    (("suspend", "1"), "bob"),
    (("suspend", "1", "--reason", "check"), "sup"),
    (("resume", "1"), "sup"),
    (("start", "divide", "--json"), "carl"),
    (("show", "2"), "bob"),
    (("instances", "--json", "--limit", "1"), "sup"),
    (("incidents", "--json"), "sup"),
    (("message", "1", "nothing"), "sup"),
    (("cancel", "1", "--reason", "duplicate"), "sup"),
    (("user", "list", "--json"), "sup"),
    (("role", "list"), "sup"),
    (("user", "add", "eve", "--role", "clerk"), "ann"),
    (("user", "add", "eve", "--name", "Eve", "--role", "clerk", "--organisation", "税务局"), "root"),
    (("role", "add", "auditor", "--serves", "audit", "--may", "see_all"), "root"),
    (("user", "set", "eve", "--role", "auditor"), "root"),
    (("user", "list"), "sup"),
]


def play(run: Run) -> list[tuple[tuple[str, ...], str | None, int, str, str]]:
    return [(args, user, *run(*args, user=user)) for args, user in SCENARIO]


def test_the_same_cases_give_the_same_output_directly_and_through_the_server(tmp_path: Path, server) -> None:
    direct = embedded(tmp_path / "direct")[0]
    remote, _url, _tokens = server
    here, there = play(direct), play(remote)
    for mine, theirs in zip(here, there):
        assert mine == theirs
    results = {(args, user): (code, out, err) for args, user, code, out, err in there}
    # what the cases say, beyond being the same both ways
    assert results[("claim", "1"), "bob"][0] == 1
    assert results[("claim", "1"), "bob"][2].startswith("error: permission denied: bob may not claim")
    code, _, err = results[("complete", "1", "--set", "amount=lots"), "ann"]
    assert code == 1 and err.startswith("error: form ") and "amount" in err and err.count("\n") == 1
    assert results[("complete", "1", "--set", "amount=2"), "ann"][2].startswith("error: task 1 ")
    assert json.loads(results[("show", "1", "--json"), "sup"][1])["variables"]["amount"] == 2
    assert results[("show", "999"), "sup"] == (1, "", "error: unknown instance 999\n")
    assert results[("user", "add", "eve", "--role", "clerk"), "ann"][0] == 1
    assert "eve" in results[("user", "list"), "sup"][1] and "auditor" in results[("user", "list"), "sup"][1]
    assert results[("instances", "--json", "--limit", "1"), "sup"][2].startswith("notice: ")


def test_client_mode_errors_without_a_token_or_for_another_user(server, monkeypatch) -> None:
    run, url, tokens = server
    monkeypatch.delenv("HALL_TOKEN", raising=False)
    r = CliRunner().invoke(main, ["--url", url, "tasks"], env={"XDG_CONFIG_HOME": "/nonexistent-hall-xdg"})
    assert r.exit_code == 1 and r.stderr == "error: not logged in: no token; log in with `hall login`\n"
    r = CliRunner().invoke(main, ["--url", url, "--user", "bob", "tasks"], env={"HALL_TOKEN": tokens["ann"]})
    assert r.exit_code == 1 and "--user bob is not who is logged in" in r.stderr
    r = CliRunner().invoke(main, ["--url", url, "worker", "--once"], env={"HALL_TOKEN": tokens["sup"]})
    assert r.exit_code == 1 and "runs beside the database" in r.stderr
    r = CliRunner().invoke(main, ["--url", "http://127.0.0.1:9", "tasks"], env={"HALL_TOKEN": "x"})
    assert r.exit_code == 1 and r.stderr.startswith("error: cannot reach hall server http://127.0.0.1:9")


def test_login_keeps_the_token_for_its_owner_only_and_logout_revokes_it(server, tmp_path: Path) -> None:
    run, url, tokens = server
    r = CliRunner().invoke(
        main,
        ["--url", url, "--user", "root", "login", "--password-stdin"],
        input=PASSWORD + "\n",
        env={"HALL_TOKEN": None},
    )
    assert r.exit_code == 0 and r.stdout.startswith(f"logged in to {url} as root until "), r.stderr
    path = tmp_path / "xdg" / "hall" / "tokens.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    saved = json.loads(path.read_text())[url]
    assert saved["user"] == "root" and saved["token"].startswith("hall_") and saved["token"] != tokens["root"]
    r = CliRunner().invoke(main, ["--url", url, "tasks"], env={"HALL_TOKEN": None})
    assert r.exit_code == 0, r.stderr  # as root, from the file
    r = CliRunner().invoke(main, ["--url", url, "logout"], env={"HALL_TOKEN": None})
    assert r.exit_code == 0 and url not in json.loads(path.read_text())
    r = CliRunner().invoke(main, ["--url", url, "tasks"], env={"HALL_TOKEN": saved["token"]})
    assert r.exit_code == 1 and "revoked" in r.stderr
    assert CliRunner().invoke(main, ["--url", url, "tasks"], env={"HALL_TOKEN": tokens["root"]}).exit_code == 0
    r = CliRunner().invoke(main, ["--url", url, "--user", "ann", "login", "--password-stdin"], input="wrong-pass\n")
    assert r.exit_code == 1 and r.stderr == "error: login refused for 'ann': wrong user or password\n"


def test_the_client_path_loads_neither_sqlalchemy_nor_spiffworkflow(server) -> None:
    run, url, tokens = server
    code = (
        "import sys\n"
        "from hall.cli import main\n"
        "try:\n"
        "    main(['tasks', '--json'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "import os\n"
        "from hall.client import Client\n"
        "assert Client(os.environ['HALL_URL']).form('register').fields[0].name == 'amount'\n"  # as a prompt asks it
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'SpiffWorkflow', 'hall'))\n"
        "print(loaded, file=sys.stderr)\n"
    )
    env = dict(os.environ, HALL_URL=url, HALL_TOKEN=tokens["ann"])
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    loaded = done.stderr.strip()
    assert "sqlalchemy" not in loaded and "SpiffWorkflow" not in loaded
    # of the engine, only its plain-Python leaves (errors, input checks, the clock) may load
    assert "hall.engine.api" not in loaded and "hall.engine.store" not in loaded and "hall.engine.runtime" not in loaded
    assert "hall.client" in loaded and "hall.engine.forms" in loaded


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.timeout(120)
def test_hall_serve_runs_as_a_process_and_stops_on_sigterm(tmp_path: Path) -> None:
    import signal
    import time
    import urllib.request

    direct, db, config, tokens = embedded(tmp_path)
    port = free_port()
    cmd = [sys.executable, "-m", "hall.cli", "--db", db, "--config", str(config), "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=5) as r:
                    assert json.loads(r.read())["status"] == "ready"
                    break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.1)
        env = dict(os.environ, HALL_URL=f"http://127.0.0.1:{port}", HALL_TOKEN=tokens["ann"])
        out = subprocess.run(
            [sys.executable, "-m", "hall.cli", "start", "review", "--set", "amount=1", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["process"] == "review"
    finally:
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=30)
    # a graceful stop: uvicorn finishes its requests, shuts the application down (the engines are
    # closed), then ends by the signal it was sent, as a supervisor expects
    assert proc.returncode in (0, -signal.SIGTERM), stderr
    assert "Application shutdown complete" in stderr
    assert f"127.0.0.1:{port}" in stderr  # uvicorn's log line of where it listened


def test_complete_at_a_terminal_asks_the_same_questions_both_ways(tmp_path: Path, server, monkeypatch) -> None:
    """Missing fields are asked one by one, a bad answer asked again with the field's own message,
    through the server as directly."""
    import hall.cli

    direct = embedded(tmp_path / "direct")[0]
    remote = server[0]
    monkeypatch.setattr(hall.cli, "stdin_is_terminal", lambda: True)
    outputs = []
    for run in (direct, remote):
        assert run("start", "review", "--set", "amount=1", user="ann")[0] == 0
        outputs.append(run("complete", "1", user="ann", stdin="lots\n-1\n7\n\n\n"))
    assert outputs[0] == outputs[1]
    code, out, err = outputs[1]
    assert code == 0, err
    assert out.count("Amount (") == 3 and "instance 1" in out  # asked three times: two bad answers
    assert err.count("\n") == 2  # one line for each bad answer


RICH_FORM = """\
title: Register the request
template: |
  Amount so far: {{ data.amount }}
fields:
  - name: amount
    label: Amount
    type: int
    min: 0
    help: what the customer asks for, in yuan
  - name: decision
    label: Decision
    type: choice
    choices: [accept, refuse, incomplete]
  - name: missing
    label: Missing items
    type: multiline
    required: false
    required_when: {decision: [incomplete]}
  - name: note
    type: text
    required: false
"""


def test_a_draft_is_kept_over_the_server_and_resumed_as_directly(tmp_path: Path, monkeypatch) -> None:
    """The whole prompt both ways: help, the case's value offered, numbered choices and a prefix, a
    conditional multi-line field, the review; `q` keeps a draft (on the server in client mode), a
    refused submit keeps it too, and the next `hall complete` resumes it, changes a choice at the
    review (the conditional field dropped) and submits."""
    import hall.cli
    from hall.client import Client

    forms = tmp_path / "forms"
    shutil.copytree(FIXTURES / "forms", forms)
    (forms / "register.yaml").write_text(RICH_FORM, encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(hall.cli, "stdin_is_terminal", lambda: True)
    direct = embedded(tmp_path / "direct", forms)[0]
    steps = [
        (("complete", "1"), "lots\n-1\n7\ninc\nID card\ncontract\n\n\nq\n"),  # stopped at the review
        (("complete", "1", "--set", "bogus=1"), "\n"),  # resumed, refused by the form: the draft stays
        (("complete", "1"), "2\n1\n\n"),  # resumed, the decision changed to accept, submitted
    ]
    with serving(tmp_path, forms) as (remote, url, tokens):
        client = Client(url, token=tokens["ann"], now=NOW)
        outputs: dict[str, list[tuple[int, str, str]]] = {}
        for mode, run in (("direct", direct), ("remote", remote)):
            assert run("start", "review", "--set", "amount=1", user="ann")[0] == 0
            outputs[mode] = []
            for args, stdin in steps:
                outputs[mode].append(run(*args, user="ann", stdin=stdin))
                if mode == "remote" and len(outputs[mode]) == 1:  # the draft is the server's
                    kept = client.draft(1)
                    assert kept is not None and kept["data"]["missing"] == "ID card\ncontract", kept
            shown = run("show", "1", "--json", user="ann")
            assert shown[0] == 0, shown
            outputs[mode].append((0, json.loads(shown[1])["variables"].get("decision"), ""))
        assert client.draft(1) is None  # submitted: the draft is gone
        client.close()
    assert outputs["direct"] == outputs["remote"]
    (stopped, refused, done, decision) = outputs["remote"]
    assert stopped[0] == 1 and "draft kept" in stopped[2]
    out = stopped[1]
    assert out.count("Amount (") == 3 and "help: what the customer asks for" in out and "[1]" in out
    assert "1) accept   2) refuse   3) incomplete" in out and "Missing items" in out
    assert "ID card\n      contract" in out  # the multi-line answer at the review
    assert refused[0] == 1 and "resuming your draft of" in refused[1] and "bogus" in refused[2]
    assert "draft kept" in refused[2]
    assert done[0] == 0 and "resuming your draft of" in done[1] and "instance 1" in done[1], done
    assert done[1].count("Missing items") == 1  # at the first review only: dropped with its condition
    assert decision[1] == "accept"


def test_hall_serve_refuses_a_simulated_time_and_a_url(tmp_path: Path) -> None:
    run = embedded(tmp_path)[0]
    code, _, err = run("serve", "--port", "0")  # the runner passes --now
    assert code == 1 and err.startswith("error: hall serve runs on the real clock")
    r = CliRunner().invoke(main, ["--url", "http://127.0.0.1:9", "serve"])
    assert r.exit_code == 1 and r.stderr == "error: hall serve opens the database itself: unset HALL_URL / --url\n"
