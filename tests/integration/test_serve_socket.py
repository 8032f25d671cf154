"""`hall serve --socket PATH` (issue 16): on the server's own machine the kernel's peer credentials
identify the caller, its OS login mapped to the hall user of the same id, with no token."""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, fixture_files
from hall.cli import main
from hall.client import Client, RemoteError
from hall.server.run import Background
from ruamel.yaml import YAML

CONFIG = YAML(typ="safe").load("""\
roles:
  clerk: {serves: [clerk]}
  supervisor: {serves: [], may: [see_all, admin]}
users:
  - {id: ann, name: Ann Li, roles: [clerk]}
  - {id: sup, name: Sue Ma, roles: [supervisor]}
""")
LOGIN = pwd.getpwuid(os.getuid()).pw_name  # who runs the tests


@pytest.fixture
def socket_server(make_engine, clock, tmp_path: Path) -> Iterator[tuple[str, object]]:
    eng = make_engine(settings=CONFIG)
    eng.init()
    eng.deploy(fixture_files())
    eng.directory.import_config(CONFIG, user="sup")
    server = Background(eng.store.url, CONFIG, FIXTURES / "forms", socket=str(tmp_path / "hall.sock"), clock=clock)
    url = server.start()
    try:
        yield url, eng
    finally:
        server.stop()


def test_the_os_login_is_the_hall_user_over_the_socket(socket_server) -> None:
    url, eng = socket_server
    client = Client(url)
    try:
        with pytest.raises(RemoteError) as refused:
            client.me()  # no hall user of this login yet
        assert refused.value.status == 401 and f"the OS login {LOGIN} is no hall user" in str(refused.value)
        eng.directory.add_user(LOGIN, None, ["clerk"], user="sup")  # type: ignore[attr-defined]
        assert client.me()["id"] == LOGIN
        eng.start("review", data={"amount": 1}, user="ann")  # type: ignore[attr-defined]
        assert [t["name"] for t in client.tasks()] == ["register"]
        with pytest.raises(RemoteError) as denied:
            client.directory.add_user("eve", None, ["clerk"])  # a clerk: no `admin`
        assert denied.value.status == 403
    finally:
        client.close()
    r = CliRunner().invoke(main, ["--url", url, "tasks", "--json"], env={"HALL_TOKEN": None})
    assert r.exit_code == 0 and '"register"' in r.stdout, r.stderr
    r = CliRunner().invoke(main, ["--url", url, "--user", "sup", "tasks"], env={"HALL_TOKEN": None})
    assert r.exit_code == 1 and f"--user sup is not who is logged in to {url} ({LOGIN})" in r.stderr
    # a token still names its own user over the socket
    token = eng.directory.issue_token("sup", None, 1, user="sup")["token"]  # type: ignore[attr-defined]
    client = Client(url, token=token)
    try:
        assert client.me()["id"] == "sup"
    finally:
        client.close()
