"""Scenario files (`hall test`): process owners rehearse a process in YAML — start a case, work its
tasks as named users, move the clock (working days, due timers fired as the worker would), and check
tasks, the path taken, variables, status, incidents, history and linked cases.

Generic: it knows no service hall. Every scenario runs on a fresh temporary database of its own with a
fixed clock, driven only through the public Engine API; the caller gives the settings (its hall.yaml)
and the forms folder. The file format is in docs/process-owner.md.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from .api import Engine
from .clock import FixedClock
from .errors import HallError, ScenarioInvalid

# step kind -> the options it takes besides `at` (move the clock first) and `process` (whose case)
STEPS: dict[str, tuple[str, ...]] = {
    "start": ("with", "as", "key"),
    "complete": ("with", "as", "refused", "fill"),
    "claim": ("as",),
    "unclaim": ("as",),
    "advance": (),
    "message": ("with", "as", "key", "correlate"),
    "signal": ("with", "as"),
    "retry": ("with", "latest", "as"),
    "cancel": ("as",),
    "expect_task": ("role", "organisation", "assignee", "due", "provisional", "title", "form"),
    "expect_no_task": (),
    "expect_tasks": (),
    "expect_passed": (),
    "expect_passed_in_order": (),
    "expect_not_passed": (),
    "expect": (),
    "expect_incident": (),
    "expect_history": (),
    "expect_linked": (),
}
COMMON = ("at", "process")
SCENARIO_KEYS = ("name", "at", "start", "as", "key", "process", "steps", "fill")
FILE_KEYS = ("process", "definitions", "config", "fill", "scenarios")
ADVANCE_LIMIT = 10_000  # worker runs in one advance step: a cycle firing every minute for a week

# What a staff member types into a required field the scenario leaves out (`fill: true`, the default).
SAMPLES: dict[str, Any] = {
    "bool": False,
    "score": 8,
    "int": 1,
    "decimal": 1.0,
    "money": "0.00",
    "date": "2026-01-05",
    "datetime": "2026-01-05T10:00",
    "phone": "13800000000",
}


# -- the file -----------------------------------------------------------------------------------------
@dataclass
class Step:
    """One step of a scenario: its kind (`complete`), its value (`register`), its options, its line."""

    kind: str
    value: Any
    options: dict[str, Any]
    line: int

    def title(self) -> str:
        """How the step is named in a failure: `complete: register`."""
        if isinstance(self.value, list):
            value = "[" + ", ".join(_short(v) for v in self.value) + "]"
        else:
            value = str(self.value) if isinstance(self.value, (str, int, float)) else _short(self.value)
        return f"{self.kind}: {value}"


@dataclass
class Scenario:
    """One scenario: a case started at a time with data, then its steps."""

    name: str
    line: int
    at: Any
    process: str
    start: dict[str, Any] | None
    user: str | None
    key: str | None
    fill: bool
    steps: list[Step]


@dataclass
class ScenarioFile:
    """A scenario file: the processes it rehearses (deployed from `definitions`), setting overrides."""

    path: Path
    definitions: list[Path]
    config: dict[str, Any]
    scenarios: list[Scenario]


def _line(node: Any, key: Any = None, index: int | None = None) -> int:
    """The 1-based line of a key or item of a round-trip YAML node (1 when unknown)."""
    lc: Any = getattr(node, "lc", None)
    try:
        if index is not None:
            return int(lc.item(index)[0]) + 1
        if key is not None:
            return int(lc.key(key)[0]) + 1
        return int(lc.line) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return 1


def _plain(value: Any) -> Any:
    """A round-trip YAML value as plain dicts, lists and scalars."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def load_file(path: str | Path) -> ScenarioFile:
    """Read and check a scenario file; ScenarioInvalid names the file and line of the first problem."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError

    p = Path(path)
    where = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioInvalid(where, None, f"cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise ScenarioInvalid(where, line, f"not valid YAML: {exc.problem}") from None
    except (ValueError, TypeError, OverflowError) as exc:
        raise ScenarioInvalid(where, None, f"not valid YAML: {exc}") from None

    def bad(line: int, what: str) -> ScenarioInvalid:
        return ScenarioInvalid(where, line, what)

    if not isinstance(doc, Mapping):
        raise bad(1, "a scenario file is a mapping with `process:` and `scenarios:`")
    for key in doc:
        if key not in FILE_KEYS:
            raise bad(_line(doc, key), f"unknown key {key!r} (known: {', '.join(FILE_KEYS)})")
    process = doc.get("process")
    scenarios = doc.get("scenarios")
    if not isinstance(scenarios, list) or not scenarios:
        raise bad(_line(doc, "scenarios") if "scenarios" in doc else 1, "`scenarios:` must list at least one scenario")
    config = doc.get("config") or {}
    if not isinstance(config, Mapping):
        raise bad(_line(doc, "config"), "`config:` must be a mapping of hall.yaml sections")
    defs = doc.get("definitions")
    base = p.parent.parent if p.parent.name == "tests" else p.parent
    if defs is None:
        definitions = [base]
    elif isinstance(defs, list) and all(isinstance(d, str) for d in defs):
        definitions = [(p.parent / d) for d in defs]
    else:
        raise bad(_line(doc, "definitions"), "`definitions:` lists diagram files or folders, relative to this file")
    file_fill = doc.get("fill", True)
    out = []
    names: set[str] = set()
    for i, node in enumerate(scenarios):
        line = _line(scenarios, index=i)
        sc = _scenario(node, line, process, file_fill, bad)
        if sc.name in names:
            raise bad(line, f"scenario {sc.name!r} is named twice")
        names.add(sc.name)
        out.append(sc)
    return ScenarioFile(p, definitions, _plain(config), out)


def _scenario(node: Any, line: int, process: Any, fill: Any, bad: Callable[[int, str], Exception]) -> Scenario:
    """One entry of `scenarios:`, checked."""
    if not isinstance(node, Mapping):
        raise bad(line, "a scenario is a mapping with `name:`, `at:`, `start:` and `steps:`")
    for key in node:
        if key not in SCENARIO_KEYS:
            raise bad(_line(node, key), f"unknown scenario key {key!r} (known: {', '.join(SCENARIO_KEYS)})")
    name = node.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad(line, "a scenario needs a `name:`")
    if "at" not in node:
        raise bad(line, f"scenario {name!r} needs `at:`, the local time it starts (2026-09-30 16:00)")
    try:
        _moment_or_none(node["at"])
    except ValueError as exc:
        raise bad(_line(node, "at"), str(exc)) from None
    proc = node.get("process", process)
    if not isinstance(proc, str) or not proc:
        raise bad(line, "no process: give `process:` at the top of the file or in the scenario")
    start = node.get("start", {})
    if start is False:
        start = None  # no case started by hand: a timer or message starts it (steps with `advance`)
    elif not isinstance(start, Mapping) and start is not None:
        raise bad(_line(node, "start"), "`start:` is the mapping of the case's start data (false: none)")
    else:
        start = start or {}
    steps_node = node.get("steps") or []
    if not isinstance(steps_node, list):
        raise bad(_line(node, "steps"), "`steps:` is a list of steps")
    steps = [_step(s, _line(steps_node, index=j), bad) for j, s in enumerate(steps_node)]
    user = node.get("as")
    key = node.get("key")
    return Scenario(
        name.strip(),
        line,
        node["at"],
        proc,
        _plain(start) if start is not None else None,
        str(user) if user is not None else None,
        str(key) if key is not None else None,
        bool(node.get("fill", fill)),
        steps,
    )


def _step(node: Any, line: int, bad: Callable[[int, str], Exception]) -> Step:
    """One step: a mapping whose one known step key names its kind; the others are its options."""
    if isinstance(node, str) and node in STEPS:
        node = {node: None}
    if not isinstance(node, Mapping):
        raise bad(line, f"a step is a mapping such as `complete: register` (steps: {', '.join(STEPS)})")
    kinds = [k for k in node if k in STEPS]
    if len(kinds) != 1:
        what = "no step" if not kinds else f"several steps ({', '.join(kinds)})"
        raise bad(line, f"{what} in one item: write one of {', '.join(STEPS)} per item")
    kind = kinds[0]
    allowed = STEPS[kind] + COMMON
    for key in node:
        if key != kind and key not in allowed:
            raise bad(_line(node, key), f"{kind}: unknown option {key!r} (known: {', '.join(allowed)})")
    value = _plain(node[kind])
    options = {str(k): _plain(v) for k, v in node.items() if k != kind}
    problem = _step_problem(kind, value, options)
    if problem:
        raise bad(line, f"{kind}: {problem}")
    return Step(kind, value, options, line)


def _step_problem(kind: str, value: Any, options: dict[str, Any]) -> str | None:
    """Why a step's value or options cannot work, or None (checked when the file is read)."""
    for timed in ("at", "due"):
        if timed in options:
            try:
                _moment_or_none(options[timed])
            except ValueError as exc:
                return str(exc)
    if "with" in options and not isinstance(options["with"], Mapping):
        return "`with:` is a mapping of variables"
    if kind in ("complete", "claim", "unclaim", "expect_task", "expect_no_task", "start") and not (
        isinstance(value, str) and value
    ):
        return "names an element id (complete: register)" if kind != "start" else "names a process"
    if kind in ("message", "signal") and not (isinstance(value, str) and value):
        return f"names the {kind}"
    if kind == "message" and "correlate" in options and not isinstance(options["correlate"], bool):
        return "`correlate:` is true (by name, key and process) or false (to the case)"
    if kind == "advance" and not isinstance(value, (str, date)):
        return "gives a duration (1 working day, 45 minutes) or a local date-time (2026-10-09 16:01)"
    if kind in ("expect_tasks", "expect_passed", "expect_passed_in_order", "expect_not_passed") and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return "lists element ids"
    if kind == "expect" and not isinstance(value, Mapping):
        return "is a mapping of status, variables, incident, business_key, version"
    if kind == "expect" and set(value) - {"status", "variables", "incident", "business_key", "version"}:
        return f"unknown key(s) {', '.join(sorted(set(value) - {'status', 'variables', 'incident', 'business_key', 'version'}))}"
    if kind == "expect_history" and not isinstance(value, list):
        return "lists history rows: `timer_fired: contact_overdue`, or a kind"
    if kind == "expect_linked" and not isinstance(value, Mapping):
        return "is a mapping with `parent:` and/or `children:`"
    return None


