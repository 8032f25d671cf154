"""The runtime: one engine step on one instance, committed in one transaction or not at all.

A step locks the instance row, loads the instance (from the in-process cache when the row's
version says it is current), applies one action (start, complete, fire a timer, deliver a
message, retry, cancel), runs engine steps until the instance waits, then writes the changed
task rows, the human-task index, the jobs, the history and the new instance version together.
"""

from __future__ import annotations

import contextvars
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import messaging
from .clock import Clock
from .errors import (
    ActionTooEarly,
    BusinessKeyTaken,
    ConcurrentUpdate,
    DataInvalid,
    HallError,
    InstanceNotActive,
    InstanceNotFound,
    MigrationRefused,
    ProcessNotFound,
    TaskAlreadyCompleted,
    TaskClaimedByOther,
    TaskNotFound,
    TaskNotReady,
)
from .extensions import business_key_in_source, form_name
from .jobs import table as jobtable
from .search import CaseFields
from .store import Store, Tx, dumps, loads
from .view import instance_view, primary_role

if TYPE_CHECKING:
    from . import spiff

CACHE_SIZE = 2000  # instances kept in memory between steps, least recently used dropped first
_current: contextvars.ContextVar[Step] = contextvars.ContextVar("hall_step")


@dataclass
class Loaded:
    """An instance as cached between steps: valid while the row's version is unchanged."""

    version: int
    row: dict
    definition: spiff.CompiledProcess
    instance: spiff.Instance
    task_rows: dict[str, str]
    human: dict[str, dict]  # spiff task id -> its human_tasks row, for the ready ones
    jobs: dict[str, tuple]  # spiff task id -> (due ISO, element), for the pending timer jobs
    linked: bool = False  # has a parent or children (their briefs need a query to show)
    variables: dict | None = None  # as saved by the last step
    stored_status: str | None = None  # the status the row holds now (written again only when it changes)
    search: dict[str, str] | None = None  # its search values as stored (engine/search.py)
    waits: frozenset | None = None  # its rows of the wait index as stored (None: not read; engine/messaging.py)

    def __post_init__(self) -> None:
        if self.stored_status is None:
            self.stored_status = self.row["status"]


@dataclass
class Step:
    """The work of one transaction on one instance."""

    runtime: Runtime
    tx: Tx
    now: datetime
    actor: str | None
    loaded: Loaded
    history: list[dict] = field(default_factory=list)
    job_deletes: list[str] = field(default_factory=list)  # written with the step's other rows in _save
    job_adds: list[dict] = field(default_factory=list)
    bytes_written: int = 0
    script_data: dict | None = None  # the data of the script running now (its functions may add to it)

    @property
    def instance_id(self) -> int:
        return self.loaded.row["id"]

    def log(self, kind: str, element: str | None = None, task_id: int | None = None, **detail: Any) -> None:
        self.history.append(
            {
                "instance_id": self.instance_id,
                "process_id": self.loaded.row["process_id"],
                "at": self.now,
                "actor": self.actor,
                "kind": kind,
                "element": element,
                "task_id": task_id,
                "detail": dumps(detail) if detail else None,
            }
        )


