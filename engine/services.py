"""Service tasks' handlers: what a BPMN service task calls, configured by the integrator.

A handler is a Python callable ``handler(params, data) -> result``: ``params`` are the task's
evaluated parameters (spiffworkflow:serviceTaskOperator parameters; none for a Camunda external
task), ``data`` a copy of the task's data; the JSON-storable result is stored in the task's result
variable. Handlers come from the Python API (``Engine(services={"sms": send_sms})``) or from
hall.yaml (``services: {sms: "myhall.integrations:send_sms"}``), imported on first call so that
commands which run no service task never import the integrator's code. A handler that raises, or
cannot be imported, makes the instance an incident at the task; `hall retry` calls it again.

At least once: a step killed before its commit runs again, and calls its handlers again. Each call
carries ``params["idempotency_key"]``, ``"<instance>:<element>:<version>.<n>"``: the case, the task,
the version of the case the step started from (a step that did not commit leaves it unchanged, so
its re-run has the same key) and the n-th call of that task in the step (a loop inside one step).
A handler that must act once remembers the keys it acted on (docs/services.md).
"""

from __future__ import annotations

import importlib
import json
import re
import weakref
from collections.abc import Callable, Mapping
from typing import Any

Handler = Callable[[dict, dict], Any]
KEY = "idempotency_key"  # the parameter every handler call carries (a diagram's parameter of that name is replaced)
# the step running now, as the runtime tells it: (the step object, its instance id, the case's version)
StepOf = Callable[[], "tuple[Any, int, int] | None"]
_PATH = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class ServiceFailed(Exception):
    """A handler could not be found, imported or run: the message names the task and the service."""


def check_path(name: str, path: Any) -> str | None:
    """Why a configured handler path is wrong (``module:function``), or None when it is well formed."""
    if not isinstance(path, str) or not _PATH.match(path.strip()):
        return f"services.{name}: must be `module:function` (e.g. myhall.integrations:send_sms), not {path!r}"
    return None


def import_handler(path: str) -> Handler:
    """The callable at ``module:function``; ServiceFailed with the reason when it is not there."""
    module_name, _, attr = path.strip().partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except Exception as exc:  # noqa: BLE001 - any import failure is the configuration's, named as such
        raise ServiceFailed(f"cannot import {path}: {type(exc).__name__}: {exc}") from None
    if not callable(target):
        raise ServiceFailed(f"{path} is not callable")
    return target


class Services:
    """The handlers by service name: callables given directly, or import paths resolved on first use."""

    def __init__(self, handlers: Mapping[str, Handler | str] | None = None) -> None:
        self._handlers: dict[str, Handler | str] = dict(handlers or {})
        self.step_of: StepOf = lambda: None  # set by the runtime that runs the steps
        self._calls: dict[int, dict[str, int]] = {}  # per step (by id, dropped with the step): calls per task

    def idempotency_key(self, element: str) -> str | None:
        """The key of this call of task `element` in the step running now (None outside a step)."""
        found = self.step_of()
        if found is None:
            return None
        step, instance_id, version = found
        calls = self._calls.get(id(step))
        if calls is None:
            calls = self._calls[id(step)] = {}
            weakref.finalize(step, self._calls.pop, id(step), None)
        calls[element] = n = calls.get(element, 0) + 1
        return f"{instance_id}:{element}:{version}.{n}"

    def call(self, element: str, name: str, params: dict, data: dict) -> str:
        """Run the handler of service `name` for task `element` with its idempotency key in `params`;
        its result as JSON text."""
        key = self.idempotency_key(element)
        if key is not None:
            params = {**params, KEY: key}
        handler = self._handlers.get(name)
        if handler is None:
            raise ServiceFailed(f"service task {element}: no service named {name!r} is configured")
        if isinstance(handler, str):
            try:
                handler = self._handlers[name] = import_handler(handler)
            except ServiceFailed as exc:
                raise ServiceFailed(f"service task {element}: service {name!r}: {exc}") from None
        try:
            result = handler(params, data)
        except Exception as exc:  # noqa: BLE001 - the integrator's failure, named for the incident
            raise ServiceFailed(
                f"service task {element}: service {name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        try:
            return json.dumps(result, ensure_ascii=False)
        except (TypeError, ValueError):
            raise ServiceFailed(
                f"service task {element}: service {name!r} returned a {type(result).__name__}, "
                "which cannot be stored (return text, numbers, true/false, lists or mappings)"
            ) from None
