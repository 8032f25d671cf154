"""The `hall` command's client of `hall serve` (issue 16): the Engine methods the CLI calls, over HTTP.

`Client` has the same method names, arguments and return shapes as `hall.engine.Engine` for what
the command line uses, so the commands do not care which they hold (`hall.cli` picks one). It
imports neither SQLAlchemy nor SpiffWorkflow: the standard library, and of hall.engine only the
plain-Python forms module (when a form is asked for), so a staff command in client mode starts fast. Errors arrive as problem documents and
are raised as `RemoteError`, carrying the server's HallError class name and one-line message.

The token of `hall login` is kept per server in `$XDG_CONFIG_HOME/hall/tokens.json` (default
`~/.config/hall/`), readable by its owner only (mode 0600); `HALL_TOKEN` overrides it.
"""

from __future__ import annotations

import http.client
import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit


class RemoteError(Exception):
    """An error the server answered with (a HallError there), or reaching it failed."""

    exit_code = 1

    def __init__(self, message: str, kind: str = "ServerUnreachable", status: int = 0, errors: Any = None) -> None:
        super().__init__(message)
        self.message, self.kind, self.status, self.errors = message, kind, status, errors or {}

    def __str__(self) -> str:
        return self.message


class Page(list):
    """A list cut at a limit, as the Engine's: `truncated` and `total` (None: not counted)."""

    total: int | None = None
    truncated = False


class RemoteClock:
    """The client's clock: the time the human output measures deadlines from."""

    def __init__(self, now: datetime | None = None) -> None:
        self.fixed = now

    def now(self) -> datetime:
        return self.fixed or datetime.now(UTC)


