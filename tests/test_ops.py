"""Health check, structured logs, backup and restore."""
from __future__ import annotations

import json
import logging

from sqlalchemy import func, select

from casework.core.models import AuditEntry, Case, verify_chain
from casework.funds.models import Fund, LedgerEntry
from casework.ops import backup

from .factories import aid_to


def test_healthz(client, db):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.get_json()["status"] == "ok"


def test_one_json_line_per_request_and_transition(api, demo, caplog):
    caplog.set_level(logging.INFO, logger="casework")
    logging.getLogger("casework").propagate = True
    try:
        worker = api.as_("worker1")
        worker.post("/api/v1/cases/proposal", json={"title": "节能", "problem": "p", "suggestion": "s"})
        case = aid_to(demo, "submitted")
    finally:
        logging.getLogger("casework").propagate = False
    events = [(r.getMessage(), getattr(r, "fields", {})) for r in caplog.records]
    lines = [f for e, f in events if e == "request" and f.get("path") == "/api/v1/cases/proposal"]
    assert lines and {"method": "POST", "status": 201, "user": "worker1"}.items() <= lines[0].items()
    transitions = [f for e, f in events if e == "transition"]
    assert {"case": case.number, "trigger": "submit", "to_state": "submitted"}.items() <= transitions[-1].items()
    from casework.ops.logs import JsonFormatter
    line = JsonFormatter().format(caplog.records[-1])
    assert json.loads(line)["event"] == "transition"


def test_backup_and_restore_round_trip(app, demo, db, tmp_path):
    case = aid_to(demo, "posting")
    number = case.number
    counts = backup.dump(tmp_path / "b.tar.gz")
    assert counts["cases"] == 1 and counts["audit_entries"] >= 5
    from tests.conftest import _wipe
    db.session.commit()
    _wipe(db)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    restored = backup.restore(tmp_path / "b.tar.gz")
    db.session.commit()
    assert restored == counts
    case = db.session.scalar(select(Case).where(Case.number == number))
    assert case.state == "posting" and verify_chain(case.id) == (True, None)
    fund = db.session.scalar(select(Fund).where(Fund.code == "AID"))
    assert fund.reserved == 200000
    # New rows after a restore get fresh ids (sequences were moved past the restored rows).
    aid_to(demo, "submitted")
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) > counts["audit_entries"]
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == counts["ledger_entries"]


def test_restore_refuses_a_non_empty_database_and_junk(app, demo, tmp_path):
    import click
    import pytest
    backup.dump(tmp_path / "b.tar.gz")
    with pytest.raises(click.ClickException) as err:
        backup.restore(tmp_path / "b.tar.gz")
    assert "not empty" in str(err.value.message)
    (tmp_path / "junk.tar.gz").write_bytes(b"not a tarball")
    from tests.conftest import _wipe
    from casework.extensions import db as _db
    _db.session.commit()
    _wipe(_db)
    with pytest.raises(click.ClickException) as err:
        backup.restore(tmp_path / "junk.tar.gz")
    assert "not a casework backup" in str(err.value.message)


def test_restore_rebuilds_the_co_department_index(app, demo, db, tmp_path):
    """A backup from before the index existed restores with co-handling departments indexed again."""
    from casework.accounts.models import Department
    from casework.core.models import CaseCoDepartment
    from casework.motions.models import rebuild_co_department_index

    from casework.core.models import CongressSession

    from .factories import new_case
    motion = new_case("motion", demo["rep1"], session=db.session.scalar(select(CongressSession.id)))
    hr = db.session.scalar(select(Department).where(Department.code == "HR"))
    motion.co_department_ids = [hr.id]
    db.session.commit()
    assert db.session.scalars(select(CaseCoDepartment.department_id)).all() == [hr.id]
    counts = backup.dump(tmp_path / "b.tar.gz")
    from tests.conftest import _wipe
    db.session.commit()
    _wipe(db)
    db.session.expire_all()
    restored = backup.restore(tmp_path / "b.tar.gz")
    db.session.commit()
    assert restored == counts and db.session.scalars(select(CaseCoDepartment.department_id)).all() == [hr.id]
    # As if the backup had no index rows: they are rebuilt, once.
    db.session.execute(CaseCoDepartment.__table__.delete())
    assert rebuild_co_department_index() == 1 and rebuild_co_department_index() == 0
    db.session.commit()
    assert db.session.scalars(select(CaseCoDepartment.case_id)).all() == [motion.id]
