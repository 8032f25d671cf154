"""The HTTP API of `hall serve`: one route per Engine method the command line calls.

Every route but health, readiness, the OpenAPI document and login needs `Authorization: Bearer
TOKEN`; the engine method then runs as the token's user, so permissions and the redaction of
confidential cases (R-C10) are the engine's own, enforced here on the server. Bodies are the
`--json` shapes of the README; lists are paginated (`limit`, `offset`; `X-Total-Count` and a
`Link: rel="next"` header); errors are problem documents (server/problems.py).

Engine calls are blocking: each runs in Starlette's thread pool, on an Engine of its thread's own
(an Engine serves one thread).
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..engine import Engine
from ..engine.clock import Clock, FixedClock
from ..engine.errors import HallError, NotAuthenticated, RehearsalOnly
from . import rehearsal
from .openapi import document, text
from .peer import PEER_HOST, login_of
from .problems import MEDIA_TYPE, RequestInvalid, problem

NOW_HEADER = "X-Hall-Now"


class Hall:
    """The engines of a server: one per worker thread on the same database and configuration."""

    def __init__(
        self,
        url: str,
        settings: Mapping[str, Any],
        forms_dir: str | Path | None,
        clock: Clock | None = None,
        peer_auth: bool = False,
        threads: int | None = None,
    ) -> None:
        self.url, self.settings, self.forms_dir = url, dict(settings), forms_dir
        self.peer_auth = peer_auth  # the Unix-socket listener: the kernel's peer credentials identify
        self.clock = clock  # None: the system clock (a FixedClock in tests and rehearsals)
        self._local = threading.local()
        self._all: list[Engine] = []
        self._lock = threading.Lock()
        # SQLite has one writer: its calls run one after another on the event loop's own thread, with
        # one warm engine (a hop to a worker thread cost a third of the throughput); PostgreSQL's run
        # on a few worker threads, each with its own warm engine, so that they overlap
        self.threads = threads if threads is not None else (0 if url.startswith("sqlite") or "://" not in url else 4)
        self._pool: ThreadPoolExecutor | None = None

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking engine call: on the loop's thread (threads=0), else on the server's own
        worker threads, few and each with a warm engine (a pool as wide as Starlette's would open an
        engine, cold, for every new thread)."""
        if self.threads == 0:
            return fn(*args)
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="hall-engine")
        return await asyncio.get_running_loop().run_in_executor(self._pool, partial(fn, *args))

    def open(self, clock: Clock | None = None) -> Engine:
        """A new engine; the server's engines require a named user for every case command."""
        eng = Engine(self.url, clock=clock or self.clock, forms_dir=self.forms_dir, settings=self.settings)
        eng.require_user = True
        return eng

    def engine(self) -> Engine:
        """This thread's engine (opened on first use, closed at shutdown)."""
        eng = getattr(self._local, "engine", None)
        if eng is None:
            eng = self._local.engine = self.open()
            with self._lock:
                self._all.append(eng)
        return eng

    def close(self) -> None:
        """Close every thread's engine (at shutdown)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        with self._lock:
            for eng in self._all:
                eng.close()
            self._all.clear()


@dataclass
class Call:
    """What a route's handler gets: the engine, the acting user, path and query values, the body."""

    engine: Engine
    user: str | None
    path: dict[str, str]
    query: Mapping[str, str]
    body: dict[str, Any]
    token: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def text(self, name: str) -> str | None:
        """A query parameter as text, or None."""
        return self.query.get(name) or None

    def number(self, name: str, default: int, least: int = 1) -> int:
        """A whole-number query parameter (RequestInvalid naming it otherwise)."""
        raw = self.query.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise RequestInvalid(name, f"must be a whole number, not {raw!r}") from None
        if value < least or value > 2**31 - 1:
            raise RequestInvalid(name, f"must be between {least} and {2**31 - 1}, not {value}")
        return value

    def data(self, name: str = "data") -> dict:
        """A body member that must be a JSON object (default {})."""
        value = self.body.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise RequestInvalid(name, "must be a JSON object")
        return value

    def string(self, name: str, required: bool = True) -> str | None:
        """A body member that must be text."""
        value = self.body.get(name)
        if value is None:
            if required:
                raise RequestInvalid(name, "is required")
            return None
        if not isinstance(value, str):
            raise RequestInvalid(name, "must be a string")
        return value

    def strings(self, name: str) -> list[str]:
        """A body member that must be a list of text (default [])."""
        value = self.body.get(name) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise RequestInvalid(name, "must be a list of strings")
        return value


