"""Messages and signals between cases of any process (issue 12, item 5), through the public API on
SQLite and PostgreSQL: correlation by message name and key (business key, a camunda property, a
standard correlation property), message and signal start events, signals to every waiting case,
an uncorrelated message as an error to its sender (an incident from inside a case, an error and
nothing written from outside), and delivery inside the sender's transaction. One small diagram per
construct in tests/fixtures/messages/.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from conftest import FIXTURES, PG_URL
from hall import Engine
from hall.engine.errors import MessageAmbiguous, MessageNotCorrelated, MessageNotWaited, ProcessNotFound
from hall.engine.store import Tx
from hall.engine.store import history as store_history
from hall.engine.store import jobs as store_jobs

MESSAGES = FIXTURES / "messages"


@pytest.fixture
def eng(make_engine) -> Engine:
    e = make_engine()
    e.init()
    e.deploy(sorted(p for p in MESSAGES.glob("*.bpmn") if p.name != "juel_conditions.bpmn"))
    return e


def names(eng: Engine, instance_id: int) -> list[str]:
    return sorted(t["name"] for t in eng.tasks(instance=instance_id))


def finish(eng: Engine, instance_id: int, name: str, data: dict | None = None) -> dict:
    """Complete the case's ready task of that element."""
    [task] = [t for t in eng.tasks(instance=instance_id) if t["name"] == name]
    return eng.complete(task["id"], data or {})


def history(eng: Engine, instance_id: int, kind: str) -> list[dict]:
    return [h for h in eng.history(instance_id) if h["kind"] == kind]


# -- a message thrown by one case reaches the case of another process waiting for it -------------
def test_a_thrown_message_reaches_the_case_with_the_senders_business_key(eng: Engine, make_engine) -> None:
    other_key = eng.start("msg_wait_paid", business_key="TS-1")
    waiting = eng.start("msg_wait_paid", business_key="TS-2")
    sender = eng.start("msg_throw_paid", business_key="TS-2")
    done = make_engine().complete(eng.tasks(instance=sender["id"])[0]["id"], {"amount": 30})  # another process
    assert done["status"] == "completed"
    assert names(eng, waiting["id"]) == ["issue"]
    assert eng.show(waiting["id"])["variables"]["paid_Response"] == {"amount": 30}
    assert names(eng, other_key["id"]) == [] and eng.show(other_key["id"])["status"] == "running"
    [sent] = history(eng, sender["id"], "message_sent")
    assert sent["element"] == "tell"
    assert sent["detail"]["to"] == waiting["id"] and sent["detail"]["key"] == "TS-2"
    [received] = history(eng, waiting["id"], "message_received")
    assert received["detail"]["source"] == sender["id"]


def test_r_message_nobody_waits_for_is_an_incident_of_the_sender_and_retry_delivers_it(eng: Engine) -> None:
    sender = eng.start("msg_throw_paid", business_key="TS-9")
    failed = finish(eng, sender["id"], "cash", {"amount": 5})
    assert failed["status"] == "incident"
    assert failed["incident"]["element"] == "tell"
    assert "message 'fee_paid' with correlation key 'TS-9' was not correlated" in failed["incident"]["error"]
    assert history(eng, sender["id"], "message_sent") == []
    waiting = eng.start("msg_wait_paid", business_key="TS-9")
    assert eng.retry(sender["id"])["status"] == "completed"
    assert names(eng, waiting["id"]) == ["issue"]
    assert len(history(eng, waiting["id"], "message_received")) == 1


def test_a_message_that_fits_two_waiting_cases_is_an_incident_naming_both(eng: Engine) -> None:
    first = eng.start("msg_wait_paid", business_key="TS-3")
    second = eng.start("msg_wait_paid", business_key="TS-3")
    sender = eng.start("msg_throw_paid", business_key="TS-3")
    failed = finish(eng, sender["id"], "cash", {"amount": 5})
    assert failed["status"] == "incident"
    assert f"case {first['id']} (msg_wait_paid), case {second['id']} (msg_wait_paid)" in failed["incident"]["error"]
    assert names(eng, first["id"]) == [] and names(eng, second["id"]) == []


