"""Where `hall serve` runs the engine's calls (issue 16): on the event loop's thread for SQLite, whose
one writer takes them in turn, and on a few worker threads of warm engines for PostgreSQL."""

from __future__ import annotations

import asyncio
import threading

from hall.server.app import Hall


def where(hall: Hall) -> str:
    async def call() -> str:
        return await hall.run(lambda: threading.current_thread().name)

    try:
        return asyncio.run(call())
    finally:
        hall.close()


def test_sqlite_calls_run_on_the_loops_own_thread() -> None:
    hall = Hall("sqlite:///hall.db", {}, None)
    assert hall.threads == 0
    assert where(hall) == threading.current_thread().name


def test_postgresql_calls_run_on_the_servers_worker_threads() -> None:
    hall = Hall("postgresql+psycopg://hall@db/hall", {}, None)
    assert hall.threads == 4
    assert where(hall).startswith("hall-engine")


def test_the_number_of_threads_can_be_chosen() -> None:
    hall = Hall("sqlite:///hall.db", {}, None, threads=2)
    assert where(hall).startswith("hall-engine")
