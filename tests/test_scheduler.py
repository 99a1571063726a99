"""Deadlines' reminders and escalation, automatic steps, `run-due`, the lease, three scheduler processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import event, func, select, update

from casework.accounts.models import Unit
from casework.clock import local, today, utcnow
from casework.core import settings
from casework.core.models import AuditEntry, Case, CongressSession
from casework.notifications.models import MailOutbox, Notification
from casework.notifications.steps import replaying
from casework.scheduler import due_task, run_due, sweep
from casework.scheduler.lease import make_lease
from casework.scheduler.models import ScheduledEffect, SchedulerFailure, SchedulerJob, SchedulerLease
from tests.factories import aid_to, fire, new_case
from tests.test_notifications import SmtpServer

ROOT = Path(__file__).resolve().parent.parent
TZ = ZoneInfo("Asia/Shanghai")
COMMITTEE = {f"committee{i}" for i in range(1, 6)}


def _idle(db):
    """End the test's transaction: SQLite writers elsewhere (CLI, subprocesses) must not wait for it."""
    db.session.commit()


def _walk(clock, first: date, last: date, runs: int = 2) -> dict[str, list[date]]:
    """Every day from `first` to `last` at 09:00, run the sweep `runs` times; the days each phase fired."""
    fired: dict[str, list[date]] = defaultdict(list)
    day = first
    while day <= last:
        clock.move_to(datetime(day.year, day.month, day.day, 9, tzinfo=TZ))
        for _ in range(runs):
            for phase, n in run_due().reminders.items():
                fired[phase] += [day] * n
        day += timedelta(days=1)
    return dict(fired)


def _recipients(db, case) -> dict[str, set[str]]:
    out = defaultdict(set)
    for note in db.session.scalars(select(Notification).where(Notification.case_id == case.id)):
        out[note.subject].add(note.user.username)
    return dict(out)


def test_reminders_across_national_day_fire_on_the_right_working_days_once(demo, db, clock):
    clock.move_to("2026-09-28 09:00 +08:00")
    with replaying():  # only the reminders are counted here
        case = aid_to(demo, "submitted")
    # Intake, 5 working days: 29, 30 Sep, (1-7 Oct National Day), 8, 9 Oct and the make-up Saturday 10 Oct.
    assert case.deadline == date(2026, 10, 10)
    fired = _walk(clock, date(2026, 9, 28), date(2026, 10, 19))
    assert fired == {"remind_before": [date(2026, 10, 8)],   # 2 wd before: 9 and 8 Oct (the holiday skipped)
                     "remind_due": [date(2026, 10, 10)],     # on the day: a Saturday that is a workday
                     "escalate": [date(2026, 10, 14)]}       # 3 wd after: 12, 13, 14 Oct
    n = case.number
    assert _recipients(db, case) == {
        f"【办理提醒】帮扶申请 {n} 将于2026年10月10日到期": {"staff1"},
        f"【今日到期】帮扶申请 {n} 今天到期": {"staff1"} | COMMITTEE,
        f"【督办】帮扶申请 {n} 已超过办理时限": {"staff1"} | COMMITTEE,
    }
    escalation = db.session.scalar(select(Notification).where(Notification.subject.startswith("【督办】"),
                                                               Notification.user.has(username="committee1")))
    assert "已超过 3 个工作日仍未办结" in escalation.body and "承办人：刘芳" in escalation.body
    assert "（张建国）" in escalation.body and "困难帮扶" not in escalation.body
    effects = db.session.scalars(select(ScheduledEffect).where(ScheduledEffect.case_id == case.id)).all()
    assert sorted((e.kind, e.state_seq, local(e.at).date()) for e in effects) == [
        ("escalate", case.state_seq, date(2026, 10, 14)),
        ("remind_before", case.state_seq, date(2026, 10, 8)),
        ("remind_due", case.state_seq, date(2026, 10, 10))]


