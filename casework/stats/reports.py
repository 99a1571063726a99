"""Annual reports (年度报告) of a unit and the units below it, one per kind, issued as numbered PDF notices.

The figures are the statistics dashboard's for the same unit and calendar year (casework/stats/queries.py), so
paper and screen agree. Whoever may see the dashboard of a unit may issue and download its reports
(tables.may_see_statistics). A report is issued again, superseding the previous one, only when its figures
changed (notices.operations.issue_report); otherwise the current one is returned.

The aid report prints aggregates only: never a name, circumstances, visit findings, income, illness, family or
ID facts. The proposal and motion reports list the adopted proposals and filed motions with their proposers,
which are disclosed publicly anyway.

POST /api/v1/reports/annual {kind, unit, year} issues (201) or returns the unchanged current report (200).
"""
from __future__ import annotations

from datetime import date

from apiflask import Schema
from apiflask.fields import Integer, Raw, String
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from .. import labels
from ..accounts.models import Department, Unit, User
from ..api.base import json_body, make_blueprint, user as api_user
from ..clock import today
from ..core.errors import Invalid, NotFound
from ..extensions import db, replica
from ..notices import renderer
from ..notices.api import NoticeOut, serialize
from ..notices.models import Notice
from ..notices.operations import issue_report
from . import queries as q
from .tables import scope_for

# report kind -> notice kind; the report kinds are the case kinds
NOTICE_KINDS = {"aid": "annual_aid", "proposal": "annual_proposal", "motion": "annual_motion"}
ALIASES = {"proposals": "proposal", "motions": "motion"}
FIRST_YEAR = 2000

# The document is Chinese whatever the reader's language (as every notice is): its values are read in
# force_locale("zh") from the one vocabulary (casework/labels.py).
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")


# -- reading a request -----------------------------------------------------------------------------

def read(user: User, data) -> tuple[str, q.Scope]:
    """(kind, scope of the calendar year) from a form or JSON body. The unit is checked first, by the
    dashboard's own rule (404 no such unit, 403 not allowed); then kind and year (422, each on its field)."""
    base = scope_for(user, {"unit": _unit_id(data.get("unit"))})
    kind, year = check(data.get("kind"), data.get("year"))
    return kind, year_scope(base.unit, year)


def check(raw_kind, raw_year) -> tuple[str, int]:
    """The report kind and year, or Invalid naming each wrong field."""
    errors = {}
    kind = raw_kind.strip().lower() if isinstance(raw_kind, str) else None
    kind = ALIASES.get(kind, kind)
    if kind not in NOTICE_KINDS:
        errors["kind"] = _("Choose the report: aid, proposal or motion.")
    year = _year(raw_year)
    if year is None:
        errors["year"] = _("Enter a year from %(first)d to %(last)d.", first=FIRST_YEAR, last=today().year)
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return kind, year


def _unit_id(raw):
    """A unit's id, or its code (e.g. "HQ"); None for the dashboard's default unit."""
    if raw in (None, "") or (isinstance(raw, int) and not isinstance(raw, bool)):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return raw.strip()
    found = None
    if isinstance(raw, str):
        found = db.session.scalar(select(Unit.id).where(Unit.code == raw.strip()))
    if found is None:
        raise NotFound(_("There is no such unit."), code="unknown_unit")
    return found


def _year(raw) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit() and len(raw.strip()) <= 4:
        raw = int(raw.strip())
    if not isinstance(raw, int) or not FIRST_YEAR <= raw <= today().year:
        return None
    return raw


def year_scope(unit: Unit, year: int) -> q.Scope:
    return q.Scope(unit, date(year, 1, 1), date(year, 12, 31))


# -- issuing -----------------------------------------------------------------------------------------

def annual_report(kind: str, unit: Unit, year: int, user: User | None = None) -> tuple[Notice, bool]:
    """(notice, issued): the current report when its figures are unchanged, else a new one superseding it.
    The caller commits."""
    values = annual_values(kind, year_scope(unit, year))
    return issue_report(NOTICE_KINDS[kind], unit=unit, about=f"annual:{kind}:{unit.id}:{year}", values=values,
                        user=user)


def annual_values(kind: str, scope: q.Scope) -> dict:
    """The plain values the report prints (JSON: they are stored with the notice and compared on reissue)."""
    with force_locale("zh"), replica():
        return _annual_values(kind, scope)


def _annual_values(kind: str, scope: q.Scope) -> dict:
    has_below = db.session.scalar(select(Unit.id).where(Unit.parent_id == scope.unit.id).limit(1)) is not None
    common = {"title": f"{scope.start.year}{labels.ANNUAL_REPORT_TITLES[kind]}", "year": scope.start.year,
              "unit": scope.unit.name,
              "with_units_below": has_below,
              "period": f"{renderer.date_zh(scope.start)}至{renderer.date_zh(scope.end)}"}
    values = {"aid": _aid, "proposal": _proposal, "motion": _motion}[kind](scope)
    if kind in ("proposal", "motion"):
        values["ratings"] = _ratings(scope, kind)
    return {**common, **values}


