"""The OpenAPI 3.1 document of `hall serve`, built from the routes of server/app.py and the
`--json` shapes of the README; served at /openapi.json and checked in as docs/openapi.json (a test
fails when the two drift: `python -m hall.server.app > docs/openapi.json` writes it anew)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
OPT_STR = {"type": ["string", "null"]}
OPT_INT = {"type": ["integer", "null"]}
OBJ = {"type": "object"}


def _obj(required: list[str], /, **props: Any) -> dict:
    return {"type": "object", "required": required, "properties": props, "additionalProperties": True}


def _list(ref: str) -> dict:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{ref}"}}


BRIEF = _obj(
    ["id"],
    id=INT,
    process=STR,
    business_key=OPT_STR,
    status=STR,
    started_at=OPT_STR,
    ended_at=OPT_STR,
    customer={},
    confidential=BOOL,
    redacted=BOOL,
)
SCHEMAS: dict[str, Any] = {
    "Problem": _obj(
        ["type", "title", "status", "detail", "error"],
        type=STR,
        title=STR,
        status=INT,
        detail=STR,
        error={"type": "string", "description": "the HallError class name"},
        instance=STR,
        errors={"type": "object", "additionalProperties": STR, "description": "what is wrong, per field"},
    ),
    "Instance": _obj(
        ["id"],
        id=INT,
        process=STR,
        version=INT,
        business_key=OPT_STR,
        status=STR,
        variables=OBJ,
        tasks={"type": "array"},
        started_at=OPT_STR,
        ended_at=OPT_STR,
        incident={"type": ["object", "null"]},
        timers={"type": "array"},
        links={"type": "object"},
        confidential=BOOL,
        redacted=BOOL,
    ),
    "InstanceBrief": BRIEF,
    "Instances": _list("InstanceBrief"),
    "Found": _list("InstanceBrief"),
    "Task": _obj(
        ["id"],
        id=INT,
        instance=INT,
        process=STR,
        name=OPT_STR,
        title=OPT_STR,
        lane=OPT_STR,
        role=OPT_STR,
        assignee=OPT_STR,
        created_at=OPT_STR,
        due_at=OPT_STR,
        form=OPT_STR,
        due_provisional=BOOL,
        warn_at=OPT_STR,
        business_key=OPT_STR,
        customer={},
    ),
    "Tasks": _list("Task"),
    "TaskDetail": _obj(["id"], id=INT, instance=INT, status=STR, title=OPT_STR, assignee=OPT_STR, form=OPT_STR),
    "Instructions": _obj(["text"], text=STR),
    "Form": _obj(
        ["name", "fields"],
        name=STR,
        title=STR,
        fields={
            "type": "array",
            "items": _obj(
                ["name", "description"],
                name=STR,
                label=STR,
                type={"type": "string", "description": "text, multiline, int, decimal, money, date, …"},
                required=BOOL,
                default={},
                min={},
                max={},
                pattern=OPT_STR,
                choices={"type": "array", "items": STR},
                help=OPT_STR,
                required_when={
                    "type": "array",
                    "description": "required only when each [field, [values]] holds",
                    "items": {"type": "array"},
                },
                after=OPT_STR,
                choices_from=OPT_STR,
                description={"type": "string", "description": "the field's prompt line"},
                has_default=BOOL,
            ),
        },
    ),
    "Draft": _obj(["task", "data", "saved_at"], task=INT, user=OPT_STR, data=OBJ, saved_at=STR),
    "MaybeDraft": {"anyOf": [{"$ref": "#/components/schemas/Draft"}, {"type": "null"}]},
    "Discarded": _obj(["discarded"], discarded=BOOL),
    "FieldValue": _obj(["value"], value={}),
    "FieldCheck": _obj(["field"], field=STR, value={}),
    "HistoryEntry": _obj(
        ["id", "at", "kind"], id=INT, at=STR, actor=OPT_STR, kind=STR, element=OPT_STR, task=OPT_INT, detail={}
    ),
    "History": _list("HistoryEntry"),
    "Incident": _obj(["instance"], instance=INT, process=STR, business_key=OPT_STR, element=OPT_STR, error=OPT_STR),
    "Incidents": _list("Incident"),
    "Definition": _obj([], process_id=STR, version=INT),
    "Definitions": _list("Definition"),
    "User": _obj(
        ["id", "name", "roles"],
        id=STR,
        name=STR,
        organisation=OPT_STR,
        roles={"type": "array", "items": STR},
        serves={"type": "array", "items": STR},
        may={"type": "array", "items": STR},
    ),
    "Users": _list("User"),
    "Role": _obj(["role", "serves", "may"], role=STR, serves={"type": "array"}, may={"type": "array"}),
    "Roles": _list("Role"),
    "Token": _obj(["token", "user", "expires_at"], token=STR, user=STR, label=OPT_STR, expires_at=STR),
    "TokenInfo": _obj(
        ["id", "user", "state"],
        id=INT,
        user=STR,
        label=OPT_STR,
        created_at=OPT_STR,
        expires_at=OPT_STR,
        revoked_at=OPT_STR,
        state=STR,
    ),
    "Tokens": _list("TokenInfo"),
    "Removed": _obj(["id", "removed"], id=STR, removed=BOOL),
    "Revoked": _obj(["id", "revoked"], id=INT, revoked=BOOL),
    "PasswordSet": _obj(["id"], id=STR, password=STR),
    # request bodies
    "Login": _obj(["user", "password"], user=STR, password=STR, days=INT),
    "Start": _obj(["process"], process=STR, business_key=OPT_STR, data=OBJ),
    "Reason": _obj([], reason=OPT_STR),
    "Retry": _obj([], data=OBJ, latest=BOOL),
    "Message": _obj(["name"], name=STR, payload={}),
    "Complete": _obj([], data=OBJ),
    "Reassign": _obj(["to"], to=STR),
    "NewUser": _obj(
        ["id", "roles"],
        id=STR,
        name=OPT_STR,
        roles={"type": "array", "items": STR},
        organisation=OPT_STR,
        kind={"type": "string", "enum": ["person", "service"]},
    ),
    "UserChange": _obj([], name=OPT_STR, roles={"type": "array", "items": STR}, organisation=OPT_STR),
    "Password": _obj(["password"], password=STR),
    "RoleChange": _obj([], serves={"type": "array", "items": STR}, may={"type": "array", "items": STR}),
    "TokenRequest": _obj(["user"], user=STR, label=OPT_STR, days=INT),
}

PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
ERRORS = {
    "400": "the request cannot be done",
    "401": "no token, or a wrong, expired or revoked one (NotAuthenticated)",
    "403": "the user may not (PermissionDenied)",
    "404": "no such instance, task, process, user or form",
    "409": "the task or instance changed first: a lost race (TaskAlreadyCompleted, TaskClaimedByOther, …)",
    "422": "bad data, with the errors per field (FormInvalid, DataInvalid, …)",
    "503": "the database is unavailable",
}


def document(ops: Iterable[Any]) -> dict[str, Any]:
    """The OpenAPI document of routes (server/app.py's OPS)."""
    paths: dict[str, Any] = {
        "/health": {"get": _plain("Liveness: the process answers", "ops")},
        "/ready": {"get": _plain("Readiness: the database answers with the current schema", "ops", ready=True)},
    }
    for op in ops:
        params = [{"name": name, "in": "path", "required": True, "schema": STR} for name in _path_names(op.path)] + [
            {"name": q.split(":")[0], "in": "query", "required": False, "schema": INT if q.endswith(":int") else STR}
            for q in op.query
        ]
        responses: dict[str, Any] = {}
        if op.response is None:
            responses[str(op.status)] = {"description": "done"}
        else:
            ok: dict[str, Any] = {
                "description": op.summary,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.response}"}}},
            }
            if op.paged:
                ok["headers"] = {
                    "X-Total-Count": {"schema": STR, "description": "how many there are, when counted"},
                    "Link": {"schema": STR, "description": 'the next page, rel="next", when cut'},
                }
            responses[str(op.status)] = ok
        for code in ERRORS:
            if code == "401" and not op.auth and op.path != "/v1/login":
                continue
            responses[code] = {"$ref": f"#/components/responses/Problem{code}"}
        entry: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.handler.__name__.strip("_"),
            "tags": [op.tag],
            "parameters": params,
            "responses": responses,
        }
        if op.body is not None:
            entry["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{op.body}"}}},
            }
        if not op.auth:
            entry["security"] = []
        paths.setdefault(op.path, {})[op.method.lower()] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "hall",
            "version": "1",
            "description": "The hall workflow engine as a service (`hall serve`). Bodies are the `--json` shapes "
            "of the README; errors are RFC 9457 problem documents naming the HallError class.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "responses": {f"Problem{code}": {"description": what, "content": PROBLEM} for code, what in ERRORS.items()},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _plain(summary: str, tag: str, ready: bool = False) -> dict:
    out: dict[str, Any] = {
        "summary": summary,
        "operationId": "ready" if ready else "health",
        "tags": [tag],
        "security": [],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": OBJ}}}},
    }
    if ready:
        out["responses"]["503"] = {"description": "not ready", "content": PROBLEM}
    return out


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def text(ops: Iterable[Any]) -> str:
    """The document as checked in: sorted keys, two-space indent, a final newline."""
    return json.dumps(document(ops), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
