"""Users, roles and their permissions, with the case rules they are judged by.

Pure logic on the `users`, `roles`, `confidential` and `first_receiver` sections of hall.yaml: no
database here. `engine.access.policy.AccessPolicy` asks a `People` who may do what.

When no user is configured everybody may do everything and nothing is redacted (tests, the
demo, a fresh install). Once one user is listed, every named actor must be one of them.

    roles:
      supervisor: {serves: [supervisors], may: [confidential, reassign, manage, see_all]}
    users:
      - {id: sue, name: Sue Ma, roles: [supervisor]}
    confidential: {variables: [secret], when: {kind: [report]}, keep: [case_number]}
    first_receiver: {variables: [received_by]}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import UnknownUser
from .confidential import ConfidentialRule, FirstReceiverRule

PERMISSIONS = {
    "confidential": "see the content of confidential cases (R-C10)",
    "reassign": "give a ready task to another user (hall reassign)",
    "manage": "suspend, resume, cancel and retry cases, deliver messages to them",
    "see_all": "see every case and every queue, and the hall-wide indicators and reports (hall kpi, hall report); "
    "confidential content still needs `confidential`",
    "deploy": "deploy process definitions",
    "admin": "change the users, roles and tokens kept in the database (hall user, hall role, hall token)",
    "simulate_time": "act at a simulated time (--now) on a database that is not a rehearsal: never later than "
    "the real time nor earlier than a case's last event; each history row made so is marked simulated",
}


@dataclass(frozen=True)
class Role:
    """A role: the lanes / candidate groups whose tasks it does, and its permissions."""

    name: str
    serves: frozenset[str]
    may: frozenset[str] = frozenset()


@dataclass(frozen=True)
class User:
    """A configured user: who acts (`--user`), by id, with a display name, roles and the
    organisation (agency, department) they work for, if any."""

    id: str
    name: str
    roles: tuple[str, ...]
    organisation: str | None = None


@dataclass
class People:
    """The configured users and roles, and the confidential and first-receiver rules."""

    users: dict[str, User] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    confidential: ConfidentialRule = field(default_factory=ConfidentialRule)
    first_receiver: FirstReceiverRule = field(default_factory=FirstReceiverRule)

    # -- building ------------------------------------------------------------------------------
    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> People:
        """From the plain configuration (engine.config.load_config); checked there with line numbers.

        A section left out means none of it: no confidential case, no first-receiver variable.
        """
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
            org = spec.get("organisation")
            users[uid] = User(
                uid,
                str(spec.get("name") or uid),
                tuple(str(r) for r in spec.get("roles") or ()),
                str(org) if org else None,
            )
        return cls(
            users=users,
            roles=roles,
            confidential=ConfidentialRule.from_config(config.get("confidential")),
            first_receiver=FirstReceiverRule.from_config(config.get("first_receiver")),
        )

    # -- who -------------------------------------------------------------------------------------
    @property
    def enforced(self) -> bool:
        """Permissions apply only once users are configured."""
        return bool(self.users)

    def user(self, user_id: str) -> User:
        """The configured user of that id, else UnknownUser."""
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
        """The task belongs to one of the user's roles (its role: candidate group, else lane) and,
        when it is bound to an organisation (candidateOrganisation), the user works for that one."""
        role = task.get("role") or task.get("lane")  # a task row's role lists its candidate groups `a,b`
        if role is None or self.groups(user).isdisjoint(role.split(",")):
            return False
        return self.of_organisation(user, task)

    @staticmethod
    def of_organisation(user: User, task: Mapping[str, Any]) -> bool:
        """A task bound to no organisation is anybody's of its roles; a bound one only its
        organisation's users' (a user of no organisation serves no bound task)."""
        bound = task.get("organisation")
        return not bound or user.organisation == bound

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

    # -- cases -------------------------------------------------------------------------------------
    def is_confidential(self, variables: Mapping[str, Any] | None) -> bool:
        """A case with these variables is confidential under the configured rule."""
        return self.confidential.applies(variables)

    def hides(self, user: User | None, variables: Mapping[str, Any] | None) -> bool:
        """True when this user must see only the placeholder of a case with these variables."""
        if user is None or not self.enforced:
            return False
        return self.confidential.applies(variables) and not self.may(user, "confidential")

    def is_first_receiver(self, user: User, variables: Mapping[str, Any] | None, started_by: str | None) -> bool:
        """The user (by id or by name) started the case or is named in a first-receiver variable."""
        names = self.first_receiver.names(variables, started_by)
        return user.id in names or user.name in names

    def redact_record(self, record: Mapping[str, Any], variables: Mapping[str, Any] | None, user: User | None) -> dict:
        """Any case record (a report row, a KPI case list entry) as this user may see it: unchanged,
        or the placeholder (`redacted: True`) when the case is confidential to them."""
        if not self.hides(user, variables):
            return dict(record)
        return self.confidential.placeholder_record(record, variables)