def _short(value: Any) -> str:
    """A value as one short line (mappings and lists in flow style)."""
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _moment_or_none(value: Any) -> datetime | date | None:
    """A time written in a scenario: `2026-09-30 16:00` (local), a date, an ISO time with offset."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a time like 2026-09-30 16:00")


def collect(paths: Iterable[str | Path]) -> list[Path]:
    """The scenario files among the given files and folders (a folder: its *.yaml and *.yml)."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml") and q.is_file()))
        elif p.is_file():
            out.append(p)
        else:
            raise ScenarioInvalid(str(p), None, "no such file or folder")
    return out


# -- results -----------------------------------------------------------------------------------------
@dataclass
class Failure:
    """Why a scenario failed: the step (index from 1, line, title) and the expected / actual lines."""

    step: int
    line: int
    title: str
    expected: list[str]
    actual: list[str]

    def lines(self) -> list[str]:
        """The failure as the diff `hall test` prints."""
        out = [f"step {self.step} (line {self.line}) {self.title}"]
        out += [f"  - {e}" for e in self.expected]
        out += [f"  + {a}" for a in self.actual]
        return out


@dataclass
class Result:
    """One scenario's outcome."""

    file: Path
    name: str
    line: int
    seconds: float
    failure: Failure | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None


@dataclass
class Coverage:
    """What the scenarios reached, per process id: flow nodes, and transitions (from, to) taken."""

    nodes: dict[str, set[str]] = field(default_factory=dict)
    transitions: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)

    def add(self, process: str, path: Sequence[Mapping[str, Any]]) -> None:
        """Record one case's path (Engine.path)."""
        nodes = self.nodes.setdefault(process, set())
        moves = self.transitions.setdefault(process, set())
        for p in path:
            nodes.add(p["element"])
            if p["from"]:
                moves.add((p["from"], p["element"]))


