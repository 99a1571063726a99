"""Per-unit rule numbers: a unit's own value, else its nearest ancestor's, else the default."""
from __future__ import annotations

from typing import Any

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
    ids = unit.ancestor_ids()
    rows = db.session.execute(select(UnitSetting.unit_id, UnitSetting.value)
                              .where(UnitSetting.key == key, UnitSetting.unit_id.in_(ids))).all()
    if not rows:
        return DEFAULTS[key]
    depth = {uid: i for i, uid in enumerate(ids)}
    return max(rows, key=lambda r: depth[r[0]])[1]


def put(unit: Unit, key: str, value: Any) -> None:
    if key not in DEFAULTS:
        raise KeyError(key)
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
