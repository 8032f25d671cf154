"""The one exception hierarchy of hall: every error a user can cause is a HallError.

Each class is named for what the user did wrong and carries the data its message needs.
The CLI prints ``str(error)`` as one line and exits with ``exit_code``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class HallError(Exception):
    """Base of every error hall raises on purpose; its message is one actionable line."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class DatabaseUnavailable(HallError):
    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"cannot open database {url}: {reason}")


class SchemaMissing(HallError):
    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"database {url} has no hall schema: run `hall init` first")


class SchemaTooNew(HallError):
    def __init__(self, found: int, supported: int) -> None:
        self.found, self.supported = found, supported
        super().__init__(
            f"database schema version {found} is newer than this hall supports ({supported}): upgrade hall"
        )


class SchemaTooOld(HallError):
    def __init__(self, found: int, supported: int) -> None:
        self.found, self.supported = found, supported
        super().__init__(
            f"database schema version {found} is older than this hall's ({supported}): "
            "run `hall init` to upgrade it in place (all data is kept)"
        )


class ProcessNotFound(HallError):
    def __init__(self, process: str) -> None:
        self.process = process
        super().__init__(f"unknown process {process!r}: deploy it first (`hall deploy`)")


class InstanceNotFound(HallError):
    def __init__(self, instance: Any, purged: Mapping[str, Any] | None = None) -> None:
        self.instance, self.purged = instance, purged
        if purged:
            super().__init__(
                f"instance {instance} was purged on {purged['at']} by {purged['actor'] or 'an administrator'}"
                f" (retention {purged['retention']}, purge --before {purged['before']})"
            )
        else:
            super().__init__(f"unknown instance {instance}")


class TaskNotFound(HallError):
    def __init__(self, task: Any) -> None:
        self.task = task
        super().__init__(f"unknown task {task}")


class TaskAlreadyCompleted(HallError):
    def __init__(self, task: Any, by: str | None = None) -> None:
        self.task, self.by = task, by
        who = f" by {by}" if by else ""
        super().__init__(f"task {task} already completed{who}")


class TaskNotReady(HallError):
    def __init__(self, task: Any, state: str) -> None:
        self.task, self.state = task, state
        super().__init__(f"task {task} is not ready (instance is {state})")


class TaskClaimedByOther(HallError):
    def __init__(self, task: Any, assignee: str) -> None:
        self.task, self.assignee = task, assignee
        super().__init__(f"task {task} is claimed by {assignee}")


class InstanceNotActive(HallError):
    def __init__(self, instance: Any, status: str, action: str) -> None:
        self.instance, self.status, self.action = instance, status, action
        super().__init__(f"cannot {action} instance {instance}: it is {status}")


class BusinessKeyTaken(HallError):
    """A process declares its business key unique (property businessKeyUnique) and another case has it."""

    def __init__(self, process: str, key: str) -> None:
        self.process, self.key = process, key
        super().__init__(
            f"business key {key} is taken: another {process} case has it, and process {process} "
            "declares its business key unique; nothing was written"
        )


class ConcurrentUpdate(HallError):
    def __init__(self, instance: Any) -> None:
        self.instance = instance
        super().__init__(f"instance {instance} was changed by someone else meanwhile: try again")


class FormNotFound(HallError):
    def __init__(self, form: str, where: str) -> None:
        self.form, self.where = form, where
        super().__init__(f"form {form!r} not found in {where}")


class FormInvalid(HallError):
    """Data entered on a form failed its field declarations: one message per field."""

    def __init__(self, form: str, errors: dict[str, str]) -> None:
        self.form, self.errors = form, dict(errors)
        detail = "; ".join(f"{field}: {why}" for field, why in self.errors.items())
        super().__init__(f"form {form}: {detail}")


class FormDefinitionInvalid(HallError):
    def __init__(self, path: str, line: int | None, what: str) -> None:
        self.path, self.line, self.what = path, line, what
        super().__init__(f"{path}:{line or 1}: {what}")


class DataInvalid(HallError):
    """Malformed --set/--data input (not a form violation)."""

    def __init__(self, source: str, what: str) -> None:
        self.source, self.what = source, what
        super().__init__(f"{source}: {what}")


class DefinitionInvalid(HallError):
    """A definition failed validation; carries every finding."""

    def __init__(self, findings: Sequence[Any]) -> None:
        self.findings = list(findings)
        first = str(self.findings[0]) if self.findings else "invalid definition"
        more = f" (and {len(self.findings) - 1} more; run `hall validate`)" if len(self.findings) > 1 else ""
        super().__init__(first + more)


