"""The JSON API v1 (shared/design/API.md). Same operations and engine as the web UI; bearer tokens only."""
from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from sqlalchemy import select

from ..accounts.models import Department, Unit, User
from ..core import kinds, paging
from ..core.errors import BadRequest, code_for
from ..core.inputs import record_id
from ..core.models import AuditEntry, Case, CongressSession, verify_chain
from ..core.permissions import grants, sees_reviewer_notes
from ..core.queries import NEWEST_FIRST, WORK_ORDER, case_order, created_within, day_span, listed, work_page
from ..extensions import csrf, db
from . import schemas as s
from .base import (BLUEPRINTS, audit_item as _audit_item, document, json_body as _json, make_blueprint, public,
                   step_options, user as _user)

bp = make_blueprint("api", __name__, tag="casework")
from . import tokens  # noqa: E402,F401  (its blueprint joins BLUEPRINTS)


@bp.get("/me")
@bp.output(s.MeOut)
@bp.doc(summary="The caller")
def me():
    user = _user()
    return {"username": user.username, "name": user.name, "unit": user.unit_id, "unit_name": user.unit.name,
            "roles": [{"role": gr.role, "unit": gr.unit_id, "unit_name": db.session.get(Unit, gr.unit_id).name,
                       "delegated_by": db.session.get(User, gr.delegate_of).username if gr.delegate_of else None}
                      for gr in grants(user)]}


@bp.get("/units")
@bp.output(s.UnitList)
@bp.doc(summary="The org-unit tree, parents before children")
def units():
    rows = db.session.scalars(select(Unit).where(Unit.active.is_(True)).order_by(Unit.path)).all()
    return {"items": [{"id": u.id, "code": u.code, "name": u.name, "level": u.level, "parent": u.parent_id}
                      for u in rows]}


@bp.get("/departments")
@bp.output(s.DepartmentList)
@bp.doc(summary="Departments that handle work, with their handlers")
def departments():
    rows = db.session.scalars(select(Department).where(Department.active.is_(True))
                              .order_by(Department.code)).all()
    return {"items": [{"id": d.id, "code": d.code, "name": d.name,
                       "handlers": sorted(u.username for u in d.handlers)} for d in rows]}


@bp.get("/sessions")
@bp.output(s.SessionList)
@bp.doc(summary="Congress sessions")
def sessions():
    rows = db.session.scalars(select(CongressSession).order_by(CongressSession.starts_on.desc())).all()
    return {"items": [{"id": x.id, "name": x.name, "unit": x.unit_id,
                       "cosigning_until": x.cosigning_until.isoformat(), "status": x.status} for x in rows]}


@bp.post("/cases/<kind>")
@bp.input(s.CaseIn, validation=False)
@bp.output(s.CaseOut, status_code=201)
@bp.doc(summary="Create a case (a draft)", responses={422: "a field is wrong", 404: "unknown kind"})
def create_case(kind: str, json_data=None):
    case = kinds.create(kind, _json(), _user())
    out = kinds.serialize(case, _user())  # before the commit: nothing to reload afterwards
    db.session.commit()
    return out


@bp.get("/cases/<kind>/<int:case_id>")
@bp.output(s.CaseOut)
@bp.doc(summary="One case, with the transitions the caller may fire now")
def get_case(kind: str, case_id: int):
    return kinds.serialize(kinds.load(kind, case_id, _user()), _user(), detail=True)


@bp.get("/cases/<kind>")
@bp.input(s.CaseListQuery, location="query", validation=False)
@bp.output(s.CasePage)
@bp.doc(summary="A page of the caller's visible cases, newest first unless `sort` (number, title, state, "
                "deadline, created, updated) and `dir` (asc, desc) say otherwise; follow `next` for more",
        responses={400: "an unknown `sort` or `dir`, a wrong `from` or `to`, or a bad cursor"})
