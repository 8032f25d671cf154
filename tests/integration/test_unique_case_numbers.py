"""The hall's case numbers are unique (issue 15, item 5; R-F2, R-C1): the shipped filing and complaint
processes declare businessKeyUnique, so a second case under a 备案编号 or 投诉编号 is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hall.engine import Engine
from hall.engine.errors import HallError
from hall.servicehall.config import load_config

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("process", ["filing", "complaint"])
def test_r_f2_r_c1_a_case_number_is_taken_once(make_engine, process: str) -> None:
    eng: Engine = make_engine(forms_dir=ROOT / "forms", settings=load_config(ROOT / "hall.yaml"))
    eng.init()
    eng.deploy([ROOT / "processes"])
    first = eng.start(process, "NO-2026-0001", {})  # the complaint numbers itself at once (TS…)
    number = first["business_key"]
    with pytest.raises(HallError, match=rf"business key {number} is taken.*nothing was written"):
        eng.start(process, number, {})
    assert [c["id"] for c in eng.instances(process=process)] == [first["id"]]
