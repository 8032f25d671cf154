"""`hall demo`: one working day of the service hall, played through the Python API on SQLite.

Customers come and go; staff take tasks from their queues and fill in the forms; the worker fires
the timers the deadlines set. Yesterday's contract (filed Monday, its service period just ended)
gets its satisfaction callback at 15:00, scores below 7 and becomes a complaint that goes twice
round the PDCA loop before the customer is satisfied. Every line is what a staff member would see.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ..engine import Engine, FixedClock
from ..engine.errors import HallError
from . import access, bundle
from .config import load_config

TZ = ZoneInfo("Asia/Shanghai")
DEMO_MARK = 0x48414C44  # SQLite application_id "HALD": this file was made by hall demo and may be replaced
MONDAY = datetime(2026, 11, 23, 9, 30, tzinfo=TZ)
TUESDAY = datetime(2026, 11, 24, 8, 50, tzinfo=TZ)

STAFF = {  # role -> the person on duty
    "前台接待": "小王",
    "咨询窗口": "小李",
    "服务机构": "张经理",
    "备案窗口": "小陈",
    "回访员": "小赵",
    "大厅主管": "刘主任",
    "档案管理": "小周",
    "受理员": "小孙",
    "客服经理": "黄经理",
    "部门负责人": "吴部长",
    "监察部门": "郑监察",
    "公司领导": "钱总",
    "营业大厅": "小王",
}

AGENCIES = {  # the two agencies of the day and who works for each (R-C10: each sees only its own cases)
    "合肥某咨询服务公司": "张经理",
    "安徽某财务顾问公司": "马经理",
}
# The day shift, with the agencies' staff in their organisations: the demo enforces them when
# hall.yaml lists no users of its own (hall.yaml's commented `users` are the same people).
USERS = [
    {"id": "admin", "name": "系统管理员", "roles": ["系统管理员"]},
    {"id": "小王", "name": "王晓", "roles": ["前台接待", "营业大厅"]},
    {"id": "小李", "name": "李静", "roles": ["咨询窗口"]},
    {"id": "张经理", "name": "张伟", "roles": ["服务机构"], "organisation": "合肥某咨询服务公司"},
    {"id": "马经理", "name": "马骏", "roles": ["服务机构"], "organisation": "安徽某财务顾问公司"},
    {"id": "小陈", "name": "陈晨", "roles": ["备案窗口"]},
    {"id": "小赵", "name": "赵敏", "roles": ["回访员"]},
    {"id": "刘主任", "name": "刘洋", "roles": ["大厅主管"]},
    {"id": "小周", "name": "周婷", "roles": ["档案管理"]},
    {"id": "小孙", "name": "孙磊", "roles": ["受理员"]},
    {"id": "黄经理", "name": "黄丽", "roles": ["客服经理"]},
    {"id": "吴部长", "name": "吴强", "roles": ["部门负责人"]},
    {"id": "郑监察", "name": "郑军", "roles": ["监察部门"]},
    {"id": "钱总", "name": "钱进", "roles": ["公司领导"]},
]


class Day:
    """The hall's day: a clock that only moves forward, the engine, and what staff see."""

    def __init__(self, db: Path, echo: Callable[[str], None]) -> None:
        refuse_unless_demo(db)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        with sqlite3.connect(db) as marked:  # mark it, so the next run may replace it (and nothing else)
            marked.execute(f"PRAGMA application_id = {DEMO_MARK}")
        marked.close()
        self.clock = FixedClock(MONDAY)
        # the hall's configuration where one is kept here (its users, calendar), else the shipped one
        settings = load_config() if Path("hall.yaml").exists() else load_config(bundle.config())
        if not settings.get("users"):
            settings["users"] = USERS
        # the hall's confidential and first-receiver rules where hall.yaml names none (as the command does)
        self.eng = Engine(
            f"sqlite:///{db}", clock=self.clock, forms_dir=bundle.forms(), settings=access.with_defaults(settings)
        )
        self.echo = echo
        self.done: Counter[str] = Counter()
        self.announced: set[int] = set()
        self.overdue: set[int] = set()

    # -- time --------------------------------------------------------------------------------
    def at(self, hhmm: str, day: datetime | None = None) -> None:
        """Move the clock forward to hh:mm (of `day`, default the current day), then run the worker."""
        base = (day or self.clock.now()).astimezone(TZ)
        h, m = map(int, hhmm.split(":"))
        target = base.replace(hour=h, minute=m, second=0, microsecond=0)
        if target > self.clock.now():
            self.clock.set(target)
        self.worker()

    def worker(self) -> None:
        """`hall worker --once`: fire every timer that is due by now."""
        fired: list[str] = []

        def seen(event: Any) -> None:
            if event.kind == "fired":
                job = event.job
                fired.append(
                    f"{job.element} (case {job.instance_id})"
                    if job.instance_id is not None
                    else f"{job.element} (opens a {job.process_id} case)"
                )

        summary = self.eng.run_due_jobs(once=True, install_signals=False, on_event=seen)
        self.done["timers fired"] += summary.get("fired", 0)
        for what in fired:
            self.say("worker", f"timer fired: {what}")
        for task in self.eng.tasks(process="callback_day"):  # R-S1: the day's callback list at 15:00
            roster = self.eng.show(task["instance"])
            due = roster["variables"].get("今日回访") or []
            names = "、".join(c.get("咨询企业") or "?" for c in due) or "今日无到期需回访的合同"
            self.work(roster, "daily_callbacks", 回访安排=f"{len(due)} 份：{names}，由小赵当日15:00起逐一回访")
        for task in self.eng.tasks(process="suggestion_round"):  # R-C11: the box at 08:50, the book at closing
            round_ = self.eng.show(task["instance"])
            if task["name"] == "open_box":
                self.work(
                    round_,
                    "open_box",
                    开启时间=self.clock.now().astimezone(TZ).strftime("%Y-%m-%dT%H:%M"),
                    开启人="小王",
                    箱内件数=0,
                    有待登记=False,
                )
            elif task["name"] == "read_book":
                self.work(
                    round_,
                    "read_book",
                    查阅时间=self.clock.now().astimezone(TZ).strftime("%Y-%m-%dT%H:%M"),
                    查阅人="小王",
                    新增条数=0,
                    有待登记=False,
                )

    def now(self) -> str:
        return self.clock.now().astimezone(TZ).strftime("%a %H:%M")

    def say(self, who: str, text: str) -> None:
        self.echo(f"{self.now()}  {who:<6} {text}")

    # -- work ------------------------------------------------------------------------------------
    def start(self, process: str, key: str | None, who: str, **data: Any) -> dict:
        case = self.eng.start(process, key, data, user=who)
        self.done[f"{process} started"] += 1
        self.say(who, f"opens {process} case {case['id']}{' ' + key if key else ''}")
        self.announce(case)
        return case

    def work(self, case: dict, task_name: str, show: bool = False, **data: Any) -> dict:
        """The staff member of the task's role takes it from their queue and completes its form;
        with `show`, first print the form's instructions as the staff member reads them (`hall task`)."""
        task = next((t for t in self.eng.tasks(instance=case["id"]) if t["name"] == task_name), None)
        if task is None:
            open_ = [t["name"] for t in self.eng.tasks(instance=case["id"])]
            raise RuntimeError(f"case {case['id']} has no ready task {task_name!r} (open: {open_})")
        self.clock.advance(minutes=4)  # a few minutes at the desk
        who = (
            AGENCIES.get(task.get("organisation") or "")
            or task.get("assignee")
            or STAFF.get(task["role"], task["role"])
        )
        if show:
            self.echo(f"{'':13}== {task['title']} (task {task['id']}), as {who} reads it ==")
            for line in self.eng.render_task(task["id"]).splitlines():
                self.echo(f"{'':13}| {line}")
        self.eng.claim(task["id"], who)
        values = self.fill(task, data)
        after = self.eng.complete(task["id"], values, user=who)
        self.done["tasks completed"] += 1
        shown = ", ".join(f"{k}={_short(v)}" for k, v in data.items()) or "done"
        self.say(who, f"[{task['role']}] {task['title']}: {shown}")
        self.announce(after)
        return after

    def fill(self, task: dict, given: dict) -> dict:
        """What the staff member types: the values given; the date and time of the desk and the staff
        member's own name where the form asks for them. Every other required answer must be given: the
        demo writes no filler into the records (an omission is a mistake in this script)."""
        form = self.eng.form(task["form"])
        values = dict(given)
        if form is None:
            return values
        today = self.clock.now().astimezone(TZ)
        desk = {"date": today.date().isoformat(), "datetime": today.isoformat(timespec="minutes")}
        missing = []
        for field in form.fields:
            if field.name in values or not field.required or field.default is not None:
                continue
            if field.type in desk:
                values[field.name] = desk[field.type]
            elif field.name.endswith(("人员", "签字", "负责人", "承办人")):
                values[field.name] = STAFF.get(task["role"], "值班人员")
            else:
                missing.append(field.name)
        if missing:
            raise RuntimeError(f"demo: task {task['name']} needs {', '.join(missing)}")
        return values

    def announce(self, case: dict) -> None:
        """New tasks and their deadlines, as they appear in the queues."""
        for t in case["tasks"]:
            if t["id"] in self.announced:
                continue
            self.announced.add(t["id"])
            due = ""
            if t["due_at"]:
                at = datetime.fromisoformat(t["due_at"]).astimezone(TZ)
                due = f", due {at:%a %m-%d %H:%M}{' (provisional)' if t['due_provisional'] else ''}"
            self.echo(f"{'':13}-> queue {t['role']}: {t['title']} (case {case['id']}{_key(case)}){due}")
        if case["status"] in ("completed", "cancelled"):
            self.echo(f"{'':13}-> case {case['id']}{_key(case)} {case['process']} {case['status']}")

    def queue_report(self) -> None:
        now = self.clock.now()
        overdue = [t for t in self.eng.tasks() if t["due_at"] and datetime.fromisoformat(t["due_at"]) < now]
        for t in overdue:
            if t["id"] not in self.overdue:
                self.overdue.add(t["id"])
                self.say("queue", f"OVERDUE: {t['title']} for {t['role']} (case {t['instance']})")


