"""The transition engine: roles, conflict of interest, guards, votes, locking, audit chain."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from casework.accounts.models import Delegation
from casework.clock import today
from casework.core import engine
from casework.core.errors import Conflict, Forbidden, Invalid, NotFound
from casework.core.models import AuditEntry, Vote, verify_chain
from casework.extensions import db as _db

from .factories import aid_to, attach, fire, new_case


def test_draft_submit_and_audit(demo):
    case = new_case("aid", demo["worker1"])
    assert case.state == "draft" and case.number.startswith("A")
    attach(case, "income_proof", demo["worker1"])
    fire(case, "submit", demo["worker1"], comment="请审核")
    assert case.state == "submitted"
    assert case.deadline is not None and case.deadline > today()
    entries = _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                  .order_by(AuditEntry.seq)).all()
    assert [(e.trigger, e.from_state, e.to_state) for e in entries] == [
        ("create", "draft", "draft"), ("submit", "draft", "submitted")]
    assert entries[1].comment == "请审核" and entries[1].actor_label == "worker1"
    assert verify_chain(case.id) == (True, None)


def test_guard_refuses_with_reason_and_changes_nothing(demo):
    case = new_case("aid", demo["worker1"])
    with pytest.raises(Invalid) as err:
        fire(case, "submit", demo["worker1"])
    assert "收入证明" in err.value.message  # the document's name from the one vocabulary
    _db.session.rollback()
    assert case.state == "draft"


def test_wrong_role_and_wrong_state(demo):
    case = new_case("aid", demo["worker1"])
    with pytest.raises(Forbidden):
        fire(case, "submit", demo["worker2"])
    with pytest.raises(Conflict) as err:
        fire(case, "approve", demo["committee1"], amount="100")
    assert err.value.code == "not_possible"
    with pytest.raises(NotFound):
        fire(case, "to_closed", demo["admin"])


def test_automatic_steps_refuse_people(demo):
    case = aid_to(demo, "posting")
    with pytest.raises(Forbidden) as err:
        fire(case, "end_posting", demo["staff1"])
    assert err.value.code == "automatic"


def test_stale_version_is_refused_and_changes_nothing(demo):
    case = aid_to(demo, "submitted")
    old = case.version
    fire(case, "start_verification", demo["staff1"], version=old)
    with pytest.raises(Conflict) as err:
        fire(case, "withdraw", demo["worker1"], version=old)
    assert err.value.code == "stale" and err.value.status == 409
    _db.session.rollback()
    assert case.state == "verifying"


def test_conflict_of_interest(demo):
    # staff1 applies for aid for themself, then may not verify their own case.
    case = new_case("aid", demo["staff1"])
    attach(case, "income_proof", demo["staff1"])
    fire(case, "submit", demo["staff1"])
    with pytest.raises(Forbidden) as err:
        fire(case, "start_verification", demo["staff1"])
    assert err.value.code == "conflict_of_interest"
    assert "start_verification" not in engine.available(case, demo["staff1"])


def test_visitors_must_be_eligible(demo):
    case = aid_to(demo, "verifying")
    with pytest.raises(Invalid) as err:
        fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(),
             visitors=["staff1", "worker1"], findings="x")
    assert "张建国" in err.value.message  # the applicant cannot visit their own case
    with pytest.raises(Invalid) as err:
        fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(),
             visitors=["staff1"], findings="x")
    assert "visitors" in err.value.fields


def test_quorum_vote(demo):
    case = aid_to(demo, "pending_approval")
    first = fire(case, "approve", demo["committee1"], amount="2000.00", comment="同意")
    assert (first.moved, first.votes, first.quorum) == (False, 1, 3)
    with pytest.raises(Conflict) as err:
        fire(case, "approve", demo["committee1"], amount="2000.00")
    assert err.value.code == "already_voted"
    _db.session.rollback()
    # A different amount is a different position: it does not add to the first.
    assert fire(case, "approve", demo["committee2"], amount="1500.00").votes == 1
    assert fire(case, "approve", demo["committee3"], amount="2000.00").votes == 2
    done = fire(case, "approve", demo["committee4"], amount="2000.00")
    assert done.moved and case.state == "posting" and case.amount_approved == 200000
    assert _db.session.scalar(select(Vote.id).where(Vote.case_id == case.id, Vote.user_id == demo["committee5"].id)) is None
    assert verify_chain(case.id) == (True, None)


def test_delegation_is_honoured_and_audited(demo):
    case = aid_to(demo, "pending_approval")
    worker3 = demo["worker3"]
    with pytest.raises(Forbidden):
        fire(case, "approve", worker3, amount="2000.00")
    _db.session.rollback()
    c1 = demo["committee1"]
    hq = next(a.unit for a in c1.roles if a.role == "committee")
    _db.session.add(Delegation(from_user_id=c1.id, to_user_id=worker3.id, role="committee", unit_id=hq.id,
                               starts_on=today() - timedelta(days=1), ends_on=today() + timedelta(days=3)))
    _db.session.commit()
    fire(case, "approve", worker3, amount="2000.00")
    entry = _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                .order_by(AuditEntry.seq.desc())).first()
    assert entry.actor_label == "worker3" and entry.delegate_of_id == c1.id


def test_audit_chain_detects_an_edit(demo):
    case = aid_to(demo, "verifying")
    case_id = case.id
    assert verify_chain(case_id) == (True, None)
    _db.session.commit()  # release the write lock before a second connection writes
    with _db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_entries SET comment = 'forged' WHERE case_id = :c AND seq = 2"),
                     {"c": case_id})
    _db.session.expire_all()
    assert verify_chain(case_id) == (False, 2)


def test_audit_entries_are_append_only(demo):
    case = aid_to(demo, "submitted")
    entry = _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)).first()
    entry.comment = "changed"
    with pytest.raises(RuntimeError):
        _db.session.flush()
    _db.session.rollback()


def test_two_threads_fire_the_same_transition_exactly_one_wins(app, demo):
    case = aid_to(demo, "submitted")
    case_id, version = case.id, case.version
    _db.session.remove()
    results, barrier = [], threading.Barrier(2)

    def worker():
        with app.app_context():
            from casework.aid.models import AidRequest
            from casework.accounts.models import User
            staff = _db.session.scalar(select(User).where(User.username == "staff1"))
            c = _db.session.get(AidRequest, case_id)
            _db.session.rollback()  # hold no SQLite lock while waiting for the other thread
            barrier.wait(timeout=30)
            try:
                engine.fire(c, "start_verification", staff, {}, version=version)
                _db.session.commit()
                results.append("ok")
            except Conflict as exc:
                _db.session.rollback()
                results.append(exc.code)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["ok", "stale"]
    entries = _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case_id,
                                                           AuditEntry.trigger == "start_verification")).all()
    assert len(entries) == 1


# -- the audit chain's head on the case row --------------------------------------------------

def _statements():
    seen: list[str] = []

    def record(conn, cursor, statement, params, context, executemany):
        seen.append(" ".join(statement.split()))
    return seen, record


def test_a_step_writes_its_entry_and_the_new_head_without_reading_the_chain(demo):
    from sqlalchemy import event
    case = aid_to(demo, "submitted")
    versions = [case.version]
    staff = demo["staff1"]
    seen, record = _statements()
    event.listen(_db.engine, "before_cursor_execute", record)
    try:
        fire(case, "start_verification", staff)
    finally:
        event.remove(_db.engine, "before_cursor_execute", record)
    versions.append(case.version)
    assert versions[1] == versions[0] + 1  # one UPDATE, head included
    assert not [s for s in seen if s.startswith("SELECT") and "FROM audit_entries" in s]
    updates = [s for s in seen if s.startswith("UPDATE cases")]
    assert len(updates) == 1 and "audit_hash" in updates[0] and "version" in updates[0]
    last = _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                               .order_by(AuditEntry.seq.desc())).first()
    assert (case.audit_seq, case.audit_hash) == (last.seq, last.hash) == (3, last.compute_hash())
    assert verify_chain(case.id) == (True, None)


def test_the_head_follows_every_step_from_creation_on(demo):
    case = new_case("aid", demo["worker1"])
    assert case.audit_seq is None  # the creation entry is the whole chain: the first step reads it
    attach(case, "income_proof", demo["worker1"])
    versions = [case.version]
    for trigger, who in (("submit", "worker1"), ("start_verification", "staff1")):
        fire(case, trigger, demo[who])
        versions.append(case.version)
        last = _db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                   .order_by(AuditEntry.seq.desc())).first()
        assert (case.audit_seq, case.audit_hash) == (last.seq, last.hash) and last.trigger == trigger
    assert versions == sorted(set(versions))
    assert verify_chain(case.id) == (True, None)


def test_a_case_without_a_head_reads_its_chain_once_and_carries_the_head_on(demo):
    """Rows written before the head existed (or by bulk loads) have none."""
    case = aid_to(demo, "submitted")
    _db.session.commit()
    _db.session.execute(text("UPDATE cases SET audit_seq = NULL, audit_hash = NULL WHERE id = :c"),
                        {"c": case.id})
    _db.session.commit()
    version = case.version
    fire(case, "start_verification", demo["staff1"])
    assert case.version == version + 1 and case.audit_seq == 3
    fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(), visitors=["staff1", "leader1"],
         findings="属实")
    assert case.audit_seq == 4 and verify_chain(case.id) == (True, None)


def test_audit_chain_detects_entries_cut_off_its_end(demo):
    case = aid_to(demo, "verifying")
    case_id = case.id
    _db.session.commit()
    with _db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries WHERE case_id = :c AND seq = 3"), {"c": case_id})
    _db.session.expire_all()
    assert verify_chain(case_id) == (False, 3)


def test_a_stale_head_is_refused_by_the_version_check(demo):
    """A step taken on an old copy of the case (another process moved it meanwhile) must not fork the
    chain."""
    case = aid_to(demo, "submitted")
    staff = demo["staff1"]
    case.parties, case.unit, staff.username  # everything the step reads, loaded before the copy goes stale
    head = (case.audit_seq, case.audit_hash)
    _db.session.expunge(case)
    _db.session.commit()
    fresh = _db.session.get(type(case), case.id)
    fire(fresh, "start_verification", staff)  # "the other process"
    _db.session.expunge(fresh)
    _db.session.add(case)  # the old copy, with the old version and head
    assert (case.audit_seq, case.audit_hash) == head
    with pytest.raises(Conflict) as err:
        engine.fire(case, "start_verification", staff, {})
    assert err.value.code == "stale"
    _db.session.rollback()
    assert len(_db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)).all()) == 3
    assert verify_chain(case.id) == (True, None)
