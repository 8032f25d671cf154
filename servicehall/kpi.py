"""Indicators from the history table (R-K1, R-K2, R-C2, R-C3, R-S2, R-S5): `hall kpi`.

Generic: which process, which tasks and which variables stand for "the complaint", "its limit",
"resolved", "revisited", "satisfied" comes from the `kpi:` section of hall.yaml; the defaults match
processes/complaint.bpmn and processes/filing.bpmn. The exact definitions are in docs/kpi.md.

`collect` reads (the engine's generic queries, `Engine.reading`); `compute` is pure and testable on constructed
events; `indicators` does both for an Engine; terminal/indicators.py prints it for `hall kpi`.
"""

from __future__ import annotations

import copy
import math
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..engine.errors import ConfigInvalid

DASH = "—"

DEFAULTS: dict[str, Any] = {
    "complaint": {
        "process": "complaint",
        "limit_task": "investigate",  # its task_created detail.due_at is the limit (办结时限)
        "limit": "last",  # last | first: which limit_task before the resolution counts
        "resolved_task": "revisit",  # the case reaches this task (task_created): resolved
        "revisit_task": "revisit",  # task_created due_at: due for revisit; task_completed: revisited
        "revisit_field": "回访满意度",
        "satisfied": ["满意", "基本满意"],
        "classify_task": "classify",
        "type_field": "类型",
        "topic_field": "专题",
        "round_task": "feedback",  # completions = PDCA rounds (R-C3)
    },
    "callbacks": {
        "process": "filing",
        "task": "callback",
        "scores": ["服务态度", "服务效率", "服务价格"],
        "weights": None,  # composite = weighted mean; None: settings.综合得分权重 or equal
        "agency_task": "sign_agreement",
        "agency_field": "服务机构",
    },
    "ratings": {  # R-S5 一事一评: the customer's rating of one transaction
        "field": "办理评分",
        # process -> rating task -> the tasks whose staff member it rates: the one of them completed
        # last before the rating is the transaction; its actor served, its role is the window
        "tasks": {
            "filing": {"rate_visit": ["record_consult", "refuse_notice"], "rate_filing": ["review"]},
            "complaint": {"rate": ["revisit", "reply_nonvalid"]},
        },
        "low": 6,  # a rating below this is counted as low (一般 is 6, R-S2)
    },
    "lookback_days": 120,  # how far before the period a complaint's limit task may lie
    "percentile": 90,
}

RATES = (
    ("timely", "投诉及时办结率", "resolved within the limit / complaints due in the period"),
    ("revisit", "投诉回访率", "revisited / complaints due for revisit in the period"),
    ("satisfied", "投诉回访满意率", "satisfied revisits / revisits in the period"),
)
UNCLASSIFIED = "未分类"


