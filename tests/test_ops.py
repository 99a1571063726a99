"""Health check and structured logs (backup and restore: tests/test_backup.py)."""
from __future__ import annotations

import json
import logging

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