def test_reminders_around_new_year_2027_use_the_fallback_calendar_and_unit_settings(demo, db, clock):
    hq = db.session.scalar(select(Unit).where(Unit.code == "HQ"))
    settings.put(hq, "escalate_after_days", 1)
    db.session.commit()
    clock.move_to("2026-12-21 10:00 +08:00")
    worker, staff = demo["worker1"], demo["staff1"]
    proposal = new_case("proposal", worker)
    with replaying():  # only the reminders are counted here
        fire(proposal, "submit", worker)
        fire(proposal, "accept", staff, evaluators=["evaluator1"])
    # 10 wd from Mon 21 Dec: 22-25, 28-31 Dec, (1 Jan 2027 a holiday by the fallback, a weekend), 4, 5 Jan.
    assert proposal.deadline == date(2027, 1, 5)
    fired = _walk(clock, date(2026, 12, 28), date(2027, 1, 8))
    assert fired == {"remind_before": [date(2026, 12, 31)], "remind_due": [date(2027, 1, 5)],
                     "escalate": [date(2027, 1, 6)]}  # this union escalates after 1 wd
    got = _recipients(db, proposal)
    before = next(users for subject, users in got.items() if subject.startswith("【办理提醒】"))
    assert before == {"evaluator1", "staff1"}  # who may act now: the assigned evaluator, staff to grade
    assert all("worker1" not in users for users in got.values())


def test_a_new_state_entry_gets_its_own_reminders(demo, db, clock):
    case = aid_to(demo, "submitted")
    case.deadline = today()
    _idle(db)
    assert run_due().reminders["remind_due"] == 1
    fire(case, "return_for_info", demo["staff1"], reason="请补充收入证明")
    fire(case, "resubmit", demo["worker1"])
    case.deadline = today()
    _idle(db)
    assert run_due().reminders["remind_due"] == 1  # a new entry into `submitted`: reminded again
    assert run_due().reminders["remind_due"] == 0
    assert db.session.scalar(select(func.count()).select_from(ScheduledEffect)) == 2


def test_run_due_command_once_and_twice_changes_nothing(demo, db, app, clock, monkeypatch):
    case = aid_to(demo, "submitted")
    assert case.deadline == date(2026, 12, 2)
    _idle(db)
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["casework", "run-due", "--at", "2026-12-02T09:30"])
    assert refused.exit_code == 2 and "CASEWORK_DEMO" in refused.output  # the future, outside demo mode
    bad = runner.invoke(args=["casework", "run-due", "--at", "next tuesday"])
    assert bad.exit_code == 2 and "not an ISO time" in bad.output and "Traceback" not in bad.output
    clock.move_to("2026-12-02 10:00 +08:00")
    first = runner.invoke(args=["casework", "run-due", "--at", "2026-12-02T09:30"])
    assert first.exit_code == 0, first.output
    assert "1 remind_due" in first.output and "6 notifications" in first.output

    def state():
        counts = tuple(db.session.scalar(select(func.count()).select_from(m))
                       for m in (Notification, ScheduledEffect, AuditEntry, MailOutbox))
        db.session.rollback()
        return counts
    before = state()
    second = runner.invoke(args=["casework", "run-due", "--at", "2026-12-02T09:30"])
    assert second.exit_code == 0 and "reminders: none" in second.output and "0 notifications" in second.output
    assert state() == before


def test_demo_mode_moves_the_clock_forward_for_one_run(demo, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "CASEWORK_DEMO", True)
    rep1 = demo["rep1"]
    session = db.session.scalar(select(CongressSession))
    motion = new_case("motion", rep1, session=session.id)
    fire(motion, "open_for_cosigning", rep1)
    fire(motion, "cosign", demo["rep2"])
    after = local(session.cosigning_until) + timedelta(days=1)
    _idle(db)
    r = app.test_cli_runner().invoke(args=["casework", "run-due", "--at", after.isoformat()])
    assert r.exit_code == 0 and "1 motion.lapse" in r.output, r.output
    db.session.refresh(motion)
    assert motion.state == "lapsed" and utcnow() < session.cosigning_until  # only that run moved the clock


