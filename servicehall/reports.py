"""Periodic reports (R-K3, R-K2): daily, weekly, monthly, quarterly, half-yearly, yearly — Markdown,
CSV and an SVG chart, in Chinese with the hall's local times (docs/reports.md).

`hall report KIND [--date D]` writes the report of the period before D (default today):
daily = 00:00–24:00 of the previous day, weekly = the previous Monday–Sunday week (R-K2's 周报),
monthly = the previous calendar month, quarterly = the
previous quarter, half-year = the previous half (Jan–Jun / Jul–Dec), yearly = the previous year.
Files are archived by kind and date (R-K3): `<out>/daily/YYYY/MM/<name>.md|.csv|.svg` for daily
reports, `<out>/<kind>/YYYY/<name>.*` for the others (the year and month the period starts), the
name being the template name plus the dates (`20261123业务受理日报`, `20261001-1031业务受理总量月报`).
A report of a period that has not ended yet (engine clock) is refused. `hall report due` lists the
reports whose period is over and whose file is missing, with the deadline the rules give (R-K3:
daily by 09:00 — of the next working day, since nobody sends it on a day the hall is closed — the
weekly by the end of the first working day after the week, the others by the 10th of the following
month); periods that ended before the hall's first process was deployed are never due. The weekly
and monthly reports rank the period's topics as hot issues, with the change against the period
before (R-K2). Names and deadlines: the `reports:` section.

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

KINDS = ("daily", "weekly", "monthly", "quarterly", "half-year", "yearly")
HOT_KINDS = ("weekly", "monthly")  # R-K2: weekly and monthly statistics with the hot issues
DEFAULTS: dict[str, Any] = {
    "names": {
        "daily": "业务受理日报",
        "weekly": "业务受理周报",
        "monthly": "业务受理总量月报",
        "quarterly": "业务受理总量季报",
        "half-year": "业务受理总量半年报",
        "yearly": "业务受理总量年报",
    },
    "daily_due": "09:00",  # R-K3: the daily report is sent by 09:00
    "due_day": 10,  # R-K3: monthly / quarterly by the 10th; half-year and yearly likewise
    "look_back": {"daily": 7, "weekly": 4, "monthly": 3, "quarterly": 2, "half-year": 1, "yearly": 1},
    "out": "reports",
    "process_names": {},  # display names over the diagrams' own (name of the process): {complaint: 投诉}
    "hot": 3,  # R-K2: how many of the top topics are marked 热点
}


@dataclass(frozen=True)
class ReportsConfig:
    names: Mapping[str, str]
    daily_due: time
    due_day: int
    look_back: Mapping[str, int]
    out: str
    process_names: Mapping[str, str]
    hot: int = 3

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
        hot = merged["hot"]
        if not isinstance(hot, int) or isinstance(hot, bool) or hot < 0:
            raise bad("hot", "must be a whole number of topics >= 0")
        return cls(
            merged["names"], daily_due, due_day, merged["look_back"], merged["out"], merged["process_names"], hot
        )


# -- periods, names, deadlines -----------------------------------------------------------------------
def _month_start(d: date, back: int = 0) -> date:
    m = d.year * 12 + d.month - 1 - back
    return date(m // 12, m % 12 + 1, 1)


def period_for(kind: str, day: date, tz: str = "Asia/Shanghai") -> Period:
    """The period the `kind` report produced on `day` covers: the last whole period before `day`."""
    if kind == "daily":
        prev = day - timedelta(days=1)
        return Period(prev, prev, tz)
    if kind == "weekly":
        monday = day - timedelta(days=day.weekday())
        return Period(monday - timedelta(days=7), monday - timedelta(days=1), tz)
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
    Weekly: by the end of the first working day after the week (the regulation names no hour).
    """
    tz = ZoneInfo(period.tz)
    after = period.last + timedelta(days=1)
    if kind in ("daily", "weekly"):
        while calendar is not None and not calendar.is_working_day(after):
            after += timedelta(days=1)
        if kind == "weekly":
            return datetime.combine(after + timedelta(days=1), time(0), tzinfo=tz)
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
    """Reports whose period is over, not yet produced (no .md file), with deadline and state; none of a
    period that ended before the hall's first process was deployed (nothing to report then)."""
    from .kpi import reader

    reader(engine, user, "the reports due")
    cfg = ReportsConfig.from_settings(engine.settings)
    calendar = engine.deadlines.calendar
    tz = engine.deadlines.calendar.config.timezone
    now = engine.clock.now()
    began = _first_deployed(engine)
    if began is None:
        return []
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
            if period.end <= began:
                break  # this period and the ones before it ended before the hall ran anything
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


