"""Case files and retention (R-C9, R-F2, R-F7): `hall export` and `hall purge`.

Export writes one case as a JSON document through the Engine API (so the caller's permissions and
the confidential placeholder apply, R-C10). Purge deletes finished cases older than a date, never
one inside its process's retention period (R-C9: complaints at least six months) and never a
process kept forever (R-F2: filings); it shows the plan first and deletes in one transaction.

Retention per process comes from the `retention:` section of hall.yaml:

    retention:
      default: never            # processes not listed are kept forever
      processes: {complaint: 6 months, suggestion: 6 months, callback_day: 6 months, filing: never}
      archive: archive          # each purged case's file goes here first: archive/<process>/<year>/<id>.json
      variable: 保存期限         # the retention period the archivist recorded on the case (R-C9)
      periods: {六个月: 6 months, 一年: 1 year, 三年: 3 years, 长期: never, 永久: never}

A case is kept until the longer of its process's period and the one the archivist recorded in
`variable` (the archive forms' 保存期限): 长期 and 永久 are never purged automatically, and a
recorded value `periods` does not know keeps the case until someone maps it. A case linked to one
that stays (the case that started it, or one it started) stays too, with its link; a confidential
case (R-C10) is purged only by a user with the `confidential` permission.

Archived, never silently deleted: before the delete, purge writes each case's full case file (the
export document, read as the system so nothing is a placeholder) under `archive`, folders 0700 and
files 0600 (only the hall's account reads them), never over an existing file, never outside the
folder; if one cannot be written nothing is deleted. The indicators of periods whose cases were
purged change (their history rows go with them): make the reports of a period (R-K3) before purging it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..engine.errors import ConfigInvalid, HallError, OutputNotWritable
from ..engine.paths import inside

DEFAULTS: dict[str, Any] = {
    "default": "never",
    "processes": {"complaint": "6 months", "suggestion": "6 months", "callback_day": "6 months", "filing": "never"},
    "archive": "archive",
    "variable": "保存期限",
    # what archivists write in 保存期限 (forms/complaint_archive.yaml, filing_archive.yaml): 长期 (long
    # term) and 永久 (permanent) mean no automatic deletion, as an archive's own rules have it
    "periods": {
        "六个月": "6 months",
        "一年": "1 year",
        "二年": "2 years",
        "两年": "2 years",
        "三年": "3 years",
        "五年": "5 years",
        "十年": "10 years",
        "三十年": "30 years",
        "长期": "never",
        "永久": "never",
    },
}
_SPAN = re.compile(r"^\s*(\d+)\s*(day|days|month|months|year|years|天|个月|月|年)\s*$")


@dataclass(frozen=True)
class Keep:
    """How long a finished case is kept: `never` deleted, or N days / months / years after it ended."""

    text: str
    amount: int | None
    unit: str | None

    @classmethod
    def parse(cls, text: Any, where: str = "retention") -> Keep:
        t = str(text).strip()
        if t.lower() in ("never", "forever", "永久"):
            return cls("never", None, None)
        m = _SPAN.match(t)
        if not m:
            raise ConfigInvalid(
                "configuration",
                None,
                f"{where}: {t!r} is not a retention period (write `6 months`, `1 year`, `180 days` or `never`)",
            )
        unit = {"天": "days", "个月": "months", "月": "months", "年": "years"}.get(
            m.group(2), m.group(2).rstrip("s") + "s"
        )
        return cls(t, int(m.group(1)), unit)

    @property
    def forever(self) -> bool:
        return self.amount is None

    def cutoff(self, now: datetime) -> datetime | None:
        """Cases that ended before this moment are past their retention; None when kept forever."""
        if self.amount is None:
            return None
        if self.unit == "days":
            from datetime import timedelta

            return now - timedelta(days=self.amount)
        months = self.amount * (12 if self.unit == "years" else 1)
        m = now.year * 12 + now.month - 1 - months
        year, month = m // 12, m % 12 + 1
        import calendar as _cal

        day = min(now.day, _cal.monthrange(year, month)[1])
        return now.replace(year=year, month=month, day=day)

    @property
    def months_at_least(self) -> float:
        """The shortest span this keeps, in months (a month counted as 31 days); inf when forever."""
        if self.amount is None:
            return float("inf")
        return {"days": self.amount / 31, "months": self.amount, "years": self.amount * 12}[self.unit or "days"]


# The regulations' floors, whatever hall.yaml says: complaints' work orders are kept at least six
# months (R-C9); filed contracts are the evidence for review and subsidies, never deleted (R-F2).
FLOORS: dict[str, tuple[Keep, str]] = {
    "complaint": (Keep("6 months", 6, "months"), "R-C9: complaint work orders are kept at least 6 months"),
    "filing": (Keep("never", None, None), "R-F2: filed contracts are never deleted"),
}


@dataclass(frozen=True)
class Recorded:
    """The retention periods archivists record on a case: the variable, and what each value keeps."""

    variable: str
    periods: Mapping[str, Keep]

    def of(self, variables: Mapping[str, Any] | None) -> tuple[Keep | None, str | None]:
        """The recorded period of a case (None when nothing is recorded), or the recorded text that
        no period is known for (then the case is kept: (None, text))."""
        value = (variables or {}).get(self.variable)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None, None
        text = str(value).strip()
        if text in self.periods:
            return self.periods[text], None
        try:
            return Keep.parse(text), None  # `2 years`, `18个月` written out
        except ConfigInvalid:
            return None, text


def recorded(settings: Mapping[str, Any] | None) -> Recorded:
    """The `variable` and `periods` of hall.yaml's retention section (defaults: 保存期限, DEFAULTS)."""
    source = str((settings or {}).get("_source", "configuration"))
    raw = (settings or {}).get("retention") or {}
    variable = raw.get("variable", DEFAULTS["variable"]) if isinstance(raw, Mapping) else DEFAULTS["variable"]
    if not isinstance(variable, str) or not variable.isidentifier():
        raise ConfigInvalid(source, None, f"retention.variable: must be a variable name, not {variable!r}")
    given = raw.get("periods") if isinstance(raw, Mapping) else None
    if given is not None and not isinstance(given, Mapping):
        raise ConfigInvalid(
            source, None, "retention.periods: must map a recorded value to a period, e.g. {长期: never}"
        )
    periods = dict(DEFAULTS["periods"])  # a value given replaces the default's, the others stay
    periods.update({str(k): v for k, v in (given or {}).items()})
    return Recorded(variable, {k: _parse(source, v, f"retention.periods.{k}") for k, v in periods.items()})


