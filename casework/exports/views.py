"""Exports of what a user can see: my work, the case list, a fund's ledger, each statistics table (Chinese
headers).

Case rows come through `kinds.serialize`, so a field the user may not see (an aid request's circumstances for
the fund manager) is empty in the export as on the page."""
from __future__ import annotations

from decimal import Decimal
from functools import wraps

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import force_locale
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import Unit
from ..clock import local, today
from ..core import kinds, paging
from ..core.models import Case
from ..core.queries import NEWEST_FIRST, WORK_ORDER, chosen_order, created_within, day_span, work_page
from ..extensions import db, replica
from .. import labels
from ..privacy import access
from ..core.inputs import record_id
from ..tasks import Context, task
from .writer import csv_bytes, respond, xlsx_bytes

bp = Blueprint("exports", __name__)
FMT = "<any(csv, xlsx):fmt>"  # other formats are simply not found
CHUNK = 500

CASE_HEADERS = ["编号", "类型", "标题", "状态", "单位", "申请人", "期限", "创建时间",
                "类别", "申请金额（元）", "核定金额（元）", "情况说明"]
WORK_HEADERS = ["编号", "类型", "申请人", "标题", "状态", "期限", "可办理"]
SESSION_HEADERS = ["编号", "案由", "提案人", "附议人数", "状态", "主办部门", "协办部门", "办理期限", "答复日期",
                   "按期答复", "满意度", "并入"]
LEDGER_HEADERS = ["序号", "时间", "类型", "余额变动（元）", "预留变动（元）", "余额（元）", "案件", "来源/支付方式", "凭证号", "备注",
                  "经办人"]


def _visible(model, ident: int, may_see):
    """The row the export is of: 404 when there is none, 403 when its page would refuse this user too."""
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    if not may_see(current_user, row):
        abort(403)
    return row


def _yuan(fen: int) -> Decimal | str:
    """A signed amount as a number a spreadsheet can add up (empty when zero, as on the page)."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01")) if fen else ""


def case_row(case, user) -> list:
    with access.reading_as("export"):
        record = kinds.serialize(case, user, transitions=[])
    return [case.number, str(labels.KIND_LABELS[case.kind]), kinds.caption(case, user),
            labels.state_label(case.kind, case.state), case.unit.name, case.applicant.name,
            record["deadline"] or "", local(case.created_at).date().isoformat(),  # the union's day, not UTC's
            str(labels.CHOICE_LABELS.get(record.get("category"), "")) if record.get("category") else "",
            record.get("amount_requested") or "", record.get("amount_approved") or "",
            record.get("circumstances") or ""]


def _from_replica(rows):
    """A row generator that reads from the replica while it streams (each chunk, as the response is sent)."""
    @wraps(rows)
    def streamed(*args, **kwargs):
        with replica():
            yield from rows(*args, **kwargs)
    return streamed


def _zh(rows):
    """Cells in Chinese whatever the page language was; a generator, so it runs while streaming."""
    with force_locale("zh"):
        yield from rows


# A case list longer than this is written by a job on the task queue (a gateway would time out on it) and
# fetched from the job's page once ready; shorter ones stream straight from the request.
QUEUE_ABOVE = 5000
CASE_ARGS = ("kind", "state", "sort", "dir", "from", "to")


def _case_query(user, args):
    """The visible cases the list's filters choose, in the list's order, and the export's file name."""
    kind = args.get("kind") or None
    if kind and kind not in kinds.KINDS:
        abort(404)
    state = args.get("state") or None
    order = chosen_order(args.get("sort"), args.get("dir"), NEWEST_FIRST)[0]
    start, end, _wrong = day_span(args)  # as on the page: a wrong day is left out
    stmt = created_within(kinds.visible_cases(user, kind), start, end)
    if state:
        stmt = stmt.where(Case.state == state)
    return stmt, order


@_from_replica
def case_rows(user, args):
    stmt, order = _case_query(user, args)
    # Keyset pages in the list's order; each page leaves the session before the next.
    after = None
    while True:
        page, after = paging.keyset(stmt.options(joinedload(Case.unit), joinedload(Case.applicant),
                                                 selectinload(Case.parties)), order, after, CHUNK, unique=True)
        for case in page:
            yield case_row(case, user)
        if after is None:
            return
        db.session.expunge_all()
        db.session.add(user)  # the reader stays: a job's progress commits may have expired it


@bp.route(f"/export/cases.{FMT}")
@login_required
def cases(fmt: str):
    from .. import tasks
    user = current_user._get_current_object()
    stmt, _order = _case_query(user, request.args)
    count = db.session.scalar(select_count(stmt))
    name = f"案件列表-{today().isoformat()}"
    if count > QUEUE_ABOVE:
        args = {k: request.args[k] for k in CASE_ARGS if request.args.get(k)}
        job_id = tasks.enqueue("export_cases", {"fmt": fmt, "name": name, "filters": args}, user, total=count)
        return redirect(url_for("tasks.job_page", job_id=job_id))
    return respond(fmt, name, "案件列表", CASE_HEADERS, _zh(case_rows(user, request.args)))


def _export_link(job) -> str:
    return url_for("tasks.job_file", job_id=job.id)