def test_automatic_steps(demo, db, clock):
    # Aid: the posting period ends (its deadline is set when the disclosure is posted).
    aid = aid_to(demo, "posted")
    assert aid.deadline == date(2026, 12, 2)
    _idle(db)
    clock.move_to("2026-12-02 18:00 +08:00")
    assert run_due().steps == {}  # the period's last day is still inside it
    clock.move_to("2026-12-03 09:00 +08:00")
    assert run_due().steps == {"aid.end_posting": 1}
    assert aid.state == "approved"
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == aid.id)
                               .order_by(AuditEntry.seq.desc())).first()
    assert entry.actor_label == "scheduler" and entry.trigger == "end_posting"
    # ... and the request closes itself 10 wd after disbursement when nobody confirms receipt.
    fire(aid, "disburse", demo["fund1"], method="bank_transfer", reference="BANK-1")
    assert aid.deadline == date(2026, 12, 17)
    clock.move_to("2026-12-17 18:00 +08:00")
    assert run_due().steps == {}
    clock.move_to("2026-12-18 09:00 +08:00")
    assert run_due().steps == {"aid.auto_close": 1} and aid.state == "closed"
    # Motions: too few co-signers when the window closes lapse; enough co-signers do not.
    rep1, rep2, rep3 = demo["rep1"], demo["rep2"], demo["rep3"]
    session = db.session.scalar(select(CongressSession))
    lonely, backed = (new_case("motion", rep1, session=session.id) for _ in range(2))
    for m in (lonely, backed):
        fire(m, "open_for_cosigning", rep1)
        fire(m, "cosign", rep2)
    fire(backed, "cosign", rep3)
    clock.move_to(session.cosigning_until.replace(tzinfo=ZoneInfo("UTC")) + timedelta(hours=1))
    report = run_due()
    assert report.steps == {"motion.lapse": 1} and report.failures == 0
    assert (lonely.state, backed.state) == ("lapsed", "cosigning")
    assert any(n.case_id == lonely.id for n in db.session.scalars(select(Notification).where(
        Notification.user_id == rep1.id)))  # the author is told
    # A replied motion nobody rates closes 10 wd later.
    fire(backed, "submit", rep1)
    fire(backed, "file", demo["motions1"], department="TECH")
    fire(backed, "acknowledge", demo["handler1"])
    fire(backed, "reply", demo["handler1"], text="已安排食堂增加两个窗口")
    deadline = backed.deadline
    clock.move_to(datetime.combine(deadline + timedelta(days=1), datetime.min.time(), TZ)
                  + timedelta(hours=9))
    assert run_due().steps == {"motion.auto_close": 1} and backed.state == "closed"
    assert run_due().steps == {}
    kinds = sorted(db.session.scalars(select(ScheduledEffect.kind)
                                      .where(ScheduledEffect.kind.startswith("step:"))))
    assert kinds == ["step:auto_close", "step:auto_close", "step:end_posting", "step:lapse"]


def test_one_case_failing_does_not_stop_the_sweep(demo, db, clock, monkeypatch):
    cases = [aid_to(demo, "submitted") for _ in range(3)]
    for c in cases:
        c.deadline = today()
    broken_id = cases[1].id
    _idle(db)
    real = sweep._send_reminder

    def flaky(case, phase, day):
        if case.id == broken_id:
            raise RuntimeError("邮件模板损坏")
        return real(case, phase, day)
    monkeypatch.setattr(sweep, "_send_reminder", flaky)
    monkeypatch.setitem(sweep.TASKS, "broken_timer", lambda at: 1 / 0)
    report = run_due()
    assert report.reminders["remind_due"] == 2 and report.failures == 2
    failures = {f.key: f for f in db.session.scalars(select(SchedulerFailure))}
    assert failures[f"{broken_id}:reminder"].case_id == broken_id
    assert "邮件模板损坏" in failures[f"{broken_id}:reminder"].error
    assert "ZeroDivisionError" in failures["task:broken_timer"].error
    assert not db.session.scalar(select(ScheduledEffect).where(ScheduledEffect.case_id == broken_id))
    run_due()
    assert db.session.scalar(select(SchedulerFailure.count)
                             .where(SchedulerFailure.key == f"{broken_id}:reminder")) == 2
    monkeypatch.setattr(sweep, "_send_reminder", real)
    monkeypatch.delitem(sweep.TASKS, "broken_timer")
    # Fixed: the skipped reminder goes out at the next run, the others are not repeated.
    assert run_due().reminders == {"remind_due": 1}