def _first_deployed(engine: Any) -> datetime | None:
    """When the hall's first process was deployed (UTC), or None when nothing is deployed."""
    times = [datetime.fromisoformat(d["deployed_at"]) for d in engine.definitions() if d.get("deployed_at")]
    if not times:
        return None
    return min(t if t.tzinfo else t.replace(tzinfo=UTC) for t in times)


def process_names(engine: Any, cfg: ReportsConfig) -> dict[str, str]:
    """Each process's display name: `reports.process_names`, else the name its latest diagram gives it."""
    names: dict[str, str] = {}
    for d in sorted(engine.definitions(), key=lambda d: (d["process"], d["version"])):
        if d.get("name"):
            names[d["process"]] = str(d["name"])
    names.update({str(k): str(v) for k, v in cfg.process_names.items()})
    return names


def office_hour_buckets(calendar: Any) -> list[str]:
    """The hours a daily chart shows: those the office hours touch (08:50–17:30 → 08:00 … 17:00)."""
    cfg = calendar.config
    last = cfg.office_end.hour - (1 if cfg.office_end.minute == 0 else 0)
    return [f"{h:02d}:00" for h in range(cfg.office_start.hour, last + 1)]


OUTSIDE_HOURS = "非办公时间"


def hot_issues(current: Mapping[str, int], previous: Mapping[str, int], top: int) -> list[dict[str, Any]]:
    """R-K2: the topics of the period ranked by count (ties: the larger rise first, then the name), each
    with the previous period's count and the change; the first `top` with any case are 热点."""
    topics = {t for t, n in current.items() if n} | {t for t, n in previous.items() if n}
    ranked = sorted(topics, key=lambda t: (-current.get(t, 0), -(current.get(t, 0) - previous.get(t, 0)), t))
    total = sum(current.values())
    return [
        {
            "rank": i + 1,
            "topic": t,
            "count": current.get(t, 0),
            "previous": previous.get(t, 0),
            "change": current.get(t, 0) - previous.get(t, 0),
            "share": round(current.get(t, 0) / total, 4) if total else None,
            "hot": i < top and current.get(t, 0) > 0,
        }
        for i, t in enumerate(ranked)
    ]


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
        buckets = office_hour_buckets(engine.deadlines.calendar)
        hours = set(buckets)

        def key(at: datetime) -> str:
            hour = f"{at.astimezone(zone).hour:02d}:00"
            return hour if hour in hours else OUTSIDE_HOURS

        if any(key(at) == OUTSIDE_HOURS for _p, at in started):
            buckets.append(OUTSIDE_HOURS)
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
    hot = None
    if kind in HOT_KINDS:
        before = period_for(kind, period.first, tz)
        previous = indicators(engine, before, user)["by_topic"]
        hot = {
            "previous": {"from": before.first.isoformat(), "to": before.last.isoformat()},
            "topics": hot_issues(k["by_topic"], previous, cfg.hot),
        }
    names = process_names(engine, cfg)
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
        "process_names": {p: names.get(p, p) for p in processes},
        "started": {p: [series[p].get(b, 0) for b in buckets] for p in processes},
        "started_total": {p: sum(series[p].values()) for p in processes},
        "ended": {p: dict(closed[p]) for p in processes},
        "kpi": k,
        "hot_issues": hot,
    }


