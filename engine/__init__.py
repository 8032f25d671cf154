"""The generic engine: BPMN on SpiffWorkflow with durable state, forms, deadlines and history.

It knows nothing of service halls: any diagram runs with none of `hall.servicehall` configured.

    from hall.engine import Engine
    eng = Engine("sqlite:///hall.db")
    eng.init(); eng.deploy(["processes"])
    case = eng.start("complaint", business_key="TS-1", data={...}, user="alice")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clock import Clock, FixedClock
from .errors import HallError

if TYPE_CHECKING:
    from .api import Engine

__all__ = ["Engine", "Clock", "FixedClock", "HallError"]


def __getattr__(name: str) -> Any:
    # Engine (SQLAlchemy, SpiffWorkflow) is imported on first use: the `hall` command's light paths
    # (the client of `hall serve`, reading --set values) take the errors and data helpers only
    if name == "Engine":
        from .api import Engine

        return Engine
    raise AttributeError(f"module 'hall.engine' has no attribute {name!r}")
