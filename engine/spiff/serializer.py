"""How an instance is stored: a small state document plus one JSON row per task, rewritten only for
the tasks that changed, and how it is read back.

A task's row is rebuilt when its fingerprint (``patches.task_fingerprint``: every field the row is
made of, the data by its pickle, exact about types and nested values) or its parent's changed;
otherwise the row of the last save stands. A process's spec is stored once per deployed
version (``spec_to_json``), not with each instance.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask, SequentialMultiInstanceTask
from SpiffWorkflow.bpmn.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .patches import TIMER_DEFINITIONS, SpecAwareWorkflowConverter, plain_mode, spiff_typename, task_dict
from .patches import task_fingerprint as _fingerprint_of

# Tests set HALL_VERIFY_SNAPSHOTS=1: every incremental save is checked against a full serialisation.
VERIFY_SNAPSHOTS = os.environ.get("HALL_VERIFY_SNAPSHOTS") == "1"


def _make_serializer() -> BpmnWorkflowSerializer:
    config = dict(CAMUNDA_CONFIG)
    # the spiff dialect's spec classes share their names with Camunda's: stored as "Spiff<name>"
    for cls, converter in SPIFF_CONFIG.items():
        if cls not in config and cls.__module__.startswith("SpiffWorkflow.spiff."):
            config[cls] = spiff_typename(converter, cls)
    # SpiffWorkflow's standard classes the Camunda configuration drops for its own (same names): a
    # standard multi-instance (loopDataInputRef) and message definitions are stored as "Bpmn<name>"
    for cls in (ParallelMultiInstanceTask, SequentialMultiInstanceTask, MessageEventDefinition):
        config[cls] = spiff_typename(DEFAULT_CONFIG[cls], cls, prefix="Bpmn")
    config[BpmnWorkflow] = SpecAwareWorkflowConverter
    for cls in TIMER_DEFINITIONS:
        config[cls] = TimerConditionalEventDefinitionConverter
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


SERIALIZER = _make_serializer()
REGISTRY = SERIALIZER.registry

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once, not per call
dump = _ENCODER.encode


@dataclass
class Snapshot:
    """What is stored of an instance: a small state document and one JSON text per task."""

    state: str
    tasks: dict[str, str] = field(default_factory=dict)


def content_bytes(value: Any) -> Any:
    """A value's pickle: equal only for values of the same types and contents, nested containers
    included (1, True and 1.0 differ, as do a list and a tuple). Kept whole, not hashed: hashing cost
    more than pickling. A value pickle refuses gets a token equal to nothing, so its task is always
    written again (and the write reports what cannot be stored)."""
    try:
        return pickle.dumps(value, pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001 - any unpicklable value: never "unchanged"
        return object()


def task_fingerprint(task: Any) -> tuple:
    """The fingerprint the save compares (see ``patches.task_fingerprint``)."""
    return _fingerprint_of(task, content_bytes)


def spec_to_json(spec: Any, subprocess_specs: Mapping[str, Any]) -> str:
    """A process spec and its subprocess specs as stored with a deployed version."""
    return dump(
        {
            "spec": REGISTRY.convert(spec),
            "subprocess_specs": {k: REGISTRY.convert(v) for k, v in subprocess_specs.items()},
        }
    )


def spec_from_json(text: str) -> tuple[Any, dict]:
    """The spec and subprocess specs ``spec_to_json`` stored."""
    d = json.loads(text)
    return REGISTRY.restore(d["spec"]), {k: REGISTRY.restore(v) for k, v in d["subprocess_specs"].items()}


def tree_order(root: str, tasks: dict[str, dict]) -> dict[str, dict]:
    """Parents before children: a task's data is restored as a delta on its parent's data."""
    ordered: dict[str, dict] = {}
    queue = [root]
    while queue:
        tid = queue.pop(0)
        task = tasks.get(tid)
        if task is None or tid in ordered:
            continue
        ordered[tid] = task
        queue.extend(task["children"])
    for tid, task in tasks.items():  # unreachable rows, kept rather than dropped
        ordered.setdefault(tid, task)
    return ordered


def restore_workflow(spec: Any, subprocess_specs: dict, snap: Snapshot, fast: bool = True) -> BpmnWorkflow:
    """The workflow a snapshot stored, around the already-built specs of its version.

    ``fast`` restores rows with no typed value without the registry's per-value dispatch; with
    HALL_VERIFY_SNAPSHOTS the result is checked against SpiffWorkflow's own restore."""
    dct = json.loads(snap.state)
    dct["tasks"] = tree_order(dct["root"], {k: json.loads(v) for k, v in snap.tasks.items()})
    dct["spec"] = spec
    dct["subprocess_specs"] = subprocess_specs
    if fast:  # rows whose only "typename" is the task's own: no typed value to restore in them
        dct["plain"] = frozenset(k for k, v in snap.tasks.items() if v.count('"typename"') == 1)
    workflow = SERIALIZER.from_dict(dct)
    if VERIFY_SNAPSHOTS and fast:
        full = restore_workflow(spec, subprocess_specs, snap, fast=False)
        assert REGISTRY.convert(workflow) == REGISTRY.convert(full), "the fast restore differs from SpiffWorkflow's"
    return workflow