def _ratings(scope: q.Scope, kind: str) -> dict:
    """The ratings ledger of the year (casework/ratings/ledger.py): satisfaction per handling department,
    best first, and the call-back rate against its 100 % target."""
    from ..ratings import ledger
    period = (scope.start, scope.end)
    per = ledger.by_department(period, scope.unit, kind=kind)
    names = dict(db.session.execute(select(Department.id, Department.name)
                                    .where(Department.id.in_([d for d in per if d is not None]))).all())
    rows = [{"department": names.get(d) or _("The union's own reply"), **v} for d, v in per.items()]
    rows.sort(key=lambda r: (-(r["satisfied_rate"] or 0), -(r["average"] or 0), r["department"]))
    return {"by_department": rows, "callbacks": ledger.callback_rate(period, scope.unit, kind=kind)}


def _rate(on_time: int, due: int) -> dict:
    return {"due": due, "on_time": on_time, "rate": round(on_time / due, 4) if due else None}


def _in_flow(rows: list[dict], kind: str) -> list[dict]:
    """One kind's per-state rows, in the order its workflow lists the states."""
    import workflows
    order = workflows.get(kind).state_names
    return sorted((r for r in rows if r["kind"] == kind),
                  key=lambda r: order.index(r["state"]) if r["state"] in order else len(order))


def _deadlines(scope: q.Scope, kind: str, states=None) -> tuple[list[dict], dict]:
    rows = [r for r in _in_flow(q.deadlines(scope), kind) if states is None or r["state"] in states]
    steps = [{"step": labels.step_label(kind, r["state"]), **_rate(r["on_time"], r["due"])}
             for r in rows]
    return steps, _rate(sum(r["on_time"] for r in rows), sum(r["due"] for r in rows))


def _handling(scope: q.Scope, kind: str) -> list[dict]:
    return [{"step": labels.step_label(kind, r["state"]), "count": r["count"],
             "avg_hours": r["avg_hours"], "p90_hours": r["p90_hours"]}
            for r in _in_flow(q.handling(scope), kind)]


def _order(keys, first) -> list:
    """`keys` in the order of `first`, then any others sorted."""
    keys = set(keys)
    return [k for k in first if k in keys] + sorted(k for k in keys if k not in first)


def _aid(scope: q.Scope) -> dict:
    import workflows
    from ..aid.models import CATEGORIES
    states = workflows.get("aid").state_names
    by_category: dict[str, dict[str, int]] = {}
    for r in q.aid_cases(scope):
        by_category.setdefault(r["category"], {})[r["state"]] = r["count"]
    cases = [{"category": labels.in_chinese(labels.CHOICE_LABELS, c), "total": sum(by_category[c].values()),
              "states": [{"state": labels.state_label("aid", s), "count": by_category[c][s]}
                         for s in _order(by_category[c], states)]}
             for c in _order(by_category, CATEGORIES)]
    granted = q.aid_granted(scope)
    months: dict[str, dict[str, dict]] = {}
    for r in granted["rows"]:
        months.setdefault(r["month"], {})[r["category"]] = r
    by_month = [{"month": f"{int(m[5:7])}月", **granted["by_month"][m],
                 "categories": [{"category": labels.in_chinese(labels.CHOICE_LABELS, c), "count": rows[c]["count"],
                                 "amount": rows[c]["amount"]} for c in _order(rows, CATEGORIES)]}
                for m, rows in sorted(months.items())]
    by_cat = [{"category": labels.in_chinese(labels.CHOICE_LABELS, c), **granted["by_category"][c]}
              for c in _order(granted["by_category"], CATEGORIES)]
    steps, on_time = _deadlines(scope, "aid")
    objections = q.objections(scope)
    seen = q.visits(scope)
    return {"cases": cases, "cases_total": sum(c["total"] for c in cases),
            "granted_by_month": by_month, "granted_by_category": by_cat, "granted_total": granted["total"],
            "handling": _handling(scope, "aid"), "deadlines": steps, "on_time": on_time,
            "objections": [{"kind": str(labels.OBJECTION_KIND_LABELS.get(r["kind"], r["kind"])),
                            "status": str(labels.OBJECTION_STATUS_LABELS.get(r["status"], r["status"])),
                            "count": r["count"],
                            "substantiated": r["substantiated"]} for r in objections],
            "objection_count": sum(r["count"] for r in objections if r["kind"] == "objection"),
            "report_count": sum(r["count"] for r in objections if r["kind"] == "report"),
            "substantiated": sum(r["substantiated"] for r in objections),
            "visits": {"total": seen["total"],
                       "by_month": [{"month": f"{int(m[5:7])}月", **t} for m, t in sorted(seen["by_month"].items())],
                       "by_unit": [{"unit": u, **t} for u, t in seen["by_unit"].items()],
                       "by_category": [{"category": labels.in_chinese(labels.CHOICE_LABELS, c), **seen["by_category"][c]}
                                       for c in _order(seen["by_category"], CATEGORIES)]}}


