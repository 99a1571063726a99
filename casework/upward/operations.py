"""The upward report's operations: draft, correct, the engine's guard, effects, level and audience for its
workflow, who sees what, and the export rows. None of them commits: the caller commits once.

Figures are the annual reports' values (casework/stats/reports.py `annual_values`) for the union and the
units below it and the calendar year, per kind, computed again at every submission and frozen with it; the
chain binds their digest, so the figures the upper union reads are the ones submitted.
"""
from __future__ import annotations

import hashlib
import json
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_pgettext as _lp
from sqlalchemy import false, or_, select

from ..accounts.models import Unit, User
from ..clock import today
from ..core import engine
from ..core.errors import Conflict, Forbidden, Invalid, NotFound
from ..core.inputs import Reader, record_id
from ..core.permissions import grants, roles_at
from ..extensions import db
from ..labels import chinese, state_label, trigger_label
from ..notifications.steps import audience, subject_lines
from ..stats import reports
from .models import UpwardReport

DRAFTERS = ("union_staff", "committee")
REVIEWER = "union_staff"
VIEWERS = ("union_staff", "committee", "admin")
KINDS = tuple(reports.NOTICE_KINDS)  # aid, proposal, motion


# -- who may do what ----------------------------------------------------------------------------------------

def reviews_for(user: User, unit: Unit) -> bool:
    """Whether `user` is on the reviewing side of `unit`'s reports: staff at the union above it."""
    return unit.parent is not None and REVIEWER in roles_at(user, unit.parent)


def may_draft(user: User, unit: Unit) -> bool:
    return unit.parent is not None and any(r in roles_at(user, unit) for r in DRAFTERS) \
        and not reviews_for(user, unit)


def may_view(user: User, report: UpwardReport) -> bool:
    return any(r in roles_at(user, report.unit) for r in VIEWERS)


def load(report_id, user: User) -> UpwardReport:
    """The one loader of pages and API: 404 when it does not exist or the caller may not see it."""
    rid = record_id(report_id)
    report = db.session.get(UpwardReport, rid) if rid else None
    if report is None or not may_view(user, report):
        raise NotFound(_("There is no such upward report."), code="unknown_report")
    return report


def reviews_any(user: User) -> bool:
    return bool(_paths(user, (REVIEWER,)))


def _paths(user: User, roles) -> list[str]:
    return sorted({g.unit_path for g in grants(user) if g.role in roles})


def _under(column, paths: list[str]):
    if not paths:
        return false()
    return column.in_(select(Unit.id).where(or_(*[Unit.path.startswith(p) for p in paths])))


def outbox(user: User, year: int | None = None) -> list[UpwardReport]:
    """The reports of the unions the user drafts for (not those they review)."""
    stmt = select(UpwardReport).where(_under(UpwardReport.unit_id, _paths(user, DRAFTERS)),
                                      ~_under(UpwardReport.upper_unit_id, _paths(user, (REVIEWER,))))
    if year is not None:
        stmt = stmt.where(UpwardReport.year == year)
    return list(db.session.scalars(stmt.order_by(UpwardReport.year.desc(), UpwardReport.unit_id)))


def inbox(user: User, year: int | None = None) -> list[UpwardReport]:
    """The reports sent to a union where the user is staff, or to one below it; drafts are the sender's own."""
    stmt = select(UpwardReport).where(_under(UpwardReport.upper_unit_id, _paths(user, (REVIEWER,))),
                                      UpwardReport.status != "draft")
    if year is not None:
        stmt = stmt.where(UpwardReport.year == year)
    order = (UpwardReport.status != "submitted", UpwardReport.year.desc(), UpwardReport.unit_id)
    return list(db.session.scalars(stmt.order_by(*order)))


def draftable_units(user: User) -> list[Unit]:
    units = db.session.scalars(select(Unit).where(_under(Unit.id, _paths(user, DRAFTERS)),
                                                  Unit.parent_id.is_not(None)).order_by(Unit.path))
    return [u for u in units if may_draft(user, u)]


# -- drafting ---------------------------------------------------------------------------------------------

def read_year(raw) -> int:
    year = reports._year(raw)
    if year is None:
        raise Invalid(_("Please correct the marked fields."),
                      fields={"year": _("Enter a year from %(first)d to %(last)d.", first=reports.FIRST_YEAR,
                                        last=today().year)})
    return year