@dataclass(frozen=True)
class Op:
    """One route: its method and path, handler, and what the OpenAPI document says of it."""

    method: str
    path: str
    handler: Callable[[Call], Any]
    summary: str
    tag: str
    response: str | None = None  # the component schema of the 2xx body (None: 204)
    query: tuple[str, ...] = ()  # query parameters, each "name:type" (type int or str)
    body: str | None = None  # the component schema of the request body
    auth: bool = True
    status: int = 200
    paged: bool = False


def paged(call: Call, fetch: Callable[[int], Any], default: int) -> tuple[list, dict[str, str]]:
    """One page of a list the engine returns newest/most urgent first: `limit` and `offset`."""
    limit, offset = call.number("limit", default), call.number("offset", 0, least=0)
    rows = fetch(min(offset + limit, 2**31 - 1))
    page = list(rows)[offset : offset + limit]
    headers: dict[str, str] = {}
    total = getattr(rows, "total", None)
    if getattr(rows, "truncated", False):
        headers["X-Hall-Truncated"] = "true"
        if total is not None:
            headers["X-Total-Count"] = str(total)
        headers["Link"] = f'<?limit={limit}&offset={offset + limit}>; rel="next"'
    else:
        headers["X-Total-Count"] = str(len(rows))
    return page, headers


def whole(call: Call, rows: list) -> tuple[list, dict[str, str]]:
    """One page of a list the engine returns whole (a history, the incidents, the users): all of it
    unless `limit` is given."""
    limit, offset = call.number("limit", 2**31 - 1), call.number("offset", 0, least=0)
    page = rows[offset : offset + limit]
    headers = {"X-Total-Count": str(len(rows))}
    if offset + limit < len(rows):
        headers["X-Hall-Truncated"] = "true"
        headers["Link"] = f'<?limit={limit}&offset={offset + limit}>; rel="next"'
    return page, headers


# -- handlers: one line each onto the Engine ----------------------------------------------------------
def _definitions(c: Call) -> Any:
    return whole(c, c.engine.definitions())


def _start(c: Call) -> Any:
    return c.engine.start(c.string("process") or "", c.string("business_key", False), c.data(), user=c.user)


def _instances(c: Call) -> Any:
    return paged(
        c,
        lambda n: c.engine.instances(c.text("process"), c.text("status"), c.text("key"), user=c.user, limit=n),
        200,
    )


def _show(c: Call) -> Any:
    return c.engine.show(c.path["id"], user=c.user)  # type: ignore[arg-type]


def _find(c: Call) -> Any:
    text = c.text("text")
    if not text:
        raise RequestInvalid("text", "is required")
    return paged(c, lambda n: c.engine.find(text, user=c.user, limit=n), 50)


def _suspend(c: Call) -> Any:
    return c.engine.suspend(c.path["id"], c.string("reason", False), user=c.user)  # type: ignore[arg-type]


def _resume(c: Call) -> Any:
    return c.engine.resume(c.path["id"], user=c.user)  # type: ignore[arg-type]


def _cancel(c: Call) -> Any:
    return c.engine.cancel(c.path["id"], c.string("reason") or "", user=c.user)  # type: ignore[arg-type]


def _retry(c: Call) -> Any:
    latest = c.body.get("latest", False)
    if not isinstance(latest, bool):
        raise RequestInvalid("latest", "must be true or false")
    return c.engine.retry(c.path["id"], c.data(), user=c.user, latest=latest)  # type: ignore[arg-type]


def _message(c: Call) -> Any:
    payload = c.body.get("payload")
    return c.engine.send_message(c.path["id"], c.string("name") or "", payload, user=c.user)  # type: ignore[arg-type]


def _history(c: Call) -> Any:
    return whole(c, c.engine.history(c.path["id"], user=c.user))  # type: ignore[arg-type]