def test_other_modules_hang_their_timers_on_the_sweep(db, monkeypatch):
    seen = []
    monkeypatch.setattr(sweep, "TASKS", {})
    due_task("disclosure.post")(lambda at: seen.append(at) or 2)
    report = run_due()
    assert report.tasks == {"disclosure.post": 2} and len(seen) == 1


def test_a_sweep_costs_what_is_due_not_what_exists(demo, db, clock):
    statements = []

    def count(*_args):
        statements.append(1)
    first = aid_to(demo, "submitted")
    first.deadline = today()
    _idle(db)
    run_due()  # warm-up: the first case's reminder
    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        second = aid_to(demo, "submitted")
        second.deadline = today()
        _idle(db)
        statements.clear()
        run_due()
        alone = len(statements)
        # Forty more open cases whose deadlines are weeks away.
        ids = [new_case("proposal", demo["worker2"]).id for _ in range(40)]
        db.session.execute(update(Case).where(Case.id.in_(ids))
                           .values(state="evaluating", deadline=date(2027, 3, 1)))
        third = aid_to(demo, "submitted")
        third.deadline = today()
        _idle(db)
        statements.clear()
        run_due()
        crowded = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert crowded == alone


def test_admin_page_shows_jobs_failures_and_outbox(demo, db, web, app):
    case = aid_to(demo, "submitted")
    db.session.add(SchedulerFailure(key="x", case_id=case.id, what="reminder", error="RuntimeError: 坏了"))
    _idle(db)
    assert app.test_cli_runner().invoke(args=["casework", "run-due"]).exit_code == 0
    web.login("admin")
    page = web.get("/admin/scheduler?lang=en").get_data(as_text=True)
    assert "run-due" in page and "坏了" in page and case.number in page and "E-mail is off" in page
    assert "No scheduler process is running" in page
    r = web.post("/admin/scheduler/failures/clear", {}, form_page="/admin/scheduler")
    assert r.status_code == 302 and db.session.scalar(select(func.count()).select_from(SchedulerFailure)) == 0
    web.post("/logout", {}, form_page="/")
    web.login("worker1")
    assert web.get("/admin/scheduler").status_code == 403


def test_the_lease_has_one_holder_and_passes_on_when_it_dies(db):
    _idle(db)
    a, b = make_lease(db.engine, seconds=1), make_lease(db.engine, seconds=1)
    try:
        assert a.acquire()
        assert not b.acquire() and not b.renew()
        assert a.renew()
        row = db.session.get(SchedulerLease, "scheduler")
        assert row.holder == a.holder and row.pid == os.getpid()
        _idle(db)
        # The holder dies: on PostgreSQL its connection ends, on SQLite it stops renewing.
        if db.engine.dialect.name == "postgresql":
            a.conn.invalidate()
            a.conn = None
        else:  # the row expires on the database's clock after a second
            _poll(b.acquire, 30, "the lease never expired")
        assert b.acquire()
        assert not a.renew()
    finally:
        a.release()
        b.release()


SCHEDULER = r"""
import os, sys, time
sys.path.insert(0, os.getcwd())
import time_machine
time_machine.travel(time.time() + float(os.environ["TEST_CLOCK_OFFSET"]), tick=True).start()
time.time()  # time-machine ticks from the first reading: read now, so every process shows the same time
import casework
_from_env = casework.from_env
def from_env(*args, **kwargs):  # SMTP time-out and claims from the test: how long a dead sender's mail waits
    return {**_from_env(*args, **kwargs), "CASEWORK_SMTP_TIMEOUT": int(os.environ["TEST_SMTP_TIMEOUT"]),
            "CASEWORK_MAIL_CLAIM_SECONDS": int(os.environ["TEST_CLAIM_SECONDS"])}
casework.from_env = from_env
from flask.cli import main
sys.argv = ["flask", "--app", "wsgi", "casework", "scheduler", "--interval", "1", "--mail-interval", "1",
            "--lease-seconds", os.environ["TEST_LEASE_SECONDS"]]
main()
"""
# Processes wait on the real clock (time-machine leaves time.monotonic alone): so do the tests' deadlines.
READY = "waiting for the lease"
# SIGTERM to exit: the scheduler takes under 5 s whatever it waits on; the bound leaves room for a loaded machine
# while staying far below the SMTP time-out and lease the tests configure, so a wait on either would fail.
STOP_BOUND = 15