class ActionTooEarly(HallError):
    def __init__(self, instance: Any, now: str, last: str) -> None:
        self.instance, self.now, self.last = instance, now, last
        super().__init__(
            f"instance {instance}: the time given ({now}) is earlier than its last recorded event ({last})"
        )


class ConfigInvalid(HallError):
    def __init__(self, path: str, line: int | None, what: str) -> None:
        self.path, self.line, self.what = path, line, what
        super().__init__(f"{path}:{line or 1}: {what}")


class ConfigMissing(ConfigInvalid):
    """The configuration file named by --config / HALL_CONFIG does not exist (./hall.yaml may be absent)."""

    def __init__(self, path: str) -> None:
        self.path, self.line, self.what = path, None, "not found"
        HallError.__init__(self, f"configuration file {path} not found (given by --config / HALL_CONFIG)")


class DeadlineInvalid(HallError):
    """A timer or due-date value that is not in hall's deadline notation (see docs/deadlines.md)."""

    def __init__(self, text: str, why: str) -> None:
        self.text, self.why = text, why
        super().__init__(f"invalid deadline {text!r}: {why}")


class UnknownUser(HallError):
    """A named actor who is not among the configured users (hall.yaml `users`)."""

    def __init__(self, user: str) -> None:
        self.user = user
        super().__init__(f"unknown user {user!r}: not in hall.yaml users (`hall user list`, `hall user add`)")


class UserRequired(HallError):
    """Users are configured but the command does not say who is acting."""

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(f"{action} needs a user: pass --user or set HALL_USER (users are configured in hall.yaml)")


class PermissionDenied(HallError):
    """The acting user may not do this (R-C10, roles in hall.yaml); recorded in the case's history.

    The message names only ids and roles, never the content of a case.
    """

    def __init__(
        self,
        user: str,
        action: str,
        target: str,
        why: str,
        *,
        instance_id: int | None = None,
        process_id: str | None = None,
        task_id: int | None = None,
    ) -> None:
        self.user, self.action, self.target, self.why = user, action, target, why
        self.instance_id, self.process_id, self.task_id = instance_id, process_id, task_id
        self.recorded = False
        super().__init__(f"permission denied: {user} may not {action} {target}: {why}")


class DatabaseMissing(SchemaMissing):
    """A SQLite file that does not exist: only `hall init` creates one (a typo in --db creates nothing)."""

    def __init__(self, path: str) -> None:
        self.path = self.url = path
        HallError.__init__(self, f"no hall database at {path}: run `hall init` first (or check --db / HALL_DB)")


class DatabaseFailed(HallError):
    """The database refused a statement in the middle of a transaction; the transaction was rolled back."""

    def __init__(self, url: str, reason: str) -> None:
        self.url, self.reason = url, reason
        super().__init__(f"database {url} failed: {reason} (nothing was written)")


class OutputNotWritable(HallError):
    """An output file or folder (--out) that cannot be written."""

    def __init__(self, path: str, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"cannot write {path}: {reason}")


class MigrationRefused(HallError):
    """An instance cannot move to another version of its process (`hall retry --latest`)."""

    def __init__(self, instance: Any, process: str, version: int, why: str) -> None:
        self.instance, self.process, self.version, self.why = instance, process, version, why
        super().__init__(f"cannot move instance {instance} to {process} v{version}: {why}; nothing was changed")


def _message_label(name: str, key: str | None) -> str:
    """`message 'paid' with correlation key 'TS-1'` (or without one)."""
    return f"message {name!r}" + (f" with correlation key {key!r}" if key is not None else " without a correlation key")


class MessageNotCorrelated(HallError):
    """A message no running case waits for (with its correlation key) and no process starts with."""

    def __init__(self, name: str, key: str | None, process: str | None = None) -> None:
        self.name, self.key, self.process = name, key, process
        where = (
            f"no running {process} case waits for it and {process}"
            if process
            else "no running case waits for it and no process"
        )
        super().__init__(f"{_message_label(name, key)} was not correlated: {where} starts with it")