RATE_MEANINGS = {  # R-K1's definitions, as the report states them
    "timely": "期限内办结的投诉 / 本期应办结的投诉",
    "revisit": "已回访的投诉 / 本期应回访的投诉",
    "satisfied": "回访满意 / 本期回访",
}
KIND_WORDS = {"daily": "日", "weekly": "周", "monthly": "月", "quarterly": "季度", "half-year": "半年", "yearly": "年"}


def local(text: str | None, tz: str, end_of_day: bool = False) -> str:
    """An ISO instant as the hall's local time to the minute; with `end_of_day`, midnight is written as
    24:00 of the day before ("by the 10th" reads 12-10 24:00, not 12-11 00:00)."""
    if not text:
        return DASH
    at = datetime.fromisoformat(text)
    at = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(ZoneInfo(tz))
    if end_of_day and at.time() == time(0):
        return f"{at.date() - timedelta(days=1)} 24:00"
    return f"{at:%Y-%m-%d %H:%M}"


def _signed(n: int) -> str:
    return f"+{n}" if n > 0 else ("±0" if n == 0 else str(n))


def render_markdown(r: Mapping[str, Any]) -> str:
    """The report as staff read it: Chinese, local times (the JSON keeps ISO UTC)."""
    k = r["kpi"]
    tz = r["timezone"]
    names = r["process_names"]
    out = [
        f"# {r['name']}",
        "",
        f"- 统计期间：{r['from']} 00:00 至 {r['to']} 24:00（{tz}）",
        f"- 生成时间：{local(r['generated_at'], tz)}",
        f"- 报送期限：{local(r['deadline'], tz, end_of_day=True)} 前（R-K3）",
        "",
        "## 业务受理量",
        "",
        "| 流程 | 受理 | 办结 | 撤销 |",
        "|---|---:|---:|---:|",
    ]
    for p in r["processes"]:
        e = r["ended"].get(p, {})
        out.append(f"| {names[p]} | {r['started_total'][p]} | {e.get('completed', 0)} | {e.get('cancelled', 0)} |")
    if not r["processes"]:
        out.append(f"| {DASH} | 0 | 0 | 0 |")
    out += [
        "",
        f"![{r['name']}：受理量]({r['name']}.svg)",
        "",
        "## 投诉指标（R-K1）",
        "",
        "| 指标 | 分子/分母 = 比率 | 口径 |",
        "|---|---|---|",
    ]
    for rate in k["rates"]:
        out.append(f"| {rate['name']} | {rate_text(rate)} | {RATE_MEANINGS.get(rate['key'], rate['meaning'])} |")
    h = k["handling_hours"]
    pk = next(x for x in h if x.startswith("p"))
    out += [
        "",
        f"本期受理投诉 {k['received']} 件；处理时长（受理至办结，工作小时）：办结 {h['count']} 件，"
        f"平均 {_v(h['average'])} 小时，{pk.upper()} {_v(h[pk])} 小时。",
        "",
        "## 分类统计（R-C2、R-K2）",
        "",
        "| 类型 | 件数 |",
        "|---|---:|",
    ]
    out += [f"| {t} | {n} |" for t, n in k["by_type"].items()] or [f"| {DASH} | 0 |"]
    out += ["", "| 专题 | 件数 |", "|---|---:|"]
    out += [f"| {t} | {n} |" for t, n in k["by_topic"].items()] or [f"| {DASH} | 0 |"]
    hot = r.get("hot_issues")
    if hot is not None:
        prev = hot["previous"]
        out += [
            "",
            "## 热点问题（R-K2）",
            "",
            f"按专题排名，与上{KIND_WORDS.get(r['kind'], '期')}（{prev['from']} 至 {prev['to']}）比较。",
            "",
            "| 排名 | 专题 | 本期 | 上期 | 变化 | 占比 | |",
            "|---:|---|---:|---:|---:|---:|---|",
        ]
        rows = [
            f"| {t['rank']} | {t['topic']} | {t['count']} | {t['previous']} | {_signed(t['change'])} | "
            f"{_pct(t['share'])} | {'热点' if t['hot'] else ''} |"
            for t in hot["topics"]
        ]
        out += rows or [f"| {DASH} | 本期与上期均无投诉 | 0 | 0 | ±0 | {DASH} | |"]
    d = k["pdca"]
    out += [
        "",
        "## PDCA 处理轮次（R-C3）",
        "",
        f"本期结案投诉 {d['complaints']} 件，平均 {_v(d['average'])} 轮，最多 {_v(d['max'])} 轮。",
        "",
        "## 满意度回访评分（按服务机构，R-S2）",
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
        out.append("本期无回访。")
    g = k.get("ratings")
    if g is not None:
        out += [
            "",
            "## 一事一评（R-S5）",
            "",
            f"本期评分 {g['rated']} 条，平均 {_v(g['average'])} 分，低于 {g['low_below']} 分 {g['low']} 条；"
            f"客户未评分 {g['unrated']} 次。",
        ]
        if g["by_window"]:
            out += ["", "| 窗口 | 评分数 | 平均分 | 低分数 |", "|---|---:|---:|---:|"]
            out += [f"| {w['window']} | {w['ratings']} | {w['average']} | {w['low']} |" for w in g["by_window"]]
            out += ["", "| 人员 | 窗口 | 评分数 | 平均分 | 低分数 |", "|---|---|---:|---:|---:|"]
            out += [
                f"| {w['staff']} | {w['window']} | {w['ratings']} | {w['average']} | {w['low']} |"
                for w in g["by_staff"]
            ]
    o = k["overdue_now"]
    out += ["", "## 工作量（完成任务数）", "", "| 人员 | 完成任务 |", "|---|---:|"]
    out += [f"| {w['actor']} | {w['tasks']} |" for w in k["workload"]] or [f"| {DASH} | 0 |"]
    out += [
        "",
        f"## 超时（截至 {local(o['at'], tz)}）",
        "",
        f"超时案件 {o['cases']} 件，超时任务 {o['tasks']} 项。",
        "",
    ]
    return "\n".join(out)


def _pct(share: float | None) -> str:
    return DASH if share is None else f"{share * 100:.1f}%"


def render_csv(r: Mapping[str, Any]) -> str:
    """Long format, one row per figure: 分组, 项目, 数值, 分子, 分母 — written with a UTF-8 byte order
    mark (`write`), so that Excel on a Chinese Windows opens it without mojibake."""
    buf = io.StringIO()
    w = csv.writer(buf)
    k = r["kpi"]
    names = r["process_names"]
    w.writerow(["分组", "项目", "数值", "分子", "分母"])
    w.writerow(["报表", "名称", r["name"], "", ""])
    w.writerow(["报表", "统计期间", f"{r['from']}..{r['to']}", "", ""])
    w.writerow(["报表", "时区", r["timezone"], "", ""])
    for p in r["processes"]:
        for b, n in zip(r["buckets"], r["started"][p]):
            w.writerow([f"受理量:{names[p]}", b, n, "", ""])
    for rate in k["rates"]:
        value = "" if rate["rate"] is None else round(rate["rate"], 4)
        w.writerow(["投诉指标", rate["name"], value, rate["numerator"], rate["denominator"]])
    for section, title in (("by_type", "类型"), ("by_topic", "专题")):
        for t, n in k[section].items():
            w.writerow([title, t, n, "", ""])
    for t in (r.get("hot_issues") or {}).get("topics", []):
        w.writerow(["热点问题", t["topic"], t["count"], t["previous"], t["change"]])
    for key, value in k["handling_hours"].items():
        w.writerow(["处理时长（工作小时）", key, "" if value is None else value, "", ""])
    for a in k["callbacks"]:
        for key, value in a.items():
            if key != "agency":
                w.writerow([f"回访评分:{a['agency']}", "回访数" if key == "calls" else key, value, "", ""])
    g = k.get("ratings") or {}
    for row in g.get("by_window", []):
        w.writerow([f"一事一评:{row['window']}", "平均分", row["average"], row["ratings"], ""])
    for row in g.get("by_staff", []):
        w.writerow([f"一事一评:{row['staff']}（{row['window']}）", "平均分", row["average"], row["ratings"], ""])
    for wl in k["workload"]:
        w.writerow(["工作量", wl["actor"], wl["tasks"], "", ""])
    return buf.getvalue()


COLOURS = ["#4472c4", "#ed7d31", "#a5a5a5", "#ffc000", "#5b9bd5", "#70ad47", "#264478", "#9e480e"]
# Chinese glyphs need a CJK font where the SVG is drawn: the first of these the viewer (or a PNG/PDF
# renderer on a server) has; docs/reports.md says which to install.
FONTS = "'Noto Sans CJK SC', 'Source Han Sans SC', 'Source Han Sans', 'Microsoft YaHei', 'PingFang SC', sans-serif"


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render_svg(r: Mapping[str, Any]) -> str:
    """Stacked bars of the volumes per day (per office hour for a daily report) by process, with axis
    titles and the processes' names in the legend, and the three rates as bars."""
    buckets, procs = r["buckets"], r["processes"]
    W, H, left, top, plot_h = 900, 450, 70, 40, 220
    n = max(len(buckets), 1)
    bw = (W - left - 20) / n
    totals = [sum(r["started"][p][i] for p in procs) for i in range(len(buckets))]
    peak = max(totals + [1])
    hourly = r["bucket"] == "hour"
    x_title = "时段（办公时间，每小时）" if hourly else "日期"
    bottom = top + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        f'font-family="{FONTS}" font-size="11">',
        f'<text x="{left}" y="20" font-size="14">{_esc(r["name"])}：受理量（每{"小时" if hourly else "日"}）</text>',
        f'<line x1="{left}" y1="{bottom}" x2="{W - 20}" y2="{bottom}" stroke="#333"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#333"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 6}" y="{bottom}" text-anchor="end">0</text>',
        f'<text x="{left - 40}" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 {left - 40} {top + plot_h / 2:.0f})">受理量（件）</text>',
        f'<text x="{left + (W - left - 20) / 2:.0f}" y="{bottom + 30}" text-anchor="middle">{x_title}</text>',
    ]
    for i, b in enumerate(buckets):
        y = bottom
        for j, p in enumerate(procs):
            v = r["started"][p][i]
            if not v:
                continue
            h = plot_h * v / peak
            y -= h
            parts.append(
                f'<rect x="{left + i * bw + 1:.1f}" y="{y:.1f}" width="{max(bw - 2, 1):.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[j % len(COLOURS)]}"><title>{_esc(b)} {_esc(r["process_names"][p])}：{v}</title></rect>'
            )
        step = max(1, n // 12)
        if i % step == 0:
            parts.append(
                f'<text x="{left + i * bw + bw / 2:.1f}" y="{bottom + 14}" text-anchor="middle">'
                f"{_esc(b[5:] if len(b) == 10 else b)}</text>"
            )
    for j, p in enumerate(procs):
        x = left + j * 170
        parts.append(
            f'<rect x="{x}" y="{bottom + 44}" width="10" height="10" fill="{COLOURS[j % len(COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{bottom + 53}">{_esc(r["process_names"][p])} {r["started_total"][p]} 件</text>'
        )
    y0 = bottom + 80
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
            tmp.write_text(text, encoding="utf-8-sig" if ext == "csv" else "utf-8")  # the CSV for Excel
            tmp.replace(paths[ext])  # the .md last: its presence means the report is produced
    except OSError as exc:
        raise OutputNotWritable(str(paths["md"].parent), exc.strerror or str(exc)) from None
    return {ext: str(p) for ext, p in paths.items()}


def _v(value: Any) -> str:
    return DASH if value is None else str(value)
