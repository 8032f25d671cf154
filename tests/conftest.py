"""Shared fixtures: a controllable clock, and engines on SQLite and (when configured) PostgreSQL.

PostgreSQL tests run when HALL_TEST_DATABASE_URL points at a server; each test gets its own
database, created and dropped here, so nothing is shared through the `test` database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

os.environ.setdefault("HALL_VERIFY_SNAPSHOTS", "1")  # check every incremental save against a full one
# The CLI speaks the hall's language (zh_CN) by default; tests read its English messages unless a test
# sets HALL_LANG itself (tests/acceptance/test_terminal_cli.py asserts the Chinese ones).
os.environ["HALL_LANG"] = "en"
os.environ.pop("NO_COLOR", None)

from hall.engine import Engine, FixedClock  # noqa: E402

TESTS = Path(__file__).resolve().parent  # tests/: the tiers are its folders unit/, integration/, acceptance/
ROOT = TESTS.parent  # the repository
FIXTURES = TESTS / "fixtures"
PG_URL = os.environ.get("HALL_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


# The people of the review fixtures (register in lane clerk, approve for candidate group managers):
# tests/integration/test_people.py through the API, tests/acceptance/test_people_cli.py through `hall`.
PEOPLE_CONFIG = """\
# test hall: people only
roles:
  clerk: {serves: [clerk]}            # registers requests
  manager: {serves: [managers]}       # approves
  supervisor: {serves: [], may: [reassign, manage, see_all, confidential]}
  admin: {may: [deploy]}
users:
  - {id: ann, name: Ann Li, roles: [clerk]}
  - {id: bob, name: Bob Wu, roles: [manager]}
  - {id: carl, name: Carl Xu, roles: [clerk]}
  - {id: sup, name: Sue Ma, roles: [supervisor]}
  - {id: root, name: Root, roles: [admin]}
"""


TIERS = ("unit", "integration", "acceptance")
DATABASE_FIXTURES = {"db_url", "make_engine", "engine"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier (the folder it is in, so `-m "not acceptance"` works), and refuse a
    unit test that asks for a database: the unit tier must run without one, in seconds."""
    for item in items:
        tier = next((t for t in TIERS if TESTS / t in item.path.parents), None)
        if tier is None:  # a file not yet sorted into a tier still runs with the whole suite
            continue
        item.add_marker(tier)
        if tier == "unit" and DATABASE_FIXTURES & set(item.fixturenames):
            raise pytest.UsageError(f"{item.nodeid}: a unit test uses no database; move it to tests/integration/")


def start_time() -> datetime:
    return datetime.fromisoformat("2026-11-24T09:00:00+08:00")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(start_time())


def _pg_admin():
    import sqlalchemy as sa
    from hall.engine.store import normalise_url

    return sa.create_engine(normalise_url(PG_URL), isolation_level="AUTOCOMMIT")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hall.db'}"
        return
    import sqlalchemy as sa
    from hall.engine.store import normalise_url
    from sqlalchemy.engine import make_url

    name = f"hall_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(normalise_url(PG_URL)).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def make_engine(db_url: str, clock: FixedClock):
    """Open engines on the test database (several may share it, like several processes)."""
    opened: list[Engine] = []

    def make(forms_dir: Path | None = FIXTURES / "forms", **kwargs) -> Engine:
        eng = Engine(db_url, clock=kwargs.pop("clock", clock), forms_dir=forms_dir, **kwargs)
        opened.append(eng)
        return eng

    yield make
    for eng in opened:
        eng.close()


@pytest.fixture
def engine(make_engine) -> Engine:
    eng = make_engine()
    eng.init()
    eng.deploy(fixture_files())
    return eng


def fixture_files() -> list[Path]:
    """The diagrams and decision tables directly in fixtures/ (its subfolders, such as bpmn12/, are
    deployed only by the tests that want them)."""
    return sorted(p for p in FIXTURES.iterdir() if p.suffix in (".bpmn", ".dmn"))
