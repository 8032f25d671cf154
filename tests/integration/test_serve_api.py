"""`hall serve` over HTTP (issue 16): a real server on 127.0.0.1 (a free port, in a thread of the
test), driven by an HTTP client: authentication, permissions and redaction enforced on the server,
problem documents with the right status, pagination, a lost race, simulated time only on a
rehearsal database."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from conftest import FIXTURES, fixture_files
from hall.engine import Engine
from hall.engine.clock import Clock
from hall.server.run import Background
from ruamel.yaml import YAML

CONFIG = YAML(typ="safe").load("""\
roles:
  clerk: {serves: [clerk]}
  manager: {serves: [managers]}
  supervisor: {serves: [], may: [reassign, manage, see_all, confidential, admin]}
users:
  - {id: ann, name: Ann Li, roles: [clerk]}
  - {id: bob, name: Bob Wu, roles: [manager]}
  - {id: cat, name: Cat Ho, roles: [clerk]}
  - {id: sup, name: Sue Ma, roles: [supervisor]}
confidential: {variables: [secret], when: {kind: [report]}}
""")
PASSWORD = "pass-word-1"


class Api:
    """A running server, its engine for setting up, and each user's token."""

    def __init__(self, base: str, engine: Engine, tokens: dict[str, str]) -> None:
        self.base, self.engine, self.tokens = base, engine, tokens

    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        user: str | None = None,
        token: str | None = None,
        **headers: str,
    ) -> tuple[int, dict[str, str], Any]:
        """(status, headers, decoded body) of one request as `user` (their token) or with `token`."""
        heads = dict(headers)
        secret = token if token is not None else self.tokens.get(user or "")
        if secret:
            heads["Authorization"] = f"Bearer {secret}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            heads["Content-Type"] = "application/json"
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=heads)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, lower(response.headers), json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            out = (exc.code, lower(exc.headers), json.loads(raw) if raw else None)
            exc.close()
            return out


def lower(headers: Any) -> dict[str, str]:
    """Response headers by lower-case name."""
    return {k.lower(): v for k, v in headers.items()}


@pytest.fixture
def api(make_engine, clock) -> Iterator[Api]:
    eng = make_engine(settings=CONFIG)
    eng.init()
    eng.deploy(fixture_files())
    eng.directory.import_config(CONFIG, user="sup")
    tokens = {}
    for uid in ("ann", "bob", "cat", "sup"):
        eng.directory.set_password(uid, PASSWORD, user="sup")
        tokens[uid] = eng.directory.login(uid, PASSWORD)["token"]
    server = Background(eng.store.url, CONFIG, FIXTURES / "forms", clock=clock)
    base = server.start()
    try:
        yield Api(base, eng, tokens)
    finally:
        server.stop()


def problem_of(status: int, body: Any, error: str) -> None:
    """An RFC 9457 problem document naming the HallError class."""
    assert body["status"] == status and body["error"] == error and body["title"] == error
    assert body["type"] == f"urn:hall:error:{error}" and "\n" not in body["detail"]


def test_health_readiness_and_the_openapi_document(api) -> None:
    assert api("GET", "/health")[::2] == (200, {"status": "ok"})
    status, _, body = api("GET", "/ready")
    assert status == 200 and body["status"] == "ready"
    status, _, doc = api("GET", "/openapi.json")
    assert status == 200 and doc["openapi"].startswith("3.1") and "/v1/tasks" in doc["paths"]


def test_no_wrong_expired_or_revoked_token_is_401_and_leaks_nothing(api, clock) -> None:
    api.engine.start("review", data={"amount": 7, "secret": "whistle"}, user="ann")
    for token in ("", "hall_wrong", api.tokens["ann"] + "x"):
        status, headers, body = api("GET", "/v1/instances/1", token=token)
        problem_of(401, body, "NotAuthenticated")
        assert headers["www-authenticate"].startswith("Bearer") and "whistle" not in json.dumps(body)
    status, _, body = api("GET", "/v1/tasks")  # no Authorization header at all
    problem_of(401, body, "NotAuthenticated")
    assert api("GET", "/v1/instances/1", user="ann")[0] == 200
    # revoked by an admin
    token_id = next(t["id"] for t in api("GET", "/v1/tokens", user="sup")[2] if t["user"] == "cat")
    assert api("DELETE", f"/v1/tokens/{token_id}", user="sup")[0] == 200
    status, _, body = api("GET", "/v1/tasks", user="cat")
    problem_of(401, body, "NotAuthenticated")
    assert "revoked" in body["detail"]
    # expired
    clock.advance(timedelta(days=31))
    status, _, body = api("GET", "/v1/tasks", user="ann")
    problem_of(401, body, "NotAuthenticated")
    assert "expired" in body["detail"]
    # and logging in again works; a wrong password is 401 too
    assert api("POST", "/v1/login", {"user": "ann", "password": "nope"})[2]["error"] == "LoginFailed"
    status, _, fresh = api("POST", "/v1/login", {"user": "ann", "password": PASSWORD})
    assert status == 200 and api("GET", "/v1/tasks", token=fresh["token"])[0] == 200


