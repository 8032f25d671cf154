"""SQLite log checkpoints off the committing thread (engine/store/sqlitewal.py): the log is copied back
into the database file by the checkpointer, never inside a step's COMMIT, and stays bounded."""

from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

from conftest import FIXTURES
from hall.engine import Engine
from hall.engine.store.sqlitewal import Checkpointer


def _left_in_log(path: Path) -> int:
    """Log frames not yet copied into the database file, read from SQLite's shared index (the -shm
    file: mxFrame of the index header, nBackfill of the checkpoint record), without checkpointing."""
    shm = Path(f"{path}-shm").read_bytes()
    max_frame, backfilled = struct.unpack_from("<I", shm, 16)[0], struct.unpack_from("<I", shm, 96)[0]
    return max_frame - backfilled


def _engine(path: Path, clock) -> Engine:
    eng = Engine(f"sqlite:///{path}", clock=clock, forms_dir=FIXTURES / "forms")
    eng.init()
    eng.deploy([FIXTURES / "review.bpmn"])
    return eng


def test_the_committing_connection_never_checkpoints_itself(tmp_path: Path, clock) -> None:
    eng = _engine(tmp_path / "hall.db", clock)
    with eng.store.tx() as tx:
        assert tx.conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
    eng.close()


def test_the_thread_checkpoints_every_so_many_commits(tmp_path: Path, clock) -> None:
    path = tmp_path / "hall.db"
    eng = _engine(path, clock)
    checkpointer = eng.store._checkpointer
    checkpointer.every = 5
    keeper = sqlite3.connect(path)  # another process with the database open: no checkpoint on close either
    keeper.execute("SELECT 1 FROM instances").fetchall()
    try:
        for i in range(20):
            eng.start("review", f"K-{i}", {"amount": i})
        assert checkpointer._thread is not None and checkpointer._thread.is_alive()
        assert checkpointer.copied.wait(timeout=30)  # a real thread: its first checkpoint, whenever it runs
        assert checkpointer.background >= 1
        eng.close()  # stops the thread and checkpoints what is left
        assert _left_in_log(path) == 0  # nothing committed is left only in the log
        assert keeper.execute("SELECT count(*) FROM instances").fetchone()[0] == 20
    finally:
        keeper.close()


def test_a_process_of_one_command_leaves_the_log_copied(tmp_path: Path, clock) -> None:
    """`hall complete` commits once: closing the store copies that commit back even while another
    process (a worker) keeps the database open, so a stream of commands cannot grow the log forever."""
    path = tmp_path / "hall.db"
    eng = _engine(path, clock)
    keeper = sqlite3.connect(path)
    keeper.execute("SELECT 1 FROM instances").fetchall()
    try:
        eng.start("review", "K-1", {"amount": 1})
        assert eng.store._checkpointer._thread is None  # too few commits for the thread
        assert _left_in_log(path) > 0
        eng.close()
        assert _left_in_log(path) == 0
    finally:
        keeper.close()


def test_a_checkpoint_of_a_missing_file_is_not_an_error(tmp_path: Path) -> None:
    checkpointer = Checkpointer(str(tmp_path / "gone" / "hall.db"), every=1)
    checkpointer.committed()
    checkpointer.close()
    assert checkpointer.checkpoints == 0