def test_a_send_task_and_a_receive_task_correlate_by_their_correlation_expressions(eng: Engine) -> None:
    """The receive task's key is camunda property correlationKey `${order_no}` (JUEL) on its case's
    data; the send task's a standard correlationProperty's retrieval expression `order` on its own."""
    a = eng.start("msg_receive_keyed", data={"order_no": "A-1"})
    b = eng.start("msg_receive_keyed", data={"order_no": "B-2"})
    sender = eng.start("msg_send_keyed", data={"order": "B-2"})
    assert finish(eng, sender["id"], "stamp", {"stamp": "ok"})["status"] == "completed"
    assert names(eng, b["id"]) == ["hand_out"] and names(eng, a["id"]) == []
    assert eng.show(b["id"])["variables"]["stamped_Response"] == {"stamp": "ok"}


def test_a_message_end_event_starts_a_case_by_its_message_start_event(eng: Engine) -> None:
    sender = eng.start("msg_end_filing", business_key="BA-7")
    assert finish(eng, sender["id"], "receive", {"company": "星辰科技"})["status"] == "completed"
    [sent] = history(eng, sender["id"], "message_sent")
    assert sent["element"] == "hand_over" and sent["detail"]["started"] is True
    started = eng.show(sent["detail"]["to"])
    assert started["process"] == "msg_start_filing" and started["business_key"] == "BA-7"
    assert started["variables"]["filing"] == {"company": "星辰科技"}
    assert "by_hand" not in started["variables"]  # only the message start event's path ran
    assert names(eng, started["id"]) == ["check"]
    assert [h["kind"] for h in eng.history(started["id"])][:2] == ["started", "message_received"]
    by_hand = eng.start("msg_start_filing")  # started by hand: its none start event
    assert by_hand["variables"].get("by_hand") is True


# -- signals -------------------------------------------------------------------------------------------
def test_a_thrown_signal_reaches_every_waiting_case_and_starts_every_signal_start_process(eng: Engine) -> None:
    waiting = [eng.start("sig_wait") for _ in range(2)]
    gateway = eng.start("sig_gateway")
    thrower = eng.start("sig_throw")
    assert finish(eng, thrower["id"], "lock_up", {"keys_with": "李明"})["status"] == "completed"
    for case in waiting:
        assert names(eng, case["id"]) == ["tidy"]
    assert names(eng, gateway["id"]) == ["tomorrow"]  # the signal's branch of the event-based gateway
    [sent] = history(eng, thrower["id"], "signal_sent")
    assert sent["element"] == "announce"
    assert sent["detail"]["reached"] == [waiting[0]["id"], waiting[1]["id"], gateway["id"]]
    [started] = sent["detail"]["started"]
    assert eng.show(started)["process"] == "sig_start" and names(eng, started) == ["report"]
    assert "keys_with" not in eng.show(started)["variables"]  # a signal carries none of its thrower's data
    assert "keys_with" not in eng.show(waiting[0]["id"])["variables"]


def test_a_signal_from_outside_sets_its_variables_and_reaching_nobody_is_no_error(eng: Engine) -> None:
    case = eng.start("sig_wait")
    sent = eng.send_signal("hall_closing", {"closed_by": "王芳"})
    assert sent["reached"] == [case["id"]] and len(sent["started"]) == 1
    assert eng.show(case["id"])["variables"]["closed_by"] == "王芳"
    assert eng.send_signal("nobody_listens") == {"signal": "nobody_listens", "reached": [], "started": []}


def test_a_message_after_an_event_based_gateway_takes_its_branch(eng: Engine) -> None:
    case = eng.start("sig_gateway", business_key="TS-5")
    reached = eng.correlate_message("fee_paid", key="TS-5")
    assert reached["id"] == case["id"] and names(eng, case["id"]) == ["issue"]


# -- from outside ------------------------------------------------------------------------------------
def test_a_message_from_outside_is_correlated_by_key_and_narrowed_by_process(eng: Engine) -> None:
    one = eng.start("msg_wait_paid", business_key="TS-1")
    two = eng.start("msg_wait_paid", business_key="TS-2")
    assert eng.correlate_message("fee_paid", {"amount": 1}, key="TS-2")["id"] == two["id"]
    assert names(eng, two["id"]) == ["issue"] and names(eng, one["id"]) == []
    assert eng.correlate_message("fee_paid", key="TS-1", process="msg_wait_paid")["id"] == one["id"]