class MessageAmbiguous(HallError):
    """A message that fits more than one waiting case, or more than one process's message start event."""

    def __init__(self, name: str, key: str | None, targets: Sequence[str]) -> None:
        self.name, self.key, self.targets = name, key, list(targets)
        shown = ", ".join(self.targets[:5]) + (", ..." if len(self.targets) > 5 else "")
        super().__init__(
            f"{_message_label(name, key)} fits {len(self.targets)} targets ({shown}): give it a correlation "
            "key (--key) or a process (--process) that picks one"
        )


class MessageNotWaited(HallError):
    """A message sent to one case (`hall message INSTANCE NAME`) that it does not wait for."""

    def __init__(self, instance: Any, name: str) -> None:
        self.instance, self.name = instance, name
        super().__init__(f"instance {instance} is not waiting for message {name!r}")


class CorrelationKeyFailed(HallError):
    """The correlation key expression of a throwing element failed on the case's data."""

    def __init__(self, element: str, expression: str, error: str) -> None:
        self.element, self.expression, self.error = element, expression, error
        super().__init__(f"correlation key {expression!r} of {element} cannot be evaluated: {error}")


class NotAuthenticated(HallError):
    """A request to `hall serve` without a valid token: none, unknown, expired or revoked (HTTP 401).
    The message never says whose token it was."""

    def __init__(self, why: str) -> None:
        self.why = why
        super().__init__(f"not logged in: {why}; log in with `hall login`")


class LoginFailed(HallError):
    """`hall login` with a user id and password that do not match (HTTP 401); which of the two was
    wrong is not said."""

    def __init__(self, user: str) -> None:
        self.user = user
        super().__init__(f"login refused for {user!r}: wrong user or password")


class PeopleInvalid(HallError):
    """A change to the users, roles or tokens kept in the database that cannot be made: `field`
    names what was wrong (an unknown permission, a user that exists already, a role nobody defined)."""

    def __init__(self, field: str, what: str) -> None:
        self.field, self.what = field, what
        super().__init__(f"{field}: {what}")


class RehearsalOnly(HallError):
    """A simulated time (--now) asked of `hall serve` on a database that is not a rehearsal one."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            "--now is refused over the server: its database is not a rehearsal database "
            "(simulated time would write events at a time that did not happen)"
        )


class DocumentNotReady(HallError):
    """A paper for the customer asked of a case that does not hold what it prints yet (or is of
    another process): names what is missing and the step that fills it."""

    def __init__(self, document: str, instance: Any, missing: list[str], hint: str) -> None:
        self.document, self.instance, self.missing, self.hint = document, instance, missing, hint
        super().__init__(
            f"case {instance} cannot print the {document} yet: it has no {', '.join(missing)} ({hint}); nothing was written"
        )


class SimulatedTimeRefused(HallError):
    """A simulated time (--now) given where it may not be used: on a database that is not a
    rehearsal, by a user without the `simulate_time` permission, or later than the real time."""

    def __init__(self, at: str, why: str) -> None:
        self.at, self.why = at, why
        super().__init__(f"--now {at} refused: {why}; nothing was written")


class RehearsalRefused(HallError):
    """`hall init --rehearsal` on a database that already holds a hall: only a new one can be a rehearsal."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(
            f"database {url} already exists and is not a rehearsal: only a new database can be made one "
            "(`hall init --rehearsal` on a new file or an empty PostgreSQL database)"
        )


class InstanceNotVisible(PermissionDenied):
    """A user asked for a case they may not see at all: answered as an unknown one (InstanceNotFound's
    words), so that the answer does not tell which case ids exist; still a refusal in the history."""

    def __init__(self, user: str, action: str, instance_id: int, why: str, process_id: str | None = None) -> None:
        super().__init__(user, action, f"instance {instance_id}", why, instance_id=instance_id, process_id=process_id)
        self.message = f"unknown instance {instance_id}"

    def __str__(self) -> str:
        return self.message


class ScenarioInvalid(HallError):
    """A scenario file (`hall test`) that cannot be read as scenarios: its file, line and what is wrong."""

    def __init__(self, path: str, line: int | None, what: str) -> None:
        self.path, self.line, self.what = path, line, what
        super().__init__(f"{path}:{line or 1}: {what}")


class DiagramUnreadable(HallError):
    """A BPMN file whose XML cannot be read to draw it (`hall diagram`, coverage)."""

    def __init__(self, where: str, line: int | None, what: str) -> None:
        self.where, self.line, self.what = where, line, what
        super().__init__(f"{where}:{line or 1}: {what}")