class TaskRows:
    """The stored rows of one workflow's tasks and the fingerprint of each task when its row was made:
    a save converts again only the tasks whose fingerprint (or whose parent's) changed, so it costs
    the same at loop iteration 50 as at iteration 1."""

    def __init__(self, workflow: BpmnWorkflow, rows: Mapping[str, str] | None = None) -> None:
        self.wf = workflow
        self._rows: dict[str, str] = dict(rows or {})
        self._prints: dict[Any, tuple] = {t.id: task_fingerprint(t) for t in workflow.tasks.values()} if rows else {}
        self._keys: dict[Any, str] = {}  # task id -> its text (formatting a UUID costs as much as its print)
        self._ids: dict[str, Any] = {}  # and back

    def key(self, tid: Any) -> str:
        """A task id's text, formatted once."""
        key = self._keys.get(tid)
        if key is None:
            key = self._keys[tid] = str(tid)
            self._ids[key] = tid
        return key

    def task_id(self, text: str) -> Any:
        """The task id a text names (parsed once for the ids this object made)."""
        tid = self._ids.get(text)
        return tid if tid is not None else UUID(text)

    def save(self) -> Snapshot:
        """The workflow's snapshot, rows of unchanged tasks reused."""
        plain_mode(REGISTRY)
        wf = self.wf
        key = self.key
        state = {  # empty parts (the common case until the end) skip the registry's dispatch
            "data": REGISTRY.convert(REGISTRY.clean(wf.data)) if wf.data else {},
            "correlations": wf.correlations,
            "last_task": key(wf.last_task.id) if wf.last_task is not None else None,
            "success": wf.success,
            "completed": wf.completed,
            "root": key(wf.task_tree.id),
            "subprocesses": {str(k): REGISTRY.convert(v) for k, v in wf.subprocesses.items()},
            "bpmn_events": REGISTRY.convert(wf.bpmn_events) if wf.bpmn_events else [],
            "typename": "BpmnWorkflow",
        }
        tasks = wf.tasks
        prints = {tid: task_fingerprint(task) for tid, task in tasks.items()}
        old_rows, old_prints = self._rows, self._prints
        keys = self._keys
        rows: dict[str, str] = {}
        for tid, task in tasks.items():
            name = keys.get(tid) or key(tid)
            old = old_rows.get(name)
            parent = task._parent
            if (
                old is not None
                and old_prints.get(tid) == prints[tid]
                and (parent is None or old_prints.get(parent) == prints.get(parent))
            ):
                rows[name] = old
            else:
                rows[name] = dump(task_dict(task, key, REGISTRY))
        self._rows, self._prints = rows, prints
        snap = Snapshot(dump(state), rows)
        if VERIFY_SNAPSHOTS:
            full = REGISTRY.convert(wf)
            assert {k: json.loads(v) for k, v in rows.items()} == json.loads(dump(full["tasks"])), "stale task rows"
        return snap
