"""Service tasks' handlers: what a BPMN service task calls, configured by the integrator.

A handler is a Python callable ``handler(params, data) -> result``: ``params`` are the task's
evaluated parameters (spiffworkflow:serviceTaskOperator parameters; none for a Camunda external
task), ``data`` a copy of the task's data; the JSON-storable result is stored in the task's result
variable. Handlers come from the Python API (``Engine(services={"sms": send_sms})``) or from
hall.yaml (``services: {sms: "myhall.integrations:send_sms"}``), imported on first call so that
commands which run no service task never import the integrator's code. A handler that raises, or
cannot be imported, makes the instance an incident at the task; `hall retry` calls it again.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

Handler = Callable[[dict, dict], Any]
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

    def call(self, element: str, name: str, params: dict, data: dict) -> str:
        """Run the handler of service `name` for task `element`; its result as JSON text."""
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
