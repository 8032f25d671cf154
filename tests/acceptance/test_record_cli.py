"""`hall test record INSTANCE` (issue 18): a real case becomes a scenario file that replays it — the
data, users and times, the timers as the clock moving on — and passes `hall test`; a confidential case
is recorded without its content for a user who may not read it (R-C10)."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT
from hall.cli import main
from hall.engine import FixedClock
from hall.engine.config import load_config
from scenario import Hall, at

SECRETS = ["秘密科技有限公司", "保密先生", "13900001234", "绝密XYZ"]


def hall(config: Path, db: Path, *args: str) -> object:
    base = ["--db", str(db), "--forms", str(ROOT / "forms"), "--config", str(config)]
    return CliRunner().invoke(main, base + list(args))


def test_r_c3_r_c4_a_recorded_case_replays_and_passes(tmp_path: Path) -> None:
    db = tmp_path / "hall.db"
    with Hall(str(db), FixedClock(at("2026-11-24T09:00"))) as h:
        case = h.start("complaint", user="hotline", 渠道="热线")
        case = h.work(case, "register", who="小孙", 渠道="热线", 投诉内容="服务人员态度差")
        case = h.work(case, "classify", who="小孙", when="2026-11-24T09:10", 类型="投诉", 专题="服务质量")
        h.fire("2026-11-24T09:50")  # the 45 minutes passed: escalated (R-C4)
        case = h.work(case, "contact", who="张经理", when="2026-11-24T10:00")
        case = h.work(case, "investigate", who="张经理", 需要延期=False)
        case = h.work(case, "rectify", who="张经理", 整改措施="第1轮")
        case = h.work(case, "hall_review", who="刘主任", 大厅审核意见="通过")
        case = h.work(case, "feedback", who="小孙", when="2026-11-24T11:00", 客户是否满意=False, 客户意见="不满意")
    processes = tmp_path / "processes"
    shutil.copytree(ROOT / "processes", processes, ignore=shutil.ignore_patterns("tests"))
    out = processes / "tests" / "case.yaml"
    result = hall(ROOT / "hall.yaml", db, "test", "record", str(case["id"]), "--out", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert 'at: "2026-11-24 09:00:00"' in text and 'as: "小孙"' in text and '"投诉内容": "服务人员态度差"' in text
    assert '- advance: "2026-11-24 09:50:00"        # timer contact_overdue' in text
    assert '- expect_tasks: ["escalate_contact", "rectify"]' in text
    result = hall(ROOT / "hall.yaml", tmp_path / "unused.db", "test", str(out))
    assert result.exit_code == 0, result.output
    assert "1 passed" in result.output
    # the recorded expectations fail when the diagram changes what the case did
    text = text.replace('"rectify"]', '"report"]')
    out.write_text(text, encoding="utf-8")
    result = hall(ROOT / "hall.yaml", tmp_path / "unused.db", "test", str(out))
    assert result.exit_code == 1 and "- ready tasks: escalate_contact, report" in result.output


def test_r_c10_a_confidential_case_is_recorded_without_its_content(tmp_path: Path) -> None:
    text = (ROOT / "hall.yaml").read_text(encoding="utf-8").replace("\nusers: []\n", "\n")
    text = text.replace("roles:\n", "roles:\n  见习主管: {serves: [受理员], may: [see_all]}\n", 1)
    config = tmp_path / "hall.yaml"
    config.write_text(
        text + "users:\n  - {id: 小孙, name: 孙磊, roles: [受理员]}\n  - {id: 小钱, name: 钱多, roles: [见习主管]}\n",
        encoding="utf-8",
    )
    db = tmp_path / "hall.db"
    with Hall(str(db), FixedClock(at("2026-11-24T09:00")), settings=load_config(config)) as h:
        case = h.start("complaint", user="小孙", 渠道="热线")
        case = h.work(
            case,
            "register",
            who="小孙",
            渠道="热线",
            是否保密=True,
            投诉企业=SECRETS[0],
            联系人=SECRETS[1],
            联系电话=SECRETS[2],
            投诉内容=SECRETS[3],
        )
    hidden = hall(config, db, "--user", "小钱", "test", "record", str(case["id"]))
    assert hidden.exit_code == 0, hidden.output
    assert "confidential: its data is left out" in hidden.output
    assert not [s for s in SECRETS if s in hidden.output]
    shown = hall(config, db, "--user", "小孙", "test", "record", str(case["id"]))
    assert shown.exit_code == 0 and all(s in shown.output for s in SECRETS)