def test_a_message_without_a_key_needs_exactly_one_waiting_case(eng: Engine) -> None:
    one = eng.start("msg_wait_paid", business_key="TS-1")
    two = eng.start("msg_wait_paid", business_key="TS-2")
    with pytest.raises(MessageAmbiguous, match="fits 2 targets"):
        eng.correlate_message("fee_paid")
    finish_first = eng.correlate_message("fee_paid", key="TS-1")
    assert finish_first["id"] == one["id"]
    assert eng.correlate_message("fee_paid")["id"] == two["id"]


def test_an_uncorrelated_message_from_outside_is_an_error_and_writes_nothing(eng: Engine) -> None:
    eng.start("msg_wait_paid", business_key="TS-1")
    before = (eng.instances(), eng.history(1))
    with pytest.raises(MessageNotCorrelated, match="'fee_paid' with correlation key 'TS-X' was not correlated"):
        eng.correlate_message("fee_paid", {"amount": 1}, key="TS-X")
    with pytest.raises(MessageNotCorrelated, match="no running msg_wait_paid case"):
        eng.correlate_message("filing_received", key="X", process="msg_wait_paid")
    with pytest.raises(ProcessNotFound):
        eng.correlate_message("fee_paid", key="TS-1", process="no_such_process")
    assert (eng.instances(), eng.history(1)) == before


def test_a_message_from_outside_starts_a_case_of_its_message_start_process(eng: Engine) -> None:
    started = eng.correlate_message("filing_received", {"company": "A"}, key="BA-1", process="msg_start_filing")
    assert started["process"] == "msg_start_filing" and started["business_key"] == "BA-1"
    assert started["variables"]["received_Response"] == {"company": "A"}
    assert names(eng, started["id"]) == ["check"]


def test_a_message_to_one_instance_still_works_and_says_when_it_does_not_wait(eng: Engine) -> None:
    case = eng.start("msg_wait_paid", business_key="TS-1")
    assert names(eng, eng.send_message(case["id"], "fee_paid", {"amount": 2})["id"]) == ["issue"]
    with pytest.raises(MessageNotWaited, match=f"instance {case['id']} is not waiting for message 'fee_paid'"):
        eng.send_message(case["id"], "fee_paid")


# -- delivery inside the sender's transaction ------------------------------------------------------
def test_a_delivery_is_rolled_back_with_its_senders_transaction(eng: Engine, make_engine, monkeypatch) -> None:
    """The receiver's step is nested in the sender's: when the sender's save fails (a crash before
    COMMIT), the receiver is as it was, and the retried send delivers once."""
    waiting = eng.start("msg_wait_paid", business_key="TS-4")
    sender = eng.start("msg_throw_paid", business_key="TS-4")
    [task] = eng.tasks(instance=sender["id"])
    save = Tx.save_step

    def crash(self: Tx, instance_id: int, *args, **kwargs) -> bool:
        if instance_id == sender["id"]:
            raise RuntimeError("the process was killed before COMMIT")
        return save(self, instance_id, *args, **kwargs)

    monkeypatch.setattr(Tx, "save_step", crash)
    with pytest.raises(RuntimeError):
        eng.complete(task["id"], {"amount": 7})
    monkeypatch.setattr(Tx, "save_step", save)
    fresh = make_engine()
    assert names(fresh, waiting["id"]) == [] and history(fresh, waiting["id"], "message_received") == []
    assert eng.complete(task["id"], {"amount": 7})["status"] == "completed"
    assert names(fresh, waiting["id"]) == ["issue"]
    assert len(history(fresh, waiting["id"], "message_received")) == 1
    assert fresh.show(waiting["id"])["variables"]["paid_Response"] == {"amount": 7}


