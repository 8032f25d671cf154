"""The engine's errors as the desk reads them: in the hall's language for the errors staff meet every
day (a task someone else claimed, a number that does not exist, a form that is not complete), from the
data each error carries; any other error, and every error in English, is its own one-line message.

An error whose message is made of phrases (a refusal's action, target and reason, a --set or --data
problem, a refused --now) is matched against the English shapes of those phrases (marked `N_`, in the
catalog like every message) and translated part by part; a text of no known shape stays English whole,
never half translated."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from .i18n import N_, current, tr


def _form(exc: Any) -> str:
    detail = "; ".join(f"{field}: {why}" for field, why in exc.errors.items())
    return tr("form {form}: {detail}", form=exc.form, detail=detail)


#: Error class name → its text from the error's data (the msgids are the English messages' shapes).
TEXTS: dict[str, Callable[[Any], str]] = {
    "TaskClaimedByOther": lambda e: tr("task {task} is claimed by {assignee}", task=e.task, assignee=e.assignee),
    "TaskNotFound": lambda e: tr("unknown task {task}", task=e.task),
    "TaskAlreadyCompleted": lambda e: (
        tr("task {task} already completed by {by}", task=e.task, by=e.by)
        if e.by
        else tr("task {task} already completed", task=e.task)
    ),
    "ProcessNotFound": lambda e: tr(
        "unknown process {process}: deploy it first (`hall deploy`)", process=repr(e.process)
    ),
    "FormInvalid": _form,
}


def error_text(exc: Exception) -> str:
    """One line for an error: translated where the active language has it, else the error's message."""
    make = TEXTS.get(type(exc).__name__)
    if current() == "en" or make is None:
        return str(exc)
    return make(exc)


@functools.cache
def _pattern(shape: str) -> re.Pattern[str]:
    """A regular expression matching the texts of an English message shape, one group per {field}."""
    parts = re.split(r"\{(\w+)\}", shape)
    return re.compile("".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)))


def _field(name: str, value: str) -> str:
    """A field carried into the translation: a status word in the hall's language, the rest as it is."""
    if name in ("status", "state") and value in STATUSES:
        return tr(value)
    if name == "actor" and value == "an administrator":
        return tr("an administrator")
    return value


def reshaped(text: str, shapes: tuple[str, ...]) -> str | None:
    """`text` in the active language when it has one of the English `shapes` (msgids with {fields}),
    its fields carried over; None when it has none of them (the caller keeps the English line)."""
    for shape in shapes:
        found = _pattern(shape).fullmatch(text)
        if found:
            return tr(shape, **{k: _field(k, v) for k, v in found.groupdict().items()})
    return None


STATUSES = ("running", "completed", "cancelled", "incident", "suspended", "ready")

#: The purge of a case, told to a user who could see it.
PURGED = (N_("instance {instance} was purged on {at} by {actor} (retention {retention}, purge --before {before})"),)