@dataclass
class KpiConfig:
    complaint: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS["complaint"]))
    callbacks: dict[str, Any] = field(default_factory=lambda: dict(DEFAULTS["callbacks"]))
    ratings: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(DEFAULTS["ratings"]))
    lookback_days: int = DEFAULTS["lookback_days"]
    percentile: int = DEFAULTS["percentile"]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> KpiConfig:
        settings = settings or {}
        source = str(settings.get("_source", "configuration"))
        raw = settings.get("kpi") or {}
        if not isinstance(raw, Mapping):
            raise ConfigInvalid(source, None, "kpi: must be a mapping (see docs/kpi.md)")
        merged = copy.deepcopy(DEFAULTS)
        for key, value in raw.items():
            if key not in DEFAULTS:
                raise ConfigInvalid(source, None, f"kpi.{key}: unknown key (known: {', '.join(DEFAULTS)})")
            if isinstance(DEFAULTS[key], dict):
                if not isinstance(value, Mapping):
                    raise ConfigInvalid(source, None, f"kpi.{key}: must be a mapping")
                for sub in value:
                    if sub not in DEFAULTS[key]:
                        raise ConfigInvalid(
                            source, None, f"kpi.{key}.{sub}: unknown key (known: {', '.join(DEFAULTS[key])})"
                        )
                merged[key].update(value)
            else:
                merged[key] = value
        for section, key in [("complaint", k) for k in DEFAULTS["complaint"] if k not in ("satisfied",)] + [
            ("callbacks", k) for k in ("process", "task", "agency_task", "agency_field")
        ]:
            if not isinstance(merged[section][key], str) or not merged[section][key].strip():
                raise ConfigInvalid(source, None, f"kpi.{section}.{key}: must be a name (text)")
        for section, key in (("complaint", "satisfied"), ("callbacks", "scores")):
            names = merged[section][key]
            if not isinstance(names, list) or not names or not all(isinstance(v, (str, int)) for v in names):
                raise ConfigInvalid(source, None, f"kpi.{section}.{key}: must be a non-empty list of values")
        if merged["complaint"]["limit"] not in ("first", "last"):
            raise ConfigInvalid(source, None, "kpi.complaint.limit: must be first or last")
        cb = merged["callbacks"]
        if cb["weights"] is None:
            w = (settings.get("settings") or {}).get("综合得分权重")
            cb["weights"] = (
                list(w) if w is not None and _weights(w, cb["scores"]) else None
            )  # a bad one: config check says so
        if cb["weights"] is not None and not _weights(cb["weights"], cb["scores"]):
            raise ConfigInvalid(source, None, "kpi.callbacks.weights: one weight >= 0 per score, not all 0")
        _check_ratings(merged["ratings"], source)
        lookback, pct = merged["lookback_days"], merged["percentile"]
        if not _whole(lookback) or lookback < 0:
            raise ConfigInvalid(source, None, "kpi.lookback_days: must be a whole number of days >= 0")
        if not _whole(pct) or not 1 <= pct <= 100:
            raise ConfigInvalid(source, None, "kpi.percentile: must be a whole number from 1 to 100")
        return cls(merged["complaint"], cb, merged["ratings"], lookback, pct)


def _check_ratings(r: Mapping[str, Any], source: str) -> None:
    """kpi.ratings: a field name, {process: {rating task: [served tasks]}}, a low mark from 0 to 10."""
    if not isinstance(r["field"], str) or not r["field"].strip():
        raise ConfigInvalid(source, None, "kpi.ratings.field: must be a name (text)")
    low = r["low"]
    if isinstance(low, bool) or not isinstance(low, (int, float)) or not 0 <= low <= 10:
        raise ConfigInvalid(source, None, "kpi.ratings.low: must be a score from 0 to 10")
    tasks = r["tasks"]
    if not isinstance(tasks, Mapping):
        raise ConfigInvalid(source, None, "kpi.ratings.tasks: must map a process to {rating task: [served tasks]}")
    for process, rating in tasks.items():
        if not isinstance(rating, Mapping) or not rating:
            raise ConfigInvalid(source, None, f"kpi.ratings.tasks.{process}: must map a rating task to [served tasks]")
        for task, served in rating.items():
            if not isinstance(served, list) or not served or not all(isinstance(t, str) and t for t in served):
                raise ConfigInvalid(
                    source, None, f"kpi.ratings.tasks.{process}.{task}: must be a list of the tasks it rates"
                )


def _weights(w: Any, scores: list[Any]) -> bool:
    return (
        isinstance(w, (list, tuple))
        and len(w) == len(scores)
        and sum(x for x in w if isinstance(x, (int, float))) > 0
        and all(isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in w)
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- periods -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    """Local calendar days first..last (inclusive) in a time zone; start/end are the UTC instants."""

    first: date
    last: date
    tz: str = "Asia/Shanghai"

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), tzinfo=ZoneInfo(self.tz)).astimezone(UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.tz)).astimezone(UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]


def default_period(now: datetime, tz: str) -> Period:
    """This month up to today (local)."""
    today = now.astimezone(ZoneInfo(tz)).date()
    return Period(today.replace(day=1), today, tz)


# -- working time ---------------------------------------------------------------------------------------
def working_hours(calendar: Any, a: datetime, b: datetime) -> float:
    """Office hours (calendar.office_hours minus lunch, working days only) between two instants."""
    if b <= a:
        return 0.0
    cfg = calendar.config
    tz = calendar.tz
    bounds = [cfg.office_start, *(cfg.lunch or ()), cfg.office_end]
    total = 0.0
    day = a.astimezone(tz).date()
    last = b.astimezone(tz).date()
    while day <= last:
        if calendar.is_working_day(day):
            pts = [datetime.combine(day, t, tzinfo=tz) for t in bounds]
            for s, e in zip(pts[::2], pts[1::2]):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return total / 3600.0