class Runtime:
    """Executes steps against a store with one clock; caches definitions and hot instances."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        deadlines: DeadlineResolver,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        services: Any = None,
        fields: CaseFields | None = None,
        script_timeout: float | None = None,
    ) -> None:
        self.store = store
        self.fields = fields or CaseFields()  # the searchable variables (hall.yaml `cases`)
        self.script_timeout = script_timeout  # seconds a script may run (None: the default, 2 s)
        self.clock = clock
        self.deadlines = deadlines
        self._definitions: dict[int, spiff.CompiledProcess] = {}
        self._cache: OrderedDict[int, Loaded] = OrderedDict()
        self._depth = 0  # steps in progress (a step may run another: a message to another case)
        self._stepping: set[int] = set()  # the instances of those steps (no message is delivered into one)
        self._functions = {name: _bind(fn) for name, fn in (functions or {}).items()}
        self._functions["start_process"] = _script_start_process
        self._script_engine: Any = None
        self._services = services  # engine.services.Services: the service tasks' handlers
        if services is not None:  # each handler call's idempotency key names the step running it
            services.step_of = _service_step
        self.last_bytes_written = 0

    @property
    def function_names(self) -> frozenset[str]:
        """The names of the functions scripts may call (a variable may not take one)."""
        return frozenset(self._functions)

    @property
    def script_engine(self) -> spiff.HallScriptEngine:
        """Built on first use: commands that only read (`hall tasks`) never import SpiffWorkflow."""
        if self._script_engine is None:
            from . import spiff

            engine = spiff.HallScriptEngine(
                self._functions,
                self._resolve_timer,
                self._resolve_cycle,
                self._services,
                self.script_timeout,
                self._route_thrown,
            )
            run_script = engine.execute

            def execute(task: Any, script: str, external_context: Any = None) -> Any:
                # a script that leaves a value the save cannot store fails here, at its element (an
                # incident, the task back to ready), not later in the save with a traceback
                step = _current.get(None)
                outer = step.script_data if step else None
                if step:  # a function such as deadline() may leave a companion variable (R-T2)
                    step.script_data = task.data
                try:
                    result = run_script(task, script, external_context)
                finally:
                    if step:
                        step.script_data = outer
                _check_storable(task)
                return result

            engine.execute = execute
            self._script_engine = engine
        return self._script_engine

    # -- definitions ------------------------------------------------------------------------
    def definition(self, tx: Tx, definition_id: int) -> spiff.CompiledProcess:
        from . import spiff

        compiled = self._definitions.get(definition_id)
        if compiled is None:
            row = tx.definition(definition_id)
            assert row is not None  # asked for by an instance or a deploy that stored it
            compiled = spiff.CompiledProcess.from_json(row["process_id"], row["name"] or row["process_id"], row["spec"])
            compiled.version = row["version"]
            compiled.business_key, compiled.key_unique = business_key_in_source(row["source"], row["process_id"])
            self._definitions[definition_id] = compiled
        return compiled

    # -- the transaction around a step -----------------------------------------------------
    def run_step(
        self,
        instance_id: int,
        actor: str | None,
        action: Callable[[Step], Any],
        tx: Tx | None = None,
        version: int | None = None,
        preloaded: Any = None,
    ) -> Any:
        """Lock, load, act, advance, save — in the caller's transaction or a new one.

        `version` is the instance version the caller already read while locking the row;
        `preloaded` what `Tx.load` returned for it in that transaction, if the caller read it.
        """
        if tx is None:
            try:
                with self.store.tx() as own:
                    return self.run_step(instance_id, actor, action, own)
            except BaseException:
                self._cache.pop(instance_id, None)
                raise
        step = self._open(tx, instance_id, actor, version, preloaded)
        token = _current.set(step)
        self._depth += 1
        self._stepping.add(instance_id)
        try:
            result = action(step)
            self._save(step, last=self._depth == 1)
        except BaseException:
            self._cache.pop(instance_id, None)
            raise
        finally:
            self._depth -= 1
            self._stepping.discard(instance_id)
            _current.reset(token)
        if self._depth:  # nested in another case's step: an outer failure may still roll it back
            self._cache.pop(instance_id, None)
        return result

    @property
    def stepping(self) -> set[int]:
        """The instances whose steps are in progress (a step nests another's: a message to it)."""
        return set(self._stepping)

    def start(
        self,
        tx: Tx,
        process_id: str,
        business_key: str | None,
        data: Mapping[str, Any],
        actor: str | None,
        parent_id: int | None = None,
        timer: str | None = None,
        event: Any = None,
        source: int | None = None,
    ) -> int:
        """Start a case of the latest version of a process and run it until it waits; with `event`, by
        the message or signal start event that catches it (``start_by_event``)."""
        row = tx.latest_definition(process_id)
        if row is None:
            raise ProcessNotFound(process_id)
        from . import spiff

        definition = self.definition(tx, row["id"])
        if business_key and definition.key_unique:
            self.claim_key(tx, process_id, business_key, None)
        now = self.clock.now()
        instance = spiff.Instance.new(definition, self.script_engine, data)
        instance_id = tx.insert_instance(
            definition_id=row["id"],
            process_id=process_id,
            business_key=business_key,
            status="running",
            parent_id=parent_id,
            started_at=now,
            updated_at=now,
            started_by=actor,
            version=0,
            state="{}",
            variables=dumps(dict(data)),
        )
        self._cache[instance_id] = Loaded(
            0,
            {
                "id": instance_id,
                "process_id": process_id,
                "definition_id": row["id"],
                "status": "running",
                "parent_id": parent_id,
                "business_key": business_key,
                "updated_at": now,
                "started_at": now,
                "ended_at": None,
                "incident_element": None,
                "incident_error": None,
            },
            definition,
            instance,
            {},
            {},
            {},
            parent_id is not None,
            search={},
        )

        def begin(step: Step) -> None:
            step.log(
                "started",
                business_key=business_key,
                data=dict(data),
                version=row["version"],
                parent=parent_id,
                **({"timer": timer} if timer else {}),  # type: ignore[arg-type]  # detail, not task_id
            )
            if event is not None:
                kind, name = spiff.event_name(event)
                if not step.loaded.instance.start_by(event):
                    raise ProcessNotFound(f"{process_id} (no start event catches {kind} {name!r})")
                step.log(f"{kind}_received", name=name, payload=spiff.event_payload(event), source=source)
            self.advance(step)

        self.run_step(instance_id, actor, begin, tx)
        return instance_id

    def start_by_event(
        self, tx: Tx, process_id: str, business_key: str | None, event: Any, actor: str | None, source: int | None
    ) -> int:
        """A new case of a process started by its message or signal start event (the message's key is
        its business key); nested in the sender's step, if there is one."""
        instance_id = self.start(tx, process_id, business_key, {}, actor, event=event, source=source)
        if self._depth:
            self._cache.pop(instance_id, None)
        return instance_id

    def _open(
        self, tx: Tx, instance_id: int, actor: str | None, version: int | None = None, preloaded: Any = None
    ) -> Step:
        if version is None:
            found = tx.instance_version(instance_id, lock=True)
            if found is None:
                raise InstanceNotFound(instance_id)
            version = found[0]
        loaded = self._cache.get(instance_id)
        if loaded is None or loaded.version != version:
            loaded = self._cache[instance_id] = self._load(tx, instance_id, preloaded)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(instance_id)
        now = self.clock.now()
        last = loaded.row["updated_at"]
        if last is not None and now < last:
            raise ActionTooEarly(instance_id, now.isoformat(), last.isoformat())
        return Step(self, tx, now, actor, loaded)

    def forget(self, instance_id: int) -> None:
        """Drop an instance from the cache (its step was rolled back after it saved: a group of the worker)."""
        self._cache.pop(instance_id, None)

    def _load(self, tx: Tx, instance_id: int, preloaded: Any = None) -> Loaded:
        from . import spiff

        found = preloaded or tx.load(instance_id)
        if found is None:
            raise InstanceNotFound(instance_id)
        row, task_rows = found["row"], found["task_rows"]
        definition = self.definition(tx, row["definition_id"])
        instance = spiff.Instance.restore(definition, self.script_engine, spiff.Snapshot(row["state"], task_rows))
        human = {h["spiff_task_id"]: h for h in found["human"]}
        jobs = {j["spiff_task_id"]: (j["due_at"].isoformat(), j["element"]) for j in found["jobs"]}
        keep = (
            "id",
            "process_id",
            "definition_id",
            "status",
            "parent_id",
            "business_key",
            "updated_at",
            "started_at",
            "ended_at",
            "incident_element",
            "incident_error",
        )
        linked = row["parent_id"] is not None or found["has_children"]
        # what the search table holds for it (the variables are read only when some are searchable)
        search = self.fields.values(loads(row["variables"]) if self.fields.search else None, row["business_key"])
        return Loaded(
            row["version"],
            {k: row[k] for k in keep},
            definition,
            instance,
            task_rows,
            human,
            jobs,
            linked,
            search=search,
        )

    def _save(self, step: Step, last: bool = False) -> None:
        loaded = step.loaded
        try:
            snap = loaded.instance.snapshot()
            loaded.variables = loaded.instance.variables()
            variables = dumps(loaded.variables)
        except TypeError as exc:  # a value that cannot be stored (data given through the API): nothing is written
            raise DataInvalid(f"instance {step.instance_id}", f"{exc}; nothing was written") from None
        old = loaded.task_rows
        added = {k: v for k, v in snap.tasks.items() if k not in old}
        changed = {k: v for k, v in snap.tasks.items() if k in old and old[k] != v}
        removed = [k for k in old if k not in snap.tasks]
        row = loaded.row
        if row["status"] in ("completed", "cancelled") and row["ended_at"] is None:
            row["ended_at"] = step.now
        values = dict(
            state=snap.state,
            variables=variables,
            updated_at=step.now,
            ended_at=row["ended_at"],
            definition_id=row["definition_id"],
            incident_element=row["incident_element"],
            incident_error=row["incident_error"],
        )
        if row["status"] != loaded.stored_status:
            values["status"] = row["status"]
        key = self._new_key(step)
        search = self.fields.values(loaded.variables, key or row["business_key"])
        messaging.sync_waits(step, key or row["business_key"])
        if not step.tx.save_step(
            step.instance_id,
            loaded.version,
            values,
            dict(added, **changed),
            removed,
            step.job_deletes,
            step.job_adds,
            step.history,
            last,
            key,
            search if search != loaded.search else None,
        ):
            raise ConcurrentUpdate(step.instance_id)
        if key is not None:
            row["business_key"] = key
        loaded.search = search
        written = sum(len(v) for v in added.values()) + sum(len(v) for v in changed.values())
        step.bytes_written = (
            written + len(snap.state) + len(variables) + sum(len(h["detail"] or "") for h in step.history)
        )
        self.last_bytes_written = step.bytes_written
        loaded.version += 1
        loaded.stored_status = row["status"]
        loaded.task_rows = snap.tasks
        row["updated_at"] = step.now

    def _new_key(self, step: Step) -> str | None:
        """The business key a step gives its case: the value of the variable its process declares
        (property businessKey) when that changed; refused when the process declares it unique and
        another case has it."""
        loaded = step.loaded
        name = loaded.definition.business_key
        if not name:
            return None
        value = (loaded.variables or {}).get(name)
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
            return None
        key = str(value).strip()[:200]
        if key == loaded.row["business_key"]:
            return None
        if loaded.definition.key_unique:
            self.claim_key(step.tx, loaded.row["process_id"], key, step.instance_id)
        return key

    def claim_key(self, tx: Tx, process_id: str, key: str, instance_id: int | None) -> None:
        """BusinessKeyTaken when another case of the process has this key (checked under a lock)."""
        if tx.business_key_taken(process_id, key, instance_id) is not None:
            raise BusinessKeyTaken(process_id, key)

    # -- advancing an instance -------------------------------------------------------------
    def advance(self, step: Step) -> None:
        """Run engine steps until the instance waits; then index tasks, timers and messages."""
        from . import spiff

        loaded = step.loaded
        if loaded.row["status"] != "running":
            return
        try:
            loaded.instance.run(lambda gw, taken: step.log("gateway_taken", gw, targets=taken))
        except spiff.StepFailure as failure:
            loaded.row["status"] = "incident"
            loaded.row["incident_element"] = failure.element
            loaded.row["incident_error"] = failure.error
            step.log("incident", failure.element, error=failure.error, line=failure.line)
        self._sync_human_tasks(step)
        self._sync_jobs(step)
        if loaded.instance.completed and loaded.row["status"] == "running":
            loaded.row["status"] = "completed"
            step.log("ended")

    def _sync_human_tasks(self, step: Step) -> None:
        loaded = step.loaded
        ready = {u.spiff_id: u for u in loaded.instance.ready_user_tasks()}
        for spiff_id, human in list(loaded.human.items()):
            if spiff_id not in ready:
                if step.tx.finish_human_task(human["id"], "cancelled", step.now, None):
                    step.log("task_cancelled", human["name"], task_id=human["id"])
                del loaded.human[spiff_id]
        for spiff_id, info in ready.items():
            if spiff_id in loaded.human:
                self._follow_due(step, loaded.human[spiff_id], info)
                continue
            ext = info.extensions
            due = self.deadlines.task_due(ext.get("dueDate"), step.now, info.data)
            warn = self.deadlines.task_due(ext.get("followUpDate"), step.now, info.data)  # the warning time
            values = dict(
                instance_id=step.instance_id,
                process_id=loaded.row["process_id"],
                spiff_task_id=spiff_id,
                name=info.name,
                title=info.title,
                lane=info.lane,
                role=_groups(_expand(ext.get("candidateGroups"), info.data)) or info.lane,
                assignee=_assignee(ext.get("assignee"), info.data),
                organisation=_assignee((ext.get("properties") or {}).get(CANDIDATE_ORGANISATION), info.data),
                form=form_name(ext.get("formKey")),
                status="ready",
                created_at=step.now,
                due_at=due.at if due else None,
                due_provisional=bool(due and due.provisional),
                warn_at=warn.at if warn else None,
            )
            values["id"] = step.tx.insert_human_task(**values)
            loaded.human[spiff_id] = values
            step.log(
                "task_created",
                info.name,
                task_id=values["id"],
                title=info.title,
                role=primary_role(values["role"]),
                due_at=values["due_at"].isoformat() if values["due_at"] else None,
            )

    def _follow_due(self, step: Step, human: dict, info: Any) -> None:
        """A ready task whose due date names a case variable (`=备案截止时间`) follows it: counted
        again from the task's creation, a changed value moves the deadline (`deadline_moved`)."""
        text = info.extensions.get("dueDate")
        if not text or not str(text).startswith("=") or human.get("due_at") is None:
            return
        try:
            due = self.deadlines.task_due(text, human["created_at"], info.data)
        except HallError:
            return  # a value that no longer reads as a deadline keeps the one the task has
        if due is None or due.at == human["due_at"]:
            return
        step.tx.move_task_deadline(human["id"], due.at, due.provisional)
        _moved(step, human["name"], human["id"], human["due_at"], due.at, due.provisional)
        # its timers that kept the old due time keep the new one; one that fired is armed again (R-F5)
        for element in step.loaded.instance.follow_due(human["spiff_task_id"], human["due_at"], due.at):
            step.log("timer_rearmed", element, task=human["name"], due_at=due.at.isoformat())
        human["due_at"], human["due_provisional"] = due.at, due.provisional

    def _sync_jobs(self, step: Step) -> None:
        loaded = step.loaded
        waiting = {t.spiff_id: t for t in loaded.instance.waiting_timers() if t.due}
        # continuations of an instance in incident wait without a job: `hall retry` writes it again
        held = {c.key: c for c in loaded.instance.waiting_continuations()} if loaded.row["status"] == "running" else {}
        for spiff_id in [k for k in loaded.jobs if k not in waiting and k not in held]:
            step.job_deletes.append(spiff_id)
            del loaded.jobs[spiff_id]
        for spiff_id, cont in held.items():  # an asynchronous continuation: a job due at once
            if spiff_id not in loaded.jobs:
                step.job_adds.append(
                    dict(
                        instance_id=step.instance_id,
                        element=cont.element,
                        spiff_task_id=spiff_id,
                        kind="async",
                        due_at=step.now,
                        created_at=step.now,
                    )
                )
                loaded.jobs[spiff_id] = (step.now.isoformat(), cont.element)
                step.log("async_scheduled", cont.element, at=cont.kind)
        for spiff_id, timer in waiting.items():
            due = timer.due
            assert due is not None  # only timers with a due time are waited for (above)
            if loaded.jobs.get(spiff_id, (None,))[0] == due:
                continue
            if spiff_id in loaded.jobs:
                step.job_deletes.append(spiff_id)
            step.job_adds.append(
                dict(
                    instance_id=step.instance_id,
                    element=timer.element,
                    spiff_task_id=spiff_id,
                    kind="timer",
                    due_at=datetime.fromisoformat(due),
                    created_at=step.now,
                )
            )
            loaded.jobs[spiff_id] = (timer.due, timer.element)
            step.log("timer_scheduled", timer.element, due_at=timer.due, timer=timer.kind)

    def _route_thrown(self, task: Any, event: Any) -> None:
        """A message or signal a running task throws out of its case (the script engine's hook)."""
        messaging.route_thrown(self, _current.get(), task, event)

    def deliver(
        self,
        tx: Tx,
        instance_id: int,
        kind: str,
        name: str,
        event: Any,
        actor: str | None,
        source: int | None = None,
    ) -> bool:
        """Deliver one message or signal to one instance if it is running and waiting for it; True when
        caught. Never into an instance whose step is in progress (its own sender)."""
        from . import spiff

        if instance_id in self._stepping:
            return False

        def act(step: Step) -> bool:
            if step.loaded.row["status"] != "running" or not step.loaded.instance.waits_for(kind, name):
                return False
            caught = step.loaded.instance.deliver(event)
            if caught:
                step.log(f"{kind}_received", name=name, payload=spiff.event_payload(event), source=source)
                self.advance(step)
            return bool(caught)

        return self.run_step(instance_id, actor, act, tx)

    # -- timers ---------------------------------------------------------------------------
    def _resolve_timer(self, task: Any, kind: str, expression: str) -> str:
        step = _current.get(None)
        now = step.now if step else self.clock.now()
        return self.deadlines.timer_due(kind, expression, now, task.data).at.isoformat()

    def _resolve_cycle(self, task: Any, expression: str, previous: dict | None) -> dict:
        step = _current.get(None)
        now = step.now if step else self.clock.now()
        return self.deadlines.cycle_next(expression, now, task.data, previous)

    # -- deadlines counted again (R-T1: `hall calendar refresh`) -------------------------------
    def refresh_deadlines(
        self, instance_id: int, actor: str | None, timers: Mapping[str, datetime], tx: Tx | None = None
    ) -> list[dict]:
        """Count again, on the calendar as configured now, the provisional deadlines of the case's
        ready tasks (from their creation) and its pending ``timers`` (spiff id -> when each started);
        move those that changed, each with a ``deadline_moved`` history row. Returns the moves."""

        def act(step: Step) -> list[dict]:
            loaded = step.loaded
            moves: list[dict] = []
            ready = {u.spiff_id: u for u in loaded.instance.ready_user_tasks()}
            for spiff_id, human in loaded.human.items():
                info = ready.get(spiff_id)
                if info is None or not human.get("due_provisional") or human.get("due_at") is None:
                    continue
                due = self.deadlines.task_due(info.extensions.get("dueDate"), human["created_at"], info.data)
                if due is None or (due.at == human["due_at"] and due.provisional == bool(human["due_provisional"])):
                    continue
                step.tx.move_task_deadline(human["id"], due.at, due.provisional)
                moves.append(_moved(step, human["name"], human["id"], human["due_at"], due.at, due.provisional))
                human["due_at"], human["due_provisional"] = due.at, due.provisional
            started: dict[str, datetime] = {}
            for spiff_id, start in timers.items():
                timer = loaded.instance.timer_definition(spiff_id)
                current = loaded.jobs.get(spiff_id)
                if timer is None or current is None:
                    continue
                kind, expression, data = timer
                due = self.deadlines.timer_due(kind, expression, start, data)
                old = datetime.fromisoformat(str(current[0]))
                if due.at == old:
                    continue
                loaded.instance.reschedule_timer(spiff_id, due.at.isoformat())
                started[spiff_id] = start
                moves.append(_moved(step, current[1], None, old, due.at, due.provisional))
            if started:
                self._sync_jobs(step)  # the moved timers' jobs: deleted and added at their new time
                for job in step.job_adds:  # each still counts from when its timer started
                    job["created_at"] = started.get(job["spiff_task_id"], job["created_at"])
            return moves

        return self.run_step(instance_id, actor, act, tx)

    # -- operations on instances ----------------------------------------------------------
    def complete(
        self,
        task_id: int,
        data: Mapping[str, Any],
        actor: str | None,
        validate: Callable[[str | None, Mapping[str, Any]], dict],
        tx: Tx,
    ) -> int:
        """Complete a ready human task with validated data; returns the instance id."""
        current = tx.task_for_update(task_id)  # the task, and its instance row locked
        if current is None:
            raise TaskNotFound(task_id)

        def act(step: Step) -> None:
            if current["status"] == "completed":
                raise TaskAlreadyCompleted(task_id, current["completed_by"])
            if current["status"] != "ready":
                raise TaskNotReady(task_id, current["status"])
            status = step.loaded.row["status"]
            if status != "running":
                raise InstanceNotActive(step.instance_id, status, f"complete task {task_id} of")
            if current["assignee"] and actor and current["assignee"] != actor:
                raise TaskClaimedByOther(task_id, current["assignee"])
            given = values = validate(current["form"], data)
            props = _task_properties(step.loaded.instance, current["spiff_task_id"])
            keep = props.get(COMPLETED_BY_VARIABLE)
            if keep and actor:  # who did the task, for later tasks assigned to them by ${variable}
                values = {**values, keep: actor}
            if not step.tx.finish_human_task(task_id, "completed", step.now, actor):
                raise TaskAlreadyCompleted(task_id)
            step.loaded.human.pop(current["spiff_task_id"], None)
            step.loaded.instance.complete_user_task(current["spiff_task_id"], values)
            for element in (props.get(SHARE_WITH) or "").split(","):  # Camunda's process-wide variables
                if element.strip():
                    step.loaded.instance.update_ready_data(element.strip(), values)
            # the history keeps what was submitted; the completer's variable is the engine's own
            step.log("task_completed", current["name"], task_id=task_id, data=given)
            self.advance(step)

        self.run_step(current["instance_id"], actor, act, tx, version=current["instance_version"])
        return current["instance_id"]

    def migrate(self, step: Step, definition_id: int) -> bool:
        """Move the instance of this step to another version of its process (`hall retry --latest`).

        An instance is restored from its stored task rows on the new version's spec, each task
        bound to the task spec of the same name: every task of the instance (done, ready or
        waiting) must have its element in that version, else MigrationRefused and nothing changes.
        The task rows themselves stay as they are; the save writes the instance's new definition.
        """
        import json

        from . import spiff

        loaded = step.loaded
        if definition_id == loaded.row["definition_id"]:
            return False
        new = self.definition(step.tx, definition_id)
        snap = loaded.instance.snapshot()
        missing = sorted({json.loads(body)["task_spec"] for body in snap.tasks.values()} - set(new.spec.task_specs))
        if missing:
            raise MigrationRefused(
                step.instance_id,
                loaded.row["process_id"],
                new.version,
                f"element(s) {', '.join(missing)} of its tasks are not in that version",
            )
        try:
            instance = spiff.Instance.restore(new, self.script_engine, snap)
        except Exception as exc:  # noqa: BLE001 - e.g. a subprocess whose spec is gone: refused, not half-moved
            raise MigrationRefused(
                step.instance_id,
                loaded.row["process_id"],
                new.version,
                f"its state does not fit that version ({type(exc).__name__}: {exc})",
            ) from None
        step.log("migrated", None, **{"from": loaded.definition.version, "to": new.version})
        loaded.instance, loaded.definition = instance, new
        loaded.row["definition_id"] = definition_id
        return True

    def parent_of(self, instance_id: int) -> int | None:
        loaded = self._cache.get(instance_id)
        return loaded.row["parent_id"] if loaded else None

    def elements_of(self, tx: Tx, instance_id: int) -> set[str]:
        """The task spec names of every task an instance has (done, ready or waiting): what `migrate`
        requires of another version (read only; `hall deploy --check`)."""
        import json

        loaded = self._load(tx, instance_id)
        return {json.loads(body)["task_spec"] for body in loaded.instance.snapshot().tasks.values()}

    def path(self, tx: Tx, instance_id: int) -> list[dict]:
        """The elements an instance reached, oldest first, each with where it came from (read only)."""
        loaded = self._load(tx, instance_id)
        return [
            {"element": element, "from": source, "state": state}
            for element, source, state, _at in loaded.instance.path()
        ]

    def view(self, instance_id: int) -> dict | None:
        """The instance as the API shows it, from the cache of the step just committed (no query)."""
        loaded = self._cache.get(instance_id)
        if loaded is None:
            return None
        return instance_view(
            loaded.row,
            version=loaded.definition.version,
            variables=dict(loaded.variables) if loaded.variables is not None else loaded.instance.variables(),
            tasks=sorted(loaded.human.values(), key=lambda h: h["id"]),
            timers=[(element, due) for due, element in sorted(loaded.jobs.values())],
            links=None if loaded.linked else {"parent": None, "children": []},
        )

    def fire_timer(
        self,
        tx: Tx,
        instance_id: int,
        spiff_task_id: str,
        actor: str,
        version: int | None = None,
        preloaded: Any = None,
    ) -> bool:
        """Fire a due timer in the instance's transaction (its row locked, at `version` if the caller
        read it); False if it no longer waits."""

        def act(step: Step) -> bool:
            element = None
            if step.loaded.row["status"] == "running":
                cont = step.loaded.instance.continue_async(spiff_task_id)
                if cont is not None:  # an asynchronous continuation, not a timer
                    # its row goes with this step (one that fails gets a new row at `hall retry`)
                    step.job_deletes.append(spiff_task_id)
                    step.loaded.jobs.pop(spiff_task_id, None)
                    step.log("async_continued", cont.element, at=cont.kind)
                    self.advance(step)
                    return True
                for t in step.loaded.instance.waiting_timers():
                    if t.spiff_id == spiff_task_id:
                        element = t.element
            if element is None or not step.loaded.instance.fire_timer(spiff_task_id):
                step.job_deletes.append(spiff_task_id)  # a stale job: its row goes with this step
                step.loaded.jobs.pop(spiff_task_id, None)
                return False
            step.log("timer_fired", element)
            self.advance(step)
            return True

        return self.run_step(instance_id, actor, act, tx, version, preloaded)

    # -- start timers -------------------------------------------------------------------------
    def schedule_start_timers(self, tx: Tx, process_id: str, definition_id: int) -> list[dict]:
        """Replace a process's start-timer jobs by those of this (newly deployed) version."""
        now = self.clock.now()
        rows = []
        for element, kind, expression in self.definition(tx, definition_id).start_timers():
            if kind == "cycle":
                nxt = self.deadlines.cycle_next(expression, now, {}, None)
                due = datetime.fromisoformat(nxt["next"]) if nxt["next"] else None
            else:
                due = self.deadlines.timer_due(kind, expression, now, {}).at
            if due is not None:
                rows.append(
                    {
                        "instance_id": None,
                        "element": element,
                        "spiff_task_id": f"start:{process_id}:{element}",
                        "due_at": due,
                        "attempts": 0,
                        "fired": 0,
                        "created_at": now,
                    }
                )
        jobtable.replace_start_jobs(tx, process_id, rows)
        return rows

    def fire_start_timer(self, tx: Tx, job: Any, actor: str | None) -> int:
        """A process's start timer is due: start an instance of its latest version, schedule the next."""
        now = self.clock.now()
        instance_id = self.start(tx, job.process_id, None, {}, actor, timer=job.element)
        latest = tx.latest_definition(job.process_id)
        assert latest is not None  # it has just started an instance
        expression = next(
            (
                e
                for el, kind, e in self.definition(tx, latest["id"]).start_timers()
                if el == job.element and kind == "cycle"
            ),
            None,
        )
        due = None
        if expression is not None:
            # occurrences missed while no worker ran are coalesced into this one start (one roster
            # for today, not one per missed day): the next is the first occurrence after now
            after = max(job.due_at, now)
            nxt = self.deadlines.cycle_next(expression, now, {}, {"next": after.isoformat(), "fired": job.fired})
            due = datetime.fromisoformat(nxt["next"]) if nxt["next"] else None
        jobtable.reschedule_start_job(tx, job.id, due, job.fired + 1)
        return instance_id

    def linked_case_cancelled(self, tx: Tx, child_id: int, reason: str, actor: str | None) -> None:
        """A case was cancelled: a parent case still running that nothing else moves on (no ready task,
        no timer: it waits for a message of the child, which will never come) gets an incident naming
        the child, so a supervisor sees it (`hall incidents`) instead of a case waiting forever."""
        child = tx.instance(child_id)
        if child is None or child["parent_id"] is None:
            return
        process = child["process_id"]

        def act(step: Step) -> None:
            loaded = step.loaded
            if loaded.row["status"] != "running" or loaded.human or loaded.instance.waiting_timers():
                return
            waits = [w for w in loaded.instance.waiting_events() if w.kind == "message"]
            waiting = [w.name for w in waits]
            error = (
                f"linked case {child_id} ({process}) was cancelled ({reason}); this case waits for "
                f"{', '.join(waiting) or 'it'} with nothing else to move it on: `hall retry` and deliver "
                "the message (`hall message`), or cancel this case"
            )
            element = waits[0].element if waits else None
            loaded.row.update(status="incident", incident_element=element, incident_error=error)
            step.log("incident", element, error=error, child=child_id)

        self.run_step(child["parent_id"], actor, act, tx)

    def record_incident(self, tx: Tx, instance_id: int, element: str, error: str, actor: str | None) -> None:
        """Mark an instance `incident` from outside a step (e.g. a job that kept failing)."""

        def act(step: Step) -> None:
            if step.loaded.row["status"] not in ("running", "incident"):
                return
            step.loaded.row.update(status="incident", incident_element=element, incident_error=error)
            step.log("incident", element, error=error)

        self.run_step(instance_id, actor, act, tx)


def _moved(step: Step, element: str, task_id: int | None, old: datetime, new: datetime, provisional: bool) -> dict:
    """Log one deadline counted again (history kind ``deadline_moved``) and describe it."""
    detail = {"from": old.isoformat(), "to": new.isoformat(), "provisional": provisional}
    step.log("deadline_moved", element, task_id=task_id, **detail)
    return {"instance": step.instance_id, "element": element, "task": task_id, **detail}


def _bind(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Script functions receive the current step (transaction, clock) as their first argument."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return fn(_current.get(), *args, **kwargs)

    call.__name__ = getattr(fn, "__name__", "function")
    return call


def _script_start_process(
    process_id: str, data: Mapping[str, Any] | None = None, business_key: str | None = None
) -> int:
    """`start_process(...)` in a BPMN script: a linked child instance, in the same transaction."""
    step = _current.get()
    child = step.runtime.start(
        step.tx, process_id, business_key, dict(data or {}), step.actor, parent_id=step.instance_id
    )
    step.loaded.linked = True
    step.log("child_started", child=child, process=process_id)
    return child


class ValueNotStorable(Exception):
    """Raised inside a script's run (so it becomes that element's incident): a variable it left
    cannot be stored as JSON (a set, bytes, a module...)."""


def _check_storable(task: Any) -> None:
    """Every variable of the task's data converts the way a save converts it."""
    import json

    from . import spiff

    registry = spiff.SERIALIZER.registry
    for name, value in task.data.items():
        if value is None or isinstance(value, (str, int, float, bool)):
            continue
        try:
            json.dumps(registry.convert(value))
        except (TypeError, ValueError):
            spec = task.task_spec
            kind = "script task" if type(spec).__name__.endswith("ScriptTask") else "the script of"
            raise ValueNotStorable(
                f"{kind} {spec.bpmn_id or spec.name} left variable {name} of type "
                f"{type(value).__name__}, which cannot be stored (use text, numbers, "
                "true/false, lists, mappings or datetimes; `del` temporary names)"
            ) from None


def _groups(groups: str | None) -> str | None:
    """camunda:candidateGroups="managers, auditors" is stored as `managers,auditors`: the task is in
    the queue of each (the first is its primary role, the JSON `role`)."""
    names = [g.strip() for g in (groups or "").split(",") if g.strip()]
    return ",".join(dict.fromkeys(names)) or None


# A user task's extension property naming the variable that keeps who completed it (a user id), so a
# later task can be assigned to that person: camunda:assignee="${variable}" (docs/routing.md).
COMPLETED_BY_VARIABLE = "completedByVariable"


# A user task's extension property naming the elements (comma-separated) whose ready tasks also get
# the values it is completed with: a task of a non-interrupting boundary branch (a delay notice) tells
# the task it is attached to, as Camunda's process-wide variables would (docs/routing.md).
SHARE_WITH = "shareWith"


def _task_properties(instance: Any, spiff_id: str) -> dict[str, str]:
    """The camunda/spiff extension properties of a ready user task."""
    for info in instance.ready_user_tasks():
        if info.spiff_id == spiff_id:
            return dict(info.extensions.get("properties") or {})
    return {}


# A user task's extension property naming the organisation whose users alone serve it (a name, or
# `${variable}` on the case data): docs/bpmn.md "Organisations".
CANDIDATE_ORGANISATION = "candidateOrganisation"


def _expand(value: str | None, data: Mapping[str, Any]) -> str | None:
    """camunda:candidateGroups="${variable}": the groups a variable of the case names (a name, a
    comma-separated text or a list); a plain text is the groups themselves."""
    if value and value.startswith("${") and value.endswith("}"):
        found = data.get(value[2:-1].strip())
        if isinstance(found, (list, tuple)):
            return ",".join(str(g) for g in found)
        return str(found) if found else None
    return value


def _assignee(value: str | None, data: Mapping[str, Any]) -> str | None:
    """camunda:assignee (or the candidate organisation) is a name or an expression `${variable}` on
    the instance data; an empty variable names nobody."""
    if not value:
        return None
    if value.startswith("${") and value.endswith("}"):
        found = data.get(value[2:-1].strip())
        return str(found).strip() or None if found else None
    return value


class DeadlineResolver:
    """Turns deadline texts into due times; the time layer (calendar, notation) plugs in here."""

    calendar: Any = None  # the business calendar the due times are counted on, if there is one

    def problem(self, text: str, element: str = "dueDate") -> str | None:
        """What is wrong with a deadline text, for `hall validate`; None when it is fine."""
        return None

    def task_due(self, text: str | None, now: datetime, data: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def timer_due(self, kind: str, text: str, now: datetime, data: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def cycle_next(self, text: str, now: datetime, data: Mapping[str, Any], previous: dict | None) -> dict:
        raise NotImplementedError


def _service_step() -> tuple[Step, int, int] | None:
    """The step running now, its case and the version it started from (engine.services' keys)."""
    step = _current.get(None)
    return None if step is None else (step, step.instance_id, step.loaded.version)
