"""Periodic reports (R-K3): daily, monthly, quarterly, half-yearly, yearly — Markdown, CSV and an SVG chart.

`hall report KIND [--date D]` writes the report of the period before D (default today):
daily = 00:00–24:00 of the previous day, monthly = the previous calendar month, quarterly = the
previous quarter, half-year = the previous half (Jan–Jun / Jul–Dec), yearly = the previous year.
Files are archived by kind and date (R-K3): `<out>/daily/YYYY/MM/<name>.md|.csv|.svg` for daily
reports, `<out>/<kind>/YYYY/<name>.*` for the others (the year and month the period starts), the
name being the template name plus the dates (`20261123业务受理日报`, `20261001-1031业务受理总量月报`).
A report of a period that has not ended yet (engine clock) is refused. `hall report due` lists the
reports whose period is over and whose file is missing, with the deadline the rules give (R-K3:
daily by 09:00 — of the next working day, since nobody sends it on a day the hall is closed — the
others by the 10th of the following month). Names and deadlines: the `reports:` section.

Reading reports needs the `see_all` permission once users are configured (servicehall.kpi.reader).
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..engine.errors import ConfigInvalid, HallError, OutputNotWritable
from ..engine.paths import file_name_problem, inside
from .kpi import DASH, Period, indicators, rate_text

KINDS = ("daily", "monthly", "quarterly", "half-year", "yearly")
DEFAULTS: dict[str, Any] = {
    "names": {
        "daily": "业务受理日报",
        "monthly": "业务受理总量月报",
        "quarterly": "业务受理总量季报",
        "half-year": "业务受理总量半年报",
        "yearly": "业务受理总量年报",
    },
    "daily_due": "09:00",  # R-K3: the daily report is sent by 09:00
    "due_day": 10,  # R-K3: monthly / quarterly by the 10th; half-year and yearly likewise
    "look_back": {"daily": 7, "monthly": 3, "quarterly": 2, "half-year": 1, "yearly": 1},  # periods `due` checks
    "out": "reports",
    "process_names": {},  # optional display names: {complaint: 投诉, filing: 备案}
}


@dataclass(frozen=True)
class ReportsConfig:
    names: Mapping[str, str]
    daily_due: time
    due_day: int
    look_back: Mapping[str, int]
    out: str
    process_names: Mapping[str, str]

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> ReportsConfig:
        settings = settings or {}
        source = str(settings.get("_source", "configuration"))
        raw = settings.get("reports") or {}
        if not isinstance(raw, Mapping):
            raise ConfigInvalid(source, None, "reports: must be a mapping (see docs/kpi.md)")
        merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULTS.items()}
        for key, value in raw.items():
            if key not in DEFAULTS:
                raise ConfigInvalid(source, None, f"reports.{key}: unknown key (known: {', '.join(DEFAULTS)})")
            if isinstance(DEFAULTS[key], dict):
                if not isinstance(value, Mapping):
                    raise ConfigInvalid(source, None, f"reports.{key}: must be a mapping")
                merged[key].update(value)
            else:
                merged[key] = value

        def bad(where: str, what: str) -> ConfigInvalid:
            return ConfigInvalid(source, None, f"reports.{where}: {what}")

        for key in ("names", "look_back"):
            for kind, value in merged[key].items():
                if kind not in KINDS:
                    raise bad(f"{key}.{kind}", f"unknown report kind (known: {', '.join(KINDS)})")
                if key == "names" and (not isinstance(value, str) or not value.strip()):
                    raise bad(f"names.{kind}", "must be the template name (text), e.g. 业务受理日报")
                if key == "names" and (why := file_name_problem(value)) is not None:
                    raise bad(f"names.{kind}", f"{why}: it names the report's files under `out`")
                if key == "look_back" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise bad(f"look_back.{kind}", "must be a whole number of periods >= 0")
        for p, value in merged["process_names"].items():
            if not isinstance(value, str):
                raise bad(f"process_names.{p}", "must be a display name (text)")
        text = merged["daily_due"]
        try:
            hh, mm = str(text).split(":")
            daily_due = time(int(hh), int(mm))
        except ValueError:
            raise bad("daily_due", f'{text!r} is not a time like "09:00" (quote it in YAML)') from None
        due_day = merged["due_day"]
        if not isinstance(due_day, int) or isinstance(due_day, bool) or not 1 <= due_day <= 28:
            raise bad("due_day", f"{due_day!r} is not a day of the month from 1 to 28")
        if not isinstance(merged["out"], str) or not merged["out"].strip():
            raise bad("out", "must be a folder (text)")
        return cls(merged["names"], daily_due, due_day, merged["look_back"], merged["out"], merged["process_names"])


# -- periods, names, deadlines -----------------------------------------------------------------------
def _month_start(d: date, back: int = 0) -> date:
    m = d.year * 12 + d.month - 1 - back
    return date(m // 12, m % 12 + 1, 1)


def period_for(kind: str, day: date, tz: str = "Asia/Shanghai") -> Period:
    """The period the `kind` report produced on `day` covers: the last whole period before `day`."""
    if kind == "daily":
        prev = day - timedelta(days=1)
        return Period(prev, prev, tz)
    if kind == "monthly":
        first = _month_start(day, 1)
        return Period(first, _month_start(day) - timedelta(days=1), tz)
    if kind == "quarterly":
        this_q = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        first = _month_start(this_q, 3)
        return Period(first, this_q - timedelta(days=1), tz)
    if kind == "half-year":
        this_h = date(day.year, 1 if day.month <= 6 else 7, 1)
        first = _month_start(this_h, 6)
        return Period(first, this_h - timedelta(days=1), tz)
    if kind == "yearly":
        return Period(date(day.year - 1, 1, 1), date(day.year - 1, 12, 31), tz)
    raise HallError(f"unknown report kind {kind!r} (known: {', '.join(KINDS)})")


def report_name(kind: str, period: Period, cfg: ReportsConfig | None = None) -> str:
    """`20261123业务受理日报`; `20261001-1031业务受理总量月报` (R-K3); across a year end `20261201-20270131…`."""
    names = cfg.names if cfg else DEFAULTS["names"]
    title = names[kind]
    if kind == "daily":
        return f"{period.first:%Y%m%d}{title}"
    end = f"{period.last:%m%d}" if period.last.year == period.first.year else f"{period.last:%Y%m%d}"
    return f"{period.first:%Y%m%d}-{end}{title}"


def deadline(kind: str, period: Period, cfg: ReportsConfig, calendar: Any = None) -> datetime:
    """When the report of `period` must be out (R-K3), as an aware local datetime.

    Daily: by `daily_due` (09:00) of the day after — with a business calendar, of the first working
    day after the period (a Friday's, Saturday's and Sunday's reports are all due Monday 09:00).
    """
    tz = ZoneInfo(period.tz)
    after = period.last + timedelta(days=1)
    if kind == "daily":
        while calendar is not None and not calendar.is_working_day(after):
            after += timedelta(days=1)
        return datetime.combine(after, cfg.daily_due, tzinfo=tz)
    # "by the 10th": until the end of that day
    return datetime.combine(after.replace(day=cfg.due_day) + timedelta(days=1), time(0), tzinfo=tz)


def files_of(out: Path, kind: str, period: Period, name: str) -> dict[str, Path]:
    """Archived by kind and date (R-K3): daily/YYYY/MM/, the others <kind>/YYYY/ (the period's start)."""
    folder = Path(out) / kind / f"{period.first:%Y}"
    if kind == "daily":
        folder = folder / f"{period.first:%m}"
    for ext in ("md", "csv", "svg"):  # a name checked by the configuration; checked again where it is made
        inside(out, str((folder / f"{name}.{ext}").relative_to(out)))
    return {ext: folder / f"{name}.{ext}" for ext in ("md", "csv", "svg")}


def due_reports(
    engine: Any, out: str | Path | None = None, day: date | None = None, user: str | None = None
) -> list[dict[str, Any]]:
    """Reports whose period is over, not yet produced (no .md file), with deadline and state."""
    from .kpi import reader

    reader(engine, user, "the reports due")
    cfg = ReportsConfig.from_settings(engine.settings)
    calendar = engine.deadlines.calendar
    tz = engine.deadlines.calendar.config.timezone
    now = engine.clock.now()
    today = day or now.astimezone(ZoneInfo(tz)).date()
    out_dir = Path(out or cfg.out)
    found = []
    for kind in KINDS:
        seen = set()
        probe = today
        for _ in range(int(cfg.look_back.get(kind, 1))):
            period = period_for(kind, probe, tz)
            if period.first in seen:
                break
            seen.add(period.first)
            name = report_name(kind, period, cfg)
            md = files_of(out_dir, kind, period, name)["md"]
            if period.end <= now and not md.exists():  # a period not over yet is not due (nor makeable)
                dl = deadline(kind, period, cfg, calendar)
                found.append(
                    {
                        "kind": kind,
                        "name": name,
                        "from": period.first.isoformat(),
                        "to": period.last.isoformat(),
                        "deadline": dl.isoformat(),
                        "overdue": now >= dl.astimezone(UTC),
                        "path": str(md),
                    }
                )
            probe = period.first  # the period before this one
    found.sort(key=lambda r: r["deadline"])
    return found


# -- content ------------------------------------------------------------------------------------------
def build(engine: Any, kind: str, day: date | None = None, user: str | None = None) -> dict[str, Any]:
    """The report's data: its period and name, volumes per day (per hour for daily), the indicators.

    Refuses a period that has not ended yet: its figures would change after the report is archived.
    """
    from .kpi import reader

    reader(engine, user, "the reports")
    cfg = ReportsConfig.from_settings(engine.settings)
    tz = engine.deadlines.calendar.config.timezone
    now = engine.clock.now()
    day = day or now.astimezone(ZoneInfo(tz)).date()
    period = period_for(kind, day, tz)
    if period.end > now:
        raise HallError(
            f"the {kind} report made on {day} covers {period.first}..{period.last}, which has not "
            f"ended yet (now {now.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}): give an earlier --date"
        )
    zone = ZoneInfo(tz)
    with engine.reading() as ks:
        started = ks.started_between(period.start, min(period.end, now))
        ended = ks.ended_between(period.start, min(period.end, now))
    if kind == "daily":
        buckets = [f"{h:02d}:00" for h in range(24)]
        key = lambda at: f"{at.astimezone(zone).hour:02d}:00"  # noqa: E731
    else:
        buckets = [d.isoformat() for d in period.days()]
        key = lambda at: at.astimezone(zone).date().isoformat()  # noqa: E731
    processes = sorted({p for p, _ in started} | {p for p, _s, _e in ended})
    series: dict[str, Counter[str]] = defaultdict(Counter)
    for p, at in started:
        series[p][key(at)] += 1
    closed: dict[str, Counter[str]] = defaultdict(Counter)
    for p, status, _at in ended:
        closed[p][status] += 1
    k = indicators(engine, period, user)
    return {
        "kind": kind,
        "name": report_name(kind, period, cfg),
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
        "timezone": tz,
        "generated_at": now.isoformat(),
        "deadline": deadline(kind, period, cfg, engine.deadlines.calendar).isoformat(),
        "bucket": "hour" if kind == "daily" else "day",
        "buckets": buckets,
        "processes": processes,
        "process_names": {p: cfg.process_names.get(p, p) for p in processes},
        "started": {p: [series[p].get(b, 0) for b in buckets] for p in processes},
        "started_total": {p: sum(series[p].values()) for p in processes},
        "ended": {p: dict(closed[p]) for p in processes},
        "kpi": k,
    }


def render_markdown(r: Mapping[str, Any]) -> str:
    k = r["kpi"]
    names = r["process_names"]
    out = [
        f"# {r['name']}",
        "",
        f"统计期间 period: {r['from']} 00:00 – {r['to']} 24:00 ({r['timezone']})  ",
        f"生成时间 generated: {r['generated_at']}  ",
        f"报送期限 due: {r['deadline']}",
        "",
        "## 业务受理量 volumes",
        "",
        "| 流程 process | 受理 started | 办结 completed | 撤销 cancelled |",
        "|---|---:|---:|---:|",
    ]
    for p in r["processes"]:
        e = r["ended"].get(p, {})
        out.append(f"| {names[p]} | {r['started_total'][p]} | {e.get('completed', 0)} | {e.get('cancelled', 0)} |")
    if not r["processes"]:
        out.append(f"| {DASH} | 0 | 0 | 0 |")
    out += [
        "",
        f"![{r['name']}]({r['name']}.svg)",
        "",
        "## 投诉指标 complaint indicators (R-K1)",
        "",
        "| 指标 | 分子/分母 = 比率 | 口径 |",
        "|---|---|---|",
    ]
    for rate in k["rates"]:
        out.append(f"| {rate['name']} | {rate_text(rate)} | {rate['meaning']} |")
    h = k["handling_hours"]
    pk = next(x for x in h if x.startswith("p"))
    out += [
        "",
        f"受理投诉 complaints received: {k['received']}; 处理时长 handling time (working hours): "
        f"{h['count']} resolved, average {_v(h['average'])} h, {pk} {_v(h[pk])} h",
        "",
        "## 分类统计 by type and topic (R-C2, R-K2)",
        "",
        "| 类型 type | 件数 |",
        "|---|---:|",
    ]
    out += [f"| {t} | {n} |" for t, n in k["by_type"].items()] or [f"| {DASH} | 0 |"]
    out += ["", "| 专题 topic (热点 hot issues first) | 件数 |", "|---|---:|"]
    out += [f"| {t} | {n} |" for t, n in k["by_topic"].items()] or [f"| {DASH} | 0 |"]
    d = k["pdca"]
    out += [
        "",
        "## PDCA (R-C3)",
        "",
        f"closed complaints: {d['complaints']}, rounds average {_v(d['average'])}, max {_v(d['max'])}",
        "",
        "## 回访评分 callback scores by service agency (R-S2)",
        "",
    ]
    if k["callbacks"]:
        cols = [c for c in k["callbacks"][0] if c not in ("agency", "calls")]
        out += ["| 服务机构 | 回访数 | " + " | ".join(cols) + " |", "|---|---:|" + "---:|" * len(cols)]
        out += [
            f"| {a['agency']} | {a['calls']} | " + " | ".join(str(a.get(c, DASH)) for c in cols) + " |"
            for a in k["callbacks"]
        ]
    else:
        out.append(DASH)
    o = k["overdue_now"]
    out += ["", "## 工作量 tasks completed per staff member", "", "| 人员 | 完成任务 |", "|---|---:|"]
    out += [f"| {w['actor']} | {w['tasks']} |" for w in k["workload"]] or [f"| {DASH} | 0 |"]
    out += ["", f"## 超时 overdue at {o['at']}", "", f"{o['cases']} case(s), {o['tasks']} task(s)", ""]
    return "\n".join(out)


def render_csv(r: Mapping[str, Any]) -> str:
    """Long format: section, key, value, numerator, denominator — one row per figure."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["section", "key", "value", "numerator", "denominator"])
    w.writerow(["report", "name", r["name"], "", ""])
    w.writerow(["report", "period", f"{r['from']}..{r['to']}", "", ""])
    for p in r["processes"]:
        for b, n in zip(r["buckets"], r["started"][p]):
            w.writerow([f"started:{p}", b, n, "", ""])
    for rate in r["kpi"]["rates"]:
        w.writerow(
            [
                "rate",
                rate["name"],
                "" if rate["rate"] is None else round(rate["rate"], 4),
                rate["numerator"],
                rate["denominator"],
            ]
        )
    for section in ("by_type", "by_topic"):
        for t, n in r["kpi"][section].items():
            w.writerow([section, t, n, "", ""])
    for key, value in r["kpi"]["handling_hours"].items():
        w.writerow(["handling_hours", key, "" if value is None else value, "", ""])
    for a in r["kpi"]["callbacks"]:
        for key, value in a.items():
            if key != "agency":
                w.writerow([f"callback:{a['agency']}", key, value, "", ""])
    for wl in r["kpi"]["workload"]:
        w.writerow(["workload", wl["actor"], wl["tasks"], "", ""])
    return buf.getvalue()


COLOURS = ["#4472c4", "#ed7d31", "#a5a5a5", "#ffc000", "#5b9bd5", "#70ad47", "#264478", "#9e480e"]


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render_svg(r: Mapping[str, Any]) -> str:
    """Stacked bars of the volumes per day (hour) by process, and the three rates as bars."""
    buckets, procs = r["buckets"], r["processes"]
    W, H, left, top, plot_h = 900, 420, 50, 40, 220
    n = max(len(buckets), 1)
    bw = (W - left - 20) / n
    totals = [sum(r["started"][p][i] for p in procs) for i in range(len(buckets))]
    peak = max(totals + [1])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="11">',
        f'<text x="{left}" y="20" font-size="14">{_esc(r["name"])}：受理量（每{"小时" if r["bucket"] == "hour" else "日"}）</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{W - 20}" y2="{top + plot_h}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for i, b in enumerate(buckets):
        y = top + plot_h
        for j, p in enumerate(procs):
            v = r["started"][p][i]
            if not v:
                continue
            h = plot_h * v / peak
            y -= h
            parts.append(
                f'<rect x="{left + i * bw + 1:.1f}" y="{y:.1f}" width="{max(bw - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[j % len(COLOURS)]}"><title>{_esc(b)} {_esc(p)}: {v}</title></rect>'
            )
        step = max(1, n // 12)
        if i % step == 0:
            parts.append(
                f'<text x="{left + i * bw + bw / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">'
                f"{_esc(b[5:] if len(b) == 10 else b)}</text>"
            )
    for j, p in enumerate(procs):
        x = left + j * 140
        parts.append(
            f'<rect x="{x}" y="{top + plot_h + 24}" width="10" height="10" fill="{COLOURS[j % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{top + plot_h + 33}">{_esc(r["process_names"][p])} {r["started_total"][p]}</text>'
        )
    y0 = top + plot_h + 60
    for i, rate in enumerate(r["kpi"]["rates"]):
        y = y0 + i * 22
        width = 400 * (rate["rate"] or 0)
        parts.append(
            f'<text x="{left}" y="{y + 12}">{_esc(rate["name"])}</text>'
            f'<rect x="{left + 100}" y="{y}" width="400" height="14" fill="#eee"/>'
            f'<rect x="{left + 100}" y="{y}" width="{width:.1f}" height="14" fill="#70ad47"/>'
            f'<text x="{left + 510}" y="{y + 12}">{_esc(rate_text(rate))}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write(r: Mapping[str, Any], out: str | Path) -> dict[str, str]:
    """Write the report's .md, .csv and .svg under out/<kind>/YYYY[/MM]/ (replacing an earlier run's files)."""
    period = Period(date.fromisoformat(r["from"]), date.fromisoformat(r["to"]), r["timezone"])
    paths = files_of(Path(out), r["kind"], period, r["name"])
    try:
        paths["md"].parent.mkdir(parents=True, exist_ok=True)
        for ext, text in (("svg", render_svg(r)), ("csv", render_csv(r)), ("md", render_markdown(r))):
            tmp = paths[ext].with_name(paths[ext].name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(paths[ext])  # the .md last: its presence means the report is produced
    except OSError as exc:
        raise OutputNotWritable(str(paths["md"].parent), exc.strerror or str(exc)) from None
    return {ext: str(p) for ext, p in paths.items()}


def _v(value: Any) -> str:
    return DASH if value is None else str(value)