def percentile(values: list[float], pct: int) -> float | None:
    """Nearest-rank percentile: the ceil(pct/100 * n)-th smallest value."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# -- reading ---------------------------------------------------------------------------------------------
def collect(engine: Any, cfg: KpiConfig, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """Every history row the indicators of [start, end) need, as of min(end, now), read in one
    snapshot through the engine's generic queries (`Engine.reading`)."""
    asof = min(end, now)
    since = start - timedelta(days=cfg.lookback_days)
    c, cb = cfg.complaint, cfg.callbacks
    p = c["process"]
    raw: dict[str, Any] = {"start": start, "end": end, "asof": asof, "now": now}
    with engine.reading() as ks:
        due = ["due_at"]  # all a task_created row is read for
        raw["limit_created"] = ks.events(p, "task_created", [c["limit_task"]], since, asof, fields=due)
        raw["resolved_created"] = ks.events(p, "task_created", [c["resolved_task"]], since, asof, fields=due)
        raw["revisit_created"] = (
            raw["resolved_created"]
            if c["revisit_task"] == c["resolved_task"]
            else ks.events(p, "task_created", [c["revisit_task"]], since, asof, fields=due)
        )
        raw["revisit_done"] = ks.events(p, "task_completed", [c["revisit_task"]], since, asof)
        raw["cancelled"] = ks.events(p, "cancelled", [None], since, asof, with_detail=False)
        raw["started"] = ks.events(p, "started", [None], since, asof, with_detail=False)
        raw["classified"] = ks.events(
            p,
            "task_completed",
            [c["classify_task"]],
            since,
            asof,
            fields=[f"data.{c['type_field']}", f"data.{c['topic_field']}"],
        )
        raw["rounds"] = ks.events(p, "task_completed", [c["round_task"]], since, asof, with_detail=False)
        raw["ended"] = ks.events(p, "ended", [None], start, asof, with_detail=False)
        raw["callbacks"] = ks.events(cb["process"], "task_completed", [cb["task"]], start, asof)
        ids = sorted({r[0] for r in raw["callbacks"]})
        raw["agreements"] = ks.events_of(cb["process"], "task_completed", [cb["agency_task"]], ids, asof)
        raw["ratings"] = _collect_ratings(ks, cfg.ratings, start, asof)
        raw["workload"] = ks.workload(start, asof)
        raw["overdue"] = ks.overdue_tasks(now)
    return raw


def _collect_ratings(ks: Any, r: Mapping[str, Any], start: datetime, asof: datetime) -> list[dict[str, Any]]:
    """Every rating (R-S5) completed in [start, asof) with the transaction it rates: the served task
    completed last before it (its actor) and that task's role when it was created (the window)."""
    out: list[dict[str, Any]] = []
    for process, rating in r["tasks"].items():
        rated = ks.events(process, "task_completed", list(rating), start, asof, fields=[f"data.{r['field']}"])
        if not rated:
            continue
        ids = sorted({row[0] for row in rated})
        served = sorted({t for tasks in rating.values() for t in tasks})
        done = ks.events_of(process, "task_completed", served, ids, asof)
        created = ks.events_of(process, "task_created", served, ids, asof)
        for i, at, _actor, element, detail in rated:
            value = ((detail or {}).get("data") or {}).get(r["field"])
            before = [row for row in done if row[0] == i and row[3] in rating[element] and row[1] <= at]
            staff, window = None, None
            if before:
                _i, when, staff, task, _d = before[-1]
                roles = [row for row in created if row[0] == i and row[3] == task and row[1] <= when]
                window = ((roles[-1][4] or {}).get("role") if roles else None) or None
            out.append({"process": process, "score": _score(value), "staff": staff, "window": window})
    return out


def _score(value: Any) -> float | None:
    try:
        return None if value is None or str(value).strip() == "" else float(value)
    except ValueError:
        return None