class StepFailed(Exception):
    """Internal: an expectation or action of a step did not hold."""

    def __init__(self, expected: list[str], actual: list[str]) -> None:
        super().__init__("; ".join(actual))
        self.expected, self.actual = expected, actual


# -- running -----------------------------------------------------------------------------------------
class Runner:
    """Runs scenario files, each scenario on a fresh temporary database, with the given settings
    (the hall.yaml the caller read, a file's `config:` laid over it) and forms folder."""

    def __init__(
        self,
        settings: Mapping[str, Any] | None = None,
        forms_dir: str | Path | None = "forms",
        engine_options: Mapping[str, Any] | None = None,
    ) -> None:
        self.settings = dict(settings or {})
        self.forms_dir = forms_dir
        self.engine_options = dict(engine_options or {})
        self.coverage = Coverage()

    def run(self, paths: Iterable[str | Path], on_result: Callable[[Result], None] | None = None) -> list[Result]:
        """Read every file first (a broken file stops everything: ScenarioInvalid), then run them."""
        files = [load_file(p) for p in collect(paths)]
        results: list[Result] = []
        for f in files:
            for r in self.run_file(f):
                results.append(r)
                if on_result is not None:
                    on_result(r)
        return results

    def run_file(self, sf: ScenarioFile) -> Iterable[Result]:
        """The scenarios of one file, each on a copy of one database the file's definitions were
        deployed to (deploying once per file keeps the hall's set fast)."""
        settings = _overlay(self.settings, sf.config)
        with tempfile.TemporaryDirectory(prefix="hall-test-") as tmp:
            template = Path(tmp) / "template.db"
            first_at = _local(sf.scenarios[0].at, _tz(settings))
            try:
                with self._engine(template, FixedClock(first_at), settings) as eng:
                    eng.init()
                    deployed = eng.deploy(sf.definitions)
            except HallError as exc:
                raise ScenarioInvalid(str(sf.path), None, f"cannot deploy its definitions: {exc}") from None
            for d in deployed:
                self.coverage.sources.setdefault(d["process"], Path(d["file"]))
            for n, sc in enumerate(sf.scenarios):
                db = Path(tmp) / f"scenario-{n}.db"
                shutil.copyfile(template, db)
                yield self._run_one(sf, sc, db, settings)
                db.unlink(missing_ok=True)

    def _engine(self, db: Path, clock: FixedClock, settings: Mapping[str, Any]) -> Engine:
        """The one place a scenario's database is opened (a fresh SQLite file in a temporary folder)."""
        return Engine(str(db), clock=clock, forms_dir=self.forms_dir, settings=settings, **self.engine_options)

    def _run_one(self, sf: ScenarioFile, sc: Scenario, db: Path, settings: Mapping[str, Any]) -> Result:
        began = time.perf_counter()
        tz = _tz(settings)
        clock = FixedClock(_local(sc.at, tz))
        with self._engine(db, clock, settings) as eng:
            run = _Run(eng, clock, tz, sc)
            failure = None
            index, step = 0, Step("start", sc.process, {}, sc.line)
            try:
                if sc.start is not None:
                    run.case = run.start(sc.process, sc.start, sc.user, sc.key)
                for step in sc.steps:
                    index += 1
                    run.step(step)
            except StepFailed as exc:
                failure = Failure(index, step.line, step.title(), exc.expected, exc.actual)
            except HallError as exc:
                failure = Failure(index, step.line, step.title(), ["the step succeeds"], [f"error: {exc}"])
            for instance in eng.instances(limit=10_000):
                self.coverage.add(instance["process"], eng.path(instance["id"]))
        return Result(sf.path, sc.name, sc.line, time.perf_counter() - began, failure)