class Schedulers:
    """Scheduler processes on the test's database and fake clock; all of them gone when the block ends."""

    def __init__(self, database_url, tmp_path, smtp, smtp_timeout=10, claim_seconds=3, lease_seconds=5):
        self.tmp_path, self.procs, self.logs, self.codes = tmp_path, [], [], {}
        script = tmp_path / "scheduler.py"
        script.write_text(SCHEDULER)
        self.cmd = [sys.executable, str(script)]
        self.env = {**os.environ, "CASEWORK_DATABASE_URL": database_url,
                    "CASEWORK_INSTANCE": str(tmp_path / "instance"), "CASEWORK_SECRET_KEY": "s" * 32,
                    "CASEWORK_SMTP_HOST": "127.0.0.1", "CASEWORK_SMTP_PORT": str(smtp.port),
                    "TEST_SMTP_TIMEOUT": str(smtp_timeout), "TEST_CLAIM_SECONDS": str(claim_seconds),
                    "TEST_LEASE_SECONDS": str(lease_seconds),
                    # The same fake clock as this test's, in every process.
                    "TEST_CLOCK_OFFSET": str(time.time() - time_machine.escape_hatch.time.time())}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
        for log in self.logs:
            log.close()

    def log(self, p) -> str:
        return (self.tmp_path / f"scheduler-{self.procs.index(p)}.log").read_text()

    def logs_tail(self) -> list[str]:
        return [self.log(p)[-2000:] for p in self.procs]

    def start(self, n=1):
        started = []
        for _ in range(n):
            log = open(self.tmp_path / f"scheduler-{len(self.procs)}.log", "w")
            self.logs.append(log)
            started.append(subprocess.Popen(self.cmd, cwd=ROOT, env=self.env, stdout=log, stderr=log))
            self.procs.append(started[-1])
        return started

    def wait_ready(self, procs, within=180):
        """Until each has its signal handlers (it logs that it waits for the lease): SIGTERM before that
        would meet Python's default action."""
        deadline = time.monotonic() + within
        while not all(READY in self.log(p) for p in procs):
            assert time.monotonic() < deadline and all(p.poll() is None for p in procs), self.logs_tail()
            time.sleep(0.05)

    def terminate(self, procs) -> dict:
        """SIGTERM each, then the exit code of each (None: still running after STOP_BOUND, then killed)."""
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        deadline = signalled + STOP_BOUND
        for p in procs:
            try:
                self.codes[p.pid] = p.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                p.kill()
                self.codes[p.pid] = None
        self.stop_seconds = time.monotonic() - signalled  # for the failure message
        return [self.codes[p.pid] for p in procs]


def _poll(condition, within, what):
    """Polls the database (or anything) until `condition()`; the test's session stays idle in between."""
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _job_runs(db) -> dict[str, int]:
    runs = dict(db.session.execute(select(SchedulerJob.id, SchedulerJob.runs)).all())
    db.session.rollback()
    return runs


