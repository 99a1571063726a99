"""The layout of docs/deploy.md as local processes (two gunicorn instances, a scheduler, the task workers,
PostgreSQL primary and replica, Redis, moto's S3 server) through a day of casework driven by Locust through
both web instances: no 5xx, no failed request, every document in the object store."""
from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from benchmarks import federation

from ..conftest import PG_URL
from ..databases import new_database

REPLICA_URL = os.environ.get("CASEWORK_TEST_REPLICA_URL", "")


@pytest.mark.skipif(not (PG_URL and REPLICA_URL),
                    reason="needs PostgreSQL with a replica (scripts/with-postgres.sh --replica)")
def test_a_day_of_casework_on_the_federation_layout(tmp_path):
    primary = new_database(PG_URL, tmp_path, "federation", force=True)
    replica = sa.engine.make_url(REPLICA_URL).set(database=sa.engine.make_url(primary).database)
    layout = federation.Layout(primary, replica.render_as_string(hide_password=False), tmp_path)
    try:
        layout.start()
        assert len(layout.hosts) == 2
        import boto3
        store = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{layout.s3_port}", region_name="us-east-1",
                             aws_access_key_id="federation", aws_secret_access_key="federation")

        def stored() -> int:
            return store.list_objects_v2(Bucket=federation.BUCKET).get("KeyCount", 0)
        demo_files = stored()  # the demo union's own documents
        tally = federation.drive(layout.hosts, tmp_path, users=6, seconds=45)
        added = stored() - demo_files
        batch = federation.print_batch(layout.hosts, primary)
    finally:
        codes = layout.stop()
    print("\n" + federation.report(tally))
    assert sum(t["5xx"] for t in tally.values()) == 0, federation.report(tally)
    assert sum(t["failed"] for t in tally.values()) == 0, federation.report(tally)
    # The day covered filing, documents, a step, the replica's dashboard and the exports.
    for name in ("POST /api/v1/cases/aid/[id]/attachments", "POST /api/v1/cases/proposal/[id]/transitions/submit",
                 "GET /api/v1/stats", "GET /stats", "GET /export/cases.csv"):
        assert tally.get(name, {}).get("ms"), f"{name} was never requested:\n{federation.report(tally)}"
    # A batch started on one instance, followed on the other, printed by a task worker: every notice in it.
    assert batch["asked"] > 0 and batch["status"]["status"] == "done", batch
    assert batch["status"]["percent"] == 100 and batch["status"]["done"] == batch["asked"], batch
    assert batch["pages"] >= batch["asked"], batch  # a long letter takes two pages
    assert any("Job OK" in layout.log(p.name) for p in layout.procs
               if p.name.startswith("worker-")), "no task worker ran the batch"
    assert added == len(tally["POST /api/v1/cases/aid/[id]/attachments"]["ms"])
    # Both web instances served (each logs one JSON line a request), and every process stopped cleanly.
    for p in layout.procs:
        if p.port:
            assert layout.log(p.name).count('"event": "request"') > 10, layout.log(p.name)[-2000:]
        assert "Traceback" not in layout.log(p.name), layout.log(p.name)[-3000:]
    assert codes == {p.name: 0 for p in layout.procs}, codes
