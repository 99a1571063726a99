"""Per-unit rule numbers, each declared once: its default, type and help text; a unit's own value wins.

A unit's value is its own, else its nearest ancestor's, else the default. The engine's shared rules are
declared here and every workflow deadline from workflows/; a capability declares its own rule numbers with
`declare` when it is imported (declaring a key twice is an error). `/admin/settings` lists the registry,
shows each rule's help and checks an admin's text with `parse_value`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

import workflows

from ..accounts.models import Unit
from ..extensions import db
from ..labels import CHOICE_LABELS, KIND_LABELS, STATE_LABELS
from ..money import format_money, parse_money
from .models import UnitSetting

# What a value is, which decides how it is shown and read: a count, working days, fen (edited in yuan),
# a percentage, descending scores, document-type codes, a short text, or yes/no.
TYPES = ("count", "days", "money", "percent", "scores", "codes", "text", "flag")


@dataclass(frozen=True)
class Setting:
    key: str
    default: Any
    type: str
    help: Any  # a lazy string: shown in the admin's language
    lo: int = 0
    hi: int | None = None
    below: Any = None  # the message for a value under `lo`, when the floor has a reason (a law)


REGISTRY: dict[str, Setting] = {}
DEFAULTS: dict[str, Any] = {}  # key -> default, for readers that need only the default


def declare(key: str, default: Any, type: str, help, *, lo: int = 0, hi: int | None = None,
            below=None) -> Setting:
    if key in REGISTRY:
        raise ValueError(f"setting {key} is declared twice")
    if type not in TYPES:
        raise ValueError(f"setting {key}: unknown type {type}")
    REGISTRY[key] = spec = Setting(key, default, type, help, lo, hi, below)
    DEFAULTS[key] = default
    return spec


declare("committee_size", 5, "count", _l("Members of the union committee."), lo=1, hi=99)
declare("committee_quorum", 3, "count",
        _l("Committee votes that decide a case, a register entry or a board batch "
           "(at most the committee size)."),
        lo=1, hi=99)
for _category, _cap, _docs in (("hardship", 500000, ["income_proof"]),
                               ("illness", 2000000, ["medical_bills"]),
                               ("education", 500000, ["admission_letter"]),
                               ("holiday_visit", 100000, [])):
    declare(f"aid_cap_{_category}", _cap, "money",
            _l("Highest amount of one aid request of the category “%(category)s”, in yuan.",
               category=CHOICE_LABELS[_category]))
    declare(f"aid_docs_{_category}", _docs, "codes",
            _l("Documents an aid request of the category “%(category)s” needs before it is submitted "
               "(document types, separated by commas).", category=CHOICE_LABELS[_category]))
declare("min_visitors", 2, "count", _l("People who must take part in an aid request's home visit."),
        lo=1, hi=10)
declare("min_cosigners", 2, "count", _l("Co-signatures a congress motion needs before it can be submitted."),
        lo=0, hi=100)
declare("grade_thresholds", [85, 70, 60], "scores",
        _l("Mean evaluation scores for the grades excellent, good and general "
           "(three numbers, highest first)."))
declare("reward_excellent", 50000, "money", _l("Reward for a proposal graded excellent, in yuan."))
declare("reward_good", 20000, "money", _l("Reward for a proposal graded good, in yuan."))
declare("reward_general", 5000, "money", _l("Reward for a proposal graded general, in yuan."))
declare("reminder_before_days", 2, "days",
        _l("Working days before a deadline that the people who act are reminded."), lo=0, hi=30)
declare("escalate_after_days", 3, "days",
        _l("Working days after a missed deadline that the committee above is asked to step in (督办)."),
        lo=0, hi=60)
# Each workflow's deadlines name their own setting and default.
for _kind, _wf in workflows.WORKFLOWS.items():
    for _state, (_key, _days) in _wf.deadlines.items():
        if _key not in REGISTRY:
            declare(_key, _days, "days",
                    _l("Working days allowed in the state “%(state)s” (%(kind)s).",
                       state=STATE_LABELS[_state], kind=KIND_LABELS[_kind]), lo=1, hi=365)


def get(unit: Unit | None, key: str) -> Any:
    if key not in REGISTRY:
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
    if key not in REGISTRY:
        raise KeyError(key)
    if has_app_context():
        g.pop("_casework_settings", None)
    row = db.session.scalar(select(UnitSetting).where(UnitSetting.unit_id == unit.id,
                                                      UnitSetting.key == key))
    if row is None:
        db.session.add(UnitSetting(unit_id=unit.id, key=key, value=value))
    else:
        row.value = value


def reset(unit: Unit, key: str) -> bool:
    """The unit follows the unit above again; False when it had no value of its own."""
    if has_app_context():
        g.pop("_casework_settings", None)
    row = db.session.scalar(select(UnitSetting).where(UnitSetting.unit_id == unit.id,
                                                      UnitSetting.key == key))
    if row is None:
        return False
    db.session.delete(row)
    return True


def shown(key: str, value: Any) -> str:
    """A value as the admin types it: yuan for money, comma-separated lists, yes/no."""
    spec = REGISTRY[key]
    if spec.type == "money":
        return "" if value is None else format_money(int(value)) or ""
    if spec.type in ("scores", "codes"):
        return ", ".join(str(v) for v in value or [])
    if spec.type == "flag":
        return _("yes") if value else _("no")
    return "" if value is None else str(value)


YES, NO = {"1", "yes", "true", "on", "是"}, {"0", "no", "false", "off", "否", ""}


def parse_value(key: str, raw: str, unit: Unit | None = None) -> Any:
    """An admin's text as a value of the setting's type; ValueError says why not, in the admin's language.
    With `unit`, a quorum above the committee's size (or the other way round) is refused too."""
    spec = REGISTRY[key]
    raw = (raw or "").strip()
    if spec.type == "flag":
        low = raw.lower()
        if low in YES or low == str(_("yes")).lower():
            return True
        if low in NO or low == str(_("no")).lower():
            return False
        raise ValueError(_("Answer yes or no."))
    if spec.type == "money":
        value = parse_money(raw)
        if value < 1:
            raise ValueError(_("The amount must be more than zero."))
        return value
    if spec.type in ("count", "days", "percent"):
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(_("Enter a whole number.")) from None
        hi = 100 if spec.type == "percent" else spec.hi
        if value < spec.lo and spec.below is not None:
            raise ValueError(str(spec.below))
        if value < spec.lo or (hi is not None and value > hi):
            raise ValueError(_("Enter a number from %(lo)s to %(hi)s.", lo=spec.lo, hi=hi) if hi is not None
                             else _("Enter a number of %(lo)s or more.", lo=spec.lo))
        if unit is not None:
            _check_committee(unit, key, value)
        return value
    items = [p.strip() for p in raw.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    if spec.type == "scores":
        try:
            scores = [int(x) for x in items]
        except ValueError:
            raise ValueError(_("Enter whole numbers separated by commas.")) from None
        if len(scores) != len(spec.default) or any(not 0 <= s <= 100 for s in scores) \
                or scores != sorted(set(scores), reverse=True):
            raise ValueError(_("Enter %(n)s different scores from 0 to 100, highest first.",
                               n=len(spec.default)))
        return scores
    if spec.type == "codes":
        bad = [x for x in items if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", x)]
        if bad:
            raise ValueError(_("Document types are codes such as income_proof, separated by commas."))
        return list(dict.fromkeys(items))
    if len(raw) > 40:
        raise ValueError(_("At most %(n)s characters.", n=40))
    if not raw:
        raise ValueError(_("This field is required."))
    return raw


def _check_committee(unit: Unit, key: str, value: int) -> None:
    if key == "committee_quorum" and value > int(get(unit, "committee_size")):
        raise ValueError(_("The quorum cannot be larger than the committee (%(n)s members here).",
                           n=get(unit, "committee_size")))
    if key == "committee_size" and value < int(get(unit, "committee_quorum")):
        raise ValueError(_("The committee cannot be smaller than its quorum (%(n)s here).",
                           n=get(unit, "committee_quorum")))