def _rating_groups(ratings: list[dict[str, Any]], key: str, low: float) -> list[dict[str, Any]]:
    """Ratings grouped by window, or by (staff member, window), most rated first."""
    groups: dict[tuple[str, ...], list[float]] = defaultdict(list)
    for r in ratings:
        if r["score"] is None:
            continue
        window = str(r["window"] or UNCLASSIFIED)
        name: tuple[str, ...] = (str(r["staff"] or UNCLASSIFIED), window) if key == "staff" else (window,)
        groups[name].append(r["score"])
    rows = []
    for name, scores in groups.items():
        row: dict[str, Any] = dict(zip(("staff", "window") if key == "staff" else ("window",), name))
        row.update(ratings=len(scores), average=round(sum(scores) / len(scores), 2), low=sum(s < low for s in scores))
        rows.append(row)
    return sorted(rows, key=lambda x: (-x["ratings"], -x["average"], tuple(str(v) for v in x.values())))


def summarise_ratings(ratings: list[dict[str, Any]], r: Mapping[str, Any]) -> dict[str, Any]:
    """R-S5: the period's ratings, overall, per window and per staff member who served."""
    scores = [x["score"] for x in ratings if x["score"] is not None]
    return {
        "field": r["field"],
        "rated": len(scores),
        "unrated": len(ratings) - len(scores),
        "average": _r(sum(scores) / len(scores)) if scores else None,
        "low": sum(s < r["low"] for s in scores),
        "low_below": r["low"],
        "by_window": _rating_groups(ratings, "window", r["low"]),
        "by_staff": _rating_groups(ratings, "staff", r["low"]),
    }


# -- computing ---------------------------------------------------------------------------------------------
def _rate(key: str, num: int, den: int) -> dict[str, Any]:
    name, meaning = next((n, m) for k, n, m in RATES if k == key)
    return {
        "key": key,
        "name": name,
        "numerator": num,
        "denominator": den,
        "rate": (num / den) if den else None,
        "meaning": meaning,
    }