#: What a refused user wanted to do (PermissionDenied's action, with its target) and to what.
ACTIONS = (
    N_("see {target}"),
    N_("show {target}"),
    N_("claim {target}"),
    N_("unclaim {target}"),
    N_("complete {target}"),
    N_("cancel {target}"),
    N_("suspend {target}"),
    N_("resume {target}"),
    N_("retry {target}"),
    N_("reassign {target}"),
    N_("deploy {target}"),
    N_("check {target}"),
    N_("undeploy {target}"),
    N_("roll back {target}"),
    N_("purge {target}"),
    N_("reindex {target}"),
    N_("refresh {target}"),
    N_("send signal {target}"),
    N_("send a message to {target}"),
    N_("see the history of {target}"),
)
TARGETS = (
    N_("task {task} to {user}"),
    N_("task {task}"),
    N_("instance {instance}"),
    N_("confidential case {case}"),
    N_("case {case}"),
    N_("process {process}"),
    N_("finished cases"),
    N_("process definitions"),
    N_("the hall's history"),
    N_("the history of every case"),
    N_("the search index"),
    N_("deadlines"),
    N_("the indicators"),
    N_("the reports due"),
    N_("the reports"),
)
#: Why it was refused (engine/access/policy.py's reasons).
WHYS = (
    N_("it is for role {role} (yours: {roles}) and not assigned to you"),
    N_("it is for organisation {organisation} (yours: {yours}) and not assigned to you"),
    N_("the case is confidential and you have no 'confidential' permission (R-C10)"),
    N_("needs the '{permission}' permission (roles: {roles})"),
    N_("{user} has no 'confidential' permission and the case is confidential (R-C10)"),
    N_("the task is for organisation {organisation} and {user} works for {theirs}"),
    N_("it is confidential (R-C10) and the user lacks the 'confidential' permission"),
)
NOT_ACTIVE = (
    N_("cannot complete task {task} of instance {instance}: it is {status}"),
    N_("cannot cancel instance {instance}: it is {status}"),
    N_("cannot suspend instance {instance}: it is {status}"),
    N_("cannot resume instance {instance}: it is {status}"),
    N_("cannot retry instance {instance}: it is {status}"),
)
#: What is wrong with --set / --data input (DataInvalid's `what`; its source is a file or an option).
DATA = (
    N_("no such file"),
    N_("expected NAME=VALUE (text) or NAME:=JSON"),
    N_("'{name}' is not a valid variable name"),
    N_("must contain a mapping of variable names to values"),
    N_("is not UTF-8 text (check the terminal's encoding)"),
    N_("{field}: not valid YAML/JSON: day is out of range for month"),
    N_("{field}: not valid YAML/JSON: month must be in 1..12"),
    N_(
        "variable '{name}' would shadow the scripts' environment (names starting with _, __builtins__, globals, "
        "eval, open, the value types and script functions such as next_number); rename it"
    ),
)
SIMULATED = (
    N_(
        "--now {at} refused: it is later than the real time ({real}) and this database is not a rehearsal "
        "(`hall init --rehearsal` makes one); nothing was written"
    ),
    N_(
        "--now {at} refused: it needs a user with the 'simulate_time' permission and this database is not a "
        "rehearsal (`hall init --rehearsal` makes one); nothing was written"
    ),
    N_(
        "--now {at} refused: {who} has no 'simulate_time' permission and this database is not a rehearsal "
        "(`hall init --rehearsal` makes one); nothing was written"
    ),
)


def _instance_not_found(exc: Any) -> str:
    if exc.purged:
        return reshaped(str(exc), PURGED) or str(exc)
    return tr("unknown instance {instance}", instance=exc.instance)


def _permission_denied(exc: Any) -> str:
    """Who may not do what to which and why, when each part has a known shape; else the English line."""
    target = reshaped(exc.target, TARGETS)
    why = reshaped(exc.why, WHYS)
    shape = f"{exc.action} {{target}}"
    if target is None or why is None or shape not in ACTIONS:
        return str(exc)
    deed = tr(shape, target=target)
    return tr("permission denied: {user} may not {deed}: {why}", user=exc.user, deed=deed, why=why)


def _data_invalid(exc: Any) -> str:
    what = reshaped(exc.what, DATA)
    return str(exc) if what is None else tr("{source}: {what}", source=exc.source, what=what)


def _shaped(shapes: tuple[str, ...]) -> Callable[[Any], str]:
    return lambda exc: reshaped(str(exc), shapes) or str(exc)


TEXTS["InstanceNotFound"] = _instance_not_found
# a case the user may not see is answered as an unknown one, in the same words as a free id
TEXTS["InstanceNotVisible"] = lambda e: tr("unknown instance {instance}", instance=e.instance_id)
TEXTS["PermissionDenied"] = _permission_denied
TEXTS["TaskNotReady"] = lambda e: tr(
    "task {task} is not ready (instance is {state})", task=e.task, state=_field("state", e.state)
)
TEXTS["InstanceNotActive"] = _shaped(NOT_ACTIVE)
TEXTS["DataInvalid"] = _data_invalid
TEXTS["SimulatedTimeRefused"] = _shaped(SIMULATED)
