"""Users, roles, access rules and tokens kept in the database (issue 16).

Once `hall_users` has a row, the people the access policy judges by come from the database and
not from hall.yaml: no configuration file, missing or chosen, turns the checks off. `hall user
import` seeds the tables once from hall.yaml (users, roles, and the `confidential` and
`first_receiver` rules); after that `hall user …`, `hall role …` and `hall token …` change them,
each change needing the `admin` permission and leaving a row in the hall's own history.

Tokens are random secrets handed out once (`hall login`, `hall token issue`); only their SHA-256
digest is stored, with an expiry and a revocation time. Passwords are kept as scrypt hashes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..errors import LoginFailed, NotAuthenticated, PeopleInvalid, UnknownUser
from ..store import Tx
from ..store.codecs import utc
from .confidential import ConfidentialRule, FirstReceiverRule
from .people import PERMISSIONS, People, Role, User

TOKEN_PREFIX = "hall_"
DEFAULT_TOKEN_DAYS = 30
MAX_TOKEN_DAYS = 3660
KINDS = ("person", "service")
RULES = ("confidential", "first_receiver")
# scrypt's cost: about 50 ms a login on a small server, enough against guessing a stolen hash
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class EngineLike(Protocol):
    """What the directory needs of the engine: transactions, time, and the permission check."""

    clock: Any
    settings: dict

    def authorize(self, user: str | None, permission: str, action: str, target: str) -> User | None: ...

    def transaction(self, write: bool = True) -> Any: ...

    @property
    def people(self) -> People: ...

    @people.setter
    def people(self, people: People) -> None: ...


def digest(token: str) -> str:
    """The SHA-256 hex digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (hex) of a password."""
    salt = salt or secrets.token_bytes(16)
    out = hashlib.scrypt(password.encode("utf-8"), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${out.hex()}"


def password_matches(password: str, stored: str | None) -> bool:
    """Whether the password hashes to the stored value (constant-time comparison)."""
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, n, r, p, salt, want = stored.split("$")
    got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p))
    return hmac.compare_digest(got.hex(), want)


def stored_people(tx: Tx, base: People) -> People | None:
    """The people kept in the database, or None while it has no user (then hall.yaml's apply).
    Rules the database does not hold are those of `base` (hall.yaml with the hall's defaults)."""
    users = tx.rows("people_users", None)
    if not users:
        return None
    roles = {
        r["name"]: Role(r["name"], frozenset(json.loads(r["serves"])), frozenset(json.loads(r["may"])))
        for r in tx.rows("people_roles", None)
    }
    rules = {r["name"]: json.loads(r["value"]) for r in tx.rows("people_rules", None)}
    return People(
        users={u["id"]: _user(u) for u in users},
        roles=roles,
        confidential=ConfidentialRule.from_config(rules["confidential"])
        if "confidential" in rules
        else base.confidential,
        first_receiver=FirstReceiverRule.from_config(rules["first_receiver"])
        if "first_receiver" in rules
        else base.first_receiver,
    )


def _generation(tx: Tx) -> str | None:
    rows = tx.rows("people_generation", None)
    return rows[0]["value"] if rows else None


def _user(row: Mapping[str, Any]) -> User:
    return User(row["id"], row["name"], tuple(json.loads(row["roles"])), row["organisation"])


class Directory:
    """The users, roles and tokens of one engine's database; every change is checked and recorded."""

    def __init__(self, engine: EngineLike, base: People) -> None:
        self.engine = engine
        self.base = base  # hall.yaml's people: the rules used while the database holds none
        self.from_database = False
        self._generation: str | None = None

    # -- reading ---------------------------------------------------------------------------------
    def refresh(self) -> People:
        """Read the people again (after a change, or per request in `hall serve`) and hand them to
        the engine; hall.yaml's while the database has no user."""
        with self.engine.transaction(write=False) as tx:
            people = stored_people(tx, self.base)
            self._generation = _generation(tx)
        if people is not None:
            self.engine.people = people
        elif self.from_database:
            self.engine.people = self.base
        self.from_database = people is not None
        return self.engine.people

    def check(self, token: str | None, required: bool = True) -> str | None:
        """For each request of `hall serve`, in one read transaction: the people read again if they
        changed since (another thread or process changed them), and the token's user (with
        `required`; else None). NotAuthenticated for no token or a bad one."""
        with self.engine.transaction(write=False) as tx:
            if _generation(tx) != self._generation or not self.from_database:
                people = stored_people(tx, self.base)
                self._generation = _generation(tx)
                if people is not None:
                    self.engine.people = people
                self.from_database = people is not None
            if not required:
                return None
            return self._token_row(tx, token)[0]

    def in_database(self) -> bool:
        """Whether the database holds the hall's users (then hall.yaml's are not used)."""
        with self.engine.transaction(write=False) as tx:
            return bool(tx.rows("people_users", None))

    def users(self, user: str | None = None) -> list[dict]:
        """Every user with roles, what those serve and allow, and where they are kept."""
        people = self.refresh()
        source = "database" if self.from_database else "hall.yaml"
        return [self._user_view(people, u, source) for u in people.users.values()]

    def roles(self) -> list[dict]:
        """Every role: what it serves, its permissions, its users."""
        people = self.refresh()
        return [
            {
                "role": r.name,
                "serves": sorted(r.serves),
                "may": sorted(r.may),
                "users": [u.id for u in people.users.values() if r.name in u.roles],
            }
            for r in people.roles.values()
        ]

    @staticmethod
    def _user_view(people: People, u: User, source: str) -> dict:
        return {
            "id": u.id,
            "name": u.name,
            "organisation": u.organisation,
            "roles": list(u.roles),
            "serves": sorted(people.groups(u)),
            "may": sorted({p for r in u.roles for p in people.role(r).may}),
            "source": source,
        }

    # -- changing --------------------------------------------------------------------------------
    def import_config(self, config: Mapping[str, Any], user: str | None = None) -> dict:
        """Seed an empty directory from hall.yaml: its users, roles and access rules. Refused once
        the database has users (they are changed with `hall user` / `hall role` from then on)."""
        if self.in_database():
            raise PeopleInvalid(
                "users", "the database has its users already: change them with `hall user` / `hall role`"
            )
        people = People.from_config(config)
        if not people.users:
            raise PeopleInvalid("users", "the configuration lists no user to import")
        _check_admin_exists(people)
        now = self.engine.clock.now()
        with self.engine.transaction() as tx:
            for r in people.roles.values():
                _check_permissions(r.may)
                tx.run("people_put_role", _role_params(r.name, r.serves, r.may))
            for u in people.users.values():
                tx.run("people_insert_user", _user_params(u, "person", tx.time(now)))
            _store_rules(tx, config)
            tx.add_history(
                [_event(now, user, "people_imported", {"users": sorted(people.users), "roles": sorted(people.roles)})]
            )
            _changed(tx)
        self.refresh()
        return {"users": len(people.users), "roles": len(people.roles)}

    def add_user(
        self,
        user_id: str,
        name: str | None,
        roles: Sequence[str],
        organisation: str | None = None,
        kind: str = "person",
        user: str | None = None,
    ) -> dict:
        """A new user (a person who logs in, or a service account for an integrator's system)."""
        self._admin(user, "add a user", user_id)
        _check_id(user_id, "id")
        if kind not in KINDS:
            raise PeopleInvalid("kind", f"{kind!r} is not one of {', '.join(KINDS)}")
        people = self.refresh()
        if user_id in people.users and self.in_database():
            raise PeopleInvalid("id", f"user {user_id!r} exists already (`hall user set` changes it)")
        self._check_roles(people, roles)
        new = User(user_id, name or user_id, tuple(roles), organisation or None)
        now = self.engine.clock.now()
        with self.engine.transaction() as tx:
            first = not tx.rows("people_users", None)
            if first:  # the first user kept in the database: hall.yaml's roles come along
                if not People(users={user_id: new}, roles=dict(people.roles)).may(new, "admin"):
                    raise PeopleInvalid(
                        "roles", "the first user kept in the database must have a role with the 'admin' permission"
                    )
                for r in self.base.roles.values():
                    tx.run("people_put_role", _role_params(r.name, r.serves, r.may))
                _store_rules(tx, self.engine.settings)
            tx.run("people_insert_user", _user_params(new, kind, tx.time(now)))
            tx.add_history([_event(now, user, "user_added", {"user": user_id, "roles": list(roles), "kind": kind})])
            _changed(tx)
        people = self.refresh()
        return self._user_view(people, new, "database")

    def set_user(
        self,
        user_id: str,
        name: str | None = None,
        roles: Sequence[str] | None = None,
        organisation: str | None = None,
        user: str | None = None,
    ) -> dict:
        """Change a user's name, roles or organisation (what is not given stays)."""
        self._admin(user, "change user", user_id)
        people = self.refresh()
        now = self.engine.clock.now()
        with self.engine.transaction() as tx:
            row = self._stored_user(tx, user_id)
            new_roles = tuple(roles) if roles else tuple(json.loads(row["roles"]))
            self._check_roles(people, new_roles)
            changed = User(user_id, name or row["name"], new_roles, organisation or row["organisation"])
            tx.run("people_update_user", _user_params(changed, row["kind"], None))
            tx.add_history(
                [_event(now, user, "user_changed", {"user": user_id, "name": changed.name, "roles": list(new_roles)})]
            )
            _changed(tx)
        return self._user_view(self.refresh(), changed, "database")

    def remove_user(self, user_id: str, user: str | None = None) -> dict:
        """Remove a user and revoke their tokens; their history stays."""
        self._admin(user, "remove user", user_id)
        now = self.engine.clock.now()
        with self.engine.transaction() as tx:
            self._stored_user(tx, user_id)
            tx.run("people_delete_user", {"id": user_id})
            tx.run("token_revoke_user", {"user_id": user_id, "at": tx.time(now)})
            tx.add_history([_event(now, user, "user_removed", {"user": user_id})])
            _changed(tx)
        self.refresh()
        return {"id": user_id, "removed": True}

    def set_password(self, user_id: str, password: str, user: str | None = None) -> dict:
        """Set a person's password: an admin for anyone, a user for themself."""
        if user != user_id:
            self._admin(user, "set the password of", user_id)
        if len(password) < 8:
            raise PeopleInvalid("password", "at least 8 characters")
        now = self.engine.clock.now()
        with self.engine.transaction() as tx:
            self._stored_user(tx, user_id)
            tx.run("people_set_password", {"id": user_id, "h": hash_password(password)})
            tx.add_history([_event(now, user, "password_set", {"user": user_id})])
        return {"id": user_id, "password": "set"}

    def put_role(self, name: str, serves: Sequence[str], may: Sequence[str], user: str | None = None) -> dict:
        """Add or change a role: the lanes / candidate groups it serves and its permissions."""
        self._admin(user, "change role", name)
        _check_id(name, "role")
        _check_permissions(may)
        now = self.engine.clock.now()
        with self.engine.transaction() as tx:
            if not tx.rows("people_users", None):
                raise PeopleInvalid(
                    "role", "the database has no users yet: `hall user import` or `hall user add` first"
                )
            tx.run("people_put_role", _role_params(name, serves or [name], may))
            tx.add_history(
                [_event(now, user, "role_changed", {"role": name, "serves": list(serves or [name]), "may": list(may)})]
            )
            _changed(tx)
        self.refresh()
        return {"role": name, "serves": sorted(serves or [name]), "may": sorted(may)}

    # -- tokens ----------------------------------------------------------------------------------
    def login(self, user_id: str, password: str, days: int = DEFAULT_TOKEN_DAYS) -> dict:
        """A token for a person whose password matches; the secret is returned once, here."""
        with self.engine.transaction(write=False) as tx:
            row = tx.rows("people_user", {"id": user_id})
        if not row or row[0]["kind"] != "person" or not password_matches(password, row[0]["password_hash"]):
            raise LoginFailed(user_id)
        return self._issue(user_id, "login", days, user_id)

    def issue_token(
        self, user_id: str, label: str | None = None, days: int = DEFAULT_TOKEN_DAYS, user: str | None = None
    ) -> dict:
        """A token for any user (a service account's, for an integrator's system): admin only."""
        self._admin(user, "issue a token for", user_id)
        with self.engine.transaction(write=False) as tx:
            self._stored_user(tx, user_id)
        return self._issue(user_id, label or "issued", days, user)

    def _issue(self, user_id: str, label: str, days: int, actor: str | None) -> dict:
        if not 1 <= days <= MAX_TOKEN_DAYS:
            raise PeopleInvalid("days", f"a token lasts 1 to {MAX_TOKEN_DAYS} days, not {days}")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.engine.clock.now()
        expires = now + timedelta(days=days)
        with self.engine.transaction() as tx:
            tx.run(
                "token_insert",
                {
                    "digest": digest(secret),
                    "user_id": user_id,
                    "label": label,
                    "at": tx.time(now),
                    "expires": tx.time(expires),
                },
            )
            tx.add_history(
                [
                    _event(
                        now, actor, "token_issued", {"user": user_id, "label": label, "expires_at": expires.isoformat()}
                    )
                ]
            )
        return {"token": secret, "user": user_id, "label": label, "expires_at": expires.isoformat()}

    def tokens(self, user: str | None = None) -> list[dict]:
        """Every token's id, owner, label and times (never the secret): admin only."""
        self._admin(user, "list", "tokens")
        with self.engine.transaction(write=False) as tx:
            rows = tx.rows("token_list", None)
        now = self.engine.clock.now()
        out = []
        for r in rows:
            expires, revoked = utc(r["expires_at"]), utc(r["revoked_at"])
            state = "revoked" if revoked else "expired" if expires is not None and expires <= now else "active"
            out.append(
                {
                    "id": r["id"],
                    "user": r["user_id"],
                    "label": r["label"],
                    "created_at": _iso(utc(r["created_at"])),
                    "expires_at": _iso(expires),
                    "revoked_at": _iso(revoked),
                    "state": state,
                }
            )
        return out

    def revoke_token(self, token_id: int, user: str | None = None) -> dict:
        """Revoke one token by its id: admin only."""
        self._admin(user, "revoke token", str(token_id))
        now = self.engine.clock.now()
        with self.engine.transaction() as tx:
            if tx.run("token_revoke", {"id": int(token_id), "at": tx.time(now)}).rowcount != 1:
                raise PeopleInvalid("token", f"no active token {token_id} (`hall token list`)")
            tx.add_history([_event(now, user, "token_revoked", {"token": int(token_id)})])
        return {"id": int(token_id), "revoked": True}

    def logout(self, token: str) -> None:
        """Revoke the token presented (the user's own `hall logout`)."""
        user_id, token_id = self._lookup(token)
        now = self.engine.clock.now()
        with self.engine.transaction() as tx:
            tx.run("token_revoke", {"id": token_id, "at": tx.time(now)})
            tx.add_history([_event(now, user_id, "token_revoked", {"token": token_id})])

    def authenticate(self, token: str | None) -> str:
        """The id of the user a token belongs to, else NotAuthenticated (none, unknown, expired,
        revoked, or its user removed)."""
        user_id, _ = self._lookup(token)
        return user_id

    def _lookup(self, token: str | None) -> tuple[str, int]:
        with self.engine.transaction(write=False) as tx:
            return self._token_row(tx, token)

    def _token_row(self, tx: Tx, token: str | None) -> tuple[str, int]:
        """(user id, token id) of a valid token, else NotAuthenticated saying which way it is not."""
        if not token:
            raise NotAuthenticated("no token")
        rows = tx.rows("token_by_digest", {"digest": digest(token)})
        row = rows[0] if rows else None
        if row is None:
            raise NotAuthenticated("unknown token")
        if row["revoked_at"] is not None:
            raise NotAuthenticated("the token was revoked")
        expires = utc(row["expires_at"])
        if expires is not None and expires <= self.engine.clock.now():
            raise NotAuthenticated("the token has expired")
        return row["user_id"], row["id"]

    # -- checks ----------------------------------------------------------------------------------
    def _admin(self, user: str | None, action: str, target: str) -> None:
        self.refresh()
        self.engine.authorize(user, "admin", action, target)

    @staticmethod
    def _stored_user(tx: Tx, user_id: str) -> Mapping[str, Any]:
        rows = tx.rows("people_user", {"id": user_id})
        if not rows:
            raise UnknownUser(user_id)
        return rows[0]

    @staticmethod
    def _check_roles(people: People, roles: Iterable[str]) -> None:
        roles = list(roles)
        if not roles:
            raise PeopleInvalid("roles", "a user needs at least one role")
        for r in roles:
            if r not in people.roles:
                known = ", ".join(sorted(people.roles)) or "none"
                raise PeopleInvalid("roles", f"no role {r!r} (known: {known}; `hall role add` first)")


def _check_id(value: str, field: str) -> None:
    if not value or not value.strip() or len(value) > 200 or any(c in value for c in "\n\r\t"):
        raise PeopleInvalid(field, f"{value!r} is not a usable name (1 to 200 characters, one line)")


def _check_permissions(may: Iterable[str]) -> None:
    for p in may:
        if p not in PERMISSIONS:
            raise PeopleInvalid("may", f"unknown permission {p!r} (one of {', '.join(PERMISSIONS)})")


def _check_admin_exists(people: People) -> None:
    """An import leaving nobody who may change users would lock the hall out of its own directory."""
    if not any(people.may(u, "admin") for u in people.users.values()):
        raise PeopleInvalid(
            "roles", "no imported user has the 'admin' permission: give one role `may: [admin]` in hall.yaml first"
        )


def _role_params(name: str, serves: Iterable[str], may: Iterable[str]) -> dict:
    return {"name": name, "serves": json.dumps(sorted(serves), ensure_ascii=False), "may": json.dumps(sorted(may))}


def _user_params(u: User, kind: str, at: Any) -> dict:
    out = {
        "id": u.id,
        "name": u.name,
        "organisation": u.organisation,
        "roles": json.dumps(list(u.roles), ensure_ascii=False),
        "kind": kind,
    }
    if at is not None:
        out["at"] = at
    return out


def _store_rules(tx: Tx, config: Mapping[str, Any]) -> None:
    """Keep the confidential and first-receiver rules with the users: a configuration chosen later
    cannot make a confidential case readable (R-C10)."""
    for name in RULES:
        if config.get(name) is not None:
            tx.run("people_put_rule", {"name": name, "value": json.dumps(config[name], ensure_ascii=False)})


def _changed(tx: Tx) -> None:
    """Mark the people as changed: servers read them again on their next request."""
    tx.run("people_put_rule", {"name": "generation", "value": json.dumps(secrets.token_hex(8))})


def _event(at: datetime, actor: str | None, kind: str, detail: Mapping[str, Any]) -> dict:
    """A row of the hall's own history (no case behind it)."""
    return {
        "instance_id": None,
        "process_id": None,
        "at": at,
        "actor": actor,
        "kind": kind,
        "element": None,
        "task_id": None,
        "detail": json.dumps(detail, ensure_ascii=False),
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
