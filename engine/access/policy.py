"""The access policy: the one object the API asks who may do what on which case or task, and what
a user may see of an instance, a task, a history, an incident or any other record about a case.

It decides; the API reads and writes. Checks raise `PermissionDenied` (one line naming ids and
roles, never a case's content) carrying the case and task it is about, and `denial_row` is the
history row the API records for it. With no user configured, or for the system (user None), every
check passes and every view is shown whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from ..errors import InstanceNotVisible, PermissionDenied, UserRequired
from .confidential import PLACEHOLDER
from .people import People, User

CONFIDENTIAL_WHY = "the case is confidential and you have no 'confidential' permission (R-C10)"
UNRELATED_WHY = "not a case of your roles, assigned to you or first received by you"
TASK_STATUSES = ("ready", "completed", "cancelled")  # a case is related to a user through any of its tasks
WITNESS_KEYS = ("role", "lane", "organisation", "assignee", "completed_by")  # what relates a task to a user

Variables = Mapping[str, Any] | None


class TaskSource(Protocol):
    """Where the policy reads the tasks that relate a user to a case (the store's transaction)."""

    def query_tasks(
        self,
        role: str | None = None,
        assignee: str | None = None,
        process: str | None = None,
        instance: int | None = None,
        status: str = "ready",
        limit: int = 500,
        count: bool = False,
        organisation: str | None = None,
    ) -> Any: ...


class AccessPolicy:
    """Users, roles, permissions and the confidential-case rules, asked by `Engine`."""

    def __init__(self, people: People | None = None) -> None:
        self.people = people if people is not None else People()

    @property
    def enforced(self) -> bool:
        """Permissions apply only once users are configured."""
        return self.people.enforced

    # -- who acts ------------------------------------------------------------------------------------
    def actor(self, user: str | None, action: str, *, required: bool = False) -> User | None:
        """The configured user acting, or None (no users configured, or the system); with `required`
        (the `hall` command) a missing user is UserRequired, an unknown one UnknownUser."""
        if not self.people.enforced:
            return None
        if user is None:
            if required:
                raise UserRequired(action)
            return None
        return self.people.user(user)

    def may(self, actor: User | None, permission: str) -> bool:
        """Whether the actor has the permission (the system and everybody without users: yes)."""
        return self.people.may(actor, permission)

    def task_visible(self, actor: User | None, task: Mapping[str, Any]) -> bool:
        """A task of the actor's roles, assigned to or done by them, or any with `see_all`."""
        return self.people.task_visible(actor, task)

    # -- refusals ----------------------------------------------------------------------------------
    def lacking(
        self,
        actor: User | None,
        permission: str,
        action: str,
        target: str,
        *,
        task: Mapping[str, Any] | None = None,
        instance: Mapping[str, Any] | None = None,
    ) -> PermissionDenied | None:
        """The refusal of `action` on `target` when the actor lacks `permission`, else None."""
        if actor is None or self.people.may(actor, permission):
            return None
        why = f"needs the {permission!r} permission (roles: {', '.join(actor.roles) or '-'})"
        return self.refusal(actor, action, target, why, task=task, instance=instance)

    def refusal(
        self,
        actor: User,
        action: str,
        target: str,
        why: str,
        *,
        task: Mapping[str, Any] | None = None,
        instance: Mapping[str, Any] | None = None,
    ) -> PermissionDenied:
        """A PermissionDenied about this task (a human_tasks row) or instance (an instances row)."""
        src = task if task is not None else instance
        return PermissionDenied(
            actor.id,
            action,
            target,
            why,
            instance_id=(src["instance_id"] if task is not None else src["id"]) if src is not None else None,
            process_id=src["process_id"] if src is not None else None,
            task_id=task["id"] if task is not None else None,
        )

    def role_reason(self, actor: User, task: Mapping[str, Any]) -> str:
        """Why a task is not the actor's: the role (or organisation) it is for, theirs, and not
        assigned to them."""
        bound = task.get("organisation")
        if bound and self.people.serves_task(User(actor.id, actor.name, actor.roles, bound), task):
            return f"it is for organisation {bound} (yours: {actor.organisation or '-'}) and not assigned to you"
        return (
            f"it is for role {task['role'] or task['lane'] or '-'} "
            f"(yours: {', '.join(actor.roles) or '-'}) and not assigned to you"
        )

    def check_see_task(self, actor: User | None, task: Mapping[str, Any]) -> None:
        """May the actor open this task (`hall task`)."""
        if actor is not None and not self.people.task_visible(actor, task):
            raise self.refusal(actor, "see", f"task {task['id']}", self.role_reason(actor, task), task=task)

    def check_work(
        self, actor: User | None, task: Mapping[str, Any], variables: Callable[[], Variables], action: str
    ) -> None:
        """May the actor claim/complete this task: their role or assigned to them; a confidential
        case needs the permission. `variables` reads the case's variables, only when needed."""
        if actor is None:
            return
        if not self.people.task_workable(actor, task):
            raise self.refusal(actor, action, f"task {task['id']}", self.role_reason(actor, task), task=task)
        if self._may_be_hidden_from(actor) and self.people.hides(actor, variables()):
            raise self.refusal(actor, action, f"task {task['id']}", CONFIDENTIAL_WHY, task=task)

    def check_instance(
        self,
        actor: User | None,
        row: Mapping[str, Any],
        action: str,
        tasks: TaskSource,
        need: str | None = None,
    ) -> None:
        """May the actor act on this instance (an instances row): the permission `need`, if any,
        and a case they may see at all."""
        if actor is None:
            return
        if not self.sees_instance(actor, row, tasks):  # first: a permission's refusal would tell it exists
            raise InstanceNotVisible(actor.id, action, row["id"], UNRELATED_WHY, row["process_id"])
        refused = self.lacking(actor, need, action, f"instance {row['id']}", instance=row) if need else None
        if refused is not None:
            raise refused

    def check_manage(self, actor: User | None, row: Mapping[str, Any], action: str, tasks: TaskSource) -> None:
        """Suspend, resume, cancel, retry, message: `manage` on a case the actor sees; cancelling a
        confidential case also needs the right to read it (R-C10)."""
        if actor is None:
            return
        self.check_instance(actor, row, action, tasks, need="manage")
        if action == "cancel" and self.people.hides(actor, _loads(row["variables"])):
            raise self.refusal(actor, action, f"instance {row['id']}", CONFIDENTIAL_WHY, instance=row)

    def reassign_target(self, to_user: str) -> User | None:
        """The user a task is given to: a configured one (UnknownUser otherwise), None without users."""
        return self.people.user(to_user) if self.people.enforced else None

    def check_handover(
        self,
        actor: User | None,
        user: str | None,
        target: User | None,
        task: Mapping[str, Any],
        variables: Callable[[], Variables],
    ) -> None:
        """A task of a confidential case goes only to a user with the `confidential` permission, and
        a task bound to an organisation only to a user of that organisation."""
        if target is not None and not self.people.of_organisation(target, task):
            who = actor or User(user or "system", user or "system", ())
            raise self.refusal(
                who,
                "reassign",
                f"task {task['id']} to {target.id}",
                f"the task is for organisation {task['organisation']} and {target.id} works for "
                f"{target.organisation or 'none'}",
                task=task,
            )
        if target is None or not self._may_be_hidden_from(target) or not self.people.hides(target, variables()):
            return
        who = actor or User(user or "system", user or "system", ())
        raise self.refusal(
            who,
            "reassign",
            f"task {task['id']} to {target.id}",
            f"{target.id} has no 'confidential' permission and the case is confidential (R-C10)",
            task=task,
        )

    def _may_be_hidden_from(self, user: User) -> bool:
        """Whether some case could be hidden from this user: else its variables need not be read."""
        return self.people.confidential.configured and not self.people.may(user, "confidential")

    @staticmethod
    def denial_row(exc: PermissionDenied, at: datetime) -> dict[str, Any]:
        """The `denied` history row of a refusal: in its case's history, or the hall's own (no case)."""
        return {
            "instance_id": exc.instance_id,
            "process_id": exc.process_id,
            "at": at,
            "actor": exc.user,
            "kind": "denied",
            "element": None,
            "task_id": exc.task_id,
            "detail": {"action": exc.action, "target": exc.target, "why": exc.why},
        }

    # -- which cases and tasks a user sees -----------------------------------------------------------
    def sees_instance(self, actor: User | None, row: Mapping[str, Any], tasks: TaskSource) -> bool:
        """A case of the user's roles (a task, open or done), assigned to or done by them, or first
        received by them (R-F6); every case with `see_all`."""
        people = self.people
        if actor is None or people.may(actor, "see_all"):
            return True
        if people.is_first_receiver(actor, _loads(row["variables"]), row.get("started_by")):
            return True
        for status in TASK_STATUSES:
            if any(
                people.task_visible(actor, t)
                for t in tasks.query_tasks(instance=row["id"], status=status, limit=100_000)
            ):
                return True
        return False

    def witnesses(self, row: Mapping[str, Any], tasks: TaskSource) -> dict[str, Any]:
        """Who could see a case, kept in the row `hall purge` leaves for it (`knew_of` reads it): whether
        it is confidential, its first receivers, and the roles, organisations and people of its tasks."""
        variables = _loads(row["variables"])
        seen: dict[tuple, dict[str, Any]] = {}
        for status in TASK_STATUSES:
            for t in tasks.query_tasks(instance=row["id"], status=status, limit=100_000):
                item = {k: t.get(k) for k in WITNESS_KEYS if t.get(k)}
                seen[tuple(sorted(item.items()))] = item
        return {
            "confidential": self.people.is_confidential(variables),
            "first_receivers": sorted(self.people.first_receiver.names(variables, row.get("started_by"))),
            "tasks": list(seen.values()),
        }

    def knew_of(self, actor: User | None, purged: Mapping[str, Any]) -> bool:
        """Whether the actor could see a purged case (the detail of its `purged` row): else the answer
        about its id is that of a free one. A confidential case only with the `confidential`
        permission; then `see_all`, its purger, a first receiver or a user who saw one of its tasks.
        A row written before purges kept `witnesses`: only users with both permissions, or its purger."""
        if actor is None:
            return True
        people = self.people
        if purged.get("actor") in (actor.id, actor.name):
            return True
        seen = (purged.get("detail") or {}).get("seen_by")
        if not isinstance(seen, Mapping):
            return people.may(actor, "see_all") and people.may(actor, "confidential")
        if seen.get("confidential") and not people.may(actor, "confidential"):
            return False
        if people.may(actor, "see_all") or {actor.id, actor.name} & set(seen.get("first_receivers") or ()):
            return True
        return any(people.task_visible(actor, t) for t in seen.get("tasks") or ())

    def visible_instances(
        self, actor: User | None, rows: list[Mapping[str, Any]], tasks: TaskSource
    ) -> list[Mapping[str, Any]]:
        """Instance rows filtered to those the user may see (a few queries for the whole list)."""
        people = self.people
        if actor is None or people.may(actor, "see_all"):
            return rows
        related: set[int] = set()
        for status in TASK_STATUSES:
            for group in sorted(people.groups(actor)):
                related.update(
                    t["instance_id"]
                    for t in tasks.query_tasks(
                        role=group, status=status, limit=1_000_000, organisation=actor.organisation or ""
                    )
                )
            related.update(
                t["instance_id"] for t in tasks.query_tasks(assignee=actor.id, status=status, limit=1_000_000)
            )
        return [
            r
            for r in rows
            if r["id"] in related or people.is_first_receiver(actor, _loads(r["variables"]), r.get("started_by"))
        ]

    def findable(self, actor: User | None, rows: list[Mapping[str, Any]], tasks: TaskSource) -> list[Mapping[str, Any]]:
        """The instance rows a search may show the user: those they may see, without the confidential
        cases they may not read (not even a placeholder: it would tell that the case matched)."""
        if actor is None:
            return rows
        return [
            r
            for r in self.visible_instances(actor, rows, tasks)
            if not self.people.hides(actor, _loads(r["variables"]))
        ]

    def hides(self, actor: User | None, variables: Variables) -> bool:
        """Whether the actor sees only a placeholder of a case with these variables (R-C10)."""
        return actor is not None and self.people.hides(actor, variables)

    def queues(self, actor: User | None, role: str | None, assignee: str | None) -> list[dict[str, str]] | None:
        """The task queries whose merged result is the actor's queue: None for the query as asked
        (the system, `see_all`, or a role named), else one per group they serve and their own tasks."""
        if actor is None or role is not None or self.people.may(actor, "see_all"):
            return None
        org = actor.organisation or ""  # tasks bound to another organisation are not in the queue (R-C10)
        out: list[dict[str, str]] = [
            {"role": group, "organisation": org} for group in sorted(self.people.groups(actor))
        ]
        if assignee in (None, actor.id):
            out.append({"assignee": actor.id})
        return out

    # -- what a user sees ----------------------------------------------------------------------------
    def present_instance(self, actor: User | None, view: dict) -> dict:
        """An instance view as the actor may see it: the placeholder of a confidential case without
        the permission, else the view (marked `confidential` when it is)."""
        if actor is None:
            return view
        if self.people.hides(actor, view.get("variables")):
            return self.people.confidential.placeholder_instance(view)
        if self.people.is_confidential(view.get("variables")):
            view["confidential"] = True
        return view

    def present_task(self, actor: User | None, view: dict, variables: Variables) -> dict:
        """A task of the queue (its case's variables given) as the actor may see it."""
        if self.people.hides(actor, variables):
            return self.people.confidential.placeholder_task(view)
        return view

    def present_task_detail(self, actor: User | None, view: dict) -> dict:
        """One task with its case's `variables`: the placeholder keeps only the kept variables."""
        if self.people.hides(actor, view["variables"]):
            kept = self.people.confidential.kept(view["variables"])
            view = self.people.confidential.placeholder_task(view)
            view["variables"] = kept
        return view

    def placeholder_task(self, view: Mapping[str, Any]) -> dict:
        """A task view reduced to its identification, deadline and role."""
        return self.people.confidential.placeholder_task(view)

    def present_history(self, actor: User | None, rows: list[dict], variables: Variables) -> list[dict]:
        """A case's history: without the data and the other actors when the case is hidden."""
        if self.people.hides(actor, variables):
            return self.people.confidential.placeholder_history(rows, actor.id if actor else None)
        return rows

    def present_incident(self, actor: User | None, item: dict, variables: Variables) -> dict:
        """An `incidents` entry: a hidden case's error text is the placeholder."""
        if actor is None:
            return item
        item = self.people.redact_record(item, variables, actor)
        if item.get("redacted"):
            item["error"] = PLACEHOLDER
        return item

    def present_record(self, actor: User | None, record: Mapping[str, Any], variables: Variables) -> dict:
        """Any record about a case (a report row, a KPI case) as the actor may see it."""
        return self.people.redact_record(record, variables, actor) if actor is not None else dict(record)

    def task_text(self, view: Mapping[str, Any]) -> str | None:
        """What `hall task` shows instead of a redacted task's form, or None to render the form."""
        return self.people.confidential.placeholder_text(view) if view.get("redacted") else None

    def redacting(
        self, on_event: Callable[[Any], None], variables: Callable[[int], Variables]
    ) -> Callable[[Any], None]:
        """The worker's events with the error text of confidential cases replaced (R-C10: logs too);
        the worker acts as the system, and `hall incidents` shows the text to who may read it."""
        if not self.people.enforced:
            return on_event

        def guarded(event: Any) -> None:
            if event.error and event.job.instance_id is not None:
                if self.people.is_confidential(variables(event.job.instance_id)):
                    event = replace(
                        event,
                        error=f"{PLACEHOLDER}: the error is shown by `hall incidents` to "
                        "users with the confidential permission",
                    )
            on_event(event)

        return guarded


def _loads(value: Any) -> Any:
    """An instance row's variables: stored JSON text, or already a mapping."""
    if isinstance(value, str):
        import json

        return json.loads(value) if value else None
    return value
