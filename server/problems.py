"""HallError -> RFC 9457 problem documents: the HTTP status of each error class, and the body
carrying the class name, its one-line message and, for bad data, the errors per field."""

from __future__ import annotations

from typing import Any

# errors answered as another class: a case the user may not see is named like one that does not exist
PRESENTED_AS = {"InstanceNotVisible": "InstanceNotFound"}

# by class name, walking the class's bases: a subclass without an entry takes its parent's status
STATUS = {
    "InstanceNotVisible": 404,  # answered as an unknown instance: the status must not tell it exists
    "NotAuthenticated": 401,
    "LoginFailed": 401,
    "PermissionDenied": 403,
    "UserRequired": 403,
    "RehearsalOnly": 403,
    "ProcessNotFound": 404,
    "InstanceNotFound": 404,
    "TaskNotFound": 404,
    "UnknownUser": 404,
    "FormNotFound": 404,
    "TaskAlreadyCompleted": 409,
    "TaskNotReady": 409,
    "TaskClaimedByOther": 409,
    "InstanceNotActive": 409,
    "BusinessKeyTaken": 409,
    "ConcurrentUpdate": 409,
    "ActionTooEarly": 409,
    "FormInvalid": 422,
    "DataInvalid": 422,
    "PeopleInvalid": 422,
    "DefinitionInvalid": 422,
    "DeadlineInvalid": 422,
    "RequestInvalid": 422,
    "DatabaseUnavailable": 503,
    "SchemaMissing": 503,
    "SchemaTooOld": 503,
    "SchemaTooNew": 503,
    "DatabaseFailed": 503,
}
TYPE_BASE = "urn:hall:error:"
MEDIA_TYPE = "application/problem+json"


def status_of(exc: BaseException) -> int:
    """The HTTP status of an error: its class's, else the nearest base class's, else 400."""
    for cls in type(exc).__mro__:
        if cls.__name__ in STATUS:
            return STATUS[cls.__name__]
    return 400


def problem(exc: BaseException, instance: str | None = None) -> tuple[int, dict[str, Any]]:
    """(status, body) of the problem document for a HallError (or a RequestInvalid)."""
    status = status_of(exc)
    name = PRESENTED_AS.get(type(exc).__name__, type(exc).__name__)
    body: dict[str, Any] = {
        "type": TYPE_BASE + name,
        "title": name,
        "status": status,
        "detail": str(exc),
        "error": name,
    }
    if instance:
        body["instance"] = instance
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict):
        body["errors"] = {str(k): str(v) for k, v in errors.items()}
    field = getattr(exc, "field", None)
    if isinstance(field, str) and "errors" not in body:
        body["errors"] = {field: str(getattr(exc, "what", exc))}
    return status, body


class RequestInvalid(Exception):
    """A request the API cannot take (a body that is no JSON object, a parameter of the wrong type):
    422 with the field named, before any engine method runs."""

    def __init__(self, field: str, what: str) -> None:
        self.field, self.what = field, what
        self.errors = {field: what}
        super().__init__(f"{field}: {what}")