def refuse_unless_demo(db: Path) -> None:
    """A file that exists is replaced only when an earlier `hall demo` made it (or it is empty)."""
    if not db.exists() and not db.is_symlink():
        return
    if db.is_file() and db.stat().st_size == 0:
        return
    mark = None
    if db.is_file():
        try:
            conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
            try:
                mark = conn.execute("PRAGMA application_id").fetchone()[0]
            finally:
                conn.close()
        except sqlite3.Error:
            mark = None
    if mark != DEMO_MARK:
        raise HallError(
            f"{db} exists and is not a database made by hall demo: left untouched "
            f"(give another --file, or remove it yourself)"
        )


def _key(case: dict) -> str:
    """A case's business key (its number, issue 17) after its id, when it has one."""
    return f" {case['business_key']}" if case.get("business_key") else ""


def _short(value: Any) -> str:
    """A value on one line, as the log shows it (the instructions themselves are printed in full)."""
    text = str(value).replace("\n", " / ")
    return text if len(text) <= 40 else text[:39] + "…"


def filing_until_filed(
    day: Day, company: str, agency: str, end: str, visits: str = "first", return_at: str = ""
) -> dict:
    """Reception -> consultation -> agreement -> filing review, with the visits of the 123 rule (R-F4)."""
    case = day.start("filing", None, "小王")
    case = day.work(
        case,
        "reception",
        首问负责人="小王",
        来访企业=company,
        来访人="李经理",
        来访人电话="13912345678",
        来访事项="咨询管理咨询服务并办理合同备案",
        首问处理="引导至咨询窗口",
    )
    case = day.work(
        case, "consult", 咨询窗口人员="小李", 咨询内容="企业管理咨询服务", 推荐服务机构=agency, 是否达成服务意向=True
    )
    case = day.work(
        case,
        "sign_agreement",
        服务机构=agency,
        服务机构联系人=AGENCIES[agency],
        联系电话="055165001234",
        咨询企业=company,
        企业联系人="李经理",
        联系人职务="总经理",
        联系人移动电话="13912345678",
        咨询项目名称="管理体系咨询",
        项目主要工作内容="梳理管理制度",
        服务达成目标="通过认证",
        服务开始日期=day.clock.now().astimezone(TZ).date().isoformat(),
        服务结束日期=end,
        服务收费="12000.00",
        协议签订日期=day.clock.now().astimezone(TZ).date().isoformat(),
    )
    if visits == "first":
        case = day.work(case, "review", 备案意见="同意备案", 大厅备案意见="材料齐全，予以备案")
    else:
        case = day.work(
            case, "review", 备案意见="材料不全", 未办结原因="首次来访材料不全", 大厅备案意见="缺件，一次性告知"
        )
        case = day.work(
            case,
            "missing_list",
            缺件清单="1. 营业执照副本复印件\n2. 法定代表人授权书\n3. 服务方案",
            告知方式="书面告知书",
        )
        day.at(return_at)  # the customer comes back with the missing items
        case = day.work(case, "second_visit", show=visits == "second", 补交材料="营业执照副本复印件、授权书、服务方案")
        if visits == "second":
            case = day.work(case, "review", 备案意见="同意备案", 大厅备案意见="第二次来访补齐材料，予以备案")
        else:
            case = day.work(
                case,
                "review",
                备案意见="材料不全",
                未办结原因="告知不清",
                大厅备案意见="首次告知书未写明授权书格式，上门服务",
            )
            case = day.work(
                case, "onsite_service", 上门人员="小陈", 上门办理情况="上门指导补正授权书并收件", 材料是否齐全=True
            )
            if any(t["name"] == "review" for t in case["tasks"]):
                case = day.work(case, "review", 备案意见="同意备案", 大厅备案意见="上门服务后材料齐全，予以备案")
    number = day.eng.show(case["id"])["variables"].get("备案编号")
    day.say("小陈", f"filed contract {number} for {company}")
    day.done["contracts filed"] += 1
    return day.work(case, "rate_filing", 办理评分=10)