def test_a_receiver_rolled_back_with_its_sender_is_not_kept_in_memory(eng: Engine, make_engine, monkeypatch) -> None:
    """After the rollback another process delivers the message; this engine then acts on the
    receiver as the database has it, not as its rolled-back step left it in memory."""
    waiting = eng.start("msg_wait_paid", business_key="TS-8")
    sender = eng.start("msg_throw_paid", business_key="TS-8")
    [task] = eng.tasks(instance=sender["id"])
    save = Tx.save_step

    def crash(self: Tx, instance_id: int, *args, **kwargs) -> bool:
        if instance_id == sender["id"]:
            raise RuntimeError("the process was killed before COMMIT")
        return save(self, instance_id, *args, **kwargs)

    monkeypatch.setattr(Tx, "save_step", crash)
    with pytest.raises(RuntimeError):
        eng.complete(task["id"], {"amount": 7})
    monkeypatch.setattr(Tx, "save_step", save)
    make_engine().correlate_message("fee_paid", {"amount": 99}, key="TS-8")
    assert finish(eng, waiting["id"], "issue")["status"] == "completed"
    assert eng.show(waiting["id"])["variables"]["paid_Response"] == {"amount": 99}


def test_a_case_that_stops_waiting_leaves_the_wait_index(eng: Engine) -> None:
    case = eng.start("msg_wait_paid", business_key="TS-6")
    eng.cancel(case["id"], reason="withdrawn")
    with pytest.raises(MessageNotCorrelated):
        eng.correlate_message("fee_paid", key="TS-6")
    suspended = eng.start("msg_wait_paid", business_key="TS-7")
    eng.suspend(suspended["id"])
    with pytest.raises(MessageNotCorrelated):
        eng.correlate_message("fee_paid", key="TS-7")
    eng.resume(suspended["id"])
    assert eng.correlate_message("fee_paid", key="TS-7")["id"] == suspended["id"]


def test_a_correlation_key_that_does_not_compile_is_a_validate_finding_at_its_line(eng: Engine, tmp_path) -> None:
    text = (MESSAGES / "receive_keyed.bpmn").read_text().replace("${order_no}", "${order_no.trim()}")
    path = tmp_path / "bad_key.bpmn"
    path.write_text(text, encoding="utf-8")
    [finding] = eng.validate([path])
    assert finding.element == "stamped" and finding.line == text[: text.index("order_no.trim")].count("\n") + 1
    assert "correlationKey cannot translate" in finding.message and "method calls (trim())" in finding.message


def test_a_receivers_failing_save_ends_the_senders_transaction_instead_of_an_incident(
    eng: Engine, make_engine, monkeypatch
) -> None:
    """A failure of the engine itself while a message is delivered (the database, a concurrent
    update) is not the sender's incident: the whole transaction ends, nothing is written."""
    waiting = eng.start("msg_wait_paid", business_key="TS-10")
    sender = eng.start("msg_throw_paid", business_key="TS-10")
    [task] = eng.tasks(instance=sender["id"])
    save = Tx.save_step

    def crash(self: Tx, instance_id: int, *args, **kwargs) -> bool:
        if instance_id == waiting["id"]:
            raise RuntimeError("the database went away")
        return save(self, instance_id, *args, **kwargs)

    monkeypatch.setattr(Tx, "save_step", crash)
    with pytest.raises(RuntimeError, match="the database went away"):
        eng.complete(task["id"], {"amount": 7})
    monkeypatch.setattr(Tx, "save_step", save)
    fresh = make_engine()
    assert fresh.show(sender["id"])["status"] == "running" and names(fresh, sender["id"]) == ["cash"]
    assert history(fresh, sender["id"], "incident") == []


def test_an_element_may_declare_that_nobody_waiting_is_no_failure(eng: Engine, tmp_path) -> None:
    """Extension property messageOptional=true: a message nobody takes is recorded in the sender's
    history (`to` null) instead of failing the element; a case waiting for it still gets it."""
    text = (MESSAGES / "throw_paid.bpmn").read_text()
    text = text.replace(
        '<bpmn:intermediateThrowEvent id="tell" name="Fee paid">',
        '<bpmn:intermediateThrowEvent id="tell" name="Fee paid"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="messageOptional" value="true" /></camunda:properties></bpmn:extensionElements>',
    )
    path = tmp_path / "throw_optional.bpmn"
    path.write_text(text, encoding="utf-8")
    eng.deploy([path])
    alone = eng.start("msg_throw_paid", business_key="TS-11")
    assert finish(eng, alone["id"], "cash", {"amount": 1})["status"] == "completed"
    [sent] = history(eng, alone["id"], "message_sent")
    assert sent["detail"]["to"] is None and sent["detail"]["key"] == "TS-11"
    waiting = eng.start("msg_wait_paid", business_key="TS-12")
    sender = eng.start("msg_throw_paid", business_key="TS-12")
    finish(eng, sender["id"], "cash", {"amount": 2})
    assert names(eng, waiting["id"]) == ["issue"]