def policy(settings: Mapping[str, Any] | None) -> tuple[Keep, dict[str, Keep]]:
    """The default and per-process retention; ConfigInvalid for a bad value or one below a floor."""
    source = str((settings or {}).get("_source", "configuration"))
    raw = (settings or {}).get("retention") or {}
    if not isinstance(raw, Mapping):
        raise ConfigInvalid(source, None, "retention: must be a mapping")
    for key in raw:
        if key not in DEFAULTS:
            raise ConfigInvalid(source, None, f"retention.{key}: unknown key (known: {', '.join(DEFAULTS)})")
    if not isinstance(raw.get("archive", DEFAULTS["archive"]), str) or not str(raw.get("archive", "x")).strip():
        raise ConfigInvalid(source, None, "retention.archive: must be a folder (text)")
    if not isinstance(raw.get("processes") or {}, Mapping):
        raise ConfigInvalid(
            source,
            None,
            "retention.processes: must map a process to its period, e.g. {complaint: 6 months, filing: never}",
        )
    default = _parse(source, raw.get("default", DEFAULTS["default"]), "retention.default")
    procs = dict(DEFAULTS["processes"])
    procs.update(raw.get("processes") or {})
    per = {str(p): _parse(source, v, f"retention.processes.{p}") for p, v in procs.items()}
    for process, (floor, why) in FLOORS.items():
        if per[process].months_at_least < floor.months_at_least:
            least = "must be never" if floor.forever else f"is shorter than {floor.text}"
            raise ConfigInvalid(source, None, f"retention.processes.{process}: {per[process].text!r} {least} ({why})")
    recorded(settings)  # its variable and periods checked with the rest
    return default, per


def _parse(source: str, value: Any, where: str) -> Keep:
    try:
        return Keep.parse(value, where)
    except ConfigInvalid as exc:
        raise ConfigInvalid(source, None, exc.what) from None


