"""SQLite write-ahead-log checkpoints on a thread of their own, off the committing thread.

SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold: that commit copies
the log back into the database file and syncs both, a few milliseconds that would fall on one
unlucky step in every sixty or so (more than half of what all commits together cost). The store
turns the automatic checkpoint off on its connections and hands the work to a ``Checkpointer``,
which runs SQLite's PASSIVE checkpoint on its own connection (SQLite releases the interpreter lock
while it copies and syncs), as the SQLite documentation suggests for this case. Durability is
SQLite's own: a committed step is in the log before its commit returns, whenever the copy happens.
"""

from __future__ import annotations

import sqlite3
import threading

EVERY = 64  # commits between checkpoints: about SQLite's default of 1,000 log pages at ~15 pages a step
PRAGMA = "PRAGMA wal_checkpoint(PASSIVE)"  # never blocks writers or readers; a busy log waits for the next


class Checkpointer:
    """Checkpoints one SQLite file every `EVERY` commits on a background thread, and once more when
    the store closes, so that a process of one command does not leave the log growing."""

    def __init__(self, path: str, every: int = EVERY) -> None:
        self.path = path
        self.every = every
        self.checkpoints = 0  # completed, by the thread or by close (for tests and benchmarks)
        self.background = 0  # of those, by the thread
        self.copied = threading.Event()  # set after each of the thread's checkpoints
        self._since = 0  # commits since the thread was last woken
        self._dirty = False  # committed since the last checkpoint this object ran
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None

    def committed(self) -> None:
        """Called after each write transaction commits."""
        self._dirty = True
        self._since += 1
        if self._since >= self.every:
            self._since = 0
            thread = self._thread
            if thread is None or not thread.is_alive():  # first use, or a forked child without the thread
                thread = self._thread = threading.Thread(target=self._loop, name="hall-sqlite-checkpoint", daemon=True)
                thread.start()
            self._wake.set()

    def close(self) -> None:
        """Stop the thread, then checkpoint what this process committed since its last checkpoint."""
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self._stopping = True
            self._wake.set()
            thread.join()
            self._stopping = False
        if self._dirty:
            self._checkpoint()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            if self._checkpoint():
                self.background += 1
                self.copied.set()

    def _checkpoint(self) -> bool:
        """One PASSIVE checkpoint on this object's own connection (used by one thread at a time)."""
        self._dirty = False
        try:
            if self._conn is None:
                self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._conn.execute(PRAGMA).fetchall()
        except sqlite3.Error:  # the file went away or is locked for long: the next checkpoint catches up
            return False
        self.checkpoints += 1
        return True