def config_dir() -> Path:
    """`$XDG_CONFIG_HOME/hall`, default `~/.config/hall`."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "hall"


def tokens_file() -> Path:
    return config_dir() / "tokens.json"


def saved_logins() -> dict[str, dict]:
    """{server url: {token, user, expires_at}} of this OS user's logins."""
    try:
        data = json.loads(tokens_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_login(url: str, login: Mapping[str, Any] | None) -> Path:
    """Keep (or with None forget) the login for a server; the file is written mode 0600."""
    logins = saved_logins()
    if login is None:
        logins.pop(url, None)
    else:
        logins[url] = {k: login[k] for k in ("token", "user", "expires_at")}
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = tokens_file()
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(logins, f, ensure_ascii=False, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def normal_url(url: str) -> str:
    """A server URL without a trailing slash (the key of its saved login)."""
    return url.rstrip("/")


class UnixConnection(http.client.HTTPConnection):
    """HTTP over the Unix socket of `hall serve --socket` (the server knows the caller's OS login)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        import socket

        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self.socket_path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Client:
    """The Engine's methods the CLI calls, over HTTP against `hall serve` at `url`."""

    def __init__(self, url: str, token: str | None = None, now: str | None = None, timeout: float = 60.0) -> None:
        self.url = normal_url(url)
        self.socket = self.url[len("unix:") :] if self.url.startswith("unix:") else None
        parts = urlsplit("http://localhost" if self.socket else self.url)
        if self.socket is not None and not self.socket:
            raise RemoteError(f"--url {url!r} names no socket: unix:/path/to/hall.sock", "RequestInvalid")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteError(
                f"--url {url!r} is not an http:// or https:// address, nor unix:/path of a socket", "RequestInvalid"
            )
        self._parts = parts
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self.now_text = now
        saved = saved_logins().get(self.url) or {}
        self.token = token or os.environ.get("HALL_TOKEN") or saved.get("token")
        self.login_user: str | None = None if token or os.environ.get("HALL_TOKEN") else saved.get("user")
        self.clock = RemoteClock(datetime.fromisoformat(now) if now else None)
        self.directory = RemoteDirectory(self)

    # -- the wire --------------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None and self.socket is not None:
            self._conn = UnixConnection(self.socket, self._timeout)
        if self._conn is None:
            port = self._parts.port
            if self._parts.scheme == "https":
                self._conn = http.client.HTTPSConnection(self._parts.hostname or "", port, timeout=self._timeout)
            else:
                self._conn = http.client.HTTPConnection(self._parts.hostname or "", port, timeout=self._timeout)
        return self._conn

    def request(
        self, method: str, path: str, body: Any = None, query: Mapping[str, Any] | None = None, auth: bool = True
    ) -> tuple[Any, Mapping[str, str]]:
        """(decoded JSON body or None, headers) of a 2xx answer; RemoteError for anything else."""
        prefix = self._parts.path.rstrip("/")
        target = prefix + path
        if query:
            kept = {k: v for k, v in query.items() if v is not None}
            if kept:
                target += "?" + urlencode(kept)
        headers = {"Accept": "application/json"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.now_text:
            headers["X-Hall-Now"] = self.now_text
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):  # a kept-alive connection the server closed meanwhile is opened again
            conn = self._connection()
            try:
                conn.request(method, target, body=payload, headers=headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                self.close()
                if attempt == 2:
                    raise RemoteError(f"cannot reach hall server {self.url}: {exc}") from None
            except OSError as exc:
                self.close()
                raise RemoteError(f"cannot reach hall server {self.url}: {exc.strerror or exc}") from None
        data = json.loads(raw) if raw else None
        if response.status >= 400:
            if isinstance(data, dict) and "detail" in data:
                raise RemoteError(str(data["detail"]), str(data.get("error")), response.status, data.get("errors"))
            raise RemoteError(f"hall server {self.url} answered {response.status} {response.reason}", "ServerError")
        return data, dict(response.getheaders())

    def call(self, method: str, path: str, body: Any = None, **query: Any) -> Any:
        return self.request(method, path, body, query)[0]

    def page(self, path: str, limit: int, **query: Any) -> Page:
        """A list the server paginates, as the Engine's cut list."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise RemoteError(f"limit must be a whole number of at least 1, not {limit!r}", "HallError")
        data, headers = self.request("GET", path, None, dict(query, limit=min(limit, 2**31 - 1)))
        out = Page(data or [])
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("x-hall-truncated") == "true":
            out.truncated = True
            total = lower.get("x-total-count")
            out.total = int(total) if total else None
        return out

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # -- the Engine's methods --------------------------------------------------------------------
    def definitions(self) -> list[dict]:
        return self.call("GET", "/v1/definitions")

    def start(
        self,
        process: str,
        business_key: str | None = None,
        data: Mapping[str, Any] | None = None,
        user: str | None = None,
    ) -> dict:
        return self.call(
            "POST", "/v1/instances", {"process": process, "business_key": business_key, "data": dict(data or {})}
        )

    def show(self, instance_id: Any, user: str | None = None) -> dict:
        return self.call("GET", f"/v1/instances/{_seg(instance_id)}")

    def instances(
        self,
        process: str | None = None,
        status: str | None = None,
        business_key: str | None = None,
        user: str | None = None,
        limit: int = 200,
    ) -> Page:
        return self.page("/v1/instances", limit, process=process, status=status, key=business_key)

    def find(self, text: str, user: str | None = None, limit: int = 50) -> Page:
        return self.page("/v1/find", limit, text=text)

    def suspend(self, instance_id: Any, reason: str | None = None, user: str | None = None) -> dict:
        return self.call("POST", f"/v1/instances/{_seg(instance_id)}/suspend", {"reason": reason})

    def resume(self, instance_id: Any, user: str | None = None) -> dict:
        return self.call("POST", f"/v1/instances/{_seg(instance_id)}/resume", {})

    def cancel(self, instance_id: Any, reason: str, user: str | None = None) -> dict:
        return self.call("POST", f"/v1/instances/{_seg(instance_id)}/cancel", {"reason": reason})

    def retry(
        self, instance_id: Any, data: Mapping[str, Any] | None = None, user: str | None = None, latest: bool = False
    ) -> dict:
        return self.call(
            "POST", f"/v1/instances/{_seg(instance_id)}/retry", {"data": dict(data or {}), "latest": latest}
        )

    def send_message(self, instance_id: Any, name: str, payload: Any = None, user: str | None = None) -> dict:
        return self.call("POST", f"/v1/instances/{_seg(instance_id)}/messages", {"name": name, "payload": payload})

    def history(self, instance_id: Any, user: str | None = None) -> list[dict]:
        if instance_id is None:
            return self.call("GET", "/v1/history")
        return self.call("GET", f"/v1/instances/{_seg(instance_id)}/history")

    def incidents(self, user: str | None = None) -> list[dict]:
        return self.call("GET", "/v1/incidents")

    def tasks(
        self,
        role: str | None = None,
        assignee: str | None = None,
        process: str | None = None,
        instance: Any = None,
        user: str | None = None,
        limit: int = 500,
    ) -> Page:
        return self.page("/v1/tasks", limit, role=role, assignee=assignee, process=process, instance=instance)

    def task(self, task_id: Any, user: str | None = None) -> dict:
        return self.call("GET", f"/v1/tasks/{_seg(task_id)}")

    def render_task(self, task_id: Any, user: str | None = None) -> str:
        return self.call("GET", f"/v1/tasks/{_seg(task_id)}/instructions")["text"]

    def form(self, name: str | None) -> Any:
        """The task form of that name as the server reads it (an engine.forms Form, built from the
        fields' full definitions: the prompt coerces and checks answers as on the database), or None."""
        if not name:
            return None
        try:
            spec = self.call("GET", f"/v1/forms/{_seg(name)}")
        except RemoteError as exc:
            if exc.kind == "FormNotFound":
                return None
            raise
        from .engine.forms import form_from_description  # plain Python: no SQLAlchemy, no SpiffWorkflow

        try:
            return form_from_description(spec)
        except ValueError as exc:
            raise RemoteError(f"hall server {self.url} sent form {name!r} in a shape not understood: {exc}") from None

    def save_draft(self, task_id: Any, data: Mapping[str, Any], user: str | None = None) -> dict:
        return self.call("PUT", f"/v1/tasks/{_seg(task_id)}/draft", {"data": dict(data)})

    def draft(self, task_id: Any, user: str | None = None) -> dict | None:
        return self.call("GET", f"/v1/tasks/{_seg(task_id)}/draft")

    def discard_draft(self, task_id: Any, user: str | None = None) -> bool:
        return bool(self.call("DELETE", f"/v1/tasks/{_seg(task_id)}/draft")["discarded"])

    def claim(self, task_id: Any, user: str | None = None) -> dict:
        return self.call("POST", f"/v1/tasks/{_seg(task_id)}/claim", {})

    def unclaim(self, task_id: Any, user: str | None = None) -> dict:
        return self.call("POST", f"/v1/tasks/{_seg(task_id)}/unclaim", {})

    def complete(self, task_id: Any, data: Mapping[str, Any] | None = None, user: str | None = None) -> dict:
        return self.call("POST", f"/v1/tasks/{_seg(task_id)}/complete", {"data": dict(data or {})})

    def reassign(self, task_id: Any, to_user: str, user: str | None = None) -> dict:
        return self.call("POST", f"/v1/tasks/{_seg(task_id)}/reassign", {"to": to_user})

    def me(self) -> dict:
        return self.call("GET", "/v1/me")

    def __getattr__(self, name: str) -> Any:
        # an Engine attribute the client has not: a command that runs beside the database only
        if name.startswith("__"):
            raise AttributeError(name)
        raise RemoteError(
            f"this command runs beside the database, not over --url / HALL_URL ({self.url}): "
            "run it on the server's machine without HALL_URL",
            "NotOverServer",
        )


class RemoteDirectory:
    """`Engine.directory`'s methods over HTTP: users, roles, tokens."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def users(self, user: str | None = None) -> list[dict]:
        return self.client.call("GET", "/v1/users")

    def roles(self) -> list[dict]:
        return self.client.call("GET", "/v1/roles")

    def add_user(
        self,
        user_id: str,
        name: str | None,
        roles: Sequence[str],
        organisation: str | None = None,
        kind: str = "person",
        user: str | None = None,
    ) -> dict:
        body = {"id": user_id, "name": name, "roles": list(roles), "organisation": organisation, "kind": kind}
        return self.client.call("POST", "/v1/users", body)

    def set_user(
        self,
        user_id: str,
        name: str | None = None,
        roles: Sequence[str] | None = None,
        organisation: str | None = None,
        user: str | None = None,
    ) -> dict:
        body = {"name": name, "roles": list(roles or []), "organisation": organisation}
        return self.client.call("PATCH", f"/v1/users/{_seg(user_id)}", body)

    def remove_user(self, user_id: str, user: str | None = None) -> dict:
        return self.client.call("DELETE", f"/v1/users/{_seg(user_id)}")

    def set_password(self, user_id: str, password: str, user: str | None = None) -> dict:
        return self.client.call("PUT", f"/v1/users/{_seg(user_id)}/password", {"password": password})

    def put_role(self, name: str, serves: Sequence[str], may: Sequence[str], user: str | None = None) -> dict:
        return self.client.call("PUT", f"/v1/roles/{_seg(name)}", {"serves": list(serves), "may": list(may)})

    def login(self, user_id: str, password: str, days: int = 30) -> dict:
        data, _ = self.client.request(
            "POST", "/v1/login", {"user": user_id, "password": password, "days": days}, auth=False
        )
        return data

    def logout(self, token: str) -> None:
        self.client.call("POST", "/v1/logout", {})

    def issue_token(self, user_id: str, label: str | None = None, days: int = 30, user: str | None = None) -> dict:
        return self.client.call("POST", "/v1/tokens", {"user": user_id, "label": label, "days": days})

    def tokens(self, user: str | None = None) -> list[dict]:
        return self.client.call("GET", "/v1/tokens")

    def revoke_token(self, token_id: int, user: str | None = None) -> dict:
        return self.client.call("DELETE", f"/v1/tokens/{_seg(token_id)}")

    def import_config(self, config: Mapping[str, Any], user: str | None = None) -> dict:
        raise RemoteError(
            "`hall user import` reads hall.yaml beside the database: run it on the server's machine without HALL_URL",
            "NotOverServer",
        )


def _seg(value: Any) -> str:
    """One path segment (an id as typed: the server says when it names nothing)."""
    return quote(str(value), safe="")