def test_a_user_without_the_role_gets_403_and_a_denied_row(api) -> None:
    api.engine.start("review", data={"amount": 1}, user="ann")
    task = api("GET", "/v1/tasks", user="ann")[2][0]
    status, _, body = api("POST", f"/v1/tasks/{task['id']}/claim", {}, user="bob")
    problem_of(403, body, "PermissionDenied")
    assert body["detail"].startswith("permission denied: bob may not claim")
    status, _, body = api("POST", "/v1/users", {"id": "eve", "roles": ["clerk"]}, user="ann")
    problem_of(403, body, "PermissionDenied")
    history = api.engine.history(1)
    assert [(h["actor"], h["detail"]["action"]) for h in history if h["kind"] == "denied"] == [("bob", "claim")]


def test_r_c10_a_confidential_case_is_the_placeholder_over_http(api) -> None:
    api.engine.start("review", data={"amount": 3, "kind": "report", "secret": "whistle"}, user="ann")
    expected = api.engine.show(1, user="cat")  # the engine's own placeholder for her
    assert expected.get("redacted") is True
    status, _, body = api("GET", "/v1/instances/1", user="cat")
    assert status == 200 and body == expected and "whistle" not in json.dumps(body, ensure_ascii=False)
    for path in ("/v1/tasks", "/v1/instances", "/v1/instances/1/history"):
        status, _, body = api("GET", path, user="cat")
        assert status == 200 and "whistle" not in json.dumps(body, ensure_ascii=False), path
    status, _, body = api("GET", "/v1/instances/1", user="sup")
    assert body["variables"]["secret"] == "whistle"


def test_errors_are_problem_documents_with_their_status(api) -> None:
    status, _, body = api("GET", "/v1/instances/999", user="sup")
    problem_of(404, body, "InstanceNotFound")
    # a case the user may not see is answered as an unknown one: the same status, class and words
    api.engine.start("review", data={"amount": 1}, user="ann")
    for path in ("/v1/instances/{}", "/v1/instances/{}/history", "/v1/instances/{}/suspend"):
        method = "POST" if path.endswith("suspend") else "GET"
        hidden = api(method, path.format(1), {} if method == "POST" else None, user="bob")
        missing = api(method, path.format(999), {} if method == "POST" else None, user="bob")
        assert hidden[0] == missing[0] == 404, path
        assert hidden[2] == {**missing[2], "detail": "unknown instance 1", "instance": path.format(1)}, path
    assert [h["actor"] for h in api.engine.history(1) if h["kind"] == "denied"] == ["bob"] * 3  # still refusals
    status, _, body = api("GET", "/v1/tasks/abc", user="sup")
    problem_of(404, body, "TaskNotFound")
    status, _, body = api("POST", "/v1/instances", {"process": "nope"}, user="ann")
    problem_of(404, body, "ProcessNotFound")
    status, _, body = api("POST", "/v1/instances", {"process": "review", "data": {"1x": 1}}, user="ann")
    problem_of(422, body, "FormInvalid")
    assert body["errors"] == {"1x": "not a valid variable name"}
    status, _, body = api("POST", "/v1/instances", {"process": "review", "data": [1]}, user="ann")
    problem_of(422, body, "RequestInvalid")
    assert body["errors"] == {"data": "must be a JSON object"}
    status, _, body = api("GET", "/v1/tasks?limit=x", user="ann")
    problem_of(422, body, "RequestInvalid")
    status, _, body = api("POST", "/v1/roles", {}, user="sup")
    assert status == 405 and body["error"] == "MethodNotAllowed"
    status, _, body = api("PUT", "/v1/roles/pilot", {"may": ["fly"]}, user="sup")
    problem_of(422, body, "PeopleInvalid")
    assert body["errors"] == {
        "may": "unknown permission 'fly' (one of confidential, reassign, manage, see_all, deploy, admin, simulate_time)"
    }