def _due(detail: Any, at: datetime) -> datetime | None:
    text = (detail or {}).get("due_at")
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def compute(raw: Mapping[str, Any], cfg: KpiConfig, calendar: Any) -> dict[str, Any]:
    """The indicators from the rows `collect` read (pure: no database, no clock)."""
    start, asof, now = raw["start"], raw["asof"], raw["now"]
    c, cb = cfg.complaint, cfg.callbacks

    def in_period(at: datetime | None) -> bool:
        return at is not None and start <= at < asof

    first = lambda rows: {i: at for i, at, *_ in reversed(rows)}  # noqa: E731 - earliest per instance
    cancelled = first(raw["cancelled"])
    resolved = first(raw["resolved_created"])
    started = first(raw["started"])

    # 投诉及时办结率 (R-K1)
    limits: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for i, at, _actor, _el, detail in raw["limit_created"]:
        due = _due(detail, at)
        if due is not None:
            limits[i].append((at, due))
    due_cases: list[int] = []
    in_time: list[int] = []
    late: list[int] = []
    for i, rows in limits.items():
        done = resolved.get(i)
        gone = cancelled.get(i)
        if gone is not None and (done is None or gone < done):
            continue
        before = [r for r in rows if done is None or r[0] <= done] or rows
        limit = (before[-1] if c["limit"] == "last" else before[0])[1]
        # counted once, in the period where its outcome became known: resolution or limit, the earlier
        if not in_period(min(limit, done) if done is not None else limit):
            continue
        due_cases.append(i)
        (in_time if done is not None and done <= limit else late).append(i)

    # 投诉回访率 (R-K1): counted when first revisited or when the first revisit task's due time passed
    revisit_due: dict[int, datetime] = {}
    for i, at, _a, _e, detail in reversed(raw["revisit_created"]):
        revisit_due[i] = _due(detail, at) or at
    revisited_at = first(raw["revisit_done"])
    due_revisit: list[int] = []
    revisited: list[int] = []
    not_revisited: list[int] = []
    for i, due in revisit_due.items():
        gone = cancelled.get(i)
        done = revisited_at.get(i)
        if not in_period(min(due, done) if done is not None else due) or (
            gone is not None and (done is None or gone < done)
        ):
            continue
        due_revisit.append(i)
        (revisited if i in revisited_at else not_revisited).append(i)

    # 投诉回访满意率 (R-K1): every revisit completed in the period
    field_, ok = c["revisit_field"], set(c["satisfied"])
    revisits = [(i, (d or {}).get("data", {}).get(field_)) for i, at, _a, _e, d in raw["revisit_done"] if in_period(at)]
    satisfied = [i for i, v in revisits if v in ok]
    answers = Counter(str(v) for _i, v in revisits)

    # by type and topic (R-C2, R-K2): complaints received in the period, their last classification
    kind: dict[int, tuple[str, str]] = {}
    for i, _at, _a, _e, d in raw["classified"]:
        data = (d or {}).get("data") or {}
        kind[i] = (str(data.get(c["type_field"]) or UNCLASSIFIED), str(data.get(c["topic_field"]) or UNCLASSIFIED))
    received = [i for i, at in started.items() if in_period(at)]
    by_type = Counter(kind.get(i, (UNCLASSIFIED, UNCLASSIFIED))[0] for i in received)
    by_topic = Counter(kind.get(i, (UNCLASSIFIED, UNCLASSIFIED))[1] for i in received)
    by_type_topic = Counter("/".join(kind.get(i, (UNCLASSIFIED, UNCLASSIFIED))) for i in received)

    # handling time in working hours: received -> resolved, for complaints resolved in the period
    hours = [working_hours(calendar, started[i], at) for i, at in resolved.items() if in_period(at) and i in started]
    avg = sum(hours) / len(hours) if hours else None

    # PDCA rounds (R-C3) of the complaints that ended in the period and were handled (had a limit task)
    round_count = Counter(i for i, *_ in raw["rounds"])
    ended = {i for i, at, *_ in raw["ended"] if in_period(at)} & set(limits)
    per_case = [round_count.get(i, 0) for i in sorted(ended)]

    # callback scores per service agency (R-S2)
    agency_of = {}
    for i, _at, _a, _e, d in raw["agreements"]:
        agency_of[i] = str(((d or {}).get("data") or {}).get(cb["agency_field"]) or UNCLASSIFIED)
    weights = cb["weights"] or [1] * len(cb["scores"])
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: Counter[str] = Counter()
    for i, _at, _a, _e, d in raw["callbacks"]:
        data = (d or {}).get("data") or {}
        values: list[Any] = [data.get(s) for s in cb["scores"]]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            continue
        agency = agency_of.get(i, UNCLASSIFIED)
        counts[agency] += 1
        for s, v in zip(cb["scores"], values):
            sums[agency][s] += v
        sums[agency]["综合得分"] += sum(v * w for v, w in zip(values, weights)) / sum(weights)
    agencies = [
        {"agency": a, "calls": n, **{k: round(v / n, 2) for k, v in sums[a].items()}}
        for a, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    ]

    # workload: tasks completed per actor in the period
    per_actor: dict[str, dict[str, int]] = defaultdict(dict)
    for actor, process, n in raw["workload"]:
        per_actor[actor or "-"][process] = n
    workload: list[dict[str, Any]] = sorted(
        ({"actor": a, "tasks": sum(p.values()), "by_process": dict(sorted(p.items()))} for a, p in per_actor.items()),
        key=lambda r: (-r["tasks"], r["actor"]),
    )

    # overdue now: ready tasks past their due time
    by_process: dict[str, dict[str, Any]] = {}
    oldest: list[dict[str, Any]] = []
    for i, process, name, due, key in raw["overdue"]:
        entry = by_process.setdefault(process, {"cases": set(), "tasks": Counter()})
        entry["cases"].add(i)
        entry["tasks"][name] += 1
        if len(oldest) < 20:
            oldest.append(
                {
                    "instance": i,
                    "process": process,
                    "business_key": key,
                    "task": name,
                    "due_at": due.isoformat(),
                    "overdue_working_hours": round(working_hours(calendar, due, now), 1),
                }
            )
    overdue = {
        "at": now.isoformat(),
        "cases": sum(len(e["cases"]) for e in by_process.values()),
        "tasks": sum(sum(e["tasks"].values()) for e in by_process.values()),
        "by_process": {p: {"cases": len(e["cases"]), "tasks": dict(e["tasks"])} for p, e in sorted(by_process.items())},
        "oldest": oldest,
    }

    return {
        "period": {"start": start.isoformat(), "end": raw["end"].isoformat(), "as_of": asof.isoformat()},
        "rates": [
            _rate("timely", len(in_time), len(due_cases)),
            _rate("revisit", len(revisited), len(due_revisit)),
            _rate("satisfied", len(satisfied), len(revisits)),
        ],
        "received": len(received),
        "by_type": dict(by_type.most_common()),
        "by_topic": dict(by_topic.most_common()),
        "by_type_topic": dict(by_type_topic.most_common()),
        "revisit_answers": dict(answers.most_common()),
        "handling_hours": {
            "count": len(hours),
            "average": _r(avg),
            f"p{cfg.percentile}": _r(percentile(hours, cfg.percentile)),
        },
        "pdca": {
            "complaints": len(per_case),
            "average": _r(sum(per_case) / len(per_case)) if per_case else None,
            "max": max(per_case) if per_case else None,
            "rounds": {str(k): v for k, v in sorted(Counter(per_case).items())},
        },
        "callbacks": agencies,
        "ratings": summarise_ratings(raw.get("ratings", []), cfg.ratings),
        "workload": workload,
        "overdue_now": overdue,
        "cases": {"late": sorted(late), "not_revisited": sorted(not_revisited)},
    }


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# Hall-wide figures (every case counted, every actor's workload) are for those who see every case.
PERMISSION = "see_all"


