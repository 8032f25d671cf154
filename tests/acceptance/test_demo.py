"""`hall demo`: a whole day of the hall, re-runnable, with the story the issue asks for."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner
from hall.cli import main
from hall.engine import Engine

ROOT = Path(__file__).resolve().parents[2]  # the repository (this file is in tests/TIER/)


def test_demo_plays_the_day_and_can_be_run_again(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # processes/, forms/ and hall.yaml of the repository
    db = tmp_path / "demo.db"
    for _ in range(2):  # re-runnable: the second run starts from a fresh file again
        result = CliRunner().invoke(main, ["demo", "--file", str(db)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    out = result.output
    assert "filed contract BA20261124-0001" in out and "filed contract BA20261124-0002" in out
    assert "上门服务" in out  # R-F4 third case
    assert "composite score 5.0 < 7" in out  # R-S3
    assert "OVERDUE: 联系投诉人" in out and "督办：超时未联系" in out  # R-C4 escalation
    assert "PDCA rounds        2" in out
    # R-C10: two agencies, each seeing only its own cases (the demo's staff carry organisations)
    assert "张经理 (合肥某咨询服务公司) sees 4 case(s)" in out
    [ma_sees] = re.findall(r"马经理 \(安徽某财务顾问公司\) sees 1 case\(s\): (\d+)", out)
    assert "马经理    [服务机构] 现场签订服务协议" in out
    eng = Engine(f"sqlite:///{db}", forms_dir=None)
    assert eng.show(int(ma_sees))["variables"]["服务机构"] == "安徽某财务顾问公司"
    counts = eng.counts()
    assert counts["complaint"] == {"completed": 2}
    assert counts["filing"] == {"completed": 2, "running": 3}
    reclassified = [
        i for i in eng.instances(process="complaint") if eng.show(i["id"])["variables"].get("类型") == "咨询"
    ]
    assert len(reclassified) == 1
    linked = [i for i in eng.instances(process="complaint") if eng.show(i["id"])["links"]["parent"]]
    [complaint] = linked
    history = eng.history(complaint["id"])
    feedback = [
        h["detail"]["data"]["客户是否满意"]
        for h in history
        if h["kind"] == "task_completed" and h["element"] == "feedback"
    ]
    assert feedback == [False, True]  # twice round the loop, satisfied the second time (R-C3)
    plans = [
        h["detail"]["data"]["整改意见"] for h in history if h["kind"] == "task_completed" and h["element"] == "rectify"
    ]
    assert len(set(plans)) == 2  # the second round answers the first round's feedback
    assert eng.tasks() == []
    # what staff read: the R-S1 call script once, and the one written list of missing items in full (R-F3)
    assert out.count("回访步骤及话术") == 1 and "| 第四：针对大厅的服务您有什么建议吗？" in out
    assert "| 1. 营业执照副本复印件\n" in out and "| 2. 法定代表人授权书\n" in out and "| 3. 服务方案\n" in out
    # no filler in the records
    entered = [
        str(v)
        for i in eng.instances()
        for h in eng.history(i["id"])
        if h["kind"] == "task_completed"
        for v in (h["detail"] or {}).get("data", {}).values()
    ]
    assert not [v for v in entered if v in ("见附件", "已按规定办理。", "—", "x")]
    eng.close()


def test_demo_runs_from_any_folder_on_the_shipped_diagrams(tmp_path: Path, monkeypatch) -> None:
    """The hall's diagrams, forms and hall.yaml ship inside the package: an empty folder will do,
    and a broken diagram of a process owner's own processes/ cannot break the demo."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "processes").mkdir()
    (tmp_path / "processes" / "complaint.bpmn").write_text("<not bpmn", encoding="utf-8")
    result = CliRunner().invoke(main, ["demo", "--file", "demo.db"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "PDCA rounds        2" in result.output
    assert (tmp_path / "demo.db").exists()


def test_demo_refuses_to_replace_a_file_it_did_not_make(tmp_path: Path, monkeypatch) -> None:
    """`hall demo --file X` replaces X only when an earlier demo made it: a real database (or any
    other file) is left byte for byte as it was, with a one-line error and exit status 1."""
    monkeypatch.chdir(ROOT)
    real = tmp_path / "hall.db"
    eng = Engine(f"sqlite:///{real}", forms_dir=None)
    eng.init()
    eng.close()
    notes = tmp_path / "notes.txt"
    notes.write_text("不是数据库\n", encoding="utf-8")
    for victim in (real, notes):
        before = victim.read_bytes()
        result = CliRunner().invoke(main, ["demo", "--file", str(victim)])
        assert result.exit_code == 1, result.output
        assert result.output.strip() == (
            f"error: {victim} exists and is not a database made by hall demo: "
            f"left untouched (give another --file, or remove it yourself)"
        )
        assert victim.read_bytes() == before
