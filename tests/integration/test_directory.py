"""Users, roles and tokens kept in the database (issue 16, engine/access/directory.py): once a
database has users no configuration turns the checks off; changes need `admin` and are recorded;
secrets are stored hashed, tokens expire and can be revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from conftest import fixture_files
from hall.engine.access.directory import digest
from hall.engine.errors import LoginFailed, NotAuthenticated, PeopleInvalid, PermissionDenied, UserRequired
from ruamel.yaml import YAML

CONFIG = YAML(typ="safe").load("""\
roles:
  clerk: {serves: [clerk]}
  manager: {serves: [managers]}
  supervisor: {serves: [], may: [reassign, manage, see_all, confidential, admin]}
users:
  - {id: ann, name: Ann Li, roles: [clerk], organisation: 市场监管局}
  - {id: bob, name: Bob Wu, roles: [manager]}
  - {id: cat, name: Cat Ho, roles: [clerk]}
  - {id: sup, name: Sue Ma, roles: [supervisor]}
confidential: {variables: [secret], when: {kind: [report]}}
""")


@pytest.fixture
def seeded(make_engine):
    """A database with the review diagrams and the people of CONFIG imported."""
    eng = make_engine(settings=CONFIG)
    eng.init()
    eng.deploy(fixture_files())
    eng.directory.import_config(CONFIG, user="sup")
    return eng


def test_users_in_the_database_outlast_any_configuration(seeded, make_engine) -> None:
    """An engine opened with no configuration, or one listing no user, still enforces the database's."""
    seeded.start("review", data={"amount": 1, "kind": "report", "secret": "who"}, user="ann")
    for settings in (None, {"users": [], "roles": {}, "confidential": {"variables": []}}):
        eng = make_engine(settings=settings)
        eng.require_user = True
        with pytest.raises(UserRequired):
            eng.show(1)
        assert eng.people.user("ann").organisation == "市场监管局"
        with pytest.raises(PermissionDenied):
            eng.show(1, user="bob")  # not a case of his role
        view = eng.show(1, user="cat")  # her role's case, confidential: the placeholder
        assert view.get("redacted") is True and "who" not in str(view)
        assert eng.show(1, user="sup")["variables"]["secret"] == "who"


def test_changes_need_admin_and_are_recorded(seeded) -> None:
    with pytest.raises(PermissionDenied):
        seeded.directory.add_user("eve", "Eve", ["clerk"], user="ann")
    seeded.directory.add_user("dan", "Dan", ["clerk"], organisation="税务局", user="sup")
    seeded.directory.put_role("auditor", ["audit"], ["see_all"], user="sup")
    seeded.directory.set_user("dan", roles=["auditor"], user="sup")
    assert seeded.people.user("dan").roles == ("auditor",)
    assert seeded.people.may(seeded.people.user("dan"), "see_all")
    with pytest.raises(PeopleInvalid, match="unknown permission 'fly'"):
        seeded.directory.put_role("pilot", [], ["fly"], user="sup")
    with pytest.raises(PeopleInvalid, match="no role 'ghost'"):
        seeded.directory.add_user("gus", None, ["ghost"], user="sup")
    with pytest.raises(PeopleInvalid, match="exists already"):
        seeded.directory.add_user("dan", None, ["clerk"], user="sup")
    kinds = [(h["kind"], h["actor"]) for h in seeded.history(None, user="sup")]
    assert kinds == [
        ("people_imported", "sup"),
        ("denied", "ann"),
        ("user_added", "sup"),
        ("role_changed", "sup"),
        ("user_changed", "sup"),
    ]


def test_import_only_once_and_only_with_an_admin(make_engine) -> None:
    eng = make_engine(settings={})
    eng.init()
    no_admin = {"roles": {"clerk": {"serves": ["clerk"]}}, "users": [{"id": "ann", "roles": ["clerk"]}]}
    with pytest.raises(PeopleInvalid, match="admin"):
        eng.directory.import_config(no_admin)
    assert eng.directory.in_database() is False  # nothing written
    eng.directory.import_config(CONFIG, user="sup")
    with pytest.raises(PeopleInvalid, match="has its users already"):
        eng.directory.import_config(CONFIG, user="sup")