def _hall_history(c: Call) -> Any:
    return whole(c, c.engine.history(None, user=c.user))


def _incidents(c: Call) -> Any:
    return whole(c, c.engine.incidents(user=c.user))


def _tasks(c: Call) -> Any:
    return paged(
        c,
        lambda n: c.engine.tasks(
            role=c.text("role"),
            assignee=c.text("assignee"),
            process=c.text("process"),
            instance=c.text("instance"),  # type: ignore[arg-type]
            user=c.user,
            limit=n,
        ),
        500,
    )


def _task(c: Call) -> Any:
    return c.engine.task(c.path["id"], user=c.user)  # type: ignore[arg-type]


def _instructions(c: Call) -> Any:
    return {"text": c.engine.render_task(c.path["id"], user=c.user)}  # type: ignore[arg-type]


def _form(c: Call) -> Any:
    """The form's fields in full (engine.forms.describe_form): a client builds the same Form from it
    and asks the same questions as `hall complete` on the database."""
    from ..engine.errors import FormNotFound
    from ..engine.forms import describe_form

    form = c.engine.form(c.path["name"])
    if form is None:
        raise FormNotFound(c.path["name"], "the forms folder of the server")
    return describe_form(form)


def _check_field(c: Call) -> Any:
    """One value typed at a prompt, as the form's field stores it (`hall complete` at a terminal
    asks again on a bad value, with the field's own message, as in direct mode)."""
    from ..engine.errors import FormNotFound

    form = c.engine.form(c.path["name"])
    if form is None:
        raise FormNotFound(c.path["name"], "the forms folder of the server")
    name = c.string("field") or ""
    field = next((f for f in form.fields if f.name == name), None)
    if field is None:
        raise RequestInvalid("field", f"form {c.path['name']} has no field {name!r}")
    try:
        value = field.coerce(c.body.get("value"))
    except ValueError as exc:
        raise RequestInvalid(name, str(exc)) from None
    return {"value": value}


def _draft(c: Call) -> Any:
    return c.engine.draft(c.path["id"], user=c.user)  # type: ignore[arg-type]


def _draft_save(c: Call) -> Any:
    return c.engine.save_draft(c.path["id"], c.data(), user=c.user)  # type: ignore[arg-type]


def _draft_discard(c: Call) -> Any:
    return {"discarded": c.engine.discard_draft(c.path["id"], user=c.user)}  # type: ignore[arg-type]


def _claim(c: Call) -> Any:
    return c.engine.claim(c.path["id"], c.user)  # type: ignore[arg-type]


def _unclaim(c: Call) -> Any:
    return c.engine.unclaim(c.path["id"], c.user)  # type: ignore[arg-type]


def _complete(c: Call) -> Any:
    return c.engine.complete(c.path["id"], c.data(), user=c.user)  # type: ignore[arg-type]


def _reassign(c: Call) -> Any:
    return c.engine.reassign(c.path["id"], c.string("to") or "", user=c.user)  # type: ignore[arg-type]


def _me(c: Call) -> Any:
    people = c.engine.people
    u = people.user(c.user or "")
    return {
        "id": u.id,
        "name": u.name,
        "organisation": u.organisation,
        "roles": list(u.roles),
        "serves": sorted(people.groups(u)),
        "may": sorted({p for r in u.roles for p in people.role(r).may}),
    }


def _login(c: Call) -> Any:
    days = c.body.get("days", 30)
    if isinstance(days, bool) or not isinstance(days, int):
        raise RequestInvalid("days", "must be a whole number")
    return c.engine.directory.login(c.string("user") or "", c.string("password") or "", days)


def _logout(c: Call) -> Any:
    c.engine.directory.logout(c.token or "")


def _users(c: Call) -> Any:
    return whole(c, c.engine.directory.users())


def _user_add(c: Call) -> Any:
    d = c.engine.directory
    return d.add_user(
        c.string("id") or "",
        c.string("name", False),
        c.strings("roles"),
        c.string("organisation", False),
        c.string("kind", False) or "person",
        user=c.user,
    )


def _user_set(c: Call) -> Any:
    return c.engine.directory.set_user(
        c.path["id"], c.string("name", False), c.strings("roles") or None, c.string("organisation", False), user=c.user
    )


