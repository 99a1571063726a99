"""GET /healthz: the process answers and the database does too (for load balancers and monitors).

With CASEWORK_REPLICA_URL it also says whether the replica answers (`replica`), without failing: every page but
the statistics, reports and exports works without it, so a proxy should keep sending people here."""
from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import REPLICA, db

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    extra = {}
    if REPLICA in db.engines:
        try:
            with db.engines[REPLICA].connect() as conn:
                conn.execute(text("SELECT 1"))
            extra["replica"] = "ok"
        except SQLAlchemyError:
            extra["replica"] = "unreachable"
    return jsonify(status="ok", database=db.engine.dialect.name, **extra)


def register(app):
    app.register_blueprint(bp)
