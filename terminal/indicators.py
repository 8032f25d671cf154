"""What `hall kpi` and `hall report` print for people, in the hall's language and local time to the
minute: the indicators document of ``servicehall.kpi`` (its keys, docs/kpi.md) as lines, the reports
due, and the files a report wrote. ``--json`` prints the documents themselves."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from .i18n import tr
from .timefmt import local

DASH = "—"


def _num(value: Any, unit: str = "") -> str:
    return DASH if value is None else f"{value}{unit}"


def _rate(r: Mapping[str, Any]) -> str:
    pct = f"{r['rate'] * 100:.1f}%" if r["rate"] is not None else DASH
    return f"{r['numerator']}/{r['denominator']} = {pct}"


def _meaning(r: Mapping[str, Any]) -> str:
    """What a rate counts (R-K1's definitions), in the hall's language."""
    if r["key"] == "timely":
        return tr("resolved within the limit / complaints due in the period")
    if r["key"] == "revisit":
        return tr("revisited / complaints due for revisit in the period")
    if r["key"] == "satisfied":
        return tr("satisfied revisits / revisits in the period")
    return str(r["meaning"])


def _counts(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items()) or DASH


def kpi_lines(k: Mapping[str, Any], tz: tzinfo) -> list[str]:
    """The indicators of `hall kpi` (servicehall.kpi.indicators' document) as the lines people read."""
    p = k["period"]
    lines = [
        tr(
            "KPI {first} .. {last}  ({timezone}; as of {as_of})",
            first=p.get("from", p["start"]),
            last=p.get("to", p["end"]),
            timezone=p.get("timezone", "UTC"),
            as_of=local(p["as_of"], tz),
        )
    ]
    width = max((len(r["name"]) for r in k["rates"]), default=0)
    for r in k["rates"]:
        lines.append(f"{r['name']}{'　' * (width - len(r['name']))} = {_rate(r):<20} ({_meaning(r)})")
    lines.append(tr("complaints received: {count}", count=k["received"]))
    lines.append("  " + tr("by type:  {counts}", counts=_counts(k["by_type"])))
    lines.append("  " + tr("by topic: {counts}", counts=_counts(k["by_topic"])))
    h = k["handling_hours"]
    pk = next(x for x in h if x.startswith("p"))
    lines.append(
        tr(
            "handling time (received -> resolved, working hours): {count} resolved, average {average}, "
            "{percentile} {value}",
            count=h["count"],
            average=_num(h["average"], " h"),
            percentile=pk,
            value=_num(h[pk], " h"),
        )
    )
    d = k["pdca"]
    rounds = ", ".join(tr("{rounds} round(s): {count}", rounds=r, count=n) for r, n in d["rounds"].items())
    lines.append(
        tr(
            "PDCA rounds of complaints closed: {count} closed, average {average}, max {max}",
            count=d["complaints"],
            average=_num(d["average"]),
            max=_num(d["max"]),
        )
        + (f"  ({rounds})" if rounds else "")
    )
    o = k["overdue_now"]
    lines.append(tr("overdue now: {cases} case(s), {tasks} task(s)", cases=o["cases"], tasks=o["tasks"]))
    for proc, e in o["by_process"].items():
        lines.append(
            "  " + tr("{process}: {cases} case(s); {tasks}", process=proc, cases=e["cases"], tasks=_counts(e["tasks"]))
        )
    lines.append(tr("callback scores by service agency:") + ("" if k["callbacks"] else f" {DASH}"))
    for a in k["callbacks"]:
        scores = ", ".join(f"{s} {v}" for s, v in a.items() if s not in ("agency", "calls"))
        lines.append(
            "  " + tr("{agency}: {calls} call(s); {scores}", agency=a["agency"], calls=a["calls"], scores=scores)
        )
    g = k["ratings"]
    lines.append(
        tr(
            "ratings ({field}, R-S5): {rated} rated, average {average}, {low} below {below}; {unrated} not rated",
            field=g["field"],
            rated=g["rated"],
            average=_num(g["average"]),
            low=g["low"],
            below=g["low_below"],
            unrated=g["unrated"],
        )
    )
    for w in g["by_window"]:
        lines.append(
            "  "
            + tr(
                "window {window}: {ratings} rating(s), average {average}, low {low}",
                window=w["window"],
                ratings=w["ratings"],
                average=w["average"],
                low=w["low"],
            )
        )
    for w in g["by_staff"]:
        lines.append(
            "  "
            + tr(
                "{staff} ({window}): {ratings} rating(s), average {average}, low {low}",
                staff=w["staff"],
                window=w["window"],
                ratings=w["ratings"],
                average=w["average"],
                low=w["low"],
            )
        )
    lines.append(tr("tasks completed per staff member:") + ("" if k["workload"] else f" {DASH}"))
    for w in k["workload"]:
        lines.append(f"  {w['actor']}: {w['tasks']}  ({_counts(w['by_process'])})")
    return lines


def due_lines(rows: list[Mapping[str, Any]], out: str, tz: tzinfo) -> list[str]:
    """`hall report due`: each report whose period is over and that is not written yet, with its deadline."""
    if not rows:
        return [tr("no report due: every report whose period is over is in {folder}/", folder=out)]
    lines = []
    for r in rows:
        deadline = local(r["deadline"], tz)
        state = tr("OVERDUE since {at}", at=deadline) if r["overdue"] else tr("due by {at}", at=deadline)
        lines.append(f"{r['kind']:<10} {r['name']:<32} {state}  -> {r['path']}")
    return lines


def written_lines(report: Mapping[str, Any], paths: Mapping[str, str]) -> list[str]:
    """`hall report KIND`: the report's name and period, and the files written."""
    lines = [tr("{name}  ({first} .. {last})", name=report["name"], first=report["from"], last=report["to"])]
    lines += ["  " + tr("wrote {path}", path=paths[ext]) for ext in ("md", "csv", "svg")]
    return lines
