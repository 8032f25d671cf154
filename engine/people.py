"""Users, roles and what they may do; confidential cases (R-C10); first-question responsibility (R-F6).

Pure logic on the `users`, `roles`, `confidential` and `first_receiver` sections of hall.yaml:
no database here. `engine.api.Engine` asks a `People` who may do what and what they may see.

When no user is configured everybody may do everything and nothing is redacted (tests, the
demo, a fresh install). Once one user is listed, every named actor must be one of them.

    roles:
      大厅主管: {serves: [大厅主管], may: [confidential, reassign, manage, see_all]}
    users:
      - {id: 刘主任, name: 刘敏, roles: [大厅主管]}
    confidential: {variables: [是否保密], when: {类型: 举报}, keep: [投诉编号]}
    first_receiver: {variables: [首问负责人, 接待人员]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import UnknownUser

PERMISSIONS = {
    "confidential": "see the content of confidential cases (R-C10)",
    "reassign": "give a ready task to another user (hall reassign)",
    "manage": "suspend, resume, cancel and retry cases, deliver messages to them",
    "see_all": "see every case and every queue, and the hall-wide indicators and reports (hall kpi, hall report); "
    "confidential content still needs `confidential`",
    "deploy": "deploy process definitions",
}

# 类型 is set at classification; 投诉类型 is what an intake (another channel, a transfer) may already
# carry at registration, so a 举报 is confidential from its first step (R-C10).
DEFAULT_CONFIDENTIAL = {
    "variables": ["是否保密"],
    "when": {"类型": ["举报"], "投诉类型": ["举报"]},
    "keep": ["投诉编号", "备案编号"],
}
DEFAULT_FIRST_RECEIVER = ["首问负责人", "接待人员"]

PLACEHOLDER = "保密件（R-C10）"
TRUE_TEXTS = {"true", "yes", "y", "1", "是", "保密", "on"}

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
class Role:
    name: str
    serves: frozenset[str]  # lanes / candidate groups whose tasks the role does
    may: frozenset[str] = frozenset()


@dataclass(frozen=True)
class User:
    id: str
    name: str
    roles: tuple[str, ...]


@dataclass
class People:
    users: dict[str, User] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    confidential_variables: tuple[str, ...] = tuple(DEFAULT_CONFIDENTIAL["variables"])
    confidential_when: dict[str, tuple[Any, ...]] = field(
        default_factory=lambda: {k: tuple(v) for k, v in DEFAULT_CONFIDENTIAL["when"].items()}
    )
    keep: tuple[str, ...] = tuple(DEFAULT_CONFIDENTIAL["keep"])
    first_receiver_variables: tuple[str, ...] = tuple(DEFAULT_FIRST_RECEIVER)

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> People:
        """From the plain configuration (engine.config.load_config); checked there with line numbers."""
        config = config or {}
        roles = {}
        for name, spec in (config.get("roles") or {}).items():
            spec = spec or {}
            serves = spec.get("serves")
            roles[str(name)] = Role(
                str(name),
                frozenset(str(s) for s in (serves if serves else [name])),
                frozenset(str(p) for p in spec.get("may") or ()),
            )
        users = {}
        for spec in config.get("users") or ():
            uid = str(spec["id"])
            users[uid] = User(uid, str(spec.get("name") or uid), tuple(str(r) for r in spec.get("roles") or ()))
        conf = config.get("confidential") or {}
        when = conf.get("when", DEFAULT_CONFIDENTIAL["when"]) or {}
        first = (config.get("first_receiver") or {}).get("variables", DEFAULT_FIRST_RECEIVER)
        return cls(
            users=users,
            roles=roles,
            confidential_variables=tuple(conf.get("variables", DEFAULT_CONFIDENTIAL["variables"]) or ()),
            confidential_when={str(k): tuple(v) if isinstance(v, (list, tuple)) else (v,) for k, v in when.items()},
            keep=tuple(conf.get("keep", DEFAULT_CONFIDENTIAL["keep"]) or ()),
            first_receiver_variables=tuple(first or ()),
        )

    # -- who -------------------------------------------------------------------------------------
    @property
    def enforced(self) -> bool:
        """Permissions apply only once users are configured."""
        return bool(self.users)

    def user(self, user_id: str) -> User:
        found = self.users.get(str(user_id))
        if found is None:
            raise UnknownUser(str(user_id))
        return found

    def role(self, name: str) -> Role:
        """A configured role, or the implicit one: serves the lane/group of its own name, no permissions."""
        return self.roles.get(name) or Role(name, frozenset({name}))

    def groups(self, user: User) -> set[str]:
        """Lanes / candidate groups whose tasks the user does."""
        out: set[str] = set()
        for r in user.roles:
            out |= self.role(r).serves
        return out

    def may(self, user: User | None, permission: str) -> bool:
        """None is the system (the worker, in-process callers): it may do everything."""
        if user is None or not self.enforced:
            return True
        return any(permission in self.role(r).may for r in user.roles)

    # -- tasks -------------------------------------------------------------------------------------
    def serves_task(self, user: User, task: Mapping[str, Any]) -> bool:
        """The task belongs to one of the user's roles (its role: candidate group, else lane)."""
        role = task.get("role") or task.get("lane")  # a task row's role lists its candidate groups `a,b`
        return role is not None and not self.groups(user).isdisjoint(role.split(","))

    def task_visible(self, user: User | None, task: Mapping[str, Any]) -> bool:
        """A user sees a task of their roles, one assigned to them or done by them (see_all: every task)."""
        if user is None or not self.enforced:
            return True
        return (
            self.serves_task(user, task)
            or task.get("assignee") == user.id
            or task.get("completed_by") == user.id
            or self.may(user, "see_all")
        )

    def task_workable(self, user: User | None, task: Mapping[str, Any]) -> bool:
        """May claim/complete: a task of the user's roles or assigned to them."""
        if user is None or not self.enforced:
            return True
        return self.serves_task(user, task) or task.get("assignee") == user.id

    # -- confidential cases (R-C10) ------------------------------------------------------------------
    def is_confidential(self, variables: Mapping[str, Any] | None) -> bool:
        """Marked confidential at intake (a configured variable true) or of a confidential kind (举报)."""
        if not variables:
            return False
        for name in self.confidential_variables:
            if _truthy(variables.get(name)):
                return True
        for name, values in self.confidential_when.items():
            value = variables.get(name)
            if isinstance(value, str):
                value = value.strip()
            if name in variables and value in values:
                return True
        return False

    def hides(self, user: User | None, variables: Mapping[str, Any] | None) -> bool:
        """True when this user must see only the placeholder of a case with these variables."""
        if user is None or not self.enforced:
            return False
        return self.is_confidential(variables) and not self.may(user, "confidential")

    # -- first-question responsibility (R-F6) ----------------------------------------------------
    def first_receivers(self, variables: Mapping[str, Any] | None, started_by: str | None) -> set[str]:
        """Who received the case first: the user who started it and the names in 首问负责人/接待人员."""
        out = {started_by} if started_by else set()
        for name in self.first_receiver_variables:
            value = (variables or {}).get(name)
            if isinstance(value, str) and value.strip():
                out.add(value.strip())
        return out

    def is_first_receiver(self, user: User, variables: Mapping[str, Any] | None, started_by: str | None) -> bool:
        names = self.first_receivers(variables, started_by)
        return user.id in names or user.name in names

    # -- redaction ---------------------------------------------------------------------------------
    def kept(self, variables: Mapping[str, Any] | None) -> dict[str, Any]:
        """The variables a placeholder keeps: the case number (投诉编号), nothing else."""
        return {k: variables[k] for k in self.keep if variables and k in variables}

    def placeholder_task(self, task: Mapping[str, Any]) -> dict:
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

    def placeholder_history(self, rows: Iterable[Mapping[str, Any]], user: User | None) -> list[dict]:
        """History of a confidential case: what happened when, not the data, not the other actors."""
        uid = user.id if user else None
        return [
            {
                "id": h["id"],
                "at": h["at"],
                "actor": h["actor"] if h["actor"] == uid else None,
                "kind": h["kind"],
                "element": None,
                "task": h["task"],
                "detail": None,
                "redacted": True,
            }
            for h in rows
        ]

    def redact_record(self, record: Mapping[str, Any], variables: Mapping[str, Any] | None, user: User | None) -> dict:
        """Any case record (a report row, a KPI case list entry) as this user may see it.

        Unchanged when the user may see the case's content; otherwise every key but the
        identification/deadline/role keys (SAFE_KEYS) and the kept number variables becomes None,
        and `redacted: True` is added.
        """
        if not self.hides(user, variables):
            return dict(record)
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

    def placeholder_text(self, task: Mapping[str, Any]) -> str:
        """What `hall task` shows instead of the form of a confidential case."""
        number = task.get("business_key") or next(iter((task.get("variables") or {}).values()), None)
        return (
            f"{PLACEHOLDER}：任务 {task.get('id')}，案件 #{task.get('instance')} {number or '-'}，"
            f"角色 {task.get('role') or '-'}，时限 {task.get('due_at') or '—'}；内容仅限有保密权限的人员查阅。"
        )


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in TRUE_TEXTS
    return bool(value) and value is not None
