"""Whether `hall serve` may run a request at a simulated time (`--now`, header X-Hall-Now).

Only on a rehearsal database: simulated time on a live one would write events at a time that did
not happen. The mark is the database's own, set when it was created (`hall init --rehearsal`, or
`Engine.init()` of a new database at a simulated time, as tests and scenario runners do).
"""

from __future__ import annotations

from typing import Any


def allows_simulated_time(engine: Any) -> bool:
    """True when the engine's database was created as a rehearsal database."""
    return bool(engine.is_rehearsal())