@task("export_cases", link=_export_link)
def export_cases(ctx: Context) -> str:
    """Writes the case list into the store under the job's own key: a re-run writes the same file again."""
    from ..accounts.models import User
    from ..storage import store
    user = db.session.get(User, ctx.user_id)
    fmt, filters = ctx.args["fmt"], ctx.args["filters"]
    total = db.session.scalar(select_count(_case_query(user, filters)[0]))
    ctx.total(total)

    def counted(rows):
        for n, row in enumerate(rows, start=1):
            if n % CHUNK == 0:
                ctx.progress(min(n, total))  # also the job's heartbeat
            yield row
    rows = _zh(counted(case_rows(user, filters)))
    data = csv_bytes(CASE_HEADERS, rows) if fmt == "csv" else xlsx_bytes("案件列表", CASE_HEADERS, rows)
    key = f"exports/job-{ctx.job_id}.{fmt}"
    store().put(key, data)
    return key


def select_count(stmt):
    from sqlalchemy import func, select
    return select(func.count()).select_from(stmt.order_by(None).subquery())


@bp.route(f"/export/work.{FMT}")
@login_required
def work(fmt: str):
    args = request.args
    unit = db.session.get(Unit, args.get("unit", type=record_id)) if args.get("unit", type=record_id) else None
    kind = args.get("kind") if args.get("kind") in kinds.KINDS else None
    user = current_user._get_current_object()
    order = chosen_order(args.get("sort"), args.get("dir"), WORK_ORDER)[0]
    start, end, _wrong = day_span(args)  # as on the page: a wrong day is left out

    @_from_replica
    def rows():
        cursor = None
        while True:
            page, cursor = work_page(user, kind=kind, state=args.get("state") or None, unit=unit,
                                     category=args.get("category") or None, q=args.get("q") or None,
                                     after=cursor, size=CHUNK, order=order, start=start, end=end)
            for c, triggers in page:
                yield [c.number, str(labels.KIND_LABELS[c.kind]), c.applicant.name,
                       kinds.caption(c, user, with_name=False), labels.state_label(c.kind, c.state),
                       c.deadline.isoformat() if c.deadline else "",
                       "、".join(str(labels.trigger_label(t)) for t in triggers)]
            if not cursor:
                return

    return respond(fmt, f"我的待办-{today().isoformat()}", "我的待办", WORK_HEADERS, _zh(rows()))


@bp.route(f"/export/funds/<int:fund_id>/ledger.{FMT}")
@login_required
def ledger(fund_id: int, fmt: str):
    from ..funds import operations as ops
    from ..funds.models import Fund
    from ..funds.views import EFFECT, KIND_LABELS, SOURCE_LABELS, ledger_records
    fund = _visible(Fund, fund_id, ops.can_see)

    @_from_replica
    def rows():
        # The page's records, newest first, in chunks: a busy fund's ledger never sits in memory whole.
        before = None
        while True:
            entries, before = ops.ledger_page(fund, before, CHUNK)
            for row, e in zip(entries, ledger_records(entries)):
                on_balance, on_reserved = EFFECT[row.kind]
                pay = SOURCE_LABELS.get(e["source"], e["source"]) if e["source"] else \
                    labels.CHOICE_LABELS.get(e["method"], e["method"]) if e["method"] else ""
                yield [e["id"], local(e["when"]).strftime("%Y-%m-%d %H:%M"),
                       str(KIND_LABELS.get(e["kind"], e["kind"])), _yuan(on_balance * row.amount),
                       _yuan(on_reserved * row.amount),
                       (Decimal(e["balance_after_fen"]) / 100).quantize(Decimal("0.01")), e["case"] or "", str(pay),
                       e["reference"] or "", e["note"], e["actor_name"] or "系统"]
            if before is None:
                return
            db.session.expunge_all()

    return respond(fmt, f"{fund.name}明细账-{today().isoformat()}", "明细账", LEDGER_HEADERS, _zh(rows()))


@bp.route(f"/export/sessions/<int:session_id>/report.{FMT}")
@login_required
def session_report(session_id: int, fmt: str):
    """The session's motion list (提案汇总表) as on its report page."""
    from ..core.models import CongressSession
    from ..motions import operations as motions
    session = _visible(CongressSession, session_id, motions.sees_session)
    with replica():
        report = motions.session_report(session)
    with force_locale("zh"):
        rows = [[r["number"], r["title"], r["author_name"], r["cosigners"],
                 labels.state_label("motion", r["state"]), r["department"] or "", "、".join(r["co_departments"]),
                 r["deadline"] or "", r["replied_on"] or "", str(labels.YES_NO[r["on_time"]]),
                 str(labels.CHOICE_LABELS.get(r["rating"], r["rating"])) if r["rating"] else "",
                 r["merged_into"] or ""] for r in report["motions"]]
    return respond(fmt, f"{session.name}提案汇总表", "提案汇总表", SESSION_HEADERS, rows)


@bp.route(f"/stats/export/<table>.{FMT}")
@login_required
def stats_table(table: str, fmt: str):
    from ..stats.queries import compute
    from ..stats.tables import scope_for, tables
    scope = scope_for(current_user, request.args)
    with force_locale("zh"):
        all_tables = tables(compute(scope, by_unit=table == "by_unit"))
        if table not in all_tables:
            abort(404)
        t = all_tables[table]
        rows = [[str(v) if not isinstance(v, (int, float)) else v for v in row] for row in t["rows"]]
    name = f'{t["zh"]}-{scope.unit.name}-{scope.start.isoformat()}至{scope.end.isoformat()}'
    return respond(fmt, name, t["zh"], [zh for _label, zh in t["headers"]], rows)
