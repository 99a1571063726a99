"""Who may see the statistics, reading ?unit=&from=&to=, and the tables the page, API and exports share."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import select

from ..accounts.models import Unit, User
from ..clock import today
from ..core.errors import Forbidden, Invalid, NotFound
from ..core.inputs import record_id
from ..core.permissions import grants, roles_at
from ..extensions import db
from ..money import format_money
from .. import labels
from .queries import Scope

ROLES = ("union_staff", "committee", "admin")


def may_see_statistics(user: User, unit: Unit) -> bool:
    """The dashboard's rule, also for its annual reports: one of ROLES at the unit or above."""
    return any(r in roles_at(user, unit) for r in ROLES)


def visible_units(user: User) -> list[Unit]:
    """Every unit whose statistics `user` may see: the subtrees where they hold one of ROLES."""
    from sqlalchemy import or_
    paths = sorted({g.unit_path for g in grants(user) if g.role in ROLES})
    if not paths:
        return []
    return list(db.session.scalars(select(Unit).where(or_(*[Unit.path.startswith(p) for p in paths]))
                                   .order_by(Unit.path)))


def scope_for(user: User, args) -> Scope:
    """The unit (default: the highest where the user may see statistics) and period (default: this year)."""
    raw = args.get("unit")
    if raw not in (None, ""):
        unit_id = record_id(raw)  # digits beyond any id, or not digits at all: no such unit
        unit = db.session.get(Unit, unit_id) if unit_id else None
        if unit is None:
            raise NotFound(_("There is no such unit."), code="unknown_unit")
    else:
        paths = sorted((g.unit_path for g in grants(user) if g.role in ROLES), key=len)
        unit = db.session.scalar(select(Unit).where(Unit.path == paths[0])) if paths else None
    if unit is None or not may_see_statistics(user, unit):
        raise Forbidden(_("Statistics are for union staff, the committee and administrators of the unit."))
    errors = {}
    bounds = []
    for name, default in (("from", date(today().year, 1, 1)), ("to", date(today().year, 12, 31))):
        value = args.get(name)
        try:
            bounds.append(date.fromisoformat(value) if value else default)
        except (TypeError, ValueError):
            errors[name] = _("Enter a date as YYYY-MM-DD.")
    if not errors and bounds[0] > bounds[1]:
        errors["to"] = _("The end date is before the start date.")
    if errors:
        raise Invalid(_("Please correct the marked fields."), fields=errors)
    return Scope(unit, bounds[0], bounds[1])


def _hours(value) -> str:
    return f"{value:.2f}"


def _pct(value) -> str:
    return f"{value * 100:.1f}%"