def _user_remove(c: Call) -> Any:
    return c.engine.directory.remove_user(c.path["id"], user=c.user)


def _password(c: Call) -> Any:
    return c.engine.directory.set_password(c.path["id"], c.string("password") or "", user=c.user)


def _roles(c: Call) -> Any:
    return whole(c, c.engine.directory.roles())


def _role_put(c: Call) -> Any:
    return c.engine.directory.put_role(c.path["name"], c.strings("serves"), c.strings("may"), user=c.user)


def _tokens(c: Call) -> Any:
    return whole(c, c.engine.directory.tokens(user=c.user))


def _token_issue(c: Call) -> Any:
    days = c.body.get("days", 30)
    if isinstance(days, bool) or not isinstance(days, int):
        raise RequestInvalid("days", "must be a whole number")
    return c.engine.directory.issue_token(c.string("user") or "", c.string("label", False), days, user=c.user)


def _token_revoke(c: Call) -> Any:
    try:
        token_id = int(c.path["id"])
    except ValueError:
        raise RequestInvalid("id", "must be a whole number") from None
    return c.engine.directory.revoke_token(token_id, user=c.user)


Q_LIST = ("limit:int", "offset:int")
OPS = (
    Op("POST", "/v1/login", _login, "Log in with a password: a token", "auth", "Token", body="Login", auth=False),
    Op("POST", "/v1/logout", _logout, "Revoke the token presented", "auth", None, status=204),
    Op("GET", "/v1/me", _me, "The user the token belongs to", "auth", "User"),
    Op("GET", "/v1/definitions", _definitions, "Deployed versions", "definitions", "Definitions", Q_LIST, paged=True),
    Op(
        "POST",
        "/v1/instances",
        _start,
        "Start the latest version of a process",
        "instances",
        "Instance",
        body="Start",
        status=201,
    ),
    Op(
        "GET",
        "/v1/instances",
        _instances,
        "Instances, newest first",
        "instances",
        "Instances",
        ("process:str", "status:str", "key:str", *Q_LIST),
        paged=True,
    ),
    Op("GET", "/v1/instances/{id}", _show, "One instance", "instances", "Instance"),
    Op("POST", "/v1/instances/{id}/suspend", _suspend, "Suspend an instance", "instances", "Instance", body="Reason"),
    Op("POST", "/v1/instances/{id}/resume", _resume, "Resume an instance", "instances", "Instance"),
    Op("POST", "/v1/instances/{id}/cancel", _cancel, "Cancel an instance", "instances", "Instance", body="Reason"),
    Op(
        "POST",
        "/v1/instances/{id}/retry",
        _retry,
        "Run an instance in incident again",
        "instances",
        "Instance",
        body="Retry",
    ),
    Op(
        "POST",
        "/v1/instances/{id}/messages",
        _message,
        "Deliver a message to an instance",
        "instances",
        "Instance",
        body="Message",
    ),
    Op(
        "GET",
        "/v1/instances/{id}/history",
        _history,
        "An instance's history",
        "instances",
        "History",
        Q_LIST,
        paged=True,
    ),
    Op(
        "GET",
        "/v1/history",
        _hall_history,
        "The hall's own history (needs see_all)",
        "instances",
        "History",
        Q_LIST,
        paged=True,
    ),
    Op(
        "GET",
        "/v1/find",
        _find,
        "Cases by number, customer or phone",
        "instances",
        "Found",
        ("text:str", *Q_LIST),
        paged=True,
    ),
    Op(
        "GET",
        "/v1/incidents",
        _incidents,
        "Instances stopped by an incident",
        "instances",
        "Incidents",
        Q_LIST,
        paged=True,
    ),
    Op(
        "GET",
        "/v1/tasks",
        _tasks,
        "The work queue, most urgent first",
        "tasks",
        "Tasks",
        ("role:str", "assignee:str", "process:str", "instance:str", *Q_LIST),
        paged=True,
    ),
    Op("GET", "/v1/tasks/{id}", _task, "One task", "tasks", "TaskDetail"),
    Op(
        "GET",
        "/v1/tasks/{id}/instructions",
        _instructions,
        "A task's instructions as staff read them",
        "tasks",
        "Instructions",
    ),
    Op("POST", "/v1/tasks/{id}/claim", _claim, "Take a task", "tasks", "TaskDetail"),
    Op("POST", "/v1/tasks/{id}/unclaim", _unclaim, "Give a task back to its queue", "tasks", "TaskDetail"),
    Op(
        "POST",
        "/v1/tasks/{id}/complete",
        _complete,
        "Complete a task with form data",
        "tasks",
        "Instance",
        body="Complete",
    ),
    Op(
        "POST",
        "/v1/tasks/{id}/reassign",
        _reassign,
        "Give a task to another user",
        "tasks",
        "TaskDetail",
        body="Reassign",
    ),
    Op("GET", "/v1/tasks/{id}/draft", _draft, "The caller's draft of a task's form, or null", "tasks", "MaybeDraft"),
    Op(
        "PUT",
        "/v1/tasks/{id}/draft",
        _draft_save,
        "Keep what the caller typed into a ready task's form",
        "tasks",
        "Draft",
        body="Complete",
    ),
    Op("DELETE", "/v1/tasks/{id}/draft", _draft_discard, "Drop the caller's draft of a task", "tasks", "Discarded"),
    Op("GET", "/v1/forms/{name}", _form, "A form's fields, in full", "tasks", "Form"),
    Op(
        "POST",
        "/v1/forms/{name}/check",
        _check_field,
        "One field's value as stored, or why not",
        "tasks",
        "FieldValue",
        body="FieldCheck",
    ),
    Op("GET", "/v1/users", _users, "Users and their roles", "people", "Users", Q_LIST, paged=True),
    Op("POST", "/v1/users", _user_add, "Add a user (admin)", "people", "User", body="NewUser", status=201),
    Op("PATCH", "/v1/users/{id}", _user_set, "Change a user (admin)", "people", "User", body="UserChange"),
    Op("DELETE", "/v1/users/{id}", _user_remove, "Remove a user and revoke their tokens (admin)", "people", "Removed"),
    Op(
        "PUT",
        "/v1/users/{id}/password",
        _password,
        "Set a password (admin, or the user)",
        "people",
        "PasswordSet",
        body="Password",
    ),
    Op("GET", "/v1/roles", _roles, "Roles", "people", "Roles", Q_LIST, paged=True),
    Op("PUT", "/v1/roles/{name}", _role_put, "Add or change a role (admin)", "people", "Role", body="RoleChange"),
    Op("GET", "/v1/tokens", _tokens, "Tokens, without their secrets (admin)", "people", "Tokens", Q_LIST, paged=True),
    Op(
        "POST",
        "/v1/tokens",
        _token_issue,
        "Issue a token, e.g. a service account's (admin)",
        "people",
        "Token",
        body="TokenRequest",
        status=201,
    ),
    Op("DELETE", "/v1/tokens/{id}", _token_revoke, "Revoke a token (admin)", "people", "Revoked"),
)