def _overlay(settings: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """hall.yaml with a scenario file's `config:` laid over it: a mapping section merged key by key."""
    out = dict(settings)
    for key, value in config.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out


def _tz(settings: Mapping[str, Any]) -> Any:
    from zoneinfo import ZoneInfo

    return ZoneInfo(str((settings.get("calendar") or {}).get("timezone") or "Asia/Shanghai"))


def _local(value: Any, tz: Any) -> datetime:
    """A scenario time as an aware datetime: without an offset it is the hall's local time."""
    moment = _moment_or_none(value)
    if moment is None:
        raise ValueError("no time given")
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


class _Run:
    """One scenario being played on its engine."""

    def __init__(self, eng: Engine, clock: FixedClock, tz: Any, scenario: Scenario) -> None:
        self.eng, self.clock, self.tz, self.scenario = eng, clock, tz, scenario
        self.case: dict[str, Any] = {}

    def show_time(self, value: str | datetime | None) -> str:
        """A stored UTC time as the hall's local time, as scenarios are written."""
        if value is None:
            return "none"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(self.tz).strftime("%Y-%m-%d %H:%M")

    # -- actions --------------------------------------------------------------------------------------
    def start(self, process: str, data: Mapping[str, Any], user: str | None, key: str | None) -> dict:
        return self.eng.start(process, key, dict(data), user=user)

    def step(self, step: Step) -> None:
        if "at" in step.options:
            self.advance_to(_local(step.options["at"], self.tz))
        getattr(self, "do_" + step.kind)(step)

    def target(self, step: Step) -> int:
        """The case a step addresses: the scenario's, or the newest case of `process:`."""
        process = step.options.get("process")
        if not process and self.case:
            return int(self.case["id"])
        process = process or self.scenario.process
        found = self.eng.instances(process=str(process), limit=1)
        if not found:
            raise StepFailed([f"a case of {process}"], ["none was started"])
        return int(found[0]["id"])

    def ready(self, step: Step, element: str) -> dict:
        case = self.target(step)
        tasks = self.eng.tasks(instance=case)
        for t in tasks:
            if t["name"] == element:
                return t
        raise StepFailed([f"ready task {element}"], [f"ready tasks: {_names(tasks)}{self.stopped(case)}"])

    def stopped(self, case: int) -> str:
        """Why a case has no tasks when it stopped: its incident, or its end (for a failure's diff)."""
        view = self.eng.show(case)
        incident = view.get("incident") or {}
        if view["status"] == "incident":
            return f" (the case is in incident at {incident.get('element')}: {incident.get('error')})"
        if view["status"] != "running":
            return f" (the case is {view['status']})"
        return ""

    def do_start(self, step: Step) -> None:
        self.start(step.value, step.options.get("with") or {}, step.options.get("as"), step.options.get("key"))

    def do_complete(self, step: Step) -> None:
        task = self.ready(step, step.value)
        data = dict(step.options.get("with") or {})
        if step.options.get("fill", self.scenario.fill):
            data = self.fill(task, data)
        refused = step.options.get("refused")
        try:
            self.eng.complete(task["id"], data, user=step.options.get("as"))
        except HallError as exc:
            if refused is not None and str(refused) in str(exc):
                return
            raise
        if refused is not None:
            raise StepFailed([f"refused: {refused}"], ["completed"])

    def fill(self, task: Mapping[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        """The values given, and an ordinary answer for each required field left out (Form.filled)."""
        form = self.eng.form(task.get("form"))
        return form.filled(data, SAMPLES) if form is not None else data

    def do_claim(self, step: Step) -> None:
        task = self.ready(step, step.value)
        self.eng.claim(task["id"], str(step.options.get("as") or ""))

    def do_unclaim(self, step: Step) -> None:
        task = self.ready(step, step.value)
        self.eng.unclaim(task["id"], step.options.get("as"))

    def do_advance(self, step: Step) -> None:
        value = step.value
        moment: datetime | None = None
        if isinstance(value, (date, datetime)):
            moment = _local(value, self.tz)
        else:
            try:
                moment = _local(value, self.tz)
            except ValueError:
                moment = None
        if moment is None:
            from . import deadlines

            deadline = deadlines.parse(str(value))
            if deadline.kind not in ("duration", "date"):
                raise StepFailed(["a duration or a date-time"], [f"{value!r} is a {deadline.kind}"])
            moment = deadline.due(self.clock.now(), self.eng.deadlines.calendar).at
        self.advance_to(moment)

    def advance_to(self, moment: datetime) -> None:
        """Move the clock to `moment`, firing every timer due on the way at its own due time, as a
        worker running all along would."""
        if moment < self.clock.now():
            raise StepFailed(
                [f"a time after {self.show_time(self.clock.now())}"], [f"{self.show_time(moment)} is earlier"]
            )
        for _ in range(ADVANCE_LIMIT):
            summary = self.eng.run_due_jobs(once=True, install_signals=False)
            following = summary["jobs"].get("next_due")
            if following is None or datetime.fromisoformat(following) > moment:
                break
            self.clock.set(max(datetime.fromisoformat(following), self.clock.now()))
        self.clock.set(moment)
        self.eng.run_due_jobs(once=True, install_signals=False)

    def do_message(self, step: Step) -> None:
        """To the addressed case; by correlation (the case waiting with that key, else a message start
        event) when the step gives `key:` or `correlate: true`, or when the scenario has no case."""
        payload, user = step.options.get("with") or {}, step.options.get("as")
        correlate = step.options.get("correlate")
        if correlate is None:
            correlate = "key" in step.options or (not self.case and not step.options.get("process"))
        if not correlate:
            self.eng.send_message(self.target(step), step.value, payload, user=user)
            return
        key = step.options.get("key")
        self.eng.correlate_message(
            step.value,
            payload,
            key=str(key) if key is not None else None,
            process=step.options.get("process"),
            user=user,
        )

    def do_signal(self, step: Step) -> None:
        """Broadcast a signal: every case waiting for it catches it, signal start events start cases."""
        self.eng.send_signal(step.value, step.options.get("with") or {}, user=step.options.get("as"))

    def do_retry(self, step: Step) -> None:
        self.eng.retry(
            self.target(step),
            step.options.get("with") or {},
            user=step.options.get("as"),
            latest=bool(step.options.get("latest", False)),
        )

    def do_cancel(self, step: Step) -> None:
        self.eng.cancel(self.target(step), str(step.value or "cancelled by the scenario"), user=step.options.get("as"))

    # -- expectations ---------------------------------------------------------------------------------
    def do_expect_task(self, step: Step) -> None:
        task = self.ready(step, step.value)
        expected, actual = [], []
        for key in ("role", "organisation", "assignee", "title", "form", "provisional", "due"):
            if key not in step.options:
                continue
            want = step.options[key]
            if key == "due":
                got: Any = self.show_time(task["due_at"])
                want = self.show_time(_local(want, self.tz)) if want is not None else "none"
            elif key == "provisional":
                got = bool(task.get("due_provisional"))
            else:
                got = task.get(key)
            if got != want:
                expected.append(f"{key}: {want}")
                actual.append(f"{key}: {got}")
        if expected:
            raise StepFailed(expected, actual)

    def do_expect_no_task(self, step: Step) -> None:
        tasks = self.eng.tasks(instance=self.target(step))
        if step.value in [t["name"] for t in tasks]:
            raise StepFailed([f"no ready task {step.value}"], [f"ready tasks: {_names(tasks)}"])

    def do_expect_tasks(self, step: Step) -> None:
        case = self.target(step)
        got = sorted(t["name"] for t in self.eng.tasks(instance=case))
        if got != sorted(step.value):
            raise StepFailed(
                [f"ready tasks: {', '.join(sorted(step.value)) or 'none'}"],
                [f"ready tasks: {', '.join(got) or 'none'}{self.stopped(case)}"],
            )

    def passed(self, step: Step) -> list[str]:
        return [p["element"] for p in self.eng.path(self.target(step)) if p["state"] == "passed"]

    def do_expect_passed(self, step: Step) -> None:
        passed = self.passed(step)
        missing = [e for e in step.value if e not in passed]
        if missing:
            raise StepFailed(
                [f"passed: {', '.join(step.value)}"], [f"not passed: {', '.join(missing)}; passed: {', '.join(passed)}"]
            )

    def do_expect_not_passed(self, step: Step) -> None:
        passed = self.passed(step)
        wrong = [e for e in step.value if e in passed]
        if wrong:
            raise StepFailed([f"not passed: {', '.join(step.value)}"], [f"passed: {', '.join(wrong)}"])

    def do_expect_passed_in_order(self, step: Step) -> None:
        passed = self.passed(step)
        if not _in_order(step.value, passed):
            raise StepFailed([f"passed in order: {', '.join(step.value)}"], [f"passed: {', '.join(passed)}"])

    def do_expect(self, step: Step) -> None:
        case = self.eng.show(self.target(step))
        expected, actual = [], []
        for key, want in step.value.items():
            if key == "variables":
                for name, value in (want or {}).items():
                    got = case["variables"].get(name, _MISSING)
                    if not _same(value, got):
                        expected.append(f"variables.{name}: {_show(value)}")
                        actual.append(f"variables.{name}: {'(not set)' if got is _MISSING else _show(got)}")
                continue
            if key == "incident":
                got = (case.get("incident") or {}).get("element")
            else:
                got = case.get(key)
            if not _same(want, got):
                expected.append(f"{key}: {_show(want)}")
                actual.append(f"{key}: {_show(got)}")
        if expected:
            raise StepFailed(expected, actual)

    def do_expect_incident(self, step: Step) -> None:
        case = self.eng.show(self.target(step))
        incident = case.get("incident") or {}
        want = step.value if isinstance(step.value, Mapping) else {"element": step.value}
        got_line = f"incident: {incident.get('element')} {incident.get('error') or ''}".strip()
        if case["status"] != "incident":
            raise StepFailed([f"incident at {want.get('element')}"], [f"status: {case['status']}"])
        if want.get("element") and incident.get("element") != want["element"]:
            raise StepFailed([f"incident at {want['element']}"], [got_line])
        if want.get("error") and str(want["error"]) not in str(incident.get("error")):
            raise StepFailed([f"incident error containing {want['error']!r}"], [got_line])

    def do_expect_history(self, step: Step) -> None:
        rows = self.eng.history(self.target(step))
        wanted = [_history_item(v) for v in step.value]
        i = 0
        for row in rows:
            if i < len(wanted) and all(row.get(k) == v for k, v in wanted[i].items()):
                i += 1
        if i < len(wanted):
            shown = [f"{r['kind']}: {r['element']}" if r.get("element") else r["kind"] for r in rows]
            raise StepFailed(
                [f"history rows in order: {', '.join(_history_text(w) for w in wanted)}"],
                [f"missing from {_history_text(wanted[i])} on; history: {', '.join(shown)}"],
            )

    def do_expect_linked(self, step: Step) -> None:
        links = self.eng.show(self.target(step)).get("links") or {}
        expected, actual = [], []
        if "parent" in step.value:
            parent = links.get("parent")
            got = parent["process"] if parent else None
            if got != step.value["parent"]:
                expected.append(f"parent: {step.value['parent']}")
                actual.append(f"parent: {got}")
        if "children" in step.value:
            want = [c if isinstance(c, Mapping) else {"process": c} for c in step.value["children"] or []]
            got_children = links.get("children") or []
            ok = len(want) == len(got_children) and all(
                all(_same(v, child.get(k)) for k, v in w.items()) for w, child in zip(want, got_children)
            )
            if not ok:
                expected.append(f"children: {', '.join(_child(w) for w in want) or 'none'}")
                actual.append(f"children: {', '.join(_child(c) for c in got_children) or 'none'}")
        if expected:
            raise StepFailed(expected, actual)


_MISSING = object()


def _names(tasks: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(sorted(t["name"] for t in tasks)) or "none"


def _child(c: Mapping[str, Any]) -> str:
    return f"{c.get('process')}({c['status']})" if c.get("status") else str(c.get("process"))


def _in_order(wanted: Sequence[str], passed: Sequence[str]) -> bool:
    """Whether `wanted` occurs in `passed` in that order (other elements may come between)."""
    it = iter(passed)
    return all(any(p == w for p in it) for w in wanted)


def _history_item(value: Any) -> dict[str, Any]:
    """`timer_fired: contact_overdue` / `ended` / {kind, element, actor} as the fields to match."""
    if isinstance(value, str):
        return {"kind": value}
    if isinstance(value, Mapping) and "kind" in value:
        return {k: value[k] for k in ("kind", "element", "actor") if k in value}
    if isinstance(value, Mapping) and len(value) == 1:
        kind, element = next(iter(value.items()))
        return {"kind": kind, "element": element}
    return {"kind": str(value)}


def _history_text(item: Mapping[str, Any]) -> str:
    text = f"{item['kind']}: {item['element']}" if item.get("element") else str(item["kind"])
    return text + (f" by {item['actor']}" if item.get("actor") else "")


def _same(want: Any, got: Any) -> bool:
    """Whether a value written in a scenario equals the stored one (dates compared as dates)."""
    if want == got:
        return True
    if isinstance(want, (date, datetime)) and isinstance(got, str):
        try:
            parsed = datetime.fromisoformat(got)
        except ValueError:
            return False
        if isinstance(want, datetime):
            return parsed == want if want.tzinfo else parsed.replace(tzinfo=None) == want
        return parsed.date() == want and got == want.isoformat()
    if isinstance(want, (int, float)) and isinstance(got, (int, float)) and not isinstance(want, bool):
        return float(want) == float(got) and not isinstance(got, bool)
    return False


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


# -- reporting ----------------------------------------------------------------------------------------
def junit_xml(results: Sequence[Result]) -> str:
    """The results as JUnit XML (one testsuite, a testcase per scenario), for CI."""
    failures = sum(1 for r in results if not r.passed)
    suite = ElementTree.Element(
        "testsuite",
        name="hall test",
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ElementTree.SubElement(
            suite,
            "testcase",
            classname=str(r.file),
            name=r.name,
            time=f"{r.seconds:.3f}",
            file=str(r.file),
            line=str(r.line),
        )
        if r.failure is not None:
            fail = ElementTree.SubElement(case, "failure", message=r.failure.title)
            fail.text = "\n".join(r.failure.lines())
    return ElementTree.tostring(suite, encoding="unicode", xml_declaration=True)


def elapsed(seconds: float) -> str:
    """`0.42 s`."""
    return f"{seconds:.2f} s"


__all__ = [
    "Coverage",
    "Failure",
    "Result",
    "Runner",
    "Scenario",
    "ScenarioFile",
    "Step",
    "collect",
    "junit_xml",
    "load_file",
]