def tables(stats: dict) -> dict[str, dict]:
    """name -> {title, headers: [(label, chinese)], rows: [[display values]]}; rows are what the page shows."""
    kind = lambda k: str(labels.KIND_LABELS.get(k, k))  # noqa: E731
    state = lambda k, s: str(labels.state_label(k, s))  # noqa: E731
    choice = lambda c: str(labels.CHOICE_LABELS.get(c, c))  # noqa: E731
    aid = stats["aid"]
    p, m, v = stats["proposals"], stats["motions"], stats["visits"]
    shown = {}
    if "by_unit" in stats:
        part = lambda r: _("%(unit)s (itself)", unit=r["unit_name"]) if r["own"] else r["unit_name"]  # noqa: E731
        cells = lambda r: [r["cases"], r["aid_count"], format_money(r["aid_amount"]), r["proposals_collected"],  # noqa: E731
                           r["motions_filed"], r["visits"]]
        u = stats["by_unit"]
        shown["by_unit"] = {
            "title": _l("The units below, rolled up"), "zh": "下级单位汇总",
            "headers": [(_l("Unit"), "单位"), (_l("Cases"), "案件数"), (_l("Aid granted"), "救助发放（件）"),
                        (_l("Amount (yuan)"), "金额（元）"), (_l("Proposals collected"), "建议征集（件）"),
                        (_l("Motions filed"), "提案立案（件）"), (_l("Visits made"), "走访次数")],
            "rows": [[part(r), *cells(r)] for r in u["rows"]] + [[_("Total"), *cells(u["total"])]]}
    return shown | {
        "cases": {"title": _l("Cases by type and state"), "zh": "案件类型与状态",
                  "headers": [(_l("Type"), "类型"), (_l("State"), "状态"), (_l("Count"), "件数")],
                  "rows": [[kind(r["kind"]), state(r["kind"], r["state"]), r["count"]] for r in stats["cases"]]},
        "aid": {"title": _l("Aid granted by month and category"), "zh": "救助金发放（按月份、类别）",
                "headers": [(_l("Month"), "月份"), (_l("Category"), "类别"), (_l("Count"), "件数"),
                            (_l("Amount (yuan)"), "金额（元）")],
                "rows": [[r["month"], choice(r["category"]), r["count"], format_money(r["amount"])]
                         for r in aid["rows"]]
                + [[_("Total"), choice(c), t["count"], format_money(t["amount"])]
                   for c, t in sorted(aid["by_category"].items())]
                + [[_("Total"), "", aid["total"]["count"], format_money(aid["total"]["amount"])]]},
        "handling": {"title": _l("Handling time per step"), "zh": "各环节办理时长",
                     "headers": [(_l("Type"), "类型"), (_l("Step"), "环节"), (_l("Count"), "件次"),
                                 (_l("Average (hours)"), "平均（小时）"), (_l("90th percentile (hours)"), "90%分位（小时）")],
                     "rows": [[kind(r["kind"]), state(r["kind"], r["state"]), r["count"], _hours(r["avg_hours"]),
                               _hours(r["p90_hours"])] for r in stats["handling"]]},
        "deadlines": {"title": _l("Deadlines met"), "zh": "办理时限按时率",
                      "headers": [(_l("Type"), "类型"), (_l("Step"), "环节"), (_l("Due"), "应办结"),
                                  (_l("On time"), "按时"), (_l("Rate"), "按时率")],
                      "rows": [[kind(r["kind"]), state(r["kind"], r["state"]), r["due"], r["on_time"], _pct(r["rate"])]
                               for r in stats["deadlines"]]},
        "proposals": {"title": _l("Rationalisation proposals"), "zh": "合理化建议",
                      "headers": [(_l("Figure"), "指标"), (_l("Value"), "数值")],
                      "rows": [[_("Collected"), p["collected"]], [_("Graded"), p["graded"]],
                               [_("Adopted"), p["adopted"]], [_("Implemented"), p["implemented"]],
                               [_("Yearly benefit (yuan)"), format_money(p["benefit"])]]
                      + [[_("Grade: %(grade)s", grade=choice(g)), n] for g, n in sorted(p["grades"].items())]},
        "motions": {"title": _l("Congress motions"), "zh": "职代会提案",
                    "headers": [(_l("Figure"), "指标"), (_l("Value"), "数值")],
                    "rows": [[_("Filed"), m["filed"]], [_("Replied"), m["replied"]],
                             [_("Replied on time"), m["replied_on_time"]]]
                    + [[_("Rating: %(rating)s", rating=choice(r)), f'{v["count"]} ({_pct(v["share"])})']
                       for r, v in sorted(m["satisfaction"].items())]},
        "objections": {"title": _l("Objections and reports"), "zh": "异议与举报",
                       "headers": [(_l("Kind"), "类型"), (_l("Status"), "状态"), (_l("Count"), "件数"),
                                   (_l("Substantiated"), "属实")],
                       "rows": [[_("Objection") if r["kind"] == "objection" else _("Report"),
                                 str(labels.OBJECTION_STATUS_LABELS.get(r["status"], r["status"])), r["count"],
                                 r["substantiated"]] for r in stats["objections"]]},
        "visits": {"title": _l("Home visits by month, unit and category"), "zh": "走访慰问（按月份、单位、类别）",
                   "headers": [(_l("Month"), "月份"), (_l("Unit"), "单位"), (_l("Category"), "类别"),
                               (_l("Visits made"), "走访次数"), (_l("People visited"), "走访人数")],
                   "rows": [[r["month"], r["unit_name"], choice(r["category"]), r["visits"], r["people"]]
                            for r in v["rows"]]
                   + [[_("Total"), u, "", t["visits"], t["people"]] for u, t in v["by_unit"].items()]
                   + [[_("Total"), "", choice(c), t["visits"], t["people"]] for c, t in sorted(v["by_category"].items())]
                   + [[_("Total"), "", "", v["total"]["visits"], v["total"]["people"]]] if v["rows"] else []},
    }


def charts(stats: dict) -> dict[str, list]:
    """name -> (label, value) pairs for the bar charts above the tables."""
    per_kind: dict[str, int] = {}
    for r in stats["cases"]:
        per_kind[r["kind"]] = per_kind.get(r["kind"], 0) + r["count"]
    return {
        "cases": [(labels.KIND_LABELS.get(k, k), n) for k, n in per_kind.items()],
        "aid": [(m, t["amount"] / 100) for m, t in sorted(stats["aid"]["by_month"].items())],
        "handling": [(f'{labels.KIND_LABELS.get(r["kind"], r["kind"])} · {labels.state_label(r["kind"], r["state"])}',
                      r["avg_hours"]) for r in stats["handling"]],
        "deadlines": [(f'{labels.KIND_LABELS.get(r["kind"], r["kind"])} · {labels.state_label(r["kind"], r["state"])}',
                       r["rate"] * 100) for r in stats["deadlines"]],
        "visits": [(m, t["visits"]) for m, t in sorted(stats["visits"]["by_month"].items())],
    }