def draft(user: User, data) -> UpwardReport:
    """A new draft for {unit, year, summary}. The unit is checked first (404, 403), then the fields (422)."""
    raw_unit = data.get("unit")
    unit_id = record_id(reports._unit_id(raw_unit)) if raw_unit not in (None, "") else None
    unit = db.session.get(Unit, unit_id) if unit_id else None
    if unit is None:
        raise NotFound(_("There is no such unit."), code="unknown_unit")
    if unit.parent is None:
        raise Forbidden(_("This union has no union above it to report to."), code="no_upper_union")
    if not may_draft(user, unit):
        raise Forbidden(_("Only the union's own staff or committee draft its upward report."), code="role")
    year = read_year(data.get("year"))
    summary = Reader(data).text("summary", required=False)
    if db.session.scalar(select(UpwardReport.id).where(UpwardReport.unit_id == unit.id,
                                                       UpwardReport.year == year)) is not None:
        raise Conflict(_("This union already has an upward report for %(year)s.", year=year), code="exists")
    report = UpwardReport(unit=unit, upper_unit=unit.parent, year=year, summary=summary, drafted_by=user)
    db.session.add(report)
    engine.record_creation(report, user)
    return report


def correct(report: UpwardReport, user: User, data, version: int | None = None) -> UpwardReport:
    """Changes the summary of a draft or a returned report (a correction is an entry in its chain)."""
    if version is not None and version != report.version:
        raise Conflict(_("This case was changed by someone else meanwhile. Reload it and try again."),
                       code="stale")
    if report.status not in ("draft", "returned"):
        raise Conflict(_("This action is not possible while the case is “%(state)s”.",
                         state=state_label("upward_report", report.status)), code="not_possible")
    if not may_draft(user, report.unit):
        raise Forbidden(_("Only the union's own staff or committee draft its upward report."), code="role")
    summary = Reader(data).text("summary", required=False)
    if summary != report.summary:
        report.summary = summary
        engine.record_amendment(report, user, ["summary"])
    return report


# -- the workflow's rules ---------------------------------------------------------------------------------

@engine.level("upper_union")
def _upper_union(report):
    return report.upper_unit


@engine.guard("not_upper_reviewer")
def _not_upper_reviewer(step):
    if step.user is not None and reviews_for(step.user, step.case.unit):
        return _("The upper union's staff review this report; the union itself submits it.")
    return None


def figures_of(report: UpwardReport) -> dict:
    """The annual reports' values of the report's union and year, per kind, as they are now."""
    scope = reports.year_scope(report.unit, report.year)
    # Read before the step's own change of state is written: that row waits for the figures it requires.
    with db.session.no_autoflush:
        return {kind: reports.annual_values(kind, scope) for kind in KINDS}


