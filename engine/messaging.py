"""Messages and signals between cases (issue 12): correlation, message and signal start events,
and the index of what each case waits for.

A message goes to exactly one receiver: a linked case (the sender's parent, then its children)
waiting for it, else the one running case of any process that waits for a message of that name
with the same correlation key, else a new case of the one process whose message start event
catches it. Anything else is an error to the sender: from outside, ``MessageNotCorrelated`` or
``MessageAmbiguous`` and nothing written; from inside a case, the throwing element fails and the
case stops as an incident naming the message, as Camunda does. A signal goes to every running case
waiting for it and starts every process whose signal start event catches it; reaching nobody is
not an error.

Delivery runs inside the sender's transaction, each receiver as a step of its own nested in the
sender's (locked, loaded, advanced, saved), so a delivery commits with the throw or not at all: a
crash or a failed commit loses or doubles nothing.

The correlation key of a waiting case is its catch element's expression (extension property
``correlationKey``, or a standard ``correlationProperty``) on its variables, else its business key;
that of a thrown message is the throwing element's expression on the sender's variables, else the
sender's business key. A message without a key (from outside: no ``--key``) fits a waiting case
whatever its key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import (
    BusinessKeyTaken,
    CorrelationKeyFailed,
    DataInvalid,
    MessageAmbiguous,
    MessageNotCorrelated,
    ProcessNotFound,
)
from .store import Tx

if TYPE_CHECKING:
    from . import spiff
    from .runtime import Runtime, Step

# What a case's nested step may raise that is the process's business (an incident of the sender),
# not the engine's (the database, a concurrent update: the transaction ends, nothing is written).
PROCESS_ERRORS = (
    MessageNotCorrelated,
    MessageAmbiguous,
    CorrelationKeyFailed,
    BusinessKeyTaken,
    ProcessNotFound,
    DataInvalid,
)
Wait = tuple[str, str, "str | None", str]  # kind, name, correlation key, element


@dataclass
class Routed:
    """Where a message or signal went: the cases that caught it and the cases it started."""

    reached: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)


def key_text(value: Any) -> str | None:
    """A correlation key as stored and compared: text, at most 200 characters; None for none."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value).strip()[:200]


# -- the index of what cases wait for -------------------------------------------------------------
def current_waits(step: Step, business_key: str | None) -> frozenset[Wait]:
    """What the step's case waits for now, each message with its correlation key."""
    instance = step.loaded.instance
    out = set()
    for w in instance.waiting_events():
        key = None
        if w.kind == "message":
            if w.key_expression:
                try:
                    key = key_text(instance.evaluate(w.key_expression, w.data))
                except Exception:  # noqa: BLE001 - a key that cannot be computed yet: the case waits without one
                    key = None
            else:
                key = business_key
        out.add((w.kind, w.name, key, w.element))
    return frozenset(out)


def sync_waits(step: Step, business_key: str | None) -> None:
    """Rewrite the case's rows of the wait index when what it waits for changed (in the step's
    transaction); after a cold load (``waits`` unknown) once, for a process that can wait at all."""
    loaded = step.loaded
    if loaded.waits is None and not loaded.instance.waits_for_events:
        loaded.waits = frozenset()
        return
    waits = current_waits(step, business_key)
    if waits != loaded.waits:
        step.tx.replace_event_waits(step.instance_id, loaded.row["process_id"], sorted(waits, key=repr))
        loaded.waits = waits


# -- thrown inside a case ---------------------------------------------------------------------------
def route_thrown(runtime: Runtime, step: Step, task: Any, event: Any) -> None:
    """A message or signal a task of the step's case throws out of it, delivered now (the task is
    running). A process error (nobody takes the message) fails the task; the engine's own failures
    pass through to end the transaction."""
    from . import spiff

    info = spiff.thrown(task, event)
    try:
        if info.kind == "signal":
            routed = broadcast(runtime, step.tx, info.name, event, step.actor, source=step.instance_id)
            step.log("signal_sent", info.element, name=info.name, reached=routed.reached, started=routed.started)
            return
        key = _thrower_key(step, info)
        try:
            routed = correlate(
                runtime,
                step.tx,
                info.name,
                key,
                event,
                step.actor,
                source=step.instance_id,
                parent=step.loaded.row["parent_id"],
            )
        except MessageNotCorrelated:
            if not info.optional:
                raise
            # the element says a message nobody waits for may go unanswered: recorded, not failed
            step.log("message_sent", info.element, name=info.name, payload=info.payload, key=key, to=None)
            return
        step.log(
            "message_sent",
            info.element,
            name=info.name,
            payload=info.payload,
            key=key,
            to=(routed.reached or routed.started)[0],
            started=bool(routed.started),
        )
    except PROCESS_ERRORS:
        raise
    except Exception as exc:  # the engine's own (a HallError such as ConcurrentUpdate, or the database's)
        raise spiff.PassThrough(exc) from exc