ROUNDS = [  # R-C3: each round's plan answers what the customer said about the last one
    {
        "整改意见": "项目负责人多次缺席属实：更换项目负责人，加强服务人员培训",
        "整改措施": "即日起由王工接任项目负责人，每周五书面报告进度",
        "大厅处理意见": "整改措施可行，请按周报告",
    },
    {
        "整改意见": "客户认为进度仍慢：增派一名顾问，把剩余工作拆成两周的里程碑",
        "整改措施": "增派顾问赵工驻场；12月4日、12月11日两个节点向客户和大厅汇报",
        "大厅处理意见": "措施具体、有时间节点，同意",
    },
]


def complaint_round(day: Day, case: dict, satisfied: bool) -> dict:
    """One round of the PDCA loop (R-C3): plan (rectify), do, check (hall review), act (feedback)."""
    plan = ROUNDS[day.done["PDCA rounds"] % len(ROUNDS)]
    case = day.work(case, "rectify", 整改意见=plan["整改意见"], 整改措施=plan["整改措施"], 服务机构签字="张经理")
    case = day.work(case, "hall_review", 大厅审核意见="通过", 大厅处理意见=plan["大厅处理意见"], 大厅主管签字="刘主任")
    day.done["PDCA rounds"] += 1
    return day.work(
        case,
        "feedback",
        反馈方式="电话",
        客户是否满意=satisfied,
        客户意见="满意" if satisfied else "整改进度太慢，要求尽快见效",
    )


