"""The hall's sections of hall.yaml (kpi, reports, retention, the meaning of settings) are checked by
hall.servicehall.config on top of the engine's own check, which knows none of them (issue 11)."""

from __future__ import annotations

from pathlib import Path

from hall.engine import config as engine_config
from hall.servicehall.config import HALL, check_config


def test_config_check_lists_every_bad_entry_of_a_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "hall.yaml"
    bad.write_text(
        "reports:\n  names: {daily: 3, hourly: 时报}\n  look_back: {daily: -1}\n"
        "kpi:\n  complaint: {limit: middle, process: 5}\n",
        encoding="utf-8",
    )
    assert check_config(bad)[0] == [
        f"{bad}:2: reports.names.daily: must be the template name (text), e.g. 业务受理日报",
        f"{bad}:2: reports.names.hourly: unknown report kind (known: daily, weekly, monthly, quarterly, half-year, yearly)",
        f"{bad}:3: reports.look_back.daily: must be a whole number of periods >= 0",
        f"{bad}:5: kpi.complaint.limit: must be first or last",
        f"{bad}:5: kpi.complaint.process: must be a name (text)",
    ]


def test_the_engine_alone_knows_none_of_the_halls_sections(tmp_path: Path) -> None:
    """Without the hall's schema, `kpi:` is an unknown section and a hall setting means nothing."""
    path = tmp_path / "hall.yaml"
    path.write_text(
        "settings:\n  投诉答复时限: 2 wrking dayz\n  综合得分规则: 随便\nkpi: {percentile: 300}\n", encoding="utf-8"
    )
    problems, _ = engine_config.check_config(path)
    assert problems == [
        f"{path}:4: unknown section 'kpi' (known: database, calendar, numbering, settings, forms, roles, users, "
        "confidential, first_receiver, services, scripts, display)"
    ]
    problems, _ = check_config(path)
    assert problems == [
        f"{path}:2: settings.投诉答复时限: '2 wrking dayz' is not a deadline: unknown unit 'wrking' "
        "(did you mean 'working'?) (docs/deadlines.md)",
        f"{path}:3: settings.综合得分规则: must be one of 加权平均, 最低分 (R-S2)",
        f"{path}:4: kpi.percentile: must be a whole number from 1 to 100",
    ]


def test_the_halls_schema_lists_its_sections_where_they_always_were() -> None:
    """`unknown section` names the sections in the order hall config check always gave."""
    assert HALL.names == (
        "database",
        "calendar",
        "numbering",
        "settings",
        "forms",
        "roles",
        "users",
        "confidential",
        "first_receiver",
        "cases",  # issue 17: the customer and searchable variables
        "kpi",
        "reports",
        "retention",
        "topics",  # issue 14: R-C2's topics, R-K2's hot issues
        "services",
        "scripts",  # the scripts' time limit (issue 15)
        "display",  # issue 17: the language people read
    )
    assert "kpi" not in engine_config.ENGINE.names
