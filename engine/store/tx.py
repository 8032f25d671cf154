"""One open transaction: the named operations the runtime needs, nothing more.

Hot statements (every step's) are named SQL sent straight to the driver (``sql.py``, one file per
dialect); the rest are SQLAlchemy Core queries on the tables of ``schema.py``. A step's writes are a
``Step``, written by a ``StepWriter``: at once in one batch (``BatchWriter``), or queued for the
worker's grouped firing (``engine/jobs/group.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import sql
from .codecs import TIME_COLUMNS, TimeWriter, utc
from .schema import definitions, hall_flags, history, human_tasks, instances, sequences


def driver(conn: Connection) -> Any:
    """The driver's own connection under a SQLAlchemy one (sqlite3's or psycopg's): hot statements
    run on its cursors, without SQLAlchemy's per-statement work."""
    return conn.connection.dbapi_connection


_DEFINITION_BRIEF = [c for c in definitions.c if c.name not in ("source", "spec")]
# The result columns of the named SELECTs, read from their text once (asking the driver for a
# cursor's description builds column objects on every query).
_COLUMNS = {
    dialect: {name: sql.columns(text) for name, text in sql.texts(dialect).items() if text.startswith("SELECT ")}
    for dialect in sql.DIALECTS
}
# What an instance's cold load reads (one round trip on PostgreSQL: sent as one pipeline).
LOAD = ("instance", "task_rows", "ready_human_tasks", "jobs_of", "has_children")


def bundle(
    row: dict[str, Any], task_rows: dict[str, str], human: list[dict], jobs: list[dict], has_children: bool
) -> dict[str, Any]:
    """What a step needs of an instance it has not cached, as both loads return it (``Tx.load`` and
    the worker's group load): its row, task rows, ready human tasks, jobs, whether it has children."""
    return {"row": row, "task_rows": task_rows, "human": human, "jobs": jobs, "has_children": has_children}


@dataclass(slots=True)
class Step:
    """Everything one engine step writes: its jobs, changed and removed task rows, the instance row
    (checked against ``expected_version``; its status only when ``instance`` has one, i.e. when it
    changed) and its history rows."""

    instance_id: int
    expected_version: int
    instance: Mapping[str, Any]
    task_rows: Mapping[str, str]
    removed_rows: Sequence[str]
    job_deletes: Sequence[str]
    job_adds: Sequence[Mapping[str, Any]]
    history_rows: Sequence[Mapping[str, Any]]
    business_key: str | None = None  # the case's new business key, when the step set one
    search: Mapping[str, str] | None = None  # its search values ({field: value}) when they changed

    @property
    def rare(self) -> bool:
        """Whether the step sets a business key or changes searchable values (a few steps of a case)."""
        return self.business_key is not None or self.search is not None

    def rows(self, time: Any, simulated: bool | None = None) -> dict[str, Any]:
        """The rows to write by kind, times through ``time`` (the driver's form): jd/ja jobs deleted
        and added, tr/td task rows upserted and deleted, u the instance, h history (marked
        ``simulated`` when written at a simulated time). Both writers write these, so a step means
        the same whichever writes it."""
        i = self.instance_id
        instance = self.instance
        return {
            "jd": [{"i": i, "t": t} for t in self.job_deletes],
            "ja": [dict(j, due_at=time(j["due_at"]), created_at=time(j["created_at"])) for j in self.job_adds],
            "tr": [{"i": i, "t": k, "b": v} for k, v in self.task_rows.items()],
            "td": [{"i": i, "t": t} for t in self.removed_rows],
            "u": dict(
                instance,
                id=i,
                version=self.expected_version,
                new_version=self.expected_version + 1,
                updated_at=time(instance["updated_at"]),
                ended_at=time(instance["ended_at"]),
            ),
            "h": [dict(r, at=time(r["at"]), simulated=simulated) for r in self.history_rows],
            "k": [{"i": i, "k": self.business_key}] if self.business_key is not None else [],
            "sd": [{"i": i}] if self.search is not None else [],
            "si": [{"i": i, "f": f, "v": v} for f, v in (self.search or {}).items()],
        }


class StepWriter(Protocol):
    """Writes a step inside a transaction: True, or False when the version check failed (the caller
    must end the transaction). ``last``: no other write follows in this transaction."""

    def write(self, tx: Tx, step: Step, last: bool) -> bool: ...