def run(db: str | Path = "hall-demo.db", echo: Callable[[str], None] = print) -> Counter[str]:
    """Play the day on a fresh SQLite file; returns the counts printed at the end."""
    day = Day(Path(db), echo)
    day.eng.init(rehearsal=True)  # a rehearsal: its day runs at simulated times
    deployed = day.eng.deploy([bundle.processes()], user="admin")  # the shipped diagrams, whatever is edited here
    echo("deployed: " + ", ".join(f"{d['process']} v{d['version']}" for d in deployed))

    echo("\n== Monday: a contract whose service period ends today ==")
    monday = filing_until_filed(day, "戊软件有限公司", "合肥某咨询服务公司", end="2026-11-23")
    day.at("17:00")  # the service period has ended: the callback is due at 15:00 on the next working day

    echo("\n== Tuesday 24 November 2026: the hall opens at 08:50 ==")
    day.at("08:50", TUESDAY)
    filing_until_filed(day, "甲科技有限公司", "合肥某咨询服务公司", end="2027-05-31")
    day.at("09:40")
    filing_until_filed(
        day, "乙贸易有限公司", "安徽某财务顾问公司", end="2027-03-31", visits="second", return_at="10:30"
    )
    day.at("10:50")
    ding = day.start("filing", None, "小王")
    ding = day.work(
        ding,
        "reception",
        首问负责人="小王",
        来访企业="丁餐饮管理公司",
        来访人="丁女士",
        来访人电话="13700001111",
        来访事项="了解补贴政策",
        首问处理="引导至咨询窗口",
    )
    ding = day.work(ding, "consult", 咨询窗口人员="小李", 咨询内容="补贴政策咨询", 是否达成服务意向=False)
    ding = day.work(ding, "record_consult", 未达成原因="暂无服务需求", 客户需求="关注明年补贴申报")
    if ding["tasks"]:
        ding = day.work(ding, ding["tasks"][0]["name"], 办理评分=9)

    day.at("11:00")
    hotline = day.start("complaint", None, "小孙")
    hotline = day.work(
        hotline,
        "register",
        渠道="热线",
        接待人员="小孙",
        投诉企业="己商贸公司",
        联系人="周先生",
        联系电话="13811112222",
        投诉内容="询问备案需要哪些材料，认为窗口没讲清楚",
    )
    hotline = day.work(
        hotline, "classify", 类型="咨询", 专题="信息沟通", 责任单位="备案窗口", 核实说明="客户误解，解释后清楚"
    )
    hotline = day.work(hotline, "reply_nonvalid", 答复方式="电话", 答复内容="已逐项说明备案材料", 客户是否满意=True)
    hotline = day.work(hotline, "rate", 办理评分=9)
    hotline = day.work(hotline, "archive", 档案编号="ZX-2026-11-001", 保存期限="六个月")

    day.at("13:30")
    filing_until_filed(
        day, "丙制造有限公司", "合肥某咨询服务公司", end="2027-06-30", visits="onsite", return_at="14:20"
    )

    echo("\n== 15:00: satisfaction callbacks (R-S1) ==")
    day.at("15:00")
    monday = day.work(
        monday,
        "callback",
        show=True,
        回访人员="小赵",
        联系人="李经理",
        客户身份已确认=True,
        是否签订协议=True,
        是否按时完成=False,
        履行是否达到约定=False,
        服务态度=4,
        服务效率=5,
        服务价格=6,
        是否有抱怨或投诉=True,
        抱怨投诉内容="项目负责人多次缺席，进度拖延",
        回访内容="按回访话术逐项询问",
    )
    score = day.eng.show(monday["id"])["variables"].get("综合得分")
    day.say("小赵", f"composite score {score} < 7: to the hall supervisor (R-S3)")
    monday = day.work(
        monday,
        "supervisor_review",
        主管审核意见="综合得分低于7分，转入投诉处理",
        投诉内容摘要="项目负责人多次缺席，进度拖延",
    )
    monday = day.work(monday, "agency_rectify", 服务机构整改意见="更换项目负责人", 服务机构签字="张经理")
    link = day.eng.show(monday["id"])["links"]["children"][0]
    complaint = day.eng.show(link["id"])
    day.say(
        "刘主任",
        f"complaint case {complaint['id']} opened for contract "
        f"{complaint['variables'].get('合同备案编号')}; the filing waits for its outcome",
    )
    complaint = day.work(
        complaint,
        "register",
        渠道="回访",
        接待人员="小孙",
        投诉企业="戊软件有限公司",
        联系人="李经理",
        联系电话="13912345678",
        被投诉企业="合肥某咨询服务公司",
        投诉内容="项目负责人多次缺席，进度拖延",
    )
    complaint = day.work(
        complaint,
        "classify",
        类型="投诉",
        专题="服务效率",
        是否重大投诉=False,
        涉及工作人员违纪=False,
        责任单位="合肥某咨询服务公司",
    )
    day.at("16:10")  # the agency is late: the 45-minute contact limit (R-C4) has passed
    day.queue_report()
    complaint = day.work(complaint, "contact", 联系方式="电话", 联系情况="已致歉并约定明日上门")
    for t in day.eng.tasks(instance=complaint["id"]):
        if t["name"].startswith("escalate"):
            complaint = day.work(
                complaint,
                t["name"],
                督办措施="电话督促合肥某咨询服务公司张经理立即联系李经理，16:20前回报",
                已告知客户=True,
            )
    complaint = day.work(
        complaint, "investigate", 调查事实="项目负责人两周内缺席三次", 调查结论="服务机构管理不到位", 需要延期=False
    )
    complaint = complaint_round(day, complaint, satisfied=False)
    day.at("16:45")
    complaint = complaint_round(day, complaint, satisfied=True)
    complaint = day.work(
        complaint,
        "report",
        事实经过="项目负责人多次缺席",
        报告结论="投诉属实",
        处理措施="更换负责人",
        答复情况="已答复客户",
    )
    complaint = day.work(complaint, "manager_review", 审核结论="同意", 审核意见="事实清楚，处理得当")
    complaint = day.work(complaint, "revisit", 回访满意度="满意", 回访记录="客户认可整改")
    complaint = day.work(complaint, "rate", 办理评分=9)
    complaint = day.work(complaint, "archive", 档案编号=f"TSDA-{complaint['variables']['投诉编号']}", 保存期限="一年")
    monday = day.eng.show(monday["id"])
    outcome = monday["variables"].get("投诉结果") or {}
    day.say(
        "刘主任",
        f"filing case {monday['id']} received complaint {outcome.get('投诉编号')}: "
        f"customer satisfied = {outcome.get('结果')}",
    )
    monday = day.work(
        monday,
        "close_case",
        结案处理意见="经两轮整改，客户对更换负责人和增派顾问表示满意，同意结案",
        跟踪备注="继续跟踪客户满意度：12月11日节点后再回访一次（R-S4）",
    )
    number = monday["variables"].get("备案编号")
    monday = day.work(monday, "archive", 档案编号=f"DA-{number}", 存放位置="档案室 2 号柜 2026-11 合同备案卷")

    day.at("17:30")
    day.queue_report()
    echo("\n== End of the day ==")
    for process, by_status in sorted(day.eng.counts().items()):
        echo(f"{process:<10} " + ", ".join(f"{status} {n}" for status, n in sorted(by_status.items())))
    for what, n in sorted(day.done.items()):
        echo(f"{what:<18} {n}")
    waiting = day.eng.tasks()
    echo(f"open tasks         {len(waiting)}")
    for agency, who in AGENCIES.items():  # R-C10: each agency's staff see only the cases of their agency
        seen = day.eng.instances(user=who)
        echo(f"{who} ({agency}) sees {len(seen)} case(s): " + ", ".join(str(c["id"]) for c in seen))
    echo(
        f"waiting contracts  {sum(1 for i in day.eng.instances(process='filing', status='running'))} "
        "(performance period running; callbacks come when it ends)"
    )
    day.eng.close()
    return day.done
