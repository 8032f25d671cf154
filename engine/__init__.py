"""hall: a BPMN workflow engine on SpiffWorkflow with durable state, forms, deadlines and history.

    from engine import Engine
    eng = Engine("sqlite:///hall.db")
    eng.init(); eng.deploy(["processes"])
    case = eng.start("complaint", business_key="TS-1", data={...}, user="alice")
"""
from .api import Engine
from .clock import Clock, FixedClock
from .errors import HallError

__all__ = ["Engine", "Clock", "FixedClock", "HallError"]