# the named statement of each kind of step row, in the order a step writes them
_STEP_SQL = (
    ("jd", "delete_job_of"),
    ("ja", "insert_job"),
    ("tr", "upsert_task_rows"),
    ("td", "delete_task_rows"),
    ("k", "set_business_key"),
    ("sd", "delete_search"),
    ("si", "insert_search"),
)


class BatchWriter:
    """The ordinary writer: a step's rows in one batch (one round trip on PostgreSQL), now."""

    def write(self, tx: Tx, step: Step, last: bool) -> bool:
        rows = step.rows(tx.time, tx.simulated)
        ops: list[tuple[str, Any]] = []
        new_tasks = tx.take_new_tasks()
        if new_tasks:
            ops.append(("insert_human_task_as", new_tasks))
        ops.extend((name, rows[kind]) for kind, name in _STEP_SQL if rows[kind])
        check = len(ops)
        ops.append(("update_instance_status" if "status" in step.instance else "update_instance", rows["u"]))
        if rows["h"]:
            ops.append(("insert_history", rows["h"]))
        return tx.batch(ops)[check].rowcount == 1


BATCH = BatchWriter()


class Tx:
    """One open transaction: the named operations the runtime needs, nothing more."""

    writer: StepWriter = BATCH
    simulated: bool | None = None  # True when the engine's clock is simulated: its history rows say so

    def __init__(self, conn: Connection, dialect: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self._sql = sql.statements(dialect)
        self._columns = _COLUMNS[dialect]
        self._cursor: Any = None
        self._task_ids: list[int] = []  # human task ids taken ahead (the worker's group, PostgreSQL)
        self._new_tasks: list[dict] = []  # inserts of those ids, written with the step's save
        self.time = TimeWriter(dialect)  # times as the driver takes them

    def reserve_task_ids(self, ids: Sequence[int]) -> None:
        """Ids for the human tasks this transaction's steps create: their rows are then written
        with the step's save instead of one round trip each (the worker's group)."""
        self._task_ids.extend(ids)

    def take_new_tasks(self) -> list[dict]:
        """The human tasks created with reserved ids and not yet written (a writer writes them)."""
        new, self._new_tasks = self._new_tasks, []
        return new

    def sql(self, name: str) -> Any:
        """A named statement as this dialect's driver takes it."""
        return self._sql[name]

    def rows(self, name: str, params: Any) -> list[dict[str, Any]]:
        """A named query's rows as dicts, times as aware UTC datetimes on every backend."""
        return self.dicts(self.run(name, params), name)

    def dicts(self, cur: Any, name: str | None = None) -> list[dict[str, Any]]:
        """A cursor's remaining rows as dicts (columns of the named SELECT, else the description)."""
        known = self._columns.get(name) if name else None
        names: Sequence[str] = known if known is not None else [d[0] for d in cur.description]
        times = [i for i, n in enumerate(names) if n in TIME_COLUMNS]
        out = []
        for row in cur.fetchall():
            row = list(row)
            for i in times:
                row[i] = utc(row[i])
            out.append(dict(zip(names, row)))
        return out

    def batch(self, ops: Sequence[tuple[str, Any]]) -> list[Any]:
        """Run hot statements in order and return their cursors; on PostgreSQL they travel as one
        pipeline (one round trip instead of one each), on SQLite (in-process) one after another."""
        raw = driver(self.conn)
        if self.dialect != "postgresql":
            return [self._exec(raw.cursor(), name, params) for name, params in ops]
        with raw.pipeline():
            return [self._exec(raw.cursor(), name, params) for name, params in ops]

    def _exec(self, cur: Any, name: str, params: Any) -> Any:
        if isinstance(params, list):
            cur.executemany(self._sql[name], params)
        elif params is None:
            cur.execute(self._sql[name])
        else:
            cur.execute(self._sql[name], params)
        return cur

    def run(self, name: str, params: Any = None) -> Any:
        """A named statement on the driver's own cursor, inside this transaction; returns the cursor."""
        cur = self._cursor
        if cur is None:
            cur = self._cursor = driver(self.conn).cursor()
        return self._exec(cur, name, params)

    # -- definitions ------------------------------------------------------------------
    def latest_definition(self, process_id: str) -> Mapping[str, Any] | None:
        """The latest version's row without its source and spec (large; `definition(id)` has them);
        hot SQL: every start asks for it."""
        rows = self.rows("latest_definition", {"p": process_id})
        return rows[0] if rows else None

    def definition(self, definition_id: int) -> Mapping[str, Any] | None:
        return _first(self.conn.execute(sa.select(definitions).where(definitions.c.id == definition_id)))

    def add_definition(self, **values: Any) -> int:
        return _new_id(self.conn.execute(definitions.insert().values(**values)))

    def cases_per_definition(self) -> dict[int, dict[str, int]]:
        """How many cases each deployed version has, by status: {definition id: {status: count}}."""
        q = sa.select(instances.c.definition_id, instances.c.status, sa.func.count()).group_by(
            instances.c.definition_id, instances.c.status
        )
        out: dict[int, dict[str, int]] = {}
        for definition_id, status, n in self.conn.execute(q):
            out.setdefault(int(definition_id), {})[str(status)] = int(n)
        return out

    def withdraw_definition(self, definition_id: int, at: datetime) -> None:
        """Mark a version withdrawn for new cases (`hall rollback`): `latest_definition` passes it over."""
        self.conn.execute(definitions.update().where(definitions.c.id == definition_id).values(withdrawn_at=at))

    def delete_definition(self, definition_id: int) -> None:
        """Remove a deployed version that no case uses (`hall undeploy`)."""
        self.conn.execute(definitions.delete().where(definitions.c.id == definition_id))

    def list_definitions(self) -> list[Mapping[str, Any]]:
        q = sa.select(*_DEFINITION_BRIEF).order_by(definitions.c.process_id, definitions.c.version)
        return _all(self.conn.execute(q))

    # -- instances --------------------------------------------------------------------
    def insert_instance(self, **values: Any) -> int:
        # values as parameters, not in the statement: its compiled form is then cached (keying a
        # statement on its state and variables texts cost more than the rest of a start)
        return _new_id(self.conn.execute(instances.insert(), values))

    def instance(self, instance_id: int) -> dict[str, Any] | None:
        rows = self.rows("instance", {"id": instance_id})
        return rows[0] if rows else None

    def load(self, instance_id: int) -> dict[str, Any] | None:
        """What a step needs of an instance it has not cached (``bundle``); None if there is no such
        instance."""
        cursors = dict(zip(LOAD, self.batch([(name, {"id": instance_id}) for name in LOAD])))
        rows = self.dicts(cursors["instance"], "instance")
        if not rows:
            return None
        return bundle(
            rows[0],
            dict(cursors["task_rows"].fetchall()),
            self.dicts(cursors["ready_human_tasks"], "ready_human_tasks"),
            self.dicts(cursors["jobs_of"], "jobs_of"),
            cursors["has_children"].fetchone() is not None,
        )

    def save_step(
        self,
        instance_id: int,
        expected_version: int,
        instance: Mapping[str, Any],
        task_rows: Mapping[str, str],
        removed_rows: Sequence[str],
        job_deletes: Sequence[str],
        job_adds: Sequence[Mapping[str, Any]],
        history_rows: Sequence[Mapping[str, Any]],
        last: bool = False,
        business_key: str | None = None,
        search: Mapping[str, str] | None = None,
    ) -> bool:
        """Everything a step writes (``Step``), through this transaction's writer. False if the version
        check failed: the caller must end the transaction. ``last``: no other write follows in this
        transaction (the worker's group then queues it for the group's one save)."""
        step = Step(
            instance_id,
            expected_version,
            instance,
            task_rows,
            removed_rows,
            job_deletes,
            job_adds,
            history_rows,
            business_key,
            search,
        )
        return self.writer.write(self, step, last)

    def instance_version(self, instance_id: int, lock: bool = False) -> tuple[int, str] | None:
        """Version and status; on PostgreSQL the row stays locked until the transaction ends."""
        row = self.run("instance_version", {"id": instance_id}).fetchone()
        return (row[0], row[1]) if row else None

    def task_for_update(self, task_id: int) -> Mapping[str, Any] | None:
        """A human task with its instance's version, the instance row locked (PostgreSQL)."""
        cur = self.run("task_for_update", {"id": task_id})
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def list_instances(
        self,
        process: str | None = None,
        status: str | None = None,
        business_key: str | None = None,
        limit: int = 200,
        count: bool = False,
    ) -> Any:
        """Instances by these filters, newest first, at most `limit`; with `count` how many there are."""
        cols = [c for c in instances.c if c.name not in ("state",)]
        q = sa.select(sa.func.count()).select_from(instances) if count else sa.select(*cols)
        if process:
            q = q.where(instances.c.process_id == process)
        if status:
            q = q.where(instances.c.status == status)
        if business_key:
            q = q.where(instances.c.business_key == business_key)
        if count:
            return self.conn.execute(q).scalar_one()
        return _all(self.conn.execute(q.order_by(instances.c.id.desc()).limit(limit)))

    def count_instances_where(
        self, process: str | None = None, status: str | None = None, business_key: str | None = None
    ) -> int:
        """How many instances `list_instances` with these filters would return without its limit."""
        return self.list_instances(process, status, business_key, count=True)

    def business_key_taken(self, process_id: str, key: str, instance_id: int | None) -> int | None:
        """Another case of the process with this business key, if any; the (process, key) pair stays
        locked until the transaction ends (PostgreSQL; SQLite's write lock is held already)."""
        params = {"p": process_id, "k": key, "i": instance_id or 0}
        cursors = self.batch([("lock_business_key", params), ("business_key_taken", params)])
        row = cursors[1].fetchone()
        return row[0] if row else None

    def find_cases(self, text: str, substring: bool, before: int, limit: int) -> list[int]:
        """Ids of cases older than `before`, newest first, at most `limit`, with a search value that
        starts with (or, with `substring`, contains) the normalised `text`."""
        if substring:
            cur = self.run("find_substring", {"t": text, "before": before, "n": limit})
        else:
            cur = self.run("find_prefix", {"prefix": text, "before": before, "n": limit})
        return [r[0] for r in cur.fetchall()]

    def search_sources(self, after: int, limit: int) -> list[tuple[int, str | None, str]]:
        """(id, business key, variables text) of the cases after id `after`, in id order (a reindex)."""
        q = (
            sa.select(instances.c.id, instances.c.business_key, instances.c.variables)
            .where(instances.c.id > after)
            .order_by(instances.c.id)
            .limit(limit)
        )
        return [(r[0], r[1], r[2]) for r in self.conn.execute(q)]

    def rewrite_search(self, ids: Sequence[int], values: Mapping[int, Mapping[str, str]]) -> None:
        """Replace the search rows of these cases by `values` ({id: {field: value}})."""
        ops: list[tuple[str, Any]] = [("delete_search", [{"i": i} for i in ids])]
        rows = [{"i": i, "f": f, "v": v} for i in ids for f, v in (values.get(i) or {}).items()]
        if rows:
            ops.append(("insert_search", rows))
        self.batch(ops)

    def instances_by_id(self, ids: Sequence[int]) -> dict[int, Mapping[str, Any]]:
        """The rows (without their state) of these instances, by id."""
        if not ids:
            return {}
        cols = [c for c in instances.c if c.name != "state"]
        rows = _all(self.conn.execute(sa.select(*cols).where(instances.c.id.in_(sorted(set(ids))))))
        return {r["id"]: r for r in rows}

    def count_instances(self) -> list[tuple[str, str, int]]:
        q = sa.select(instances.c.process_id, instances.c.status, sa.func.count()).group_by(
            instances.c.process_id, instances.c.status
        )
        return [tuple(r) for r in self.conn.execute(q)]

    def children(self, instance_id: int) -> list[Mapping[str, Any]]:
        q = (
            sa.select(instances.c.id, instances.c.process_id, instances.c.business_key, instances.c.status)
            .where(instances.c.parent_id == instance_id)
            .order_by(instances.c.id)
        )
        return _all(self.conn.execute(q))

    def instance_brief(self, instance_id: int) -> Mapping[str, Any] | None:
        q = sa.select(instances.c.id, instances.c.process_id, instances.c.business_key, instances.c.status).where(
            instances.c.id == instance_id
        )
        return _first(self.conn.execute(q))

    # -- human tasks ------------------------------------------------------------------
    def insert_human_task(self, **values: Any) -> int:
        params = dict(
            values,
            created_at=self.time(values["created_at"]),
            due_at=self.time(values["due_at"]),
            warn_at=self.time(values["warn_at"]),
        )
        if self._task_ids:  # an id taken ahead: the row goes with the step's save (no round trip now)
            params["id"] = self._task_ids.pop()
            self._new_tasks.append(params)
            return params["id"]
        if self.dialect == "sqlite":  # the row id without RETURNING: half the statement's cost
            return self.run("insert_human_task", params).lastrowid
        return self.run("insert_human_task", params).fetchone()[0]

    def human_task(self, task_id: int) -> Mapping[str, Any] | None:
        return _first(self.conn.execute(sa.select(human_tasks).where(human_tasks.c.id == task_id)))

    def ready_human_tasks(self, instance_id: int) -> list[dict[str, Any]]:
        return self.rows("ready_human_tasks", {"id": instance_id})

    def finish_human_task(self, task_id: int, status: str, at: datetime, by: str | None) -> bool:
        """Mark a ready task completed/cancelled; False if it was no longer ready (someone beat us)."""
        params = {"status": status, "at": self.time(at), "by": by, "id": task_id}
        return self.run("finish_human_task", params).rowcount == 1

    def provisional_task_instances(self) -> list[int]:
        """The cases with a ready task whose deadline is marked provisional (R-T1)."""
        return [r["instance_id"] for r in self.rows("provisional_task_instances", {})]

    def move_task_deadline(self, task_id: int, due_at: datetime, provisional: bool) -> bool:
        """Set a ready task's deadline counted again; False if the task is no longer ready."""
        params = {"due_at": self.time(due_at), "provisional": provisional, "id": task_id}
        return self.run("move_task_deadline", params).rowcount == 1

    def set_assignee(self, task_id: int, assignee: str | None, expected: str | None) -> bool:
        cond = human_tasks.c.assignee.is_(None) if expected is None else human_tasks.c.assignee == expected
        q = (
            human_tasks.update()
            .where(human_tasks.c.id == task_id, human_tasks.c.status == "ready", cond)
            .values(assignee=assignee)
        )
        return self.conn.execute(q).rowcount == 1

    def query_tasks(
        self,
        role: str | None = None,
        assignee: str | None = None,
        process: str | None = None,
        instance: int | None = None,
        status: str = "ready",
        limit: int = 500,
        count: bool = False,
        organisation: str | None = None,
    ) -> Any:
        """Tasks by these filters, most urgent first, at most `limit`; with `count` how many there are.
        `organisation` keeps the tasks bound to no organisation and those of that one ("": none)."""
        # 'ready' written into the statement: the partial queue indexes are planned for it on every backend
        q = sa.select(human_tasks).where(
            human_tasks.c.status == (sa.literal_column("'ready'") if status == "ready" else status)
        )
        if role:  # the role column lists a task's candidate groups `a,b`: match any of them
            listed = sa.literal(",") + human_tasks.c.role + sa.literal(",")
            q = q.where(
                sa.or_(
                    human_tasks.c.role == role,
                    sa.and_(human_tasks.c.role.contains(","), listed.contains(f",{role},", autoescape=True)),
                )
            )
        if assignee:
            q = q.where(human_tasks.c.assignee == assignee)
        if process:
            q = q.where(human_tasks.c.process_id == process)
        if instance is not None:
            q = q.where(human_tasks.c.instance_id == instance)
        if organisation is not None:
            q = q.where(sa.or_(human_tasks.c.organisation.is_(None), human_tasks.c.organisation == organisation))
        if count:  # by the very same filters
            return self.conn.execute(sa.select(sa.func.count()).select_from(q.subquery())).scalar_one()
        q = q.order_by(human_tasks.c.due_at.is_(None), human_tasks.c.due_at, human_tasks.c.id).limit(limit)
        return _all(self.conn.execute(q))

    def count_tasks(
        self,
        role: str | None = None,
        assignee: str | None = None,
        process: str | None = None,
        instance: int | None = None,
        status: str = "ready",
    ) -> int:
        """How many tasks `query_tasks` with these filters would return without its limit."""
        return self.query_tasks(role, assignee, process, instance, status, count=True)

    # -- history ------------------------------------------------------------------------
    def add_history(self, rows: Sequence[Mapping[str, Any]]) -> None:
        if rows:
            self.run("insert_history", [dict(r, at=self.time(r["at"]), simulated=self.simulated) for r in rows])

    def history(self, instance_id: int | None) -> list[Mapping[str, Any]]:
        """An instance's history, or with None the hall-wide rows that have no case."""
        where = history.c.instance_id.is_(None) if instance_id is None else history.c.instance_id == instance_id
        return _all(self.conn.execute(sa.select(history).where(where).order_by(history.c.id)))

    def purge_record(self, instance_id: int) -> Mapping[str, Any] | None:
        """The row `hall purge` left for a deleted instance, or None."""
        q = sa.select(history).where(history.c.instance_id == instance_id, history.c.kind == "purged").limit(1)
        return _first(self.conn.execute(q))

    def last_event_at(self, instance_id: int) -> datetime | None:
        return self.conn.execute(sa.select(instances.c.updated_at).where(instances.c.id == instance_id)).scalar()

    # -- drafts of task forms (schema v8) ---------------------------------------------------
    def save_draft(self, task_id: int, user: str, data: str, at: datetime) -> None:
        """Keep (or replace) what `user` typed into a task's form, as JSON text."""
        self.run("save_draft", {"t": task_id, "u": user, "d": data, "at": self.time(at)})

    def draft(self, task_id: int, user: str) -> dict[str, Any] | None:
        """The draft `user` keeps for a task: {data (JSON text), saved_at}, or None."""
        found = self.rows("load_draft", {"t": task_id, "u": user})
        return found[0] if found else None

    def delete_draft(self, task_id: int, user: str) -> bool:
        """Drop a draft; whether there was one."""
        return bool(self.run("delete_draft", {"t": task_id, "u": user}).rowcount)

    def flag(self, name: str) -> str | None:
        """A fact about the database (``hall_flags``, schema v6), or None when it is not set."""
        return self.conn.execute(sa.select(hall_flags.c.value).where(hall_flags.c.name == name)).scalar()

    # -- numbering ------------------------------------------------------------------------
    def next_sequence(self, name: str, period: str) -> int:
        """Atomically take the next number of a named sequence for a period (unique across workers)."""
        insert: Any
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        q = insert(sequences).values(name=name, period=period, value=1)
        q = q.on_conflict_do_update(index_elements=["name", "period"], set_={"value": sequences.c.value + 1})
        return self.conn.execute(q.returning(sequences.c.value)).scalar_one()

    # -- what cases wait for: messages and signals (issue 12) -----------------------------------
    def replace_event_waits(
        self, instance_id: int, process_id: str, waits: Sequence[tuple[str, str, str | None, str]]
    ) -> None:
        """The case's waits (kind, name, correlation key, element) replace those stored for it."""
        ops: list[tuple[str, Any]] = [("delete_event_waits", {"i": instance_id})]
        if waits:
            rows = [
                {"i": instance_id, "p": process_id, "kind": kind, "name": name, "key": key, "element": element}
                for kind, name, key, element in waits
            ]
            ops.append(("insert_event_wait", rows))
        self.batch(ops)

    def event_waiters(
        self, kind: str, name: str, key: str | None = None, any_key: bool = False
    ) -> list[tuple[int, str]]:
        """(instance, process) of the running cases waiting for a signal, or a message with this
        correlation key (with ``any_key``: whatever their key), oldest first."""
        if kind == "signal":
            rows = self.run("signal_waiters", {"name": name}).fetchall()
        elif any_key:
            rows = self.run("message_waiters_any_key", {"name": name}).fetchall()
        else:
            rows = self.run("message_waiters", {"name": name, "key": key}).fetchall()
        return list(dict.fromkeys((r[0], r[1]) for r in rows))

    def latest_definition_ids(self) -> list[int]:
        """The id of the latest version of each deployed process."""
        latest: dict[str, tuple[int, int]] = {}
        for d in self.list_definitions():
            if d["process_id"] not in latest or d["version"] > latest[d["process_id"]][0]:
                latest[d["process_id"]] = (d["version"], d["id"])
        return [definition_id for _version, definition_id in latest.values()]


def _first(result: sa.CursorResult[Any]) -> Mapping[str, Any] | None:
    """The first row of a Core query as a mapping, or None."""
    return result.mappings().first()  # type: ignore[return-value]  # RowMapping is a Mapping[str, Any]


def _all(result: sa.CursorResult[Any]) -> list[Mapping[str, Any]]:
    """Every row of a Core query as mappings."""
    return list(result.mappings())  # type: ignore[arg-type]  # RowMapping is a Mapping[str, Any]


def _new_id(result: sa.CursorResult[Any]) -> int:
    """The primary key of the row an INSERT made."""
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has one
    return int(key[0])