def _thrower_key(step: Step, info: spiff.Thrown) -> str | None:
    """The correlation key of a message a case throws: its element's expression on the case's data,
    else the case's business key (as the process's key variable holds it now, else as stored)."""
    if info.key_expression:
        try:
            return key_text(step.loaded.instance.evaluate(info.key_expression, info.data))
        except Exception as exc:  # noqa: BLE001 - the sender's data: an incident naming the expression
            raise CorrelationKeyFailed(info.element, info.key_expression, f"{type(exc).__name__}: {exc}") from None
    variable = step.loaded.definition.business_key
    if variable and key_text(info.data.get(variable)) is not None:
        return key_text(info.data.get(variable))
    return step.loaded.row["business_key"]


# -- correlation -----------------------------------------------------------------------------------
def correlate(
    runtime: Runtime,
    tx: Tx,
    name: str,
    key: str | None,
    event: Any,
    actor: str | None,
    *,
    source: int | None = None,
    parent: int | None = None,
    process: str | None = None,
    check: Callable[[int | None], None] | None = None,
) -> Routed:
    """Deliver a message to its one receiver (see the module's docstring), or raise
    MessageNotCorrelated / MessageAmbiguous. ``check(instance id, None for a new case)`` may refuse
    the delivery (permissions) before anything is written."""
    from . import spiff

    busy = runtime.stepping | ({source} if source is not None else set())
    if source is not None:  # a linked case first: the parent, then the children (by name alone)
        linked = [parent] if parent else []
        linked.extend(c["id"] for c in tx.children(source))
        for target in linked:
            if target not in busy and runtime.deliver(
                tx, target, "message", name, spiff.copy_event(event), actor, source
            ):
                return Routed(reached=[target])
    waiting = [
        (i, p)
        for i, p in tx.event_waiters("message", name, key, any_key=key is None)
        if i not in busy and (process is None or p == process)
    ]
    if len(waiting) > 1:
        raise MessageAmbiguous(name, key, [f"case {i} ({p})" for i, p in waiting])
    if waiting:
        target = waiting[0][0]
        if check is not None:
            check(target)
        if not runtime.deliver(tx, target, "message", name, spiff.copy_event(event), actor, source):
            raise MessageNotCorrelated(name, key, process)  # the index was behind the case: nothing written
        return Routed(reached=[target])
    starts = [p for p in _starting(runtime, tx, "message", name) if process is None or p == process]
    if len(starts) > 1:
        raise MessageAmbiguous(name, key, [f"process {p} (message start event)" for p in starts])
    if not starts:
        if process is not None and tx.latest_definition(process) is None:
            raise ProcessNotFound(process)
        raise MessageNotCorrelated(name, key, process)
    if check is not None:
        check(None)
    started = runtime.start_by_event(tx, starts[0], key, spiff.copy_event(event), actor, source)
    return Routed(started=[started])


def broadcast(
    runtime: Runtime,
    tx: Tx,
    name: str,
    event: Any,
    actor: str | None,
    *,
    source: int | None = None,
) -> Routed:
    """Deliver a signal to every running case waiting for it and start every process whose signal
    start event catches it (the latest version of each)."""
    from . import spiff

    busy = runtime.stepping | ({source} if source is not None else set())
    routed = Routed()
    for target, _process in tx.event_waiters("signal", name):
        if target not in busy and runtime.deliver(tx, target, "signal", name, spiff.copy_event(event), actor, source):
            routed.reached.append(target)
    for process in _starting(runtime, tx, "signal", name):
        routed.started.append(runtime.start_by_event(tx, process, None, spiff.copy_event(event), actor, source))
    return routed


def _starting(runtime: Runtime, tx: Tx, kind: str, name: str) -> list[str]:
    """The processes whose latest version has a start event catching this message or signal."""
    out = []
    for definition_id in tx.latest_definition_ids():
        compiled = runtime.definition(tx, definition_id)
        if any(k == kind and n == name for k, n, _element in compiled.event_starts()):
            out.append(compiled.process_id)
    return sorted(out)
