"""Per-unit rule numbers: a unit's own value, else its nearest ancestor's, else the default."""
from __future__ import annotations

from typing import Any

from flask import g, has_app_context, has_request_context
from sqlalchemy import select

import workflows

from ..accounts.models import Unit
from ..extensions import db
from .models import UnitSetting

DEFAULTS: dict[str, Any] = {
    "committee_size": 5,
    "committee_quorum": 3,
    # Category caps in fen and the documents each category needs.
    "aid_cap_hardship": 500000,
    "aid_cap_illness": 2000000,
    "aid_cap_education": 500000,
    "aid_cap_holiday_visit": 100000,
    "aid_docs_hardship": ["income_proof"],
    "aid_docs_illness": ["medical_bills"],
    "aid_docs_education": ["admission_letter"],
    "aid_docs_holiday_visit": [],
    "min_visitors": 2,
    "min_cosigners": 2,
    "grade_thresholds": [85, 70, 60],
    "reward_excellent": 50000,
    "reward_good": 20000,
    "reward_general": 5000,
    "reminder_before_days": 2,
    "escalate_after_days": 3,
}
# Each workflow's deadlines name their own setting and default.
for _wf in workflows.WORKFLOWS.values():
    for _key, _days in _wf.deadlines.values():
        DEFAULTS.setdefault(_key, _days)


def get(unit: Unit | None, key: str) -> Any:
    if key not in DEFAULTS:
        raise KeyError(key)
    if unit is None:
        return DEFAULTS[key]
    return _values(unit).get(key, DEFAULTS[key])


def _values(unit: Unit) -> dict[str, Any]:
    """Every setting the unit has or inherits (the nearest unit's value wins). Read once per request: a
    step asks for several; outside requests (the scheduler) always fresh."""
    cache = g.setdefault("_casework_settings", {}) if has_request_context() else None
    if cache is not None and unit.id in cache:
        return cache[unit.id]
    ids = unit.ancestor_ids()
    depth = {uid: i for i, uid in enumerate(ids)}
    rows = db.session.execute(select(UnitSetting.unit_id, UnitSetting.key, UnitSetting.value)
                              .where(UnitSetting.unit_id.in_(ids))).all()
    values = {key: value for _uid, key, value in sorted(rows, key=lambda r: depth[r[0]])}
    if cache is not None:
        cache[unit.id] = values
    return values


def put(unit: Unit, key: str, value: Any) -> None:
    if key not in DEFAULTS:
        raise KeyError(key)
    if has_app_context():
        g.pop("_casework_settings", None)
    row = db.session.scalar(select(UnitSetting).where(UnitSetting.unit_id == unit.id,
                                                      UnitSetting.key == key))
    if row is None:
        db.session.add(UnitSetting(unit_id=unit.id, key=key, value=value))
    else:
        row.value = value


def parse_value(key: str, raw: str) -> Any:
    """An admin's text as a value of the same type as the default; ValueError says why not."""
    from flask_babel import gettext as _
    default = DEFAULTS[key]
    raw = (raw or "").strip()
    if isinstance(default, bool):
        raise ValueError(_("This setting cannot be changed here."))
    if isinstance(default, int):
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(_("Enter a whole number.")) from None
        if value < 0:
            raise ValueError(_("Enter a number of zero or more."))
        return value
    if isinstance(default, list):
        items = [p.strip() for p in raw.replace("，", ",").split(",") if p.strip()]
        if default and all(isinstance(x, int) for x in default):
            try:
                return [int(x) for x in items]
            except ValueError:
                raise ValueError(_("Enter whole numbers separated by commas.")) from None
        return items
    return raw