def test_tokens_are_stored_hashed_expire_and_are_revoked(seeded, clock, db_url) -> None:
    d = seeded.directory
    with pytest.raises(PeopleInvalid, match="at least 8"):
        d.set_password("ann", "short", user="ann")
    d.set_password("ann", "s3cret-pass", user="ann")  # a user sets their own
    with pytest.raises(PermissionDenied):
        d.set_password("bob", "s3cret-pass", user="ann")  # not another's
    with pytest.raises(LoginFailed):
        d.login("ann", "wrong-pass")
    with pytest.raises(LoginFailed):
        d.login("nobody", "s3cret-pass")
    login = d.login("ann", "s3cret-pass", days=1)
    assert d.authenticate(login["token"]) == "ann"
    store = sa.create_engine(seeded.store.url if "://" in seeded.store.url else f"sqlite:///{seeded.store.url}")
    try:
        with store.connect() as conn:
            kept = conn.execute(sa.text("SELECT digest FROM hall_tokens")).scalars().all()
            hashes = conn.execute(sa.text("SELECT password_hash FROM hall_users WHERE id = 'ann'")).scalar()
    finally:
        store.dispose()
    assert kept == [digest(login["token"])] and login["token"] not in str(kept)
    assert hashes.startswith("scrypt$") and "s3cret-pass" not in hashes
    for bad in (None, "", "hall_guess"):
        with pytest.raises(NotAuthenticated):
            d.authenticate(bad)
    clock.advance(timedelta(days=1, seconds=1))
    with pytest.raises(NotAuthenticated, match="expired"):
        d.authenticate(login["token"])
    service = d.add_user("crm", "CRM system", ["clerk"], kind="service", user="sup")
    assert service["id"] == "crm"
    with pytest.raises(LoginFailed):  # a service account has no password: tokens only
        d.login("crm", "")
    issued = d.issue_token("crm", "crm", 365, user="sup")
    assert d.authenticate(issued["token"]) == "crm"
    with pytest.raises(PermissionDenied):
        d.tokens(user="ann")
    listed = {t["user"]: t["state"] for t in d.tokens(user="sup")}
    assert listed == {"ann": "expired", "crm": "active"}
    d.revoke_token(2, user="sup")
    with pytest.raises(NotAuthenticated, match="revoked"):
        d.authenticate(issued["token"])
    second = d.issue_token("crm", None, 30, user="sup")
    d.remove_user("crm", user="sup")  # removing a user revokes their tokens
    with pytest.raises(NotAuthenticated):
        d.authenticate(second["token"])


def test_r_c10_the_first_user_added_keeps_the_case_rules_with_the_users(make_engine) -> None:
    """Without `hall user import`: the first user added to the database brings hall.yaml's roles and
    its confidential rule along, so a configuration chosen later cannot weaken R-C10."""
    eng = make_engine(settings=CONFIG)
    eng.init()
    eng.deploy(fixture_files())
    eng.directory.add_user("boss", "Boss", ["supervisor"])
    eng.directory.add_user("cat", "Cat", ["clerk"], user="boss")
    eng.start("review", data={"amount": 1, "kind": "report", "secret": "who"}, user="cat")
    weak = make_engine(settings={"confidential": {"variables": []}})
    view = weak.show(1, user="cat")
    assert view.get("redacted") is True and "who" not in str(view)
    assert weak.show(1, user="boss")["variables"]["secret"] == "who"


def test_after_init_the_same_engine_judges_by_the_database_users(seeded, make_engine) -> None:
    """`hall init --reindex` (init, then a `manage` action on one engine) under a configuration
    without users is still refused to a user without the permission."""
    eng = make_engine(settings={})
    eng.init()
    with pytest.raises(PermissionDenied):
        eng.reindex(user="ann")
    assert eng.reindex(user="sup")["cases"] == 0
