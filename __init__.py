"""hall: a BPMN workflow engine for public service halls, on SpiffWorkflow.

    from hall import Engine
    eng = Engine("sqlite:///hall.db")
    eng.init(); eng.deploy(["processes"])
    case = eng.start("complaint", business_key="TS-1", data={...}, user="alice")

`hall.engine` is the generic engine (no service-hall knowledge); `hall.servicehall` is the hall's own
logic (indicators, reports, retention) on the engine's API; `hall.cli` is the `hall` command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Clock, Engine, FixedClock, HallError

__all__ = ["Clock", "Engine", "FixedClock", "HallError"]


def __getattr__(name: str) -> Any:
    # imported on first use: `hall --help` and `import hall.cli` do not load the engine
    if name in __all__:
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'hall' has no attribute {name!r}")
