"""Confidential cases and their placeholders; who received a case first.

Pure rules on a case's variables, no database. Which variables make a case confidential and which
name its first receivers is configuration (hall.yaml `confidential`, `first_receiver`): the engine
knows no variable names of its own, so a diagram that nobody configured for it has no confidential
case and no first receiver but the user who started it. The service hall's rules (R-C10, R-F6) are
in `hall.servicehall.access`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PLACEHOLDER = "保密件（R-C10）"
TRUE_TEXTS = frozenset({"true", "yes", "y", "1", "是", "保密", "on"})

# Keys a placeholder keeps: identification, deadline, role, status; never the content of the case.
SAFE_KEYS = frozenset(
    {
        "id",
        "instance",
        "instance_id",
        "process",
        "process_id",
        "version",
        "business_key",
        "number",
        "status",
        "due_at",
        "deadline",
        "due_provisional",
        "role",
        "lane",
        "assignee",
        "created_at",
        "started_at",
        "ended_at",
        "completed_at",
        "links",
        "timers",
        "at",
        "kind",
        "task",
        "task_id",
    }
)


@dataclass(frozen=True)
class ConfidentialRule:
    """Which cases are confidential, and which of their variables a placeholder still shows.

    A case is confidential when one of `variables` holds a true value (是否保密: 是) or a variable of
    `when` holds one of its values (类型: 举报). With nothing configured no case is confidential.
    """

    variables: tuple[str, ...] = ()
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    keep: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> ConfidentialRule:
        """From hall.yaml's `confidential: {variables, when, keep}` (checked by engine.config)."""
        section = section or {}
        when = section.get("when") or {}
        return cls(
            variables=tuple(section.get("variables") or ()),
            when={str(k): tuple(v) if isinstance(v, (list, tuple)) else (v,) for k, v in when.items()},
            keep=tuple(section.get("keep") or ()),
        )

    @property
    def configured(self) -> bool:
        """Whether any case can be confidential under this rule."""
        return bool(self.variables or self.when)

    def applies(self, variables: Mapping[str, Any] | None) -> bool:
        """Whether a case with these variables is confidential."""
        if not variables:
            return False
        for name in self.variables:
            if _truthy(variables.get(name)):
                return True
        for name, values in self.when.items():
            value = variables.get(name)
            if isinstance(value, str):
                value = value.strip()
            if name in variables and value in values:
                return True
        return False

    def kept(self, variables: Mapping[str, Any] | None) -> dict[str, Any]:
        """The variables a placeholder keeps (the case number), nothing else."""
        return {k: variables[k] for k in self.keep if variables and k in variables}

    # -- placeholders ------------------------------------------------------------------------------
    def placeholder_task(self, task: Mapping[str, Any]) -> dict:
        """A task view with only its identification, deadline and role."""
        out = {k: task.get(k) for k in task if k in SAFE_KEYS}
        out.update(name=None, title=PLACEHOLDER, form=None, confidential=True, redacted=True)
        for k in task:
            out.setdefault(k, None)
        if "variables" in task:
            out["variables"] = {}
        return out

    def placeholder_instance(self, view: Mapping[str, Any]) -> dict:
        """An instance view with only id, process, number/business key, status, deadlines and roles."""
        out = {k: view.get(k) for k in view if k in SAFE_KEYS}
        for k in view:
            out.setdefault(k, None)
        out["variables"] = self.kept(view.get("variables"))
        out["tasks"] = [self.placeholder_task(t) for t in view.get("tasks") or ()]
        if view.get("incident"):
            out["incident"] = {"element": None, "error": PLACEHOLDER}
        out.update(confidential=True, redacted=True)
        return out

    def placeholder_history(self, rows: Iterable[Mapping[str, Any]], user_id: str | None) -> list[dict]:
        """History of a confidential case: what happened when, not the data, not the other actors."""
        return [
            {
                "id": h["id"],
                "at": h["at"],
                "actor": h["actor"] if h["actor"] == user_id else None,
                "kind": h["kind"],
                "element": None,
                "task": h["task"],
                "detail": None,
                "redacted": True,
            }
            for h in rows
        ]

    def placeholder_record(self, record: Mapping[str, Any], variables: Mapping[str, Any] | None) -> dict:
        """Any record about a confidential case (a report row, a KPI case): every key but the
        identification/deadline/role keys (SAFE_KEYS) and the kept variables becomes None."""
        if "tasks" in record and "variables" in record:
            return self.placeholder_instance(record)
        kept = self.kept(variables)
        out = {k: (v if k in SAFE_KEYS or k in kept else None) for k, v in record.items()}
        if "title" in out:
            out["title"] = PLACEHOLDER
        if "variables" in out:
            out["variables"] = kept
        out.update(confidential=True, redacted=True)
        return out

    @staticmethod
    def placeholder_text(task: Mapping[str, Any]) -> str:
        """What `hall task` shows instead of the form of a confidential case."""
        number = task.get("business_key") or next(iter((task.get("variables") or {}).values()), None)
        return (
            f"{PLACEHOLDER}：任务 {task.get('id')}，案件 #{task.get('instance')} {number or '-'}，"
            f"角色 {task.get('role') or '-'}，时限 {task.get('due_at') or '—'}；内容仅限有保密权限的人员查阅。"
        )


@dataclass(frozen=True)
class FirstReceiverRule:
    """Who received a case first and may always see its status: who started it, and the people
    named in the configured variables (hall.yaml `first_receiver: {variables: [...]}`)."""

    variables: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None) -> FirstReceiverRule:
        return cls(tuple((section or {}).get("variables") or ()))

    def names(self, variables: Mapping[str, Any] | None, started_by: str | None) -> set[str]:
        """The user who started the case and the names its first-receiver variables hold."""
        out = {started_by} if started_by else set()
        for name in self.variables:
            value = (variables or {}).get(name)
            if isinstance(value, str) and value.strip():
                out.add(value.strip())
        return out


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in TRUE_TEXTS
    return bool(value) and value is not None
