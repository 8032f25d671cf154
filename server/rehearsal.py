"""Whether `hall serve` may run a request at a simulated time (`--now`, header X-Hall-Now).

Only on a rehearsal database: simulated time on a live one would write events at a time that did
not happen. The mark is the database's own (the hardening work adds it): an engine that can say
so answers through `is_rehearsal()`; a database without the mark is never a rehearsal.
"""

from __future__ import annotations

from typing import Any


def allows_simulated_time(engine: Any) -> bool:
    """True when the engine's database is marked as a rehearsal database."""
    check = getattr(engine, "is_rehearsal", None)
    return bool(check()) if callable(check) else False
