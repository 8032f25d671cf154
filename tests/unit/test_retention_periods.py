"""The retention periods archivists record (R-C9, issue 14): hall.yaml's `retention.variable` and
`retention.periods`, their defaults, and what `hall config check` refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from hall.servicehall import retention
from hall.servicehall.config import check_config


def test_r_c9_long_term_and_permanent_are_never_purged_by_default() -> None:
    rec = retention.recorded({})
    assert rec.variable == "保存期限"
    assert rec.of({"保存期限": "长期"})[0].forever and rec.of({"保存期限": "永久"})[0].forever
    assert rec.of({"保存期限": "一年"})[0].text == "1 year"
    assert rec.of({"保存期限": "18个月"})[0].amount == 18  # written out
    assert rec.of({"保存期限": "看情况"}) == (None, "看情况")  # unknown: kept by the purge
    assert rec.of({}) == (None, None) and rec.of({"保存期限": " "}) == (None, None)


def test_r_c9_configured_periods_replace_only_the_values_they_name() -> None:
    rec = retention.recorded({"retention": {"variable": "期限", "periods": {"长期": "30 years"}}})
    assert rec.of({"期限": "长期"})[0].text == "30 years" and rec.of({"期限": "永久"})[0].forever
    assert rec.of({"保存期限": "长期"}) == (None, None)  # another variable now


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("{periods: {长期: forever-ish}}", "retention.periods.长期: 'forever-ish' is not a retention period"),
        ("{variable: 1x}", "retention.variable: must be a variable name"),
        ("{periods: [长期]}", "retention.periods: must map a recorded value to a period"),
    ],
)
def test_r_c9_config_check_refuses_bad_recorded_periods(tmp_path: Path, section: str, message: str) -> None:
    path = tmp_path / "hall.yaml"
    path.write_text(f"retention: {section}\n", encoding="utf-8")
    problems, _ = check_config(path)
    assert len(problems) == 1 and message in problems[0], problems