def problem_response(exc: BaseException, path: str) -> JSONResponse:
    """The problem document of an error, with its status."""
    status, body = problem(exc, path)
    headers = {"WWW-Authenticate": 'Bearer realm="hall"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def internal_error(exc: BaseException, path: str) -> JSONResponse:
    """A fault of the server itself: logged in full on its stderr, the client told nothing more."""
    traceback.print_exception(exc, file=sys.stderr)
    body = {
        "type": "urn:hall:error:InternalError",
        "title": "InternalError",
        "status": 500,
        "detail": "the server failed; its log has the details",
        "error": "InternalError",
        "instance": path,
    }
    return JSONResponse(body, status_code=500, media_type=MEDIA_TYPE)


def bearer(request: Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, else None."""
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def endpoint(hall: Hall, op: Op) -> Callable[[Request], Any]:
    """The Starlette endpoint of an Op: body parsed, token checked, the handler run in a thread."""

    async def run(request: Request) -> Response:
        path = request.url.path
        try:
            body: dict[str, Any] = {}
            if op.body is not None:
                raw = await request.body()
                if raw.strip():
                    try:
                        body = json.loads(raw)
                    except (ValueError, UnicodeDecodeError) as exc:
                        raise RequestInvalid("body", f"is not JSON: {exc}") from None
                    if not isinstance(body, dict):
                        raise RequestInvalid("body", "must be a JSON object")
            token = bearer(request)
            now = request.headers.get(NOW_HEADER)
            peer = request.scope.get("client")
            os_login = None
            if hall.peer_auth and token is None and peer and peer[0] == PEER_HOST:
                os_login = login_of(peer[1]) or f"uid {peer[1]}"
            result = await hall.run(work, op, request, body, token, now, os_login)
        except (HallError, RequestInvalid) as exc:
            return problem_response(exc, path)
        except Exception as exc:  # noqa: BLE001 - any other fault is the server's: a 500, logged
            return internal_error(exc, path)
        if op.status == 204:
            return Response(status_code=204)
        headers: dict[str, str] = {}
        if op.paged:
            result, headers = result
        return JSONResponse(result, status_code=op.status, headers=headers)

    def work(op: Op, request: Request, body: dict, token: str | None, now: str | None, os_login: str | None) -> Any:
        eng = hall.engine()
        # one read transaction: the users and roles again if another thread or process changed them,
        # and the token's user (or, over the Unix socket without a token, the caller's OS login)
        user = eng.directory.check(token, required=op.auth and os_login is None)
        if op.auth and os_login is not None:
            if os_login not in eng.people.users:
                raise NotAuthenticated(f"the OS login {os_login} is no hall user (`hall user add {os_login}`)")
            user = os_login
        temporary = None
        if now is not None:  # a simulated time: only on a rehearsal database (issue 16, item 5)
            if not rehearsal.allows_simulated_time(eng):
                raise RehearsalOnly(hall.url)
            temporary = eng = hall.open(FixedClock(_parse_now(now)))
        try:
            call = Call(eng, user, dict(request.path_params), request.query_params, body, token)
            return op.handler(call)
        finally:
            if temporary is not None:
                temporary.close()

    return run


def _parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise RequestInvalid(NOW_HEADER, f"{text!r} is not an ISO date-time with an offset") from None
    if value.tzinfo is None:
        raise RequestInvalid(NOW_HEADER, f"{text!r} has no UTC offset")
    return value


def make_app(hall: Hall) -> Starlette:
    """The application: the API's routes, health and readiness, and the OpenAPI document."""

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        def check() -> dict:
            eng = hall.engine()
            eng.definitions()  # opens the database and checks its schema
            return {"status": "ready"}  # not the database's URL: it may hold a password

        try:
            return JSONResponse(await hall.run(check))
        except HallError as exc:
            _, body = problem(exc, request.url.path)
            body["status"] = 503
            return JSONResponse(body, status_code=503, media_type=MEDIA_TYPE)

    spec = document(OPS)

    async def openapi(request: Request) -> Response:
        return JSONResponse(spec)

    async def missing(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        name = "NotFound" if status == 404 else "MethodNotAllowed" if status == 405 else "BadRequest"
        body = {
            "type": f"urn:hall:error:{name}",
            "title": name,
            "status": status,
            "detail": f"{request.method} {request.url.path}: no such route (see /openapi.json)"
            if status in (404, 405)
            else str(getattr(exc, "detail", "bad request")),
            "error": name,
        }
        return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE)

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/openapi.json", openapi, methods=["GET"]),
    ]
    by_path: dict[str, list[Op]] = {}
    for op in OPS:
        by_path.setdefault(op.path, []).append(op)
    for path, ops in by_path.items():
        routes.append(
            Route(path, dispatcher({o.method: endpoint(hall, o) for o in ops}), methods=[o.method for o in ops])
        )

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        yield
        hall.close()

    from starlette.exceptions import HTTPException

    return Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: missing})


def dispatcher(by_method: dict[str, Callable[[Request], Any]]) -> Callable[[Request], Any]:
    """One endpoint for a path serving several methods."""

    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await by_method[method](request)

    return dispatch


def openapi_text() -> str:
    """The OpenAPI document as checked in at docs/openapi.json."""
    return text(OPS)


if __name__ == "__main__":
    print(openapi_text(), end="")