def test_three_schedulers_one_killed_mid_sweep_every_reminder_exactly_once(demo, db, database_url, tmp_path):
    with replaying():  # only the reminders are counted here
        cases = [aid_to(demo, "submitted") for _ in range(5)]
    for c in cases:
        c.deadline = today()  # due today: staff1 and the five committee members, 6 mails a case
    _idle(db)
    expected = 5 * 6
    smtp = SmtpServer()
    smtp.hold_at = 8  # the active scheduler sends 7 mails, then hangs on the 8th: mid-sweep (case 2 of 5)
    smtp.start()

    def outbox(*where):
        n = db.session.scalar(select(func.count()).select_from(MailOutbox).where(*where))
        db.session.rollback()
        return n

    try:
        with Schedulers(database_url, tmp_path, smtp) as run:
            procs = run.start(3)
            deadline = time.monotonic() + 180
            while not smtp.holding.wait(0.2):
                assert time.monotonic() < deadline and all(p.poll() is None for p in procs), run.logs_tail()
            holder = db.session.scalar(select(SchedulerLease.pid))
            db.session.rollback()
            victim = next(p for p in procs if p.pid == holder)
            victim.send_signal(signal.SIGKILL)
            victim.wait(30)
            smtp.release.set()
            assert len(smtp.raw) == 7 and outbox() < expected  # really mid-sweep
            survivors = [p for p in procs if p is not victim] + run.start()  # ... and restarted
            _poll(lambda: len(smtp.raw) >= expected and outbox(MailOutbox.status == "sent") >= expected, 180,
                  f"{len(smtp.raw)} of {expected} mails sent: {run.logs_tail()}")
            # Two more complete runs of each job by whoever holds the lease: nothing more may arrive.
            runs = _job_runs(db)
            _poll(lambda: all(_job_runs(db)[job] >= runs[job] + 2 for job in ("sweep", "mail")), 120,
                  f"the survivors stopped running jobs: {run.logs_tail()}")
            assert len(smtp.raw) == expected
            assert outbox() == expected and outbox(MailOutbox.status == "sent") == expected
            mails = {(m["To"].addresses[0].addr_spec, m["Subject"]) for m in smtp.messages}
            assert len(mails) == expected  # every one different: nobody got a reminder twice
            assert {subject for _to, subject in mails} == {f"【今日到期】帮扶申请 {c.number} 今天到期"
                                                         for c in cases}
            effects = db.session.scalars(select(ScheduledEffect.case_id)
                                         .where(ScheduledEffect.kind == "remind_due")).all()
            assert sorted(effects) == sorted(c.id for c in cases)
            assert db.session.scalar(select(func.count()).select_from(Notification)) == expected
            db.session.rollback()
            run.wait_ready(survivors)
            assert run.terminate(survivors) == [0, 0, 0], (run.stop_seconds, run.logs_tail())
    finally:
        smtp.release.set()
        smtp.stop()


def test_sigterm_stops_a_scheduler_held_by_smtp_and_one_waiting_for_the_lease(demo, db, database_url, tmp_path):
    case = aid_to(demo, "submitted")
    case.deadline = today()
    _idle(db)
    smtp = SmtpServer()
    smtp.hold_at = 1  # the server never answers the first message
    smtp.start()
    try:
        # SMTP time-out and lease far longer than the bound: only an interrupted wait passes.
        with Schedulers(database_url, tmp_path, smtp, smtp_timeout=300, claim_seconds=600,
                        lease_seconds=120) as run:
            procs = run.start(2)
            deadline = time.monotonic() + 180
            while not smtp.holding.wait(0.2):
                assert time.monotonic() < deadline and all(p.poll() is None for p in procs), run.logs_tail()
            run.wait_ready(procs)
            holder = db.session.scalar(select(SchedulerLease.pid))
            db.session.rollback()
            assert holder in {p.pid for p in procs}
            assert run.terminate(procs) == [0, 0], (run.stop_seconds, run.logs_tail())
            for p in procs:
                assert "stopped" in run.log(p) and "did not stop" not in run.log(p)
        assert smtp.raw == []
        # The message in flight is given back (retried later), none is lost or marked sent.
        rows = db.session.scalars(select(MailOutbox)).all()
        assert len(rows) == 6 and {r.status for r in rows} == {"pending"}
        assert sum(r.attempts for r in rows) == 1
        assert db.session.scalar(select(SchedulerLease.holder)) is None  # released on the way out
    finally:
        smtp.release.set()
        smtp.stop()