def reader(engine: Any, user: str | None, what: str = "the indicators") -> Any:
    """The acting user once allowed to read hall-wide figures (`see_all`; None: the system or no
    users configured). Unknown users, a missing --user and users without the permission are refused."""
    return engine.authorize(user, PERMISSION, "see", what)


def indicators(engine: Any, period: Period | None = None, user: str | None = None) -> dict[str, Any]:
    """The indicators of `period` (default: this month so far) on an Engine's database, as `user` may
    see them: the overdue cases of confidential cases are placeholders without `confidential` (R-C10)."""
    actor = reader(engine, user)
    cfg = KpiConfig.from_settings(engine.settings)
    calendar = engine.deadlines.calendar
    now = engine.clock.now()
    period = period or default_period(now, calendar.config.timezone)
    raw = collect(engine, cfg, period.start, period.end, now)
    out = compute(raw, cfg, calendar)
    out["period"].update({"from": period.first.isoformat(), "to": period.last.isoformat(), "timezone": period.tz})
    if actor is not None:
        out["overdue_now"]["oldest"] = redact_cases(engine, out["overdue_now"]["oldest"], actor)
    return out


def redact_cases(engine: Any, records: list[dict[str, Any]], actor: Any) -> list[dict[str, Any]]:
    """Case records (`instance` = the id) with confidential ones as placeholders for `actor` (R-C10):
    id, process, number, deadline kept; the task name and everything else hidden."""
    from ..engine.access import PLACEHOLDER

    if not records:
        return records
    with engine.reading() as ks:
        variables = ks.variables_of({r["instance"] for r in records})
    out = []
    for r in records:
        shown = engine.redact_record(r, variables.get(r["instance"]), actor.id)
        if shown.get("redacted") and "task" in shown:
            shown["task"] = PLACEHOLDER
        out.append(shown)
    return out


# -- presenting -------------------------------------------------------------------------------------------
def rate_text(r: Mapping[str, Any]) -> str:
    pct = f"{r['rate'] * 100:.1f}%" if r["rate"] is not None else DASH
    return f"{r['numerator']}/{r['denominator']} = {pct}"


# Days hall computes with: a period's UTC bounds, the year before a yearly report and a lookback
# must stay representable (0001-01-01 would overflow).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def parse_day(text: str, what: str) -> date:
    from ..engine.errors import HallError

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise HallError(f"{what} {text!r} is not a date like 2026-11-01") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise HallError(f"{what} {text!r} is out of range: give a day from {FIRST_DAY} to {LAST_DAY}")
    return day


def period_from(first: str | None, last: str | None, now: datetime, tz: str) -> Period:
    """`--from/--to` (local dates, both inclusive); missing ends default to this month so far."""
    base = default_period(now, tz)
    p = Period(parse_day(first, "--from") if first else base.first, parse_day(last, "--to") if last else base.last, tz)
    if p.last < p.first:
        from ..engine.errors import HallError

        raise HallError(f"--to {p.last} is before --from {p.first}")
    return p
