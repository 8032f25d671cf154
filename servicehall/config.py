"""The service hall's sections of `hall.yaml` on top of the engine's: `kpi` (R-K1), `reports` (R-K3),
`retention` (R-C9, R-F2), `topics` (R-C2, R-K2) and the meaning of some `settings` (deadlines named …时限, R-S2's score rule).

The engine checks only its own sections (hall.engine.config.ENGINE); the hall's commands read the
file with `HALL`, the engine's schema extended with these, so `hall config check` and every command
refuse what the hall would refuse while the engine itself never imports the hall.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..engine.config import ENGINE, Schema, Section
from ..engine.config import check_config as _engine_check_config
from ..engine.config import load_config as _engine_load_config

DEADLINE_SUFFIX = "时限"  # settings named …时限 are deadlines (setting('投诉答复时限', …) in a dueDate)
SCORE_RULES = ("加权平均", "最低分")  # R-S2: how the callback's composite score is made


def check_settings(settings: dict[str, Any]) -> None:
    """The hall's settings whose value has a meaning: …时限 deadlines, 综合得分规则 / 综合得分权重 (R-S2)."""
    from ..engine import deadlines
    from ..engine.errors import DeadlineInvalid

    values = settings.get("settings")
    if not isinstance(values, dict):
        return  # the engine's own check says it must be a mapping
    for name, value in values.items():
        where = f"settings.{name}"
        if str(name).endswith(DEADLINE_SUFFIX):
            if not isinstance(value, str):
                raise ValueError(f"{where}: a deadline must be text like `2 working days` (docs/deadlines.md)")
            try:
                deadlines.parse_for("dueDate", value)
            except DeadlineInvalid as exc:
                raise ValueError(f"{where}: {value!r} is not a deadline: {exc.why} (docs/deadlines.md)") from None
        elif name == "综合得分规则" and value not in SCORE_RULES:
            raise ValueError(f"{where}: must be one of {', '.join(SCORE_RULES)} (R-S2)")
        elif name == "综合得分权重" and not (
            isinstance(value, list)
            and value
            and all(isinstance(w, (int, float)) and not isinstance(w, bool) and w >= 0 for w in value)
            and sum(value) > 0
        ):
            raise ValueError(f"{where}: must be a list of weights >= 0, not all 0, one per score (R-S2)")


def _kpi(settings: dict[str, Any]) -> object:
    from .kpi import KpiConfig

    return KpiConfig.from_settings(settings)


def _reports(settings: dict[str, Any]) -> object:
    from .reports import ReportsConfig

    return ReportsConfig.from_settings(settings)


def _retention(settings: dict[str, Any]) -> object:
    from .retention import policy

    return policy(settings)


def _topics(settings: dict[str, Any]) -> None:
    from .topics import check_topics

    check_topics(settings)


def _cases(settings: dict[str, Any]) -> None:
    from ..engine.search import check_cases

    check_cases(settings["cases"])


def _display(settings: dict[str, Any]) -> None:
    from ..terminal.i18n import check_locale

    display = settings["display"]  # its shape is the engine's check
    if isinstance(display, dict) and isinstance(display.get("locale"), str):
        check_locale(display["locale"])


# kpi.callbacks is not split: its weights go with its scores. `cases` (the customer and searchable
# variables) is read by the engine (engine.search) from the settings it is given; the hall's file
# declares it, as an application's schema does.
HALL: Schema = ENGINE.extended(
    Section("settings", (check_settings,)),
    Section("cases", (_cases,)),
    Section("kpi", (_kpi,), split=("complaint",)),
    Section("reports", (_reports,), split=("names", "look_back", "process_names")),
    Section("retention", (_retention,), split=("processes",)),
    Section("topics", (_topics,)),
    before="services",
).extended(Section("display", (_display,)))


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The hall's configuration at `path` (or ./hall.yaml, or {}), every section checked: the engine's
    and the hall's."""
    return _engine_load_config(path, HALL)


def check_config(path: str | Path | None = None) -> tuple[list[str], str | None]:
    """`hall config check`: every problem of the engine's and the hall's sections, one line each."""
    return _engine_check_config(path, HALL)
