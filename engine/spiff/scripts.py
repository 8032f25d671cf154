"""The script engine instances run with: Python on the case's variables, the engine's functions,
service calls to configured handlers, and timers resolved by the engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from ..services import Services
from .data import copy_data


class HallScriptEngine(PythonScriptEngine):
    """Python scripts and conditions with the engine's functions; timers resolved by the engine."""

    def __init__(
        self,
        functions: Mapping[str, Callable],
        resolve_timer: Callable,
        resolve_cycle: Callable,
        services: Services | None = None,
    ) -> None:
        super().__init__(environment=TaskDataEnvironment(dict(functions)))
        self._resolve_timer = resolve_timer
        self._resolve_cycle = resolve_cycle
        self._services = services or Services()

    def call_service(self, task: Any, operation_name: str, operation_params: dict) -> str:
        """A service task's call (SpiffWorkflow's spiff ServiceTask) goes to its configured handler
        (engine/services.py); a missing or failing one makes the instance an incident at the task."""
        spec = task.task_spec
        params = {name: p.get("value") if isinstance(p, dict) else p for name, p in operation_params.items()}
        return self._services.call(spec.bpmn_id or spec.name, operation_name, params, copy_data(task.data))

    def resolve_timer(self, task: Any, kind: str, expression: str) -> str:
        """A date or duration timer's due time, by the engine's clock and calendar."""
        return self._resolve_timer(task, kind, expression)

    def resolve_cycle(self, task: Any, expression: str, previous: dict | None) -> dict:
        """A cycle timer's next firing after `previous` (None: the first)."""
        return self._resolve_cycle(task, expression, previous)