def digest(figures: dict | None) -> str:
    blob = json.dumps(figures or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


@engine.effect("freeze_figures")
def _freeze(step):
    report = step.case
    figures = figures_of(report)
    step.record("figures", digest(report.figures) if report.figures else None, digest(figures))
    report.figures = figures
    report.submitted_by_id, report.submitted_at = step.user.id, step.now
    report.submissions = (report.submissions or 0) + 1
    report.return_reason = ""


@engine.effect("record_review")
def _review(step):
    report = step.case
    report.reviewed_by_id, report.reviewed_at = step.user.id, step.now
    if step.transition.trigger == "return_report":
        report.return_reason = step.text("reason")


def figures_intact(report: UpwardReport) -> bool:
    """Whether the frozen figures are those the chain recorded at the last submission."""
    from ..core.models import AuditEntry, entries_of
    if report.figures is None:
        return True
    last = db.session.scalars(entries_of(report).where(AuditEntry.trigger == "submit")
                              .order_by(None).order_by(AuditEntry.seq.desc()).limit(1)).first()
    recorded = ((last.changes or {}).get("figures") or [None, None])[1] if last else None
    return recorded == digest(report.figures)


@audience("report_drafters")
def _drafters(step):
    report = step.case
    ids = dict.fromkeys(i for i in (report.drafted_by_id, report.submitted_by_id) if i is not None)
    return [db.session.get(User, i) for i in ids]


@subject_lines("upward_report")
def _lines(step, _user):
    report = step.case
    subject = _("Upward report %(unit)s %(year)s: %(step)s", unit=report.unit.name, year=report.year,
                step=trigger_label(step.transition.trigger))
    lines = [_("Now: %(state)s.", state=state_label("upward_report", report.status))]
    if report.status == "returned":
        lines.append(_("Reason given: %(text)s", text=report.return_reason))
    return subject, "\n".join(lines), None


# -- the export ---------------------------------------------------------------------------------------------

def _fen(value) -> Decimal | None:
    return None if value is None else Decimal(value) / 100


def _rate(value) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


# (column, value of a report's frozen figures): the documented layout (README, "Upward reports").
FIGURES = [
    (_lp("upward report column", "Aid requests"), lambda f: f["aid"]["cases_total"]),
    (_lp("upward report column", "Aid granted (count)"), lambda f: f["aid"]["granted_total"]["count"]),
    (_lp("upward report column", "Aid granted (yuan)"), lambda f: _fen(f["aid"]["granted_total"]["amount"])),
    (_lp("upward report column", "Aid steps on time"), lambda f: _rate(f["aid"]["on_time"]["rate"])),
    (_lp("upward report column", "Objections"), lambda f: f["aid"]["objection_count"]),
    (_lp("upward report column", "Reports"), lambda f: f["aid"]["report_count"]),
    (_lp("upward report column", "Substantiated"), lambda f: f["aid"]["substantiated"]),
    (_lp("upward report column", "Visits made"), lambda f: f["aid"]["visits"]["total"]["visits"]),
    (_lp("upward report column", "People visited"), lambda f: f["aid"]["visits"]["total"]["people"]),
    (_lp("upward report column", "Proposals collected"), lambda f: f["proposal"]["collected"]),
    (_lp("upward report column", "Proposals adopted"), lambda f: f["proposal"]["adopted"]),
    (_lp("upward report column", "Proposals implemented"), lambda f: f["proposal"]["implemented"]),
    (_lp("upward report column", "Rewards paid (yuan)"), lambda f: _fen(f["proposal"]["rewards"])),
    (_lp("upward report column", "Yearly benefit (yuan)"), lambda f: _fen(f["proposal"]["benefit"])),
    (_lp("upward report column", "Motions submitted"), lambda f: f["motion"]["submitted"]),
    (_lp("upward report column", "Motions filed"), lambda f: f["motion"]["filed"]),
    (_lp("upward report column", "Motions replied"), lambda f: f["motion"]["replied"]),
    (_lp("upward report column", "Replied on time"), lambda f: f["motion"]["replied_on_time"]),
]
COLUMNS = [
    _lp("upward report column", "Unit code"), _lp("upward report column", "Unit"),
    _lp("upward report column", "Upper union"), _lp("upward report column", "Year"),
    _lp("upward report column", "State"), _lp("upward report column", "Submissions"),
    _lp("upward report column", "Submitted at"), _lp("upward report column", "Submitted by"),
    _lp("upward report column", "Reviewed at"), _lp("upward report column", "Reviewed by"),
    _lp("upward report column", "Return reason"),
    *(label for label, _value in FIGURES),
]


def export_headers() -> list[str]:
    return [chinese(c) for c in COLUMNS]


def export_row(report: UpwardReport) -> list:
    from ..clock import local
    when = lambda t: local(t).strftime("%Y-%m-%d %H:%M") if t else ""  # noqa: E731
    with force_locale("zh"):
        head = [report.unit.code, report.unit.name, report.upper_unit.name, report.year,
                state_label("upward_report", report.status), report.submissions or 0, when(report.submitted_at),
                report.submitted_by.name if report.submitted_by else "", when(report.reviewed_at),
                report.reviewed_by.name if report.reviewed_by else "", report.return_reason or ""]
    figures = report.figures
    return head + [value(figures) if figures else "" for _label, value in FIGURES]


def year_reports(user: User, year: int) -> list[UpwardReport]:
    """All reports of a year sent to the user's union or below it (the upper union's export)."""
    return sorted(inbox(user, year), key=lambda r: r.unit.path)