# -- export ------------------------------------------------------------------------------------------------
def export_case(engine: Any, instance_id: int, user: str | None = None) -> dict[str, Any]:
    """The case file: the instance with its variables, the history, the forms filled, linked cases."""
    view = engine.show(instance_id, user=user)
    history = engine.history(instance_id, user=user)
    forms = [
        {
            "task": h["task"],
            "element": h["element"],
            "at": h["at"],
            "actor": h["actor"],
            "data": (h["detail"] or {}).get("data"),
        }
        for h in history
        if h["kind"] == "task_completed"
    ]
    return {
        "format": "hall-case-file/1",
        "exported_at": engine.clock.now().isoformat(),
        "exported_by": user,
        "instance": {k: v for k, v in view.items() if k != "links"},
        "variables": view.get("variables"),
        "forms": forms,
        "history": history,
        "links": view.get("links"),
    }


# -- purge -------------------------------------------------------------------------------------------------
def plan_purge(engine: Any, before: date, user: str | None = None) -> dict[str, Any]:
    """What `purge --before` would do: the cases to delete and the ones kept, each with the reason.

    Raises HallError when `before` lies inside the retention period of a process that has finished
    cases in that window (the date itself is refused, R-C9): nothing younger than its retention
    period is ever deleted.
    """
    actor = engine.authorize(user, "manage", "purge", "finished cases")
    default, per_process = policy(engine.settings)
    archivists = recorded(engine.settings)
    may_confidential = engine.access.may(actor, "confidential")
    tz = ZoneInfo(engine.deadlines.calendar.config.timezone)
    now = engine.clock.now()
    limit = datetime.combine(before, time(0), tzinfo=tz).astimezone(UTC)
    if limit > now:
        raise HallError(f"--before {before} is in the future")
    with engine.reading() as ks:
        rows = ks.finished_before(limit)
        children = ks.children_of([r["id"] for r in rows])
        variables = ks.variables_of([r["id"] for r in rows])
    parents = {r["id"]: r["parent_id"] for r in rows if r.get("parent_id") is not None}
    delete: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    too_young: dict[str, tuple[Keep, datetime]] = {}
    for r in rows:
        keep = per_process.get(r["process_id"], default)
        cutoff = keep.cutoff(now)
        item = {
            "id": r["id"],
            "process": r["process_id"],
            "business_key": r["business_key"],
            "status": r["status"],
            "ended_at": r["ended_at"].isoformat(),
            "retention": keep.text,
        }
        if cutoff is None:  # kept forever
            kept.append(dict(item, reason=f"{r['process_id']} cases are kept forever (retention {keep.text})"))
        elif r["ended_at"] >= cutoff:
            too_young.setdefault(r["process_id"], (keep, cutoff))
            kept.append(
                dict(
                    item,
                    reason=f"inside the retention period ({keep.text}) until "
                    f"{(r['ended_at'] + (now - cutoff)).astimezone(tz):%Y-%m-%d}",
                )
            )
        else:
            delete.append(item)
            kept_by = _recorded_reason(archivists, variables.get(r["id"]), r["ended_at"], now, tz)
            if kept_by is not None:
                delete.pop()
                kept.append(dict(item, reason=kept_by))
            elif not may_confidential and engine.people.is_confidential(variables.get(r["id"])):
                delete.pop()
                kept.append(dict(item, reason="confidential (R-C10): purging it needs the 'confidential' permission"))
    if too_young:
        what = "; ".join(
            f"{p} cases are kept {k.text} after they end (R-C9): the latest allowed date is {c.astimezone(tz):%Y-%m-%d}"
            for p, (k, c) in sorted(too_young.items())
        )
        raise HallError(f"--before {before} is inside the retention period: {what}; nothing was deleted")
    # a case whose linked case stays (one it started, or the one that started it: a complaint of a
    # filing that is kept, R-C9/R-F2) stays too, with its link
    ids = {d["id"] for d in delete}
    changed = True
    while changed:
        changed = False
        for d in list(delete):
            staying = [c for c in children.get(d["id"], []) if c not in ids]
            if parents.get(d["id"]) is not None and parents[d["id"]] not in ids:
                staying.append(parents[d["id"]])
            if staying:
                delete.remove(d)
                ids.discard(d["id"])
                kept.append(dict(d, reason=f"its linked case(s) {', '.join(map(str, staying))} are kept"))
                changed = True
    return {"before": before.isoformat(), "cutoff": limit.isoformat(), "delete": delete, "kept": kept}


