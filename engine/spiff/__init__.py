"""The adapter around SpiffWorkflow: the only package of hall that imports it.

It parses BPMN saved by Camunda Modeler and spiff-arena (``parser``, reading the extension
attributes SpiffWorkflow ignores), replaces SpiffWorkflow's wall-clock timers by timers the engine
fires from its own jobs table (``timers``), runs an instance (``instance``, ``scripts``) and
serialises it as a small state document plus one row per task, so a save writes only the tasks
that changed (``serializer``). Every patch of SpiffWorkflow's internals is in ``patches``, each
with its reason and the hash of the upstream source it was written against.

The runtime imports this package only when it runs a step: commands that only read never load
SpiffWorkflow.
"""

from ..extensions import BPMN_NS, CAMUNDA_TASK_ATTRIBUTES, SPIFF_NS, service_name
from .data import copy_data
from .instance import (
    AsyncInfo,
    EventWait,
    Instance,
    PassThrough,
    StepFailure,
    Thrown,
    UserTaskInfo,
    copy_event,
    describe_error,
    event_name,
    event_payload,
    external_message,
    external_signal,
    thrown,
)
from .parser import CompiledProcess, HallParser, parse_bpmn
from .scripts import HallScriptEngine
from .serializer import REGISTRY, SERIALIZER, VERIFY_SNAPSHOTS, Snapshot
from .timers import HallCycle, HallDuration, HallTimeDate, TimerInfo

__all__ = [
    "BPMN_NS",
    "CAMUNDA_TASK_ATTRIBUTES",
    "REGISTRY",
    "SERIALIZER",
    "SPIFF_NS",
    "VERIFY_SNAPSHOTS",
    "AsyncInfo",
    "CompiledProcess",
    "EventWait",
    "PassThrough",
    "Thrown",
    "copy_event",
    "event_name",
    "event_payload",
    "external_signal",
    "thrown",
    "HallCycle",
    "HallDuration",
    "HallParser",
    "HallScriptEngine",
    "HallTimeDate",
    "Instance",
    "Snapshot",
    "StepFailure",
    "TimerInfo",
    "UserTaskInfo",
    "copy_data",
    "describe_error",
    "external_message",
    "parse_bpmn",
    "service_name",
]
