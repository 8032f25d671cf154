"""The Python API of hall: what integrators call, and what the `hall` command calls.

Open an engine on a database URL, deploy definitions, start instances, work on tasks.
Every method returns plain dicts/lists (the documented JSON contract) and raises HallError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from .access import AccessPolicy, People, User
from .access.directory import Directory
from .clock import Clock
from .dataio import check_key, check_value, shown, text_problem
from .errors import (
    ConfigInvalid,
    DataInvalid,
    DefinitionInvalid,
    FormInvalid,
    HallError,
    InstanceNotActive,
    InstanceNotFound,
    InstanceNotVisible,
    MessageNotWaited,
    PermissionDenied,
    ProcessNotFound,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
    TaskNotFound,
    TaskNotReady,
)
from .jobs import table as jobtable
from .runtime import DeadlineResolver, Runtime, Step
from .search import CaseFields, normalise
from .services import Services
from .store import Store, Tx, dumps
from .view import history_view, iso, loads, read_instance, read_links, task_view

STATUSES = ("running", "completed", "cancelled", "incident", "suspended")
UNFINISHED = ("running", "incident", "suspended")


class Engine:
    """A hall engine on one database. Cheap to open; safe to use from one thread."""

    def __init__(
        self,
        url: str = "hall.db",
        *,
        clock: Clock | None = None,
        forms_dir: str | Path | None = "forms",
        settings: Mapping[str, Any] | None = None,
        deadlines: DeadlineResolver | None = None,
        functions: Mapping[str, Any] | None = None,
        people: People | None = None,
        services: Mapping[str, Any] | None = None,
    ) -> None:
        from . import restricted, scriptlib, timing

        self.clock = clock or Clock()
        self._rehearsal: bool | None = None  # read once: whether the database is a rehearsal (engine.clock)
        self.settings = dict(settings or {})
        # Who may do what, and see what (hall.yaml `users`, `roles`, `confidential`, `first_receiver`;
        # engine.access): with no user configured everybody may do everything. user=None is the system
        # (worker, in-process callers) unless require_user is set (the `hall` command: --user). Without
        # a `confidential` / `first_receiver` section no case is confidential and only who started a
        # case received it first; the `hall` command adds the hall's own (servicehall.access).
        self.access = AccessPolicy(people if people is not None else People.from_config(self.settings))
        self.require_user = False
        self.store = Store(url)
        self.store.simulated = True if self.clock.simulated else None  # history rows written now say so
        self.forms_dir = Path(forms_dir) if forms_dir else None
        self._forms: Any = None
        self.deadlines = deadlines or timing.CalendarDeadlines.from_settings(self.settings)
        fns = dict(scriptlib.functions(self.settings, self.deadlines))
        fns.update(functions or {})
        # service tasks' handlers: hall.yaml's import paths, and callables given here (engine/services.py)
        handlers = dict(self.settings.get("services") or {})
        handlers.update(services or {})
        # which variables name a case's customer and are searchable (hall.yaml `cases`; engine.search)
        self.fields = CaseFields.from_settings(self.settings)
        try:
            script_timeout = restricted.timeout_of(self.settings)  # hall.yaml scripts: {timeout: 2 seconds}
        except ValueError as exc:
            raise ConfigInvalid(str(self.settings.get("_source", "configuration")), None, str(exc)) from None
        self.runtime = Runtime(
            self.store, self.clock, self.deadlines, fns, Services(handlers), self.fields, script_timeout
        )
        self._schema_checked = False
        self._directory: Directory | None = None

    @property
    def people(self) -> People:
        """The configured users, roles and case rules the access policy judges by."""
        return self.access.people

    @people.setter
    def people(self, people: People) -> None:
        self.access = AccessPolicy(people)

    def _check_data(self, data: Mapping[str, Any], source: str = "data") -> dict:
        """Data entering a case (start, complete, message, retry): identifiers, storable, and no name
        a script would see as part of its environment (engine.restricted)."""
        return _check_data(data, self._check_names, source)

    def _check_names(self, data: Mapping[str, Any], source: str = "data") -> None:
        """DataInvalid naming the first variable that would shadow the scripts' environment."""
        from . import restricted

        name = restricted.shadowing(data, self.runtime.function_names)
        if name is not None:
            raise DataInvalid(
                source,
                f"variable {name!r} would shadow the scripts' environment (names starting with _, "
                "__builtins__, globals, eval, open, the value types and script functions such as "
                "next_number); rename it",
            )

    def close(self) -> None:
        """Close the database connections."""
        self.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- schema -------------------------------------------------------------------------------
    def init(self, rehearsal: bool | None = None) -> dict:
        """Create the schema, or upgrade an older one in place; idempotent. `rehearsal`: a new database
        is made for rehearsals (simulated time allowed); None: when this engine's clock is simulated
        (a test's or a scenario runner's FixedClock), so their databases are rehearsals without a word."""
        if rehearsal is None:
            rehearsal = self.clock.simulated and self.store.schema_version(create=True) is None
        before, after = self.store.init(self.clock.now(), self.runtime.fields, rehearsal=rehearsal)
        self._rehearsal = None
        self._schema_checked = True
        self.directory.refresh()  # the users kept in the database, for what this engine does next
        return {"database": self.store.url, "schema_before": before, "schema": after}

    def reindex(self, user: str | None = None, batch: int = 2000) -> dict:
        """Index every case anew for `find` (after hall.yaml's `cases.search` changed); needs `manage`.
        Returns how many cases and values were indexed."""
        self._require(user, "manage", "reindex", "the search index")
        cases = values = 0
        after = 0
        while True:
            with self._tx() as tx:
                found = tx.search_sources(after, batch)
                if not found:
                    break
                rows = {i: self.fields.values(loads(v), key) for i, key, v in found}
                tx.rewrite_search([i for i, _k, _v in found], rows)
            cases += len(found)
            values += sum(len(r) for r in rows.values())
            after = found[-1][0]
        return {"cases": cases, "values": values}

    def _tx(self, write: bool = True) -> Any:
        self._ready()
        return self.store.tx(write)

    def _ready(self) -> None:
        """Once per engine, before the first transaction or the first actor is judged: the schema is
        checked, and users kept in the database replace hall.yaml's (issue 16)."""
        if not self._schema_checked:
            self.store.check_schema()
            self._schema_checked = True
            self.directory.refresh()

    def transaction(self, write: bool = True) -> Any:
        """A store transaction (a context manager), for modules built on the engine."""
        return self._tx(write)

    @property
    def directory(self) -> Directory:
        """The users, roles and tokens kept in the database (engine/access/directory.py)."""
        if self._directory is None:
            self._directory = Directory(self, self.people)
        return self._directory

    # -- forms ----------------------------------------------------------------------------------
    @property
    def forms(self) -> Any:
        """The forms library of `forms_dir` (read on first use), or None without a forms folder."""
        if self._forms is None and self.forms_dir is not None:
            from .forms import FormLibrary

            self._forms = FormLibrary(self.forms_dir, lists=self.settings)
        return self._forms

    def form(self, name: str | None) -> Any:
        """The form of that name, or None when the task has no form or there is no forms folder."""
        if not name or self.forms is None:
            return None
        return self.forms.get(name)

    # -- definitions ------------------------------------------------------------------------------
    def validate(self, paths: Iterable[str | Path], lint: bool = False) -> list[Any]:
        """Every finding (`definitions.Finding`) for the given files/folders; no error means deployable.
        With `lint`, also the warnings of engine.lint (missing shapes, bpmnlint's rules, variables
        nothing sets), which `lint.is_warning` tells apart."""
        from .definitions import collect_files

        sources, findings = collect_files(paths)
        more, _compiled = self._checker().check(sources)
        if not lint:
            return findings + more
        from . import lint as linting
        from . import restricted

        known = set(restricted.RESERVED) | set(self.runtime.function_names)
        return findings + more + linting.lint(sources, self._form_fields, known)

    def _form_fields(self, name: str) -> list[str] | None:
        """The field names of a form, or None when it cannot be read (for engine.lint)."""
        try:
            form = self.form(name)
        except HallError:
            return None
        return [f.name for f in form.fields] if form is not None else None

    def _checker(self) -> Any:
        from .definitions import Checker

        forms = self.forms
        return Checker(
            form_exists=forms.exists if forms is not None else None,
            form_problems=forms.problems if forms is not None else None,
            deadline_problem=self.deadlines.problem,
        )

    def deploy(
        self,
        paths: Iterable[str | Path] = ("processes",),
        user: str | None = None,
        progress: Callable[[str, str, int, int], None] | None = None,
    ) -> list[dict]:
        """Store a new version of each process whose file changed; unchanged files are a no-op.

        `progress(phase, name, done, total)`, if given, is told each step as it starts: ("check", a
        BPMN file, files checked before it, files), then ("store", a process id, processes stored
        before it, processes); a terminal draws it (the CLI), the engine prints nothing."""
        from .definitions import collect_files, content_hash

        self._require(user, "deploy", "deploy", "process definitions")
        sources, findings = collect_files(paths)
        checking = None if progress is None else lambda path, done, total: progress("check", path, done, total)
        more, compiled = self._checker().check(sources, checking)
        findings += more
        if findings:
            raise DefinitionInvalid(findings)
        now = self.clock.now()
        results = []
        with self._tx() as tx:
            for done, (pid, proc) in enumerate(sorted(compiled.items())):
                if progress is not None:
                    progress("store", pid, done, len(compiled))
                path = proc.source_file
                digest = content_hash(sources[path], *(sources[f] for f in proc.decision_files))
                latest = tx.latest_definition(pid)
                if latest is not None and latest["content_hash"] == digest:
                    results.append({"process": pid, "version": latest["version"], "file": path, "changed": False})
                    continue
                version = _next_version(tx, pid)  # after a withdrawn (rolled back) version too
                definition_id = tx.add_definition(
                    process_id=pid,
                    version=version,
                    name=proc.name,
                    content_hash=digest,
                    source_file=path,
                    source=sources[path].decode("utf-8", "replace"),
                    spec=proc.to_json(),
                    deployed_at=now,
                    deployed_by=user,
                )
                self.runtime.schedule_start_timers(tx, pid, definition_id)
                results.append({"process": pid, "version": version, "file": path, "changed": True})
        return results

    def deploy_check(self, paths: Iterable[str | Path] = ("processes",), user: str | None = None) -> list[dict]:
        """What deploying `paths` would change, without storing anything: for each changed process its
        next version and its unfinished cases (running, incident, suspended), each `movable` to the new
        version by `retry --latest`'s rule or `blocking` on the elements missing from it."""
        from .definitions import collect_files, content_hash

        self._require(user, "deploy", "check", "process definitions")
        sources, findings = collect_files(paths)
        more, compiled = self._checker().check(sources)
        findings += more
        if findings:
            raise DefinitionInvalid(findings)
        out = []
        with self._tx(write=False) as tx:
            for pid, proc in sorted(compiled.items()):
                digest = content_hash(sources[proc.source_file], *(sources[f] for f in proc.decision_files))
                latest = tx.latest_definition(pid)
                if latest is not None and latest["content_hash"] == digest:
                    continue
                names = set(proc.spec.task_specs)
                cases = []
                for status in ("running", "incident", "suspended"):
                    for row in tx.list_instances(pid, status, None, limit=100_000):
                        # spiff's helper specs (`investigate.BoundaryEventSplit`) named by their element
                        missing = sorted({m.split(".")[0] for m in self.runtime.elements_of(tx, row["id"]) - names})
                        cases.append(
                            {
                                "id": row["id"],
                                "business_key": row["business_key"],
                                "status": status,
                                "movable": not missing,
                                "blocking": missing,
                            }
                        )
                version = _next_version(tx, pid)
                out.append({"process": pid, "version": version, "file": proc.source_file, "cases": cases})
        return out

    def start_schedule(self) -> list[dict]:
        """Processes started by a timer start event, with the next firing of each."""
        with self._tx(write=False) as tx:
            return [
                {"process": j["process_id"], "element": j["element"], "due_at": iso(j["due_at"]), "fired": j["fired"]}
                for j in jobtable.start_jobs(tx)
            ]

    def definitions(self) -> list[dict]:
        """Every deployed version of every process, as `hall definitions` lists them, with its cases
        by status (`cases`) and how many are unfinished (`running`: running, incident, suspended)."""
        with self._tx(write=False) as tx:
            counts = tx.cases_per_definition()
            return [
                {
                    "process": d["process_id"],
                    "version": d["version"],
                    "name": d["name"],
                    "file": d["source_file"],
                    "deployed_at": iso(d["deployed_at"]),
                    "deployed_by": d["deployed_by"],
                    "cases": counts.get(d["id"], {}),
                    "running": sum(n for k, n in counts.get(d["id"], {}).items() if k in UNFINISHED),
                    "withdrawn": d["withdrawn_at"] is not None,
                }
                for d in tx.list_definitions()
            ]

    def undeploy(self, process: str, version: int, user: str | None = None) -> dict:
        """Withdraw a deployed version no case uses (none started on it, or all purged); when it was the
        latest, new cases start the previous version again (its start timers take over). Recorded in
        the hall's own history (`undeployed`). Needs the `deploy` permission."""
        self._require(user, "deploy", "undeploy", f"process {process}")
        with self._tx() as tx:
            rows = [d for d in tx.list_definitions() if d["process_id"] == process]
            if not rows:
                raise ProcessNotFound(process)
            row = next((d for d in rows if d["version"] == version), None)
            if row is None:
                known = ", ".join(str(d["version"]) for d in rows)
                raise HallError(f"process {process} has no version {version} (deployed: {known})")
            cases = tx.cases_per_definition().get(row["id"], {})
            if cases:
                listed = ", ".join(f"{n} {status}" for status, n in sorted(cases.items()))
                raise HallError(
                    f"{process} v{version} still has {sum(cases.values())} case(s) ({listed}): a version is "
                    "withdrawn only when no case is on it; nothing was changed"
                )
            active_before = [d for d in rows if d["withdrawn_at"] is None]
            latest = bool(active_before) and row["id"] == active_before[-1]["id"]
            tx.delete_definition(row["id"])
            left = [d for d in rows if d["id"] != row["id"]]
            if latest:
                remaining = [d for d in left if d["withdrawn_at"] is None]
                if remaining:
                    self.runtime.schedule_start_timers(tx, process, remaining[-1]["id"])
                else:
                    jobtable.replace_start_jobs(tx, process, [])
            active = [d for d in left if d["withdrawn_at"] is None]
            detail = {"process": process, "version": version, "latest": active[-1]["version"] if active else None}
            self._hall_event(tx, "undeployed", process, user, detail)
        return detail

    def rollback(self, process: str, user: str | None = None) -> dict:
        """Withdraw the latest version for new cases: they start the previous version again (its start
        timers take over); the latest version's cases run on. Recorded in the hall's own history
        (`rolled_back`). Needs the `deploy` permission."""
        self._require(user, "deploy", "roll back", f"process {process}")
        with self._tx() as tx:
            rows = [d for d in tx.list_definitions() if d["process_id"] == process]
            if not rows:
                raise ProcessNotFound(process)
            active = [d for d in rows if d["withdrawn_at"] is None]
            if len(active) < 2:
                raise HallError(
                    f"{process} has no earlier version to roll back to (versions: "
                    + ", ".join(f"v{d['version']}" + (" withdrawn" if d["withdrawn_at"] else "") for d in rows)
                    + "); nothing was changed"
                )
            latest, previous = active[-1], active[-2]
            tx.withdraw_definition(latest["id"], self.clock.now())
            self.runtime.schedule_start_timers(tx, process, previous["id"])
            cases = tx.cases_per_definition().get(latest["id"], {})
            detail = {
                "process": process,
                "from": latest["version"],
                "to": previous["version"],
                "running": sum(n for k, n in cases.items() if k in UNFINISHED),
            }
            self._hall_event(tx, "rolled_back", process, user, detail)
        return detail

    def _hall_event(self, tx: Tx, kind: str, process: str, user: str | None, detail: dict) -> None:
        """A row of the hall's own history (no case behind it) about a process."""
        row = {
            "instance_id": None,
            "process_id": process,
            "at": self.clock.now(),
            "actor": user,
            "kind": kind,
            "element": None,
            "task_id": None,
            "detail": dumps(detail),
        }
        tx.add_history([row])

    def definition_source(self, process: str, version: int | None = None) -> dict:
        """A deployed version's BPMN text (default the latest): `{process, version, file, source}`,
        for drawing it (`hall diagram`)."""
        with self._tx(write=False) as tx:
            rows = [d for d in tx.list_definitions() if d["process_id"] == process]
            if not rows:
                raise ProcessNotFound(process)
            row = rows[-1] if version is None else next((d for d in rows if d["version"] == version), None)
            if row is None:
                known = ", ".join(str(d["version"]) for d in rows)
                raise HallError(f"process {process} has no version {version} (deployed: {known})")
            full = tx.definition(row["id"])
            assert full is not None  # listed in the same transaction
            return {"process": process, "version": row["version"], "file": row["source_file"], "source": full["source"]}

    # -- instances ------------------------------------------------------------------------------
    def start(
        self,
        process: str,
        business_key: str | None = None,
        data: Mapping[str, Any] | None = None,
        user: str | None = None,
    ) -> dict:
        """Start the latest version of a process and run it until it waits for someone."""
        actor = self._actor(user, "start")
        check_key(process, "process")
        if business_key is not None:
            check_key(business_key, "business key")
        payload = self._check_data(data or {})
        with self._tx() as tx:
            instance_id = self.runtime.start(tx, process, business_key, payload, user)
        return self._fresh_view(instance_id, actor)

    def _fresh_view(self, instance_id: int, actor: User | None = None) -> dict:
        """The view of an instance just saved: from the runtime's cache, links read only if it has any."""
        view = self.runtime.view(instance_id)
        if view is None:
            return self.access.present_instance(actor, self.show(instance_id))
        if view["links"] is None:
            with self._tx(write=False) as tx:
                view["links"] = read_links(tx, instance_id, self.runtime.parent_of(instance_id))
        return self.access.present_instance(actor, view)

    def show(self, instance_id: int, user: str | None = None) -> dict:
        """An instance as `user` may see it (R-C10 placeholder for confidential cases; R-F6 first receiver)."""
        with self._guard():
            actor = self._actor(user, "show")
            with self._tx(write=False) as tx:
                row = self._instance_row(tx, instance_id, actor)
                self.access.check_instance(actor, row, "show", tx)
                view = read_instance(tx, row)
            return self.access.present_instance(actor, view)

    def instances(
        self,
        process: str | None = None,
        status: str | None = None,
        business_key: str | None = None,
        user: str | None = None,
        limit: int = 200,
    ) -> Page:
        """Instances newest first, at most `limit` (the result's `.total` says how many there were when
        it was cut); a user sees the cases of their roles, assigned or first received by them."""
        if status is not None and status not in STATUSES:
            raise HallError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        limit = _limit(limit)
        actor = self._actor(user, "instances")
        with self._tx(write=False) as tx:
            self._known_process(tx, process)
            found = tx.list_instances(process, status, business_key, limit=limit + 1)
            cut = len(found) > limit
            rows = self.access.visible_instances(actor, found[:limit], tx)
            versions = {d["id"]: d["version"] for d in tx.list_definitions()}
            page = Page(self._brief(r, actor, versions) for r in rows)
            if cut:
                page.cut(tx.count_instances_where(process, status, business_key) if actor is None else None)
            return page

    def _brief(self, row: Mapping[str, Any], actor: User | None, versions: Mapping[int, int] | None = None) -> dict:
        """An instance as `instances` and `find` list it, with its customer (hall.yaml `cases.customer`;
        None for a confidential case the actor may not read)."""
        variables = loads(row["variables"])
        hidden = actor is not None and self.access.hides(actor, variables)
        return {
            "id": row["id"],
            "process": row["process_id"],
            "business_key": row["business_key"],
            "status": row["status"],
            "started_at": iso(row["started_at"]),
            "ended_at": iso(row["ended_at"]),
            "customer": None if hidden else self.fields.customer_of(variables),
            **({"version": versions.get(row["definition_id"])} if versions is not None else {}),
        }

    def find(self, text: str, user: str | None = None, limit: int = 50) -> Page:
        """Cases whose business key or searchable variables (hall.yaml `cases.search`: names, phone
        numbers...) contain `text`, compared normalised (engine.search): those with a value starting
        with it first, then the others, newest first within each; at most `limit` (`.truncated` when
        there were more). Each is an `instances` entry plus `matches` (`[{field, value}]`; field
        `business_key` for the key). A user finds only the cases they may see, and no confidential
        case they may not read (R-C10): not even a placeholder, which would tell that it matched."""
        limit = _limit(limit)
        actor = self._actor(user, "find")
        wanted = normalise(text or "")
        if not wanted:
            raise HallError(f"nothing to find in {text!r}: give letters or digits of a number, name or phone")
        out, seen = Page(), set()
        batch = max(2 * limit, 100)
        with self._tx(write=False) as tx:
            for substring in (False, True):
                before = MAX_ID + 1
                while len(out) <= limit:
                    ids = tx.find_cases(wanted, substring, before, batch)
                    fresh = [i for i in ids if i not in seen]
                    seen.update(fresh)
                    rows = tx.instances_by_id(fresh)
                    for row in self.access.findable(actor, [rows[i] for i in fresh if i in rows], tx):
                        out.append(dict(self._brief(row, actor), matches=self._matches(row, wanted)))
                    if len(ids) < batch:
                        break
                    before = ids[-1]
        if len(out) > limit:
            del out[limit:]
            out.cut(None)
        return out

    def _matches(self, row: Mapping[str, Any], wanted: str) -> list[dict]:
        """Which values of a found case contain the normalised text: [{field, value}]."""
        variables = loads(row["variables"]) or {}
        found = [("business_key", row["business_key"])] + [(f, variables.get(f)) for f in self.fields.search]
        return [
            {"field": f, "value": v}
            for f, v in found
            if isinstance(v, (str, int, float)) and not isinstance(v, bool) and wanted in normalise(v)
        ]

    def _known_process(self, tx: Tx, process: str | None) -> None:
        if process is not None and tx.latest_definition(process) is None:
            raise ProcessNotFound(process)

    def counts(self) -> dict[str, dict[str, int]]:
        """How many instances each process has, by status."""
        with self._tx(write=False) as tx:
            out: dict[str, dict[str, int]] = {}
            for process, status, n in tx.count_instances():
                out.setdefault(process, {})[status] = n
            return out

    def suspend(self, instance_id: int, reason: str | None = None, user: str | None = None) -> dict:
        """Hold a running case (or one in incident): no task can be completed, no timer fires."""
        return self._set_status(instance_id, "suspend", ("running", "incident"), "suspended", reason, user)

    def resume(self, instance_id: int, user: str | None = None) -> dict:
        """Let a suspended case go on where it stood (running, or its incident)."""
        return self._set_status(instance_id, "resume", ("suspended",), None, None, user)

    def cancel(self, instance_id: int, reason: str, user: str | None = None) -> dict:
        """End a case for good, with the reason in its history: its tasks and timers go."""
        if not (reason or "").strip():
            raise HallError("cancelling needs a reason (--reason)")
        return self._set_status(instance_id, "cancel", ("running", "incident", "suspended"), "cancelled", reason, user)

    def _set_status(
        self, instance_id: int, action: str, allowed: tuple, new: str | None, reason: str | None, user: str | None
    ) -> dict:
        instance_id = _int(instance_id, "instance")
        self._check_manage(instance_id, user, action)

        def act(step: Step) -> None:
            row = step.loaded.row
            if row["status"] not in allowed:
                raise InstanceNotActive(instance_id, row["status"], action)
            if action == "cancel":
                step.loaded.instance.cancel()
                for human in step.loaded.human.values():
                    step.tx.finish_human_task(human["id"], "cancelled", step.now, user)
                step.loaded.human.clear()
                jobtable.delete_jobs(step.tx, instance_id)
                step.loaded.jobs.clear()
                row["status"] = "cancelled"
                step.log("cancelled", reason=reason)
            elif action == "suspend":
                row["suspended_from"] = row["status"]
                row["status"] = "suspended"
                step.log("suspended", reason=reason)
            else:
                row["status"] = "incident" if row.get("incident_element") else "running"
                step.log("resumed")

        with self._tx() as tx:
            self.runtime.run_step(instance_id, user, act, tx)
            if action == "cancel":
                self.runtime.linked_case_cancelled(tx, instance_id, reason or "", user)
        return self.show(instance_id, user=user)

    def retry(
        self, instance_id: int, data: Mapping[str, Any] | None = None, user: str | None = None, latest: bool = False
    ) -> dict:
        """Run an instance in incident again, after its data was fixed (`data`), or its definition:
        with `latest` the instance first moves to the latest deployed version of its process (when
        every element it has tasks at exists there; history kind `migrated`)."""
        instance_id = _int(instance_id, "instance")
        self._check_manage(instance_id, user, "retry")
        fixes = self._check_data(data or {})

        def act(step: Step) -> None:
            row = step.loaded.row
            if row["status"] != "incident":
                raise InstanceNotActive(instance_id, row["status"], "retry")
            if latest:
                latest_definition = step.tx.latest_definition(row["process_id"])
                assert latest_definition is not None  # the instance's own process is deployed
                self.runtime.migrate(step, latest_definition["id"])
            element = row["incident_element"]
            if fixes:
                step.loaded.instance.update_ready_data(element, fixes)
            row.update(status="running", incident_element=None, incident_error=None)
            step.log("retried", element, data=fixes or None)
            self.runtime.advance(step)

        with self._tx() as tx:
            self.runtime.run_step(instance_id, user, act, tx)
        return self.show(instance_id, user=user)

    def incidents(self, user: str | None = None) -> list[dict]:
        """Cases stopped by a failing script, condition or service call, as `user` may see them."""
        actor = self._actor(user, "incidents")
        with self._tx(write=False) as tx:
            rows = self.access.visible_instances(actor, tx.list_instances(status="incident", limit=10_000), tx)
            out = []
            for r in rows:
                item = {
                    "instance": r["id"],
                    "process": r["process_id"],
                    "business_key": r["business_key"],
                    "element": r["incident_element"],
                    "error": r["incident_error"],
                    "since": iso(r["updated_at"]),
                }
                if actor is not None:
                    item = self.access.present_incident(actor, item, loads(r["variables"]))
                out.append(item)
            return out

    def history(self, instance_id: int | None, user: str | None = None) -> list[dict]:
        """Everything that happened to an instance; with None, the hall-wide rows that have no case
        (refused deploys, purges, reports), for users with the 'see_all' permission."""
        if instance_id is None:
            self._require(user, "see_all", "see", "the hall's history")
            with self._tx(write=False) as tx:
                return [history_view(h) for h in tx.history(None)]
        with self._guard():
            actor = self._actor(user, "history")
            with self._tx(write=False) as tx:
                if actor is not None:
                    row = self._instance_row(tx, instance_id, actor, "see the history of")
                    self.access.check_instance(actor, row, "see the history of", tx)
                elif tx.instance_brief(_int(instance_id, "instance")) is None:
                    raise self._missing(tx, instance_id)
                rows = [history_view(h) for h in tx.history(int(instance_id))]
            if actor is not None:
                return self.access.present_history(actor, rows, loads(row["variables"]))
            return rows

    def path(self, instance_id: int, user: str | None = None) -> list[dict]:
        """The BPMN elements a case reached, oldest first: `{element, from, state}` with state
        "passed" or "current" and `from` the element before it (scenario checks, coverage, diagrams)."""
        self.history(instance_id, user=user)  # the same permission as reading the case's history
        with self._tx(write=False) as tx:
            return self.runtime.path(tx, _int(instance_id, "instance"))

    def send_message(self, instance_id: int, name: str, payload: Any = None, user: str | None = None) -> dict:
        """Deliver a message (e.g. from an outside system) to an instance waiting for it."""
        from .spiff import external_message

        instance_id = _int(instance_id, "instance")
        self._check_manage(instance_id, user, "send a message to")
        check_value(payload, "message payload")
        if isinstance(payload, Mapping):
            self._check_names(payload, "message payload")
        with self._tx() as tx:
            if not self.runtime.deliver(tx, instance_id, "message", name, external_message(name, payload), user):
                raise MessageNotWaited(instance_id, name)
        return self.show(instance_id, user=user)

    def correlate_message(
        self,
        name: str,
        payload: Any = None,
        key: str | None = None,
        process: str | None = None,
        user: str | None = None,
    ) -> dict:
        """Deliver message `name` from outside (another system, `hall message NAME`) to the one running
        case waiting for it with correlation key `key` (None: whatever its key), else start a case of
        the process whose message start event catches it (its business key `key`); `process` narrows
        both to one process. Returns that case. MessageNotCorrelated when nothing takes the message,
        MessageAmbiguous when more than one case or process would; then nothing is written. The
        payload lands where the catching element puts it (camunda:resultVariable, else
        `<element>_Response`). Delivering needs `manage` on the case reached (as `send_message`)."""
        from . import messaging
        from .spiff import external_message

        actor = self._actor(user, "send a message")
        if isinstance(payload, Mapping):
            self._check_names(payload, "message payload")
        key = messaging.key_text(key)
        with self._guard(), self._tx() as tx:

            def check(target: int | None) -> None:
                if target is not None and actor is not None:
                    self.access.check_manage(actor, self._instance_row(tx, target), "send a message to", tx)

            routed = messaging.correlate(
                self.runtime, tx, name, key, external_message(name, payload), user, process=process, check=check
            )
        return self.show((routed.reached or routed.started)[0], user=user)

    def send_signal(self, name: str, variables: Mapping[str, Any] | None = None, user: str | None = None) -> dict:
        """Broadcast signal `name` from outside: every running case waiting for it catches it (the
        variables, if any, are set on each), and every process whose signal start event catches it
        starts a case. Returns `{signal, reached, started}` (instance ids); reaching nobody is not
        an error. Needs the `manage` permission."""
        from . import messaging
        from .spiff import external_signal

        self._require(user, "manage", "send signal", repr(name))
        values = self._check_data(variables or {}, "signal variables")
        with self._tx() as tx:
            routed = messaging.broadcast(self.runtime, tx, name, external_signal(name, values), user)
        return {"signal": name, "reached": routed.reached, "started": routed.started}

    # -- tasks ----------------------------------------------------------------------------------
    def tasks(
        self,
        role: str | None = None,
        assignee: str | None = None,
        process: str | None = None,
        instance: int | None = None,
        user: str | None = None,
        limit: int = 500,
    ) -> Page:
        """Ready human tasks, most urgent first (earliest due date, then oldest), at most `limit`: the
        result's `.total` says how many there were when it was cut (None: more, uncounted).

        With `user`: only the tasks of the user's roles and those assigned to them (every task with
        `see_all`); tasks of confidential cases the user may not read are placeholders (R-C10).
        An unknown process or instance is ProcessNotFound / InstanceNotFound, not an empty queue.
        """
        actor = self._actor(user, "tasks")
        instance_id = _int(instance, "instance") if instance is not None else None
        limit = _limit(limit)
        with self._tx(write=False) as tx:
            self._known_process(tx, process)
            if instance_id is not None and tx.instance_brief(instance_id) is None:
                raise self._missing(tx, instance_id, actor, "see the tasks of")
            query = dict(assignee=assignee, process=process, instance=instance_id, limit=limit + 1)
            if actor is None:
                rows = tx.query_tasks(role=role, **query)
                cases = tx.instances_by_id([r["instance_id"] for r in rows[:limit]])
                page = Page(self._case_task(r, cases) for r in rows[:limit])
                if len(rows) > limit:
                    page.cut(tx.count_tasks(role=role, assignee=assignee, process=process, instance=instance_id))
                return page
            access = self.access
            queues = access.queues(actor, role, assignee)
            if queues is None:
                rows = tx.query_tasks(role=role, **query)
            else:  # the user's queues and their own tasks, merged most urgent first
                found: dict[int, Any] = {}
                for queue in queues:
                    for r in tx.query_tasks(**dict(query, **queue)):
                        found[r["id"]] = r
                rows = sorted(found.values(), key=lambda r: (r["due_at"] is None, r["due_at"] or 0, r["id"]))
            out = Page()
            shown = [r for r in rows if access.task_visible(actor, r)]
            cases = tx.instances_by_id([r["instance_id"] for r in shown[:limit]])
            for r in shown:
                if len(out) == limit:
                    out.cut(None)  # more than the limit visible to this user; not counted
                    break
                case = cases.get(r["instance_id"])
                variables = loads(case["variables"]) if case else None
                out.append(access.present_task(actor, self._case_task(r, cases), variables))
            return out

    def _case_task(self, row: Mapping[str, Any], cases: Mapping[int, Mapping[str, Any]]) -> dict:
        """A task of the queue with its case's business key and customer (hall.yaml `cases.customer`);
        a confidential case's placeholder drops the customer."""
        view = task_view(row)
        case = cases.get(row["instance_id"])
        view["business_key"] = case["business_key"] if case else None
        view["customer"] = self.fields.customer_of(loads(case["variables"])) if case else None
        return view

    def task(self, task_id: int, user: str | None = None) -> dict:
        """One task with its status and its case's variables, as `user` may see it."""
        with self._guard():
            actor = self._actor(user, "task")
            with self._tx(write=False) as tx:
                row = tx.human_task(_int(task_id, "task"))
                if row is None:
                    raise TaskNotFound(task_id)
                self.access.check_see_task(actor, row)
                return self._task_detail(tx, row, actor)

    def _task_detail(self, tx: Tx, row: Mapping[str, Any], actor: User | None) -> dict:
        view = task_view(row)
        view["status"] = row["status"]
        view["completed_by"] = row["completed_by"]
        view["completed_at"] = iso(row["completed_at"])
        inst = tx.instance(row["instance_id"])
        assert inst is not None  # a task's instance row (foreign key)
        view["variables"] = loads(inst["variables"])
        view["business_key"] = inst["business_key"]
        return self.access.present_task_detail(actor, view)

    def render_task(self, task_id: int, user: str | None = None) -> str:
        """What the staff member sees for this task: the form's template on the case's data."""
        view = self.task(task_id, user=user)
        placeholder = self.access.task_text(view)
        if placeholder is not None:
            return placeholder
        form = self.form(view["form"])
        if form is None:
            return ""
        instance = {"id": view["instance"], "business_key": view["business_key"], "process": view["process"]}
        return form.render({"data": view["variables"], "task": view, "instance": instance})

    def claim(self, task_id: int, user: str) -> dict:
        """Take a ready task: it is `user`'s until completed or given back."""
        return self._assign(task_id, user, user, "task_claimed")

    def unclaim(self, task_id: int, user: str | None) -> dict:
        """Give a claimed task back to its role's queue."""
        return self._assign(task_id, None, user, "task_unclaimed")

    def _assign(self, task_id: int, assignee: str | None, user: str | None, kind: str) -> dict:
        task_id = _int(task_id, "task")
        if kind == "task_claimed" and not user:
            raise HallError("claiming needs a user: pass --user or set HALL_USER")
        action = "claim" if kind == "task_claimed" else "unclaim"
        with self._guard():
            actor = self._actor(user, action)
            if actor is not None:
                with self._tx(write=False) as tx:
                    row = tx.human_task(task_id)
                    if row is not None:  # permission first: "already completed by …" names who did it
                        self.access.check_work(actor, row, lambda: self._variables(tx, row["instance_id"]), action)
        with self._tx() as tx:
            row = tx.human_task(task_id)
            if row is None:
                raise TaskNotFound(task_id)
            if row["status"] == "completed":
                raise TaskAlreadyCompleted(task_id, row["completed_by"])
            if row["status"] != "ready":
                raise TaskNotReady(task_id, row["status"])
            current = row["assignee"]
            if kind == "task_claimed" and current and current != user:
                raise TaskClaimedByOther(task_id, current)
            if kind == "task_unclaimed" and current and user and current != user:
                raise TaskClaimedByOther(task_id, current)
            if current != assignee and not tx.set_assignee(task_id, assignee, current):
                raise TaskClaimedByOther(task_id, "someone else")
            tx.add_history(
                [
                    {
                        "instance_id": row["instance_id"],
                        "process_id": row["process_id"],
                        "at": self.clock.now(),
                        "actor": user,
                        "kind": kind,
                        "element": row["name"],
                        "task_id": task_id,
                        "detail": dumps({"assignee": assignee}),
                    }
                ]
            )
        return self.task(task_id, user=user)

    def reassign(self, task_id: int, to_user: str, user: str | None = None) -> dict:
        """Give a ready task to another user (the `reassign` permission: 大厅主管); kept in the history.

        The new assignee must be a configured user; a task of a confidential case only goes to a
        user with the `confidential` permission (R-C10).
        """
        task_id = _int(task_id, "task")
        if not to_user:
            raise HallError("reassigning needs the user who takes the task")
        with self._guard():
            actor = self._actor(user, "reassign")
            target = self.access.reassign_target(to_user)
            with self._tx() as tx:
                row = tx.human_task(task_id)
                if row is None:
                    raise TaskNotFound(task_id)
                refused = self.access.lacking(actor, "reassign", "reassign", f"task {task_id}", task=row)
                if refused is not None:
                    raise refused
                if row["status"] == "completed":
                    raise TaskAlreadyCompleted(task_id, row["completed_by"])
                if row["status"] != "ready":
                    raise TaskNotReady(task_id, row["status"])
                self.access.check_handover(actor, user, target, row, lambda: self._variables(tx, row["instance_id"]))
                current = row["assignee"]
                if current != to_user and not tx.set_assignee(task_id, to_user, current):
                    raise TaskClaimedByOther(task_id, "someone else")
                tx.add_history(
                    [
                        {
                            "instance_id": row["instance_id"],
                            "process_id": row["process_id"],
                            "at": self.clock.now(),
                            "actor": user,
                            "kind": "task_reassigned",
                            "element": row["name"],
                            "task_id": task_id,
                            "detail": dumps({"from": current, "to": to_user}),
                        }
                    ]
                )
                row = tx.human_task(task_id)
                if self.access.task_visible(actor, row):
                    return self._task_detail(tx, row, actor)
                return self.access.placeholder_task(self._task_detail(tx, row, None))

    def complete(self, task_id: int, data: Mapping[str, Any] | None = None, user: str | None = None) -> dict:
        """Complete a ready task with data checked against its form; returns the instance view."""
        task_id = _int(task_id, "task")
        payload = self._check_data(data or {})
        with self._guard():
            actor = self._actor(user, "complete")
            with self._tx() as tx:
                if actor is not None:
                    row = tx.human_task(task_id)
                    if row is not None:  # permission first: "already completed by …" names who did it
                        self.access.check_work(actor, row, lambda: self._variables(tx, row["instance_id"]), "complete")
                instance_id = self.runtime.complete(task_id, payload, user, self._validate_form, tx)
        return self._fresh_view(instance_id, actor)

    # -- drafts: form data typed and not yet submitted (schema v8, issue 17) ----------------------
    def save_draft(self, task_id: int, data: Mapping[str, Any], user: str | None = None) -> dict:
        """Keep what `user` typed into a ready task's form (replacing an earlier draft), so a
        Ctrl-C or a refused submit loses nothing; returns {task, user, data, saved_at}."""
        view = self.task(task_id, user=user)  # the task exists and the user may see it
        if view["status"] == "completed":
            raise TaskAlreadyCompleted(view["id"], view["completed_by"])
        if view["status"] != "ready":
            raise TaskNotReady(view["id"], view["status"])
        text = dumps(self._check_data(data, "draft"))
        now = self.clock.now()
        with self._tx() as tx:
            tx.save_draft(view["id"], user or "", text, now)
        return {"task": view["id"], "user": user, "data": loads(text), "saved_at": iso(now)}

    def draft(self, task_id: int, user: str | None = None) -> dict | None:
        """The draft `user` keeps for a task ({task, user, data, saved_at}), or None."""
        view = self.task(task_id, user=user)
        with self._tx(write=False) as tx:
            row = tx.draft(view["id"], user or "")
        if row is None:
            return None
        return {"task": view["id"], "user": user, "data": loads(row["data"]), "saved_at": iso(row["saved_at"])}

    def discard_draft(self, task_id: int, user: str | None = None) -> bool:
        """Drop `user`'s draft of a task (after it was submitted); whether there was one."""
        with self._tx() as tx:
            return tx.delete_draft(_int(task_id, "task"), user or "")

    def _validate_form(self, form_name: str | None, data: Mapping[str, Any]) -> dict:
        form = self.form(form_name)
        return dict(data) if form is None else form.validate(data)

    # -- access: who acts, what they may do and see (engine.access; R-C10, R-F6) -------------------
    def redact_instance(self, view: Mapping[str, Any], user: str | None) -> dict:
        """An instance view (or any case record with its `variables`) as `user` may see it.

        For other modules' outputs (reports, KPI case lists): a confidential case (R-C10) becomes
        a placeholder (id, process, number/business key, status, deadlines, roles) for a user
        without the `confidential` permission; anything else is returned unchanged.
        """
        return self.redact_record(view, view.get("variables"), user)

    def redact_record(self, record: Mapping[str, Any], variables: Mapping[str, Any] | None, user: str | None) -> dict:
        """Any record about a case (a report row) as `user` may see it, given the case's variables."""
        return self.access.present_record(self._actor(user, "see cases"), record, variables)

    def may_see_instance(self, instance_id: int, user: str | None) -> bool:
        """Whether `user` may see this case at all (its roles, assigned, first receiver, or see_all)."""
        actor = self._actor(user, "see cases")
        if actor is None:
            return True
        with self._tx(write=False) as tx:
            return self.access.sees_instance(actor, self._instance_row(tx, instance_id, actor), tx)

    def authorize(self, user: str | None, permission: str, action: str, target: str) -> User | None:
        """Refuse `action` on `target` (PermissionDenied) unless `user` has `permission`; for modules
        built on the API (retention) and integrators' own commands. Returns the acting user."""
        return self._require(user, permission, action, target)

    def _actor(self, user: str | None, action: str) -> User | None:
        """The configured user acting, or None (no users configured, or the system); at a simulated
        time, SimulatedTimeRefused unless the database is a rehearsal or the user may simulate time."""
        self._ready()
        if user is not None:
            check_key(user, "user")  # stored as the actor of history rows: the ids' rule on both databases
        actor = self.access.actor(user, action, required=self.require_user)
        if self.clock.simulated and self._rehearsal is not True:
            self._check_simulated_time(actor)
        return actor

    def _check_simulated_time(self, actor: User | None) -> None:
        """engine.clock.simulated_time_refusal for this database and actor: a configured user with the
        `simulate_time` permission, or the system in-process (user None, no `require_user`). The `hall`
        command with no users configured has nobody holding the permission: a rehearsal database only."""
        from .clock import simulated_time_refusal
        from .errors import SimulatedTimeRefused

        at = self.clock.now()
        if actor is None:
            may = not self.require_user
        else:
            may = self.access.enforced and self.access.may(actor, "simulate_time")
        why = simulated_time_refusal(at, self.is_rehearsal(), may, actor.id if actor else None)
        if why is not None:
            raise SimulatedTimeRefused(at.isoformat(), why)

    def is_rehearsal(self) -> bool:
        """Whether the database was made for rehearsals (`hall init --rehearsal`, `hall demo`, tests)."""
        if self._rehearsal is None:
            with self._tx(write=False) as tx:
                self._rehearsal = tx.flag("rehearsal") == "yes"
        return self._rehearsal

    def _require(self, user: str | None, permission: str, action: str, target: str) -> User | None:
        """A hall-wide action (deploy, purge, indicators): refused, and recorded in the hall's history,
        unless the user has `permission`."""
        actor = self._actor(user, action)
        refused = self.access.lacking(actor, permission, action, target)
        if refused is not None:
            self._record_denial(refused)
            raise refused
        return actor

    @contextmanager
    def _guard(self) -> Any:
        """Record a denied action in the case's history (its own transaction), then let it through."""
        try:
            yield
        except PermissionDenied as exc:
            if exc.instance_id is not None and not exc.recorded:
                self._record_denial(exc)
            raise

    def _record_denial(self, exc: PermissionDenied) -> None:
        """Write the `denied` history row of a refusal, in a transaction of its own."""
        exc.recorded = True
        row = self.access.denial_row(exc, self.clock.now())
        row["detail"] = dumps(row["detail"])
        with self._tx() as tx:
            tx.add_history([row])

    def _check_manage(self, instance_id: int, user: str | None, action: str) -> None:
        """Lifecycle actions and messages: refused (and recorded) unless the policy allows them."""
        with self._guard():
            actor = self._actor(user, action)
            if actor is not None:
                with self._tx(write=False) as tx:
                    self.access.check_manage(actor, self._instance_row(tx, instance_id, actor, action), action, tx)

    def _instance_row(
        self, tx: Tx, instance_id: Any, actor: User | None = None, action: str = "see"
    ) -> Mapping[str, Any]:
        """The instances row of that id, else InstanceNotFound (saying so when it was purged, to an
        actor who could see the case)."""
        row = tx.instance(_int(instance_id, "instance"))
        if row is None:
            raise self._missing(tx, instance_id, actor, action)
        return row

    def _variables(self, tx: Tx, instance_id: int) -> Any:
        row = tx.instance(instance_id)
        return loads(row["variables"]) if row else None

    def _read_variables(self, instance_id: int) -> Any:
        """An instance's variables in a read transaction of their own (the worker's log lines)."""
        with self._tx(write=False) as tx:
            return self._variables(tx, instance_id)

    def _missing(self, tx: Tx, instance_id: Any, actor: User | None = None, action: str = "see") -> HallError:
        """The error for an instance that is not there, saying when and by whom it was purged if it was
        and `actor` could have seen the case; to anyone else a purged case is an unknown one, as a case
        they may not see is (InstanceNotVisible: the answer tells nobody which ids were cases)."""
        record = tx.purge_record(_int(instance_id, "instance"))
        if record is None:
            return InstanceNotFound(instance_id)
        detail = loads(record["detail"]) or {}
        if actor is not None and not self.access.knew_of(actor, {"actor": record["actor"], "detail": detail}):
            why = "the case was purged and was not one the user could see"
            return InstanceNotVisible(actor.id, action, int(instance_id), why, record["process_id"])
        return InstanceNotFound(
            instance_id,
            {
                "at": iso(record["at"]),
                "actor": record["actor"],
                "retention": detail.get("retention"),
                "before": detail.get("before"),
            },
        )

    # -- timers: the job runner and the business calendar ------------------------------------------
    def run_due_jobs(
        self,
        once: bool = True,
        *,
        batch: int = 100,
        lease: float = 60.0,
        poll: float = 5.0,
        max_attempts: int = 5,
        backoff: float = 30.0,
        worker_id: str | None = None,
        group: int = 50,
        on_event: Any = None,
        install_signals: bool = True,
        user: str | None = None,
    ) -> dict:
        """Fire due timers (`hall worker`): with ``once`` everything due now, else until SIGTERM/SIGINT.
        At a simulated time the worker acts for `user`, who must be allowed it (engine.clock).

        ``on_event(event)`` is called for each job handled (see engine.worker.Event). Returns the
        summary: counts of fired/stale/retried/incidents/released, seconds, and the jobs left.
        ``group``: on PostgreSQL, the timers of up to that many instances fire in one transaction.
        """
        from .jobs import Worker

        if self.clock.simulated:
            self._actor(user, "run the worker at a simulated time")
        if not self._schema_checked:
            self.store.check_schema()
            self._schema_checked = True
        if on_event is not None:
            on_event = self.access.redacting(on_event, self._read_variables)
        worker = Worker(
            self.store,
            self.runtime,
            self.clock,
            worker_id=worker_id,
            batch=batch,
            lease=lease,
            poll=poll,
            max_attempts=max_attempts,
            backoff=backoff,
            group=group,
            on_event=on_event,
        )
        summary = worker.run(once=once, install_signals=install_signals).as_dict()
        with self._tx(write=False) as tx:
            summary["jobs"] = jobtable.pending_stats(tx, self.clock.now())
        return summary

    def calendar_month(self, year: int, month: int) -> dict:
        """The business calendar of one month (`hall calendar 2026-10`) and where its data comes from."""
        from .calendar import LIBRARY_FIRST_YEAR, LIBRARY_LAST_YEAR

        if not 1 <= month <= 12:
            raise HallError(f"month {month} is not between 1 and 12 (write e.g. 2026-10)")
        if not 1 <= year <= LAST_CALENDAR_YEAR:  # a month's view reads into the next month's first day
            raise HallError(
                f"year {year} is outside the calendar (years 1 to {LAST_CALENDAR_YEAR}; write e.g. 2026-10)"
            )
        cal = self.deadlines.calendar
        cfg = cal.config
        configured = sorted(cfg.official)
        source = (
            "configuration"
            if year in cfg.official
            else "library"
            if LIBRARY_FIRST_YEAR <= year <= LIBRARY_LAST_YEAR
            else "provisional"
        )
        days = [
            {
                "date": d.date.isoformat(),
                "weekday": d.date.strftime("%a"),
                "working": d.working,
                "reason": d.reason,
                "provisional": d.provisional,
            }
            for d in cal.month(year, month)
        ]
        return {
            "month": f"{year:04d}-{month:02d}",
            "timezone": cfg.timezone,
            "office_hours": f"{cfg.office_start:%H:%M}-{cfg.office_end:%H:%M}",
            "lunch": f"{cfg.lunch[0]:%H:%M}-{cfg.lunch[1]:%H:%M}" if cfg.lunch else None,
            "source": source,
            "provisional": any(d["provisional"] for d in days),
            "working_days": sum(1 for d in days if d["working"]),
            "days": days,
            "coverage": {
                "library": [LIBRARY_FIRST_YEAR, LIBRARY_LAST_YEAR],
                "configured": configured,
                "provisional": "any other year: Monday-Friday and the computed statutory holidays, marked provisional",
            },
        }

    def refresh_deadlines(self, user: str | None = None) -> dict:
        """Count the open provisional deadlines again on the calendar as configured now (R-T1:
        `hall calendar refresh`, once a year's official schedule is in hall.yaml or the library):
        ready tasks' deadlines marked provisional and pending timers; each change is a
        ``deadline_moved`` history row of its case. Needs `manage`."""
        actor = self._require(user, "manage", "refresh", "deadlines")
        who = actor.id if actor is not None else user
        now = self.clock.now()
        with self._tx(write=False) as tx:
            tasks = tx.provisional_task_instances()
            timers = jobtable.pending_timers(tx, now)
        cases = sorted(set(tasks) | set(timers))
        moved: list[dict] = []
        for instance_id in cases:  # one transaction per case, as every step
            with self._tx() as tx:
                moved.extend(self.runtime.refresh_deadlines(instance_id, who, timers.get(instance_id, {}), tx))
        return {"cases": len(cases), "moved": moved}

    # -- generic reads and purge for modules built on this API (indicators, reports, retention) --------
    @contextmanager
    def reading(self, user: str | None = None) -> Any:  # Iterator[reading.Reader], as a context manager
        """One read-only snapshot of history and instances with generic queries by process, kind,
        element, period or instance ids (engine/store/reading.py `Reader`) over every case.

        A named `user` needs the `see_all` permission. None is the system: a module built on the API
        that has authorized its own action first (`authorize`) and redacts what it shows
        (`redact_record`), as the indicators and retention do.
        """
        from .store.reading import Reader

        if user is not None:  # None: the system, even where the command line requires a user
            self._require(user, "see_all", "see", "the history of every case")
        with self._tx(write=False) as tx:
            yield Reader(tx)

    def purge_instances(
        self,
        ids: Iterable[int],
        ended_before: datetime,
        details: Mapping[int, Mapping[str, Any]] | None = None,
        user: str | None = None,
    ) -> dict[str, int]:
        """Delete finished instances (completed or cancelled, ended before `ended_before`) with their
        tasks, jobs and history in one transaction; each leaves one `purged` history row whose detail
        is `details[id]` with `seen_by` (who could see the case: `AccessPolicy.witnesses`), so
        `show`/`history` of its id say when and by whom it went, to those users only.

        Generic: which cases may go (retention periods, legal floors) is the caller's policy; the
        engine keeps none. Needs the `manage` permission; refused, with nothing deleted, if any id is
        not (or no longer) a finished instance that ended before `ended_before`. Rows deleted per table.
        """
        import json

        from .store import reading

        self._require(user, "manage", "purge", "finished cases")
        wanted = [_int(i, "instance") for i in ids]
        if not wanted:
            return {}
        with self._tx(write=True) as tx:
            finished = {r["id"]: r for r in reading.finished_before(tx, ended_before)}
            gone = [i for i in wanted if i not in finished]
            if gone:
                raise HallError(
                    f"cases {', '.join(map(str, gone))} changed since the plan was made; nothing was deleted"
                )
            seen_by = {i: self.access.witnesses(tx.instance(i), tx) for i in wanted}  # before the rows go
            rows = reading.delete_instances(tx, wanted)
            now = self.clock.now()
            tx.add_history(
                [
                    {
                        "instance_id": i,
                        "process_id": finished[i]["process_id"],
                        "at": now,
                        "actor": user,
                        "kind": "purged",
                        "element": None,
                        "task_id": None,
                        "detail": json.dumps(
                            {**dict((details or {}).get(i) or {}), "seen_by": seen_by[i]}, ensure_ascii=False
                        ),
                    }
                    for i in wanted
                ]
            )
        return rows