def test_start_complete_and_the_json_shapes(api) -> None:
    status, _, case = api("POST", "/v1/instances", {"process": "review", "data": {"amount": 5}}, user="ann")
    assert status == 201 and case == api.engine.show(case["id"])
    task = api("GET", "/v1/tasks", user="ann")[2][0]
    assert task == api.engine.tasks(user="ann")[0]
    status, _, body = api("POST", f"/v1/tasks/{task['id']}/complete", {"data": {"amount": "lots"}}, user="ann")
    problem_of(422, body, "FormInvalid")
    assert set(body["errors"]) == {"amount"}
    status, _, after = api("POST", f"/v1/tasks/{task['id']}/complete", {"data": {"amount": "6"}}, user="ann")
    assert status == 200 and after["variables"]["amount"] == 6
    status, _, body = api("POST", f"/v1/tasks/{task['id']}/complete", {"data": {"amount": "6"}}, user="ann")
    problem_of(409, body, "TaskAlreadyCompleted")
    assert api("GET", "/v1/instances/1/history", user="sup")[2] == api.engine.history(1)


def test_lists_are_paginated(api) -> None:
    for n in range(5):
        api.engine.start("review", data={"amount": n}, user="ann")
    status, headers, page = api("GET", "/v1/tasks?limit=2", user="ann")
    assert status == 200 and len(page) == 2 and headers["x-hall-truncated"] == "true"
    assert 'offset=2>; rel="next"' in headers["link"]
    everything = api("GET", "/v1/tasks", user="ann")[2]
    assert len(everything) == 5
    pages = [api("GET", f"/v1/tasks?limit=2&offset={o}", user="ann")[2] for o in (0, 2, 4)]
    assert sum(pages, []) == everything
    status, headers, page = api("GET", "/v1/instances?limit=10&offset=3", user="sup")
    assert [i["id"] for i in page] == [2, 1] and headers["x-total-count"] == "5"