def _proposal(scope: q.Scope) -> dict:
    from workflows.proposal import GRADES
    p = q.proposals(scope)
    steps = q.steps(scope, "proposal")
    paid = q.rewards(scope)
    deadline_steps, on_time = _deadlines(scope, "proposal")
    return {"collected": p["collected"], "accepted": steps.get(("accept", "evaluating"), 0),
            "declined": steps.get(("decline", "declined"), 0), "graded": p["graded"],
            "grades": [{"grade": labels.in_chinese(labels.GRADE_LABELS, g), "count": p["grades"][g]}
                       for g in _order(p["grades"], GRADES)],
            "adopted": p["adopted"], "not_adopted": steps.get(("not_adopt", "not_adopted"), 0),
            "implemented": p["implemented"], "rewarded": paid["count"], "benefit": p["benefit"],
            "rewards": paid["amount"], "deadlines": deadline_steps, "on_time": on_time,
            "adopted_list": [{"number": r["number"], "title": r["title"],
                              "proposer": "、".join([r["proposer"], *r["coproposers"]]),
                              "grade": labels.in_chinese(labels.GRADE_LABELS, r["grade"] or "", "—"),
                              "department": r["department"] or "—"}
                             for r in q.adopted_proposals(scope)]}


def _motion(scope: q.Scope) -> dict:
    m = q.motions(scope)
    steps = q.steps(scope, "motion")
    # Only a reply ends a stay in handling or opinion: their deadline rows count the replies that had one.
    _rows, replies = _deadlines(scope, "motion", states=("handling", "opinion"))
    rated = sum(v["count"] for v in m["satisfaction"].values())
    return {"submitted": steps.get(("submit", "submitted"), 0), "filed": m["filed"],
            "merged": steps.get(("merge", "merged"), 0),
            "opinion": steps.get(("convert_to_opinion", "opinion"), 0),
            "not_filed": steps.get(("not_file", "not_filed"), 0), "replied": m["replied"],
            "replied_on_time": m["replied_on_time"], "reply_due": replies["due"],
            "reply_rate": round(m["replied_on_time"] / replies["due"], 4) if replies["due"] else None,
            "rated": rated,
            "satisfaction": [{"rating": labels.choice_label(r), **{"count": 0, "share": 0.0},
                              **m["satisfaction"].get(r, {})} for r in SATISFACTION],
            "reopened": steps.get(("rate_unsatisfied", "handling"), 0),
            "no_rating": steps.get(("auto_close", "closed"), 0),
            "filed_list": [{"number": r["number"], "title": r["title"], "proposer": r["proposer"],
                            "department": r["department"] or "—", "satisfaction": _rating(r)}
                           for r in q.filed_motions(scope)]}


def _rating(r: dict) -> str:
    if r["state"] == "closed":
        return labels.choice_label(r["satisfaction"] or "no_rating")
    if r["state"] == "handling" and r["reopened"]:
        return _("Unsatisfied, being handled again")
    return labels.state_label("motion", r["state"])


# -- the API -------------------------------------------------------------------------------------------

bp = make_blueprint("reports_api", __name__, tag="statistics")


class AnnualIn(Schema):
    kind = String(required=True, metadata={"enum": list(NOTICE_KINDS), "example": "aid"})
    unit = Raw(metadata={"description": "unit id or code (default: the highest unit whose statistics the "
                                        "caller sees); the report covers the units below it too",
                         "example": 1})
    year = Integer(required=True, metadata={"example": 2026})


@bp.post("/reports/annual")
@bp.input(AnnualIn, validation=False)
@bp.output(NoticeOut, status_code=201)
@bp.doc(summary="Issue a unit's annual report of one kind as a PDF notice",
        description="The figures equal GET /api/v1/stats for the unit and the calendar year. 201 when a new "
                    "report was issued (it supersedes the previous one, whose figures differ); 200 with the "
                    "current report when the figures are unchanged. union_staff, committee or admin at the "
                    "unit or above; the PDF is at `url`.",
        responses={200: "the current report: figures unchanged", 403: "not allowed for this unit",
                   404: "no such unit", 422: "unknown kind or year out of range"})
def annual(json_data=None):
    kind, scope = read(api_user(), json_body())
    notice, issued = annual_report(kind, scope.unit, scope.start.year, api_user())
    out = serialize(notice)
    db.session.commit()
    return out, 201 if issued else 200
