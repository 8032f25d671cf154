"""A bounded Schemathesis run over the OpenAPI document of `hall serve` (issue 16): requests made
from the schema, valid and not, as an admin and with no token: no 5xx, and every response (its
status, content type and body) as the document says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from conftest import FIXTURES, fixture_files
from hall.server.app import OPS
from hall.server.openapi import document
from hall.server.run import Background
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CONFIG = YAML(typ="safe").load("""\
roles:
  clerk: {serves: [clerk]}
  supervisor: {serves: [], may: [reassign, manage, see_all, confidential, admin]}
users:
  - {id: ann, name: Ann Li, roles: [clerk]}
  - {id: sup, name: Sue Ma, roles: [supervisor]}
""")
EXAMPLES = 8  # per operation: about 300 requests in all
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture
def served(make_engine, clock) -> Iterator[tuple[str, dict[str, str]]]:
    eng = make_engine(settings=CONFIG)
    eng.init()
    eng.deploy(fixture_files())
    eng.directory.import_config(CONFIG, user="sup")
    tokens = {u: eng.directory.issue_token(u, "fuzz", 30, user="sup")["token"] for u in ("ann", "sup")}
    eng.start("review", data={"amount": 1}, user="ann")
    server = Background(eng.store.url, CONFIG, FIXTURES / "forms", clock=clock)
    base = server.start()
    try:
        yield base, tokens
    finally:
        server.stop()


@pytest.mark.timeout(600)
def test_the_api_keeps_to_its_openapi_document_under_generated_requests(served) -> None:
    base, tokens = served
    schema = schemathesis.openapi.from_dict(document(OPS))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(OPS) + 2  # the routes and /health, /ready
    # the admin first: Hypothesis's simplest draws then get past the permission checks into the engine
    who = st.sampled_from([tokens["sup"], tokens["ann"], "", "hall_wrong"])
    statuses: list[tuple[str, int]] = []
    for operation in operations:
        if operation.path in ("/v1/logout", "/v1/tokens/{id}"):
            continue  # they would revoke the tokens the run goes on with (tests/integration/test_serve_api.py)

        @given(case=operation.as_strategy(), token=who)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,  # the same requests on every run: a failure can be run again
            suppress_health_check=list(HealthCheck),
        )
        def check(case: schemathesis.Case, token: str) -> None:
            # the generated case carries an Authorization header of its own (the bearer scheme): replaced
            headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
            if token:
                headers["Authorization"] = f"Bearer {token}"
            case.headers = headers
            statuses.append((operation.label, case.call_and_validate(base_url=base, checks=CHECKS).status_code))

        check()
    # the run reached the engine, not only the refusals: a good share of the operations answered 2xx
    assert len({label for label, status in statuses if status < 300}) >= 10
