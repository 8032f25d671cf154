"""The engine's errors as the desk reads them: in the hall's language for the errors staff meet every
day (a task someone else claimed, a number that does not exist, a form that is not complete), from the
data each error carries; any other error, and every error in English, is its own one-line message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .i18n import current, tr


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
    """One line for an error: translated where the active language has it, else the error's message.
    An InstanceNotFound of a purged case keeps its message (it says when and by whom)."""
    make = TEXTS.get(type(exc).__name__)
    if current() == "en" or make is None:
        return str(exc)
    return make(exc)


def _instance_not_found(exc: Any) -> str:
    return str(exc) if exc.purged else tr("unknown instance {instance}", instance=exc.instance)


TEXTS["InstanceNotFound"] = _instance_not_found
