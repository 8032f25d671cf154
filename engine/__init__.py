"""The generic engine: BPMN on SpiffWorkflow with durable state, forms, deadlines and history.

It knows nothing of service halls: any diagram runs with none of `hall.servicehall` configured.

    from hall.engine import Engine
    eng = Engine("sqlite:///hall.db")
    eng.init(); eng.deploy(["processes"])
    case = eng.start("complaint", business_key="TS-1", data={...}, user="alice")
"""

from .api import Engine
from .clock import Clock, FixedClock
from .errors import HallError

__all__ = ["Engine", "Clock", "FixedClock", "HallError"]