# -- the worker: messages thrown by fired timers, several workers, kill -9 ------------------------
def _received_per_case(eng: Engine) -> dict[int, int]:
    with eng.store.tx(write=False) as tx:
        q = (
            sa.select(store_history.c.instance_id, sa.func.count())
            .where(store_history.c.kind == "message_received")
            .group_by(store_history.c.instance_id)
        )
        return dict(tx.conn.execute(q).all())


def _pairs(eng: Engine, n: int) -> tuple[list[int], list[int]]:
    """n waiting cases and n senders whose timers throw to them (business keys K-0 .. K-n-1)."""
    waiting = [eng.start("msg_wait_paid", business_key=f"K-{i}")["id"] for i in range(n)]
    senders = [eng.start("msg_timer_throw", business_key=f"K-{i}")["id"] for i in range(n)]
    return waiting, senders


def test_messages_thrown_by_the_workers_timers_reach_each_case_once(eng: Engine, clock) -> None:
    """On PostgreSQL the worker fires the timers of many cases in one transaction (a group): each
    delivery is nested in its sender's step there."""
    waiting, senders = _pairs(eng, 30)
    clock.advance(hours=1)
    summary = eng.run_due_jobs(once=True, install_signals=False)
    assert summary["fired"] == 30
    assert _received_per_case(eng) == {i: 1 for i in waiting}
    assert {eng.show(i)["status"] for i in senders} == {"completed"}
    assert all(names(eng, i) == ["issue"] for i in waiting)


@pytest.mark.skipif(not PG_URL, reason="needs PostgreSQL (HALL_TEST_DATABASE_URL)")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
@pytest.mark.timeout(300)
def test_three_workers_deliver_each_message_exactly_once_despite_kill_9(eng: Engine, db_url, clock, tmp_path) -> None:
    waiting, _senders = _pairs(eng, 300)
    now = clock.now() + timedelta(hours=1)
    env = dict(os.environ, PYTHONUNBUFFERED="1")

    def worker(batch: int, moment: datetime = now) -> subprocess.Popen:
        cmd = [sys.executable, "-u", "-m", "hall.cli", "--db", db_url, "--now", moment.isoformat()]
        cmd += ["worker", "--once", "--batch", str(batch), "--lease", "30"]
        return subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    victim = worker(150)  # claims a big batch, dies in the middle of it
    others = [worker(10), worker(10)]
    line = victim.stdout.readline()
    assert line.startswith("fired"), line + victim.stderr.read()
    victim.kill()  # SIGKILL: its open transaction is rolled back by the server, nothing half-delivered
    victim.wait()
    victim.stdout.close()
    victim.stderr.close()
    for p in others:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    with eng.store.tx(write=False) as tx:
        orphaned = tx.conn.execute(sa.select(sa.func.count()).where(store_jobs.c.locked_by.is_not(None))).scalar()
    assert orphaned, "the killed worker held no jobs: it was not killed mid-batch"
    late = [worker(100, now + timedelta(seconds=31)) for _ in range(2)]  # after the killed one's lease
    for p in late:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    assert _received_per_case(eng) == {i: 1 for i in waiting}
    assert {r["status"] for r in eng.instances(process="msg_timer_throw", limit=1000)} == {"completed"}


def test_a_message_boundary_event_interrupts_the_task_of_the_case_it_is_for(eng: Engine) -> None:
    mine = eng.start("msg_boundary", business_key="SQ-1")
    other = eng.start("msg_boundary", business_key="SQ-2")
    assert eng.correlate_message("application_withdrawn", key="SQ-1")["id"] == mine["id"]
    assert names(eng, mine["id"]) == ["file_away"]  # the review was cancelled
    assert names(eng, other["id"]) == ["review"]
    finish(eng, other["id"], "review")  # done: it no longer waits for the message
    with pytest.raises(MessageNotCorrelated):
        eng.correlate_message("application_withdrawn", key="SQ-2")