def list_cases(kind: str, query_data=None):
    kinds.spec_for(kind)
    order = case_order(request.args.get("sort"), request.args.get("dir"), NEWEST_FIRST)
    stmt = created_within(kinds.visible_cases(_user(), kind), *_days())
    state = request.args.get("state")
    if state:
        stmt = stmt.where(Case.state == state)
    unit = request.args.get("unit")
    if unit:
        if not (unit.isascii() and unit.isdigit()):
            raise BadRequest(_("`unit` must be a unit id."), fields={"unit": "integer"})
        target_id = record_id(unit)  # beyond any id: no such unit
        target = db.session.get(Unit, target_id) if target_id else None
        if target is None:
            return {"items": [], "next": None}
        stmt = stmt.where(Case.unit_id.in_(select(Unit.id).where(Unit.path.startswith(target.path))))
    # The cursor is the pager's own, opaque; in the default order it is the one `paging.encode` makes.
    rows, last = paging.keyset(listed(stmt), order, paging.decode_cursor(request.args.get("after")),
                               current_app.config["CASEWORK_PAGE_SIZE"])
    return {"items": [kinds.serialize(c, _user()) for c in rows], "next": paging.encode_cursor(last)}


@bp.post("/cases/<kind>/<int:case_id>/transitions/<trigger>")
@bp.input(s.TransitionIn, validation=False)
@bp.output(s.CaseOut)
@bp.doc(summary="Fire a workflow transition (see WORKFLOWS.md for triggers and their fields)",
        responses={403: "not allowed for this user", 409: "stale version or not possible now",
                   422: "a field or a guard failed"})
def fire(kind: str, case_id: int, trigger: str, json_data=None):
    body = _json()
    case = kinds.load(kind, case_id, _user())
    version, comment = step_options(body)
    outcome = kinds.engine.fire(case, trigger, _user(), body, version=version, comment=comment)
    out = kinds.serialize(case, _user(), detail=True)
    db.session.commit()
    if outcome.votes is not None:
        out.update(votes=outcome.votes, quorum=outcome.quorum, tally=outcome.tally or [])
    return out


@bp.get("/cases/<kind>/<int:case_id>/audit")
@bp.output(s.AuditList)
@bp.doc(summary="The case's audit trail, oldest first, with the hash chain's state")
def audit(kind: str, case_id: int):
    user = _user()
    case = kinds.load(kind, case_id, user)
    reviewer = sees_reviewer_notes(user, case)
    payee_only = kinds.view_level(case, user) == "payee"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.case_id == case.id)
                                 .order_by(AuditEntry.seq)).all()
    ok, _bad = verify_chain(case.id)
    return {"intact": ok, "items": [_audit_item(e, reviewer, payee_only) for e in entries]}


@bp.get("/queue")
@bp.input(s.DaysQuery, location="query", validation=False)
@bp.output(s.Queue)
@bp.doc(summary="The caller's work: cases where they may fire a transition now, oldest deadline first "
                "unless `sort` (number, title, state, deadline, created, updated) and `dir` (asc, desc) "
                "say otherwise",
        responses={400: "an unknown `sort` or `dir`, or a wrong `from` or `to`"})
def queue(query_data=None):
    user = _user()
    order = case_order(request.args.get("sort"), request.args.get("dir"), WORK_ORDER)
    start, end = _days()
    return {"items": [{"case": kinds.serialize(c, user, t), "transitions": t}
                      for c, t in work_page(user, size=100, order=order, start=start, end=end)[0]]}


def _days():
    """`from`/`to` of a list (the union's days, both included); 400 naming a wrong one."""
    start, end, errors = day_span(request.args)
    if errors:
        raise BadRequest(_("Please correct the marked parameters."), fields=errors)
    return start, end


@bp.get("/docs")
@public
@bp.doc(hide=True)
def openapi_page():
    return render_template("api_docs.html", spec=current_app.spec)


def register(app: Flask):
    # Capability packages add their own API blueprints (make_blueprint) before this runs.
    for blueprint in BLUEPRINTS:
        csrf.exempt(blueprint)
        app.register_blueprint(blueprint)
    document(app)

    @app.error_processor
    def _api_errors(error):
        # APIFlask turns abort() into its HTTPError everywhere: pages get the HTML error page,
        # the API the contract's shape.
        status = error.status_code
        if not request.path.startswith("/api/"):
            from ..web import error_page
            return error_page(status)
        body = {"code": code_for(status), "message": str(error.message)}
        if status == 429:  # the limiter's own text ("20 per 1 minute") is neither localised nor a sentence
            from ..web import _error_text
            body["message"] = _error_text(429)
        return {"error": body}, status, error.headers