def test_two_clients_complete_one_task_at_the_same_moment_exactly_one_wins(api) -> None:
    api.engine.start("review", data={"amount": 1}, user="ann")
    task = api("GET", "/v1/tasks", user="ann")[2][0]
    barrier = threading.Barrier(2)
    results: list[tuple[str, int, Any]] = []

    def complete(user: str) -> None:
        barrier.wait()
        status, _, body = api("POST", f"/v1/tasks/{task['id']}/complete", {"data": {"amount": "2"}}, user=user)
        results.append((user, status, body))

    threads = [threading.Thread(target=complete, args=(u,)) for u in ("ann", "cat")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    statuses = sorted(s for _, s, _ in results)
    assert statuses == [200, 409], results
    lost = next(b for _, s, b in results if s == 409)
    assert lost["error"] in ("TaskAlreadyCompleted", "ConcurrentUpdate")
    assert [h["kind"] for h in api.engine.history(1)].count("task_completed") == 1


def test_simulated_time_only_on_a_rehearsal_database(api, tmp_path) -> None:
    """The mark is the database's own, set when it was created: a hall made on the real clock
    (`hall init`) refuses X-Hall-Now and writes nothing; the fixture's database, made by an engine
    at a simulated time as tests and rehearsals make theirs, takes it."""
    now = "2026-12-01T10:00:00+08:00"
    live = Engine(f"sqlite:///{tmp_path / 'live.db'}", clock=Clock(), forms_dir=FIXTURES / "forms", settings=CONFIG)
    try:
        live.init()
        live.deploy(fixture_files())
        live.directory.import_config(CONFIG, user="sup")
        live.directory.set_password("ann", PASSWORD, user="sup")
        token = live.directory.login("ann", PASSWORD)["token"]
        assert not live.is_rehearsal()
        server = Background(live.store.url, CONFIG, FIXTURES / "forms")
        there = Api(server.start(), live, {"ann": token})
        try:
            status, _, body = there("POST", "/v1/instances", {"process": "review"}, user="ann", **{"X-Hall-Now": now})
            problem_of(403, body, "RehearsalOnly")
            assert live.instances() == []  # nothing written
            status, _, case = there("POST", "/v1/instances", {"process": "review"}, user="ann")
            assert status == 201  # on the real clock it serves
        finally:
            server.stop()
    finally:
        live.close()
    assert api.engine.is_rehearsal()
    status, _, case = api("POST", "/v1/instances", {"process": "review"}, user="ann", **{"X-Hall-Now": now})
    assert status == 201 and case["started_at"].startswith("2026-12-01T02:00:00")


def test_people_over_http_need_admin(api) -> None:
    status, _, user = api(
        "POST", "/v1/users", {"id": "crm", "roles": ["clerk"], "kind": "service", "name": "CRM"}, user="sup"
    )
    assert status == 201 and user["id"] == "crm"
    status, _, token = api("POST", "/v1/tokens", {"user": "crm", "label": "crm", "days": 7}, user="sup")
    assert status == 201
    assert api("GET", "/v1/me", token=token["token"])[2]["id"] == "crm"
    assert api("POST", "/v1/logout", {}, token=token["token"])[0] == 204
    assert api("GET", "/v1/me", token=token["token"])[0] == 401
    assert {r["role"] for r in api("GET", "/v1/roles", user="ann")[2]} == {"clerk", "manager", "supervisor"}


def test_a_change_of_people_elsewhere_reaches_the_server_at_its_next_request(api) -> None:
    """The server's threads keep the people they read until the database says they changed (a
    generation written with every change), here by another process's engine."""
    assert api("GET", "/v1/me", user="ann")[2]["roles"] == ["clerk"]
    api.engine.directory.set_user("ann", roles=["manager"], user="sup")
    assert api("GET", "/v1/me", user="ann")[2]["roles"] == ["manager"]
    api.engine.directory.remove_user("bob", user="sup")
    status, _, body = api("GET", "/v1/me", user="bob")
    problem_of(401, body, "NotAuthenticated")


def test_whole_lists_page_too(api) -> None:
    case = api.engine.start("review", data={"amount": 1}, user="ann")
    api.engine.complete(case["tasks"][0]["id"], {"amount": 2}, user="ann")
    everything = api("GET", "/v1/instances/1/history", user="sup")[2]
    assert len(everything) > 3
    status, headers, page = api("GET", "/v1/instances/1/history?limit=2&offset=1", user="sup")
    assert page == everything[1:3] and headers["x-total-count"] == str(len(everything))
    assert headers["x-hall-truncated"] == "true" and 'offset=3>; rel="next"' in headers["link"]
    status, headers, page = api("GET", "/v1/users?offset=3", user="sup")
    assert [u["id"] for u in page] == ["sup"] and "x-hall-truncated" not in headers


def test_drafts_are_kept_per_task_for_the_tokens_user(api) -> None:
    """GET/PUT/DELETE /v1/tasks/{id}/draft: the Engine's drafts, each user's own."""
    api.engine.start("review", data={"amount": 1}, user="ann")
    task = api("GET", "/v1/tasks", user="ann")[2][0]["id"]
    path = f"/v1/tasks/{task}/draft"
    assert api("GET", path, user="ann")[::2] == (200, None)
    status, _, kept = api("PUT", path, {"data": {"amount": 7, "note": "two\nlines"}}, user="ann")
    assert status == 200 and kept["task"] == task and kept["data"] == {"amount": 7, "note": "two\nlines"}
    assert api("GET", path, user="ann")[2] == kept == api.engine.draft(task, user="ann")
    assert api("GET", path, user="cat")[2] is None  # another clerk of the role has none of hers
    status, _, body = api("PUT", path, {"data": [1]}, user="ann")
    problem_of(422, body, "RequestInvalid")
    status, _, body = api("PUT", path, {"data": {}}, user="bob")  # not his task to see
    assert status in (403, 404) and "7" not in json.dumps(body)
    assert api("DELETE", path, user="ann")[::2] == (200, {"discarded": True})
    assert api("DELETE", path, user="ann")[::2] == (200, {"discarded": False})
    assert api("GET", path, user="ann")[2] is None
    api.engine.complete(task, {"amount": 2}, user="ann")
    status, _, body = api("PUT", path, {"data": {}}, user="ann")
    problem_of(409, body, "TaskAlreadyCompleted")


def test_a_form_is_served_with_its_fields_in_full(api) -> None:
    from hall.engine.forms import describe_form, form_from_description

    status, _, body = api("GET", "/v1/forms/register", user="ann")
    form = api.engine.form("register")
    assert status == 200 and body == describe_form(form)
    assert form_from_description(body).fields[0].describe() == form.fields[0].describe()
    status, _, body = api("GET", "/v1/forms/nothing", user="ann")
    problem_of(404, body, "FormNotFound")