def _check_data(data: Mapping[str, Any], check_names: Any = None, source: str = "data") -> dict:
    """Instance data must be a mapping of identifiers to JSON-storable values, none of them shadowing
    the scripts' environment (`check_names` raises DataInvalid naming the variable)."""
    if not isinstance(data, Mapping):
        raise FormInvalid("data", {"-": "data must be a mapping of names to values"})
    bad = {
        shown(k) if isinstance(k, str) else repr(k): "not a valid variable name"
        for k in data
        if not isinstance(k, str) or not k.isidentifier() or text_problem(k)
    }
    if bad:
        raise FormInvalid("data", bad)
    check_value(dict(data), source)  # UTF-8 text, finite numbers, bounded nesting and size (engine.dataio)
    if check_names is not None:
        check_names(data, source)
    try:
        dumps(dict(data))
    except TypeError as exc:
        raise FormInvalid("data", {"-": str(exc)}) from None
    return dict(data)


class Page(list):
    """A list cut at a limit: `total` is how many there were (None when not counted) if it was cut."""

    total: int | None = None
    truncated = False

    def cut(self, total: int | None) -> None:
        self.truncated, self.total = True, total


def _limit(limit: Any) -> int:
    """A list's limit: at least 1; one above any number of rows the database can hold means all of them."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise HallError(f"limit must be a whole number of at least 1, not {limit!r}")
    return min(limit, MAX_ID)


MAX_ID = 2**31 - 1  # ids are INTEGER columns (int4 on PostgreSQL): a larger number names nothing
LAST_CALENDAR_YEAR = 9998  # datetime's last year is 9999, and a month's view reads the next month's first day


def _next_version(tx: Tx, process: str) -> int:
    """The number of a process's next version: after every one deployed, withdrawn ones too."""
    return max((d["version"] for d in tx.list_definitions() if d["process_id"] == process), default=0) + 1


def _int(value: Any, what: str) -> int:
    """An id as given by a user: a number that can name a row, else that thing is not found (no query)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = None
    if number is None or not 0 < number <= MAX_ID or isinstance(value, bool):
        raise (InstanceNotFound(value) if what == "instance" else TaskNotFound(value)) from None
    return number
