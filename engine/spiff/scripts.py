"""The script engine instances run with: restricted Python on the case's variables (``restricted``),
the engine's functions, service calls to configured handlers, and timers resolved by the engine."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from .. import restricted
from ..services import Services
from .data import copy_data


class RestrictedEnvironment(TaskDataEnvironment):
    """SpiffWorkflow's task-data environment, every script and expression it evaluates (scripts,
    pre/post scripts, conditions, message payloads, DMN entries, multi-instance expressions) run by
    ``restricted``: compiled with RestrictedPython, guarded, within the time limit. The supported
    extension point (``evaluate``/``execute``), not a patch of SpiffWorkflow's internals."""

    def __init__(self, functions: Mapping[str, Callable], timeout: float = restricted.DEFAULT_TIMEOUT) -> None:
        super().__init__(dict(functions))
        self.timeout = timeout

    def evaluate(self, expression: str, context: dict, external_context: Mapping[str, Any] | None = None) -> Any:
        """The expression's value on the task's data (and data objects), restricted."""
        scope = {**external_context, **context} if external_context else context
        return restricted.evaluate(expression, scope, self.globals, self.timeout)

    def execute(self, script: str, context: dict, external_context: Mapping[str, Any] | None = None) -> bool:
        """Run the script on the task's data, restricted; the environment's names and any function
        the script defined are taken out of the data again (as SpiffWorkflow's environment does)."""
        self.check_for_overwrite(context, external_context or {})
        if external_context:
            context.update(external_context)
        try:
            restricted.execute(script, context, self.globals, self.timeout)
        finally:
            for name in list(context):
                if (
                    name in restricted.ENVIRONMENT
                    or name in self.globals
                    or callable(context[name])
                    or (external_context and name in external_context)
                ):
                    context.pop(name)
        return True


class HallScriptEngine(PythonScriptEngine):
    """Python scripts and conditions with the engine's functions; timers resolved by the engine."""

    def __init__(
        self,
        functions: Mapping[str, Callable],
        resolve_timer: Callable,
        resolve_cycle: Callable,
        services: Services | None = None,
        timeout: float | None = None,
        route_event: Callable | None = None,
    ) -> None:
        super().__init__(environment=RestrictedEnvironment(functions, timeout or restricted.DEFAULT_TIMEOUT))
        self._resolve_timer = resolve_timer
        self._resolve_cycle = resolve_cycle
        self._services = services or Services()
        self._route_event = route_event

    def route_event(self, task: Any, event: Any) -> None:
        """A message or signal thrown out of a case (``patches.route_thrown``): the engine delivers it
        to other cases while the throwing task runs; what it raises fails that task."""
        if self._route_event is None:
            task.workflow.top_workflow.bpmn_events.append(event)
        else:
            self._route_event(task, event)

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
