"""Schema versions: `hall init` creates, upgrades in place without losing data, and refuses a newer schema."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine import Engine, store
from engine.errors import SchemaTooNew


def test_init_upgrades_an_older_schema_and_keeps_the_data(engine: Engine, monkeypatch) -> None:
    case = engine.start("review", "K-1", {"amount": 2})

    def add_priority(conn: sa.Connection) -> None:
        conn.execute(sa.text("ALTER TABLE human_tasks ADD COLUMN priority INTEGER DEFAULT 50"))

    monkeypatch.setattr(store, "SCHEMA_VERSION", 2)
    monkeypatch.setitem(store.MIGRATIONS, 2, add_priority)
    assert engine.store.schema_version() == 1
    result = engine.init()
    assert (result["schema_before"], result["schema"]) == (1, 2)
    assert engine.store.schema_version() == 2
    assert engine.show(case["id"])["variables"] == {"amount": 2}
    engine.complete(case["tasks"][0]["id"], {"amount": 3})
    with engine.store.tx(write=False) as tx:
        assert tx.conn.execute(sa.text("SELECT priority FROM human_tasks")).scalars().all() == [50, 50]


def test_a_newer_schema_is_refused(engine: Engine, monkeypatch) -> None:
    monkeypatch.setattr(store, "SCHEMA_VERSION", 0)
    with pytest.raises(SchemaTooNew, match="newer than this hall supports"):
        engine.init()
