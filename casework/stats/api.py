"""GET /api/v1/stats: the dashboard's numbers as JSON (money in fen as integers here, as counted)."""
from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Date, Dict, Integer, List, Raw, String
from flask import request

from ..api.base import make_blueprint, user
from .queries import compute
from .tables import scope_for

bp = make_blueprint("stats_api", __name__, tag="statistics")


class StatsQuery(Schema):
    unit = Integer()
    from_ = Date(data_key="from")
    to = Date()


class StatsOut(Schema):
    unit = Integer()
    unit_name = String()
    start = String(data_key="from")
    end = String(data_key="to")
    cases = List(Dict())
    aid = Dict()
    handling = List(Dict())
    deadlines = List(Dict())
    proposals = Dict()
    motions = Dict()
    objections = List(Raw())
    by_unit = Dict(metadata={"description": "the period's additive figures (cases, aid_count, aid_amount, "
                                            "proposals_collected, motions_filed, visits) of the unit itself "
                                            "(`own`) and of each unit directly below it with its own subtree: "
                                            "rows, and their total, which equals the unit's figures"})
    visits = Dict(metadata={"description": "home visits (走访慰问) dated in the period and the distinct workers "
                                           "visited: rows by month, unit and category; by_month, by_unit, "
                                           "by_category and total, each {visits, people}"})


@bp.get("/stats")
@bp.input(StatsQuery, location="query", validation=False)
@bp.output(StatsOut)
@bp.doc(summary="Statistics of a unit and the units below it for a period (default: this year)",
        description="Money in fen. union_staff, committee or admin at the unit or above.",
        responses={403: "not allowed for this unit", 404: "no such unit", 422: "bad dates"})
def stats(**_ignored):
    scope = scope_for(user(), request.args)
    return {"unit": scope.unit.id, "unit_name": scope.unit.name, "start": scope.start.isoformat(),
            "end": scope.end.isoformat(), **compute(scope, by_unit=True)}