def _recorded_reason(
    archivists: Recorded, variables: Mapping[str, Any] | None, ended: datetime, now: datetime, tz: ZoneInfo
) -> str | None:
    """Why the period the archivist recorded keeps a case past its process's (None: it does not)."""
    keep, unknown = archivists.of(variables)
    name = archivists.variable
    if unknown is not None:
        return f"{name} {unknown!r} is not a period hall.yaml retention.periods knows: kept until it is mapped"
    if keep is None:
        return None
    shown = str((variables or {}).get(name)).strip()
    shown = shown if shown == keep.text else f"{shown} ({keep.text})"
    cutoff = keep.cutoff(now)
    if cutoff is None:
        return f"{name} {shown}: never purged automatically (R-C9)"
    if ended >= cutoff:
        return f"{name} {shown}: kept until {(ended + (now - cutoff)).astimezone(tz):%Y-%m-%d} (R-C9)"
    return None


def archive_folder(settings: Mapping[str, Any] | None) -> Path:
    return Path(((settings or {}).get("retention") or {}).get("archive") or DEFAULTS["archive"])


def archive_cases(engine: Any, plan: Mapping[str, Any], folder: str | Path | None = None) -> dict[int, str]:
    """Write the case file of every planned case under `folder`/<process>/<year ended>/<id>.json."""
    root = Path(folder) if folder else archive_folder(engine.settings)
    out: dict[int, str] = {}
    required, engine.require_user = engine.require_user, False  # the whole file, as the system reads it
    try:
        for d in plan["delete"]:
            doc = json.dumps(export_case(engine, d["id"]), ensure_ascii=False, indent=2) + "\n"
            folder_of = inside(root, str(d["process"]), str(d["ended_at"])[:4])
            try:
                _private_folders(root, folder_of)
                path = _write_new(folder_of, str(d["id"]), doc.encode("utf-8"))
            except OSError as exc:
                where = exc.filename or folder_of
                raise OutputNotWritable(str(where), f"{exc.strerror or exc}; nothing was deleted") from None
            out[d["id"]] = str(path)
    finally:
        engine.require_user = required
    return out


def _private_folders(root: Path, folder: Path) -> None:
    """Make `folder` and the folders between it and `root` (root too if missing), each 0700: case
    files hold what the hall keeps from everyone else, confidential cases too (R-C10)."""
    missing = []
    at = folder
    while not at.exists():
        missing.append(at)
        if at == at.parent or at == Path(root).resolve():
            break
        at = at.parent
    for made in reversed(missing):
        made.mkdir(mode=0o700)
        os.chmod(made, 0o700)  # whatever the umask left


def _write_new(folder: Path, stem: str, data: bytes) -> Path:
    """Write `stem`.json in `folder`, readable by the hall's account only (0600), never over an
    existing file (an earlier archive of that id: the new one is `stem`-2.json, -3...)."""
    tmp = folder / f".{stem}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        n = 1
        while True:
            path = folder / (f"{stem}.json" if n == 1 else f"{stem}-{n}.json")
            try:
                os.link(tmp, path)  # fails when the name is taken: atomic, never overwrites
                return path
            except FileExistsError:
                n += 1
    finally:
        tmp.unlink(missing_ok=True)


def purge(
    engine: Any, plan: Mapping[str, Any], user: str | None = None, archive: str | Path | None = None
) -> dict[str, Any]:
    """Archive the planned cases' files, then delete the cases (in one transaction, the engine's
    generic `purge_instances`, each leaving a `purged` row); refuses if any changed since it was planned."""
    actor = engine.authorize(user, "manage", "purge", "finished cases")
    ids = [d["id"] for d in plan["delete"]]
    if not ids:
        return {"deleted": [], "rows": {}, "archived": {}}
    if not engine.access.may(actor, "confidential"):  # a plan made by someone else, or by hand
        with engine.reading() as ks:
            found = ks.variables_of(ids)
        for i in ids:
            if engine.people.is_confidential(found.get(i)):
                engine.authorize(user, "confidential", "purge", f"confidential case {i}")
    archived = archive_cases(engine, plan, archive)
    # not silently: each deleted case leaves one row saying what went, when, by whom and why
    details = {
        d["id"]: {
            "business_key": d["business_key"],
            "status": d["status"],
            "ended_at": d["ended_at"],
            "retention": d["retention"],
            "before": plan["before"],
            "archived": archived[d["id"]],
        }
        for d in plan["delete"]
    }
    rows = engine.purge_instances(ids, datetime.fromisoformat(plan["cutoff"]), details, user=user)
    return {"deleted": ids, "rows": rows, "archived": archived}
