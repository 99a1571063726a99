"""The roster import: one function, `import_roster`, for the CLI, the admin pages and the API.

Rows are matched by employee number (工号): a re-run of the same file changes nothing, a changed file
updates only the changed members, members missing from the file stay unless the caller asks for them to be
deactivated (never deleted: their cases stay intact). Every refusal names its data row and says why in
Chinese, the language of the roster itself. Writes go in chunks, each committed with the progress
counter, so a page can show progress and an interrupted import is finished by running the same file again.

New accounts get no password: each gets a one-time activation code (printed per unit) with which the
member sets their own password. No admin ever knows a member's password, the printed list is worthless
once used or expired, and an import of 5,000 people costs no password hashing at all.
"""
from __future__ import annotations

import logging
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from flask_babel import lazy_gettext as _l, lazy_pgettext as _lp
from sqlalchemy import delete, insert, select, update
from stdnum.cn import ric

from ..accounts.models import ROLES, RoleAssignment, Unit, User
from ..clock import today, utcnow
from ..core.errors import CaseworkError, Conflict
from ..exports import writer
from ..extensions import db
from ..labels import ROLE_LABELS, chinese, in_chinese
from ..names import normalise_name
from . import crypto
from .models import Activation, RosterImport, UserIdentity
from .parse import COLUMNS, HEADER_ZH, Table, read, text_of

ROLE_NAMES = {  # Chinese names a roster may use (GLOSSARY.md), besides the codes
    "职工": "worker", "会员": "worker", "职工代表": "representative", "教代会代表": "representative",
    "代表": "representative", "工会小组长": "group_leader", "小组长": "group_leader",
    "工会干事": "union_staff", "干事": "union_staff", "工会委员会": "committee", "委员": "committee",
    "审批小组": "committee", "基金管理员": "fund_manager", "财务": "fund_manager", "评审专家": "evaluator",
    "提案审查委员会": "motion_committee", "系统管理员": "admin", "管理员": "admin",
}
# Roles at the member's own unit. Member roles follow the file (every member is a worker); office roles
# (staff, committee, ...) a file may grant but never takes away: they are appointed, and an HR export that
# knows nothing of them must not strip them. Admin rights are never granted by a spreadsheet.
ROSTER_ROLES = tuple(r for r in ROLES if r != "admin")
MEMBER_ROLES = ("worker", "representative", "group_leader")
NEXT_LEVEL = {"federation": "branch", "branch": "group"}
FORMULA_START = writer.DANGEROUS
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
EMPLOYEE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
SPLIT_RE = re.compile(r"[,，、;；\s]+")
CHUNK = 500
log = logging.getLogger("casework.roster")
ACTIVATION_DAYS = 30
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"  # no 0/O, 1/I/L, U: read off paper and typed in


@dataclass
class Row:
    no: int
    cells: list[str]
    name: str = ""
    employee_no: str = ""
    phone: str | None = None
    unit_text: str = ""
    id_number: str | None = None
    roles: list[str] | None = None  # None: the cell was empty
    reasons: list[str] = field(default_factory=list)
    unit: Unit | None = None
    unit_id: int | None = None
    user_id: int | None = None
    old_unit_id: int | None = None
    old_phone: str | None = None
    new_unit: tuple[str, ...] | None = None  # a missing unit path that may be created
    user: User | None = None
    changes: list[list] = field(default_factory=list)


@dataclass
class Report:
    dry_run: bool
    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[dict] = field(default_factory=list)
    missing_units: list[dict] = field(default_factory=list)
    units_created: list[str] = field(default_factory=list)
    deactivated: list[dict] = field(default_factory=list)
    planned: list[dict] = field(default_factory=list)  # creations and updates, for the report table
    activations: int = 0
    import_id: int | None = None

    def as_dict(self) -> dict:
        from dataclasses import asdict
        return asdict(self)


class Options:
    def __init__(self, create_units: bool = False, deactivate_missing: bool = False):
        self.create_units, self.deactivate_missing = create_units, deactivate_missing


# -- the one entry point ---------------------------------------------------------------------------

def import_roster(data: bytes, filename: str, actor: User | None, *, dry_run: bool = True,
                  create_units: bool = False, deactivate_missing: bool = False,
                  job: RosterImport | None = None, on_progress: Callable[[int, int], None] | None = None
                  ) -> Report:
    """Checks (dry run) or imports a roster file. Raises Invalid/BadRequest for a file that cannot be read;
    row problems never raise, they are refused rows in the report. Commits when it writes."""
    table = read(data, filename)
    opts = Options(create_units, deactivate_missing)
    rows, report, plan = _check(table, opts, actor, dry_run)
    if job is not None:
        job.refused_rows = _encrypted_refusals(table, rows)
    if dry_run:
        db.session.rollback()
        return report
    _write(plan, report, actor, job, on_progress)
    return report


def _new_job(data: bytes, filename: str, actor: User | None, create_units: bool, deactivate_missing: bool,
             status: str) -> RosterImport:
    import hashlib
    return RosterImport(filename=(filename or "roster")[:200], sha256=hashlib.sha256(data).hexdigest(),
                        created_by_id=actor.id if actor else None, create_units=create_units,
                        deactivate_missing=deactivate_missing, status=status)


def import_now(data: bytes, filename: str, actor: User | None, *, dry_run: bool, create_units: bool = False,
               deactivate_missing: bool = False) -> tuple[RosterImport, Report]:
    """The API and the CLI: check or import at once; the report and the refused rows are kept."""
    status = "checked" if dry_run else "running"
    job = _new_job(data, filename, actor, create_units, deactivate_missing, status)
    try:
        report = import_roster(data, filename, actor, dry_run=dry_run, create_units=create_units,
                               deactivate_missing=deactivate_missing, job=job)
    except CaseworkError:
        db.session.rollback()
        raise
    except Exception as exc:  # noqa: BLE001  e.g. a member changed by someone else meanwhile
        db.session.rollback()
        if job.id is not None:
            failed = db.session.get(RosterImport, job.id)
            failed.status, failed.finished_at, failed.error = "failed", utcnow(), exc.__class__.__name__
            db.session.commit()
        raise Conflict(chinese(_l("The import stopped part way (the data changed during the import). Members "
                                  "already written stay; import the same file again to finish the rest.")),
                       code="import_interrupted") from None
    if not dry_run:
        job.status, job.finished_at, job.done = "done", utcnow(), job.total
    db.session.add(job)
    db.session.flush()
    report.import_id = job.id
    job.report = report.as_dict()
    db.session.commit()
    return job, report


def save_upload(data: bytes, filename: str, actor: User | None, create_units: bool,
                deactivate_missing: bool) -> tuple[RosterImport, Report]:
    """The admin page's dry run: check the file and keep it (encrypted) for the confirmed import."""
    forget_stale_uploads()
    job = _new_job(data, filename, actor, create_units, deactivate_missing, "checked")
    report = import_roster(data, filename, actor, dry_run=True, create_units=create_units,
                           deactivate_missing=deactivate_missing, job=job)
    job.content = crypto.encrypt_bytes(data)
    job.total, job.report = report.total, report.as_dict()
    db.session.add(job)
    db.session.commit()
    report.import_id = job.id
    return job, report


def forget_stale_uploads(hours: int = 24):
    """Checked files nobody imported: drop them (they hold ID numbers); their reports stay."""
    db.session.execute(update(RosterImport).where(
        RosterImport.status == "checked", RosterImport.content.is_not(None),
        RosterImport.created_at < utcnow() - timedelta(hours=hours)).values(content=None),
        execution_options={"synchronize_session": False})


def run_saved(job_id: int, actor_id: int | None) -> Report | None:
    """Runs a checked upload for real (in the page's background thread, or inline). Marks the job done or
    failed; the file itself is dropped either way."""
    job = db.session.get(RosterImport, job_id)
    if job is None or job.status != "running":
        return None
    actor = db.session.get(User, actor_id) if actor_id else None
    data = crypto.decrypt_bytes(job.content)
    try:
        if data is None:
            raise CaseworkError(chinese(_l("The uploaded file can no longer be read (the key was changed); "
                                              "upload it again.")))
        report = import_roster(data, job.filename, actor, dry_run=False, create_units=job.create_units,
                               deactivate_missing=job.deactivate_missing, job=job)
    except Exception as exc:  # noqa: BLE001  the page must say what happened, whatever it was
        db.session.rollback()
        log.exception("roster import %s failed", job_id)
        job = db.session.get(RosterImport, job_id)
        job.status, job.finished_at, job.content = "failed", utcnow(), None
        # Our own refusals say why; anything else (a member changed meanwhile) gets no SQL on the page.
        job.error = str(exc.message) if isinstance(exc, CaseworkError) else chinese(_l(
            "The import stopped part way (%(error)s). Members already written stay; import the same file "
            "again to finish the rest.", error=exc.__class__.__name__))
        db.session.commit()
        return None
    report.import_id = job.id
    job.status, job.finished_at, job.content = "done", utcnow(), None
    job.report, job.done = report.as_dict(), job.total
    db.session.commit()
    return report


# -- checking ----------------------------------------------------------------------------------------

class _Directory:
    """What the check needs of the database, loaded once (a few queries for any file size)."""

    def __init__(self):
        self.units = db.session.scalars(select(Unit)).all()
        by_id = {u.id: u for u in self.units}
        self.paths: dict[tuple[str, ...], Unit] = {}
        for u in self.units:
            names = [by_id[i].name for i in u.ancestor_ids() if i in by_id]
            self.paths[tuple(names)] = u
        self.suffixes: dict[tuple[str, ...], list[Unit]] = defaultdict(list)
        for path, u in self.paths.items():
            for i in range(1, len(path)):
                self.suffixes[path[i:]].append(u)
        self.roots = {path[0]: u for path, u in self.paths.items() if len(path) == 1}
        self.users = {u.employee_no: u for u in
                      db.session.scalars(select(User).where(User.employee_no.is_not(None)))}
        self.usernames = set(db.session.scalars(select(User.username)))
        self.phones = dict(db.session.execute(select(User.phone, User.id)
                                              .where(User.phone.is_not(None))).all())
        self.user_emp = dict(db.session.execute(select(User.id, User.employee_no)).all())
        self.identities = {row.user_id: row for row in db.session.scalars(select(UserIdentity))}
        self.digests = {row.id_digest: row.user_id for row in self.identities.values()}
        self.roles: dict[int, set[tuple[str, int]]] = defaultdict(set)
        for uid, role, unit_id in db.session.execute(select(RoleAssignment.user_id, RoleAssignment.role,
                                                            RoleAssignment.unit_id)):
            self.roles[uid].add((role, unit_id))
        self.admins = {uid for uid, roles in self.roles.items() if any(r == "admin" for r, _u in roles)}

    def find_unit(self, path: tuple[str, ...]) -> tuple[Unit | None, str | None, tuple | None]:
        """(unit, refusal, creatable missing path)."""
        if path in self.paths:
            return self.paths[path], None, None
        if any(len(name) > 100 for name in path):
            return None, chinese(_l("Unit name too long (at most 100 characters a level)")), None
        matches = self.suffixes.get(path, [])
        if len(matches) == 1:
            return matches[0], None, None
        named = "/".join(path)
        if len(matches) > 1:
            return None, chinese(_l("Unit “%(path)s” matches several units of that name; write the full path "
                                    "from the top unit", path=named)), None
        if path[0] not in self.roots:
            roots = "、".join(sorted(self.roots)) or chinese(_l("(none)"))
            return None, chinese(_l("Unit “%(path)s” does not exist (the path starts at a top unit: "
                                    "%(roots)s)", path=named, roots=roots)), None
        if len(path) > 3:
            return None, chinese(_l("Unit “%(path)s” has too many levels (three at most: federation/branch/"
                                    "group)", path=named)), None
        return None, chinese(_l("Unit “%(path)s” does not exist", path=named)), path


def _unit_path(text: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in re.split(r"\s*[/／\\>＞]\s*", text) if p.strip())


def _check_id(cell, text: str, on) -> tuple[str | None, str | None]:
    """(normalised number, refusal)."""
    number = text.replace(" ", "").upper()
    if isinstance(cell, float) or re.match(r"^\d(\.\d+)?E\+?\d+$", number):
        # Excel keeps 15 significant digits: the last ones are gone, nothing here can restore them.
        return None, chinese(_l("The ID number was stored as a number and its last digits are lost; format "
                                "the column as “Text” and fill it in again"))
    if len(number) != 18:
        return None, chinese(_l("An ID number has 18 characters (this one has %(count)d)", count=len(number)))
    if not (number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")):
        return None, chinese(_l("ID number malformed (17 digits, then a digit or X)"))
    if ric.calc_check_digit(number) != number[17]:
        return None, chinese(_l("ID number check digit wrong; check the number"))
    try:
        born = ric.get_birth_date(number)
    except Exception:  # noqa: BLE001  stdnum raises InvalidComponent for an impossible date
        return None, _bad_birth_date(f"{number[6:10]}-{number[10:12]}-{number[12:14]}")
    if born > on or born.year < 1900:
        return None, _bad_birth_date(born.isoformat())
    return number, None


def _bad_birth_date(shown: str) -> str:
    return chinese(_l("The birth date in the ID number is not valid (%(date)s)", date=shown))


def _parse_roles(text: str) -> tuple[list[str], list[str]]:
    roles, refusals = [], []
    for part in (p for p in SPLIT_RE.split(text) if p):
        code = part if part in ROLES else ROLE_NAMES.get(part) or ROLE_NAMES.get(part.lower())
        if code is None:
            names = "、".join(dict.fromkeys(in_chinese(ROLE_LABELS, r) for r in ROSTER_ROLES))
            refusals.append(chinese(_l("Unknown role “%(role)s” (allowed: %(names)s, or a role code)",
                                       role=part, names=names)))
        elif code == "admin":
            refusals.append(chinese(_l("The administrator role cannot be granted by the roster; set it on "
                                       "the “People” page")))
        elif code not in roles:
            roles.append(code)
    return roles, refusals


def _read_row(no: int, raw: list, table: Table, on) -> Row:
    cells = [text_of(v) for v in raw]
    row = Row(no=no, cells=cells)
    col = table.columns
    poisoned = set()
    for index, text in enumerate(cells):
        if text.startswith(FORMULA_START):
            named = index < len(table.headers) and table.headers[index]
            header = table.headers[index] if named else chinese(_l("column %(number)d", number=index + 1))
            row.reasons.append(chinese(_l(
                "The “%(column)s” column starts with “%(start)s”, which looks like a formula injection; "
                "refused (delete the leading = + - @)", column=header,
                start=text[0].strip() or chinese(_l("a tab")))))
            poisoned.add(index)

    def value(field_name):
        index = col.get(field_name)
        if index is None or index in poisoned or index >= len(cells):
            return None, None
        return raw[index], cells[index]

    _cell, row.name = value("name")
    if row.name is not None:
        row.name = normalise_name(row.name)
    if row.name is not None and col["name"] not in poisoned:
        if not row.name:
            row.reasons.append(chinese(_l("Name is empty")))
        elif len(row.name) > 60:
            row.reasons.append(chinese(_l("Name too long (at most 60 characters)")))
    row.name = row.name or ""
    _cell, emp = value("employee_no")
    row.employee_no = (emp or "").strip()
    if col["employee_no"] not in poisoned:
        if not row.employee_no:
            row.reasons.append(chinese(_l("Employee number is empty")))
        elif not EMPLOYEE_RE.match(row.employee_no):
            row.reasons.append(chinese(_l("Employee number “%(number)s” malformed (letters, digits and - _ . "
                                          "only, at most 40)", number=row.employee_no[:40])))
    _cell, phone = value("phone")
    if phone:
        phone = re.sub(r"[\s-]", "", phone)
        if PHONE_RE.match(phone):
            row.phone = phone
        else:
            row.reasons.append(chinese(_l("Mobile number “%(phone)s” malformed (11 digits of a mainland "
                                          "mobile, e.g. 13800001234)", phone=phone[:20])))
    _cell, unit_text = value("unit")
    row.unit_text = unit_text or ""
    if col["unit"] not in poisoned and not row.unit_text:
        row.reasons.append(chinese(_l("Unit is empty")))
    cell, id_text = value("id_number")
    if id_text:
        row.id_number, refusal = _check_id(cell, id_text, on)
        if refusal:
            row.reasons.append(refusal)
    _cell, roles_text = value("roles")
    if roles_text:
        row.roles, refusals = _parse_roles(roles_text)
        row.reasons.extend(refusals)
    return row


def _duplicates(rows: list[Row], key: Callable[[Row], str | None], refusal: Callable[[str, str], str]):
    seen: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        value = key(row)
        if value:
            seen[value].append(row)
    for value, group in seen.items():
        if len(group) > 1:
            where = "、".join(str(r.no) for r in group)
            for row in group:
                row.reasons.append(refusal(value, where))


def _check(table: Table, opts: Options, actor: User | None, dry_run: bool):
    directory = _Directory()
    on = today()
    rows = [_read_row(no, raw, table, on) for no, raw in table.rows]
    _duplicates(rows, lambda r: r.employee_no, lambda v, where: chinese(_l(
        "Employee number “%(value)s” repeats in the file (rows %(rows)s)", value=v, rows=where)))
    _duplicates(rows, lambda r: r.phone, lambda v, where: chinese(_l(
        "Mobile number “%(value)s” repeats in the file (rows %(rows)s)", value=v, rows=where)))
    _duplicates(rows, lambda r: r.id_number, lambda v, where: chinese(_l(
        "ID number (ending %(value)s) repeats in the file (rows %(rows)s)", value=v[-4:], rows=where)))
    missing: dict[tuple, list[int]] = defaultdict(list)
    file_emps = {r.employee_no for r in rows if r.employee_no}
    for row in rows:
        row.user = directory.users.get(row.employee_no) if row.employee_no else None
        if row.user is not None:
            row.user_id, row.old_unit_id, row.old_phone = row.user.id, row.user.unit_id, row.user.phone
        if row.unit_text:
            path = _unit_path(row.unit_text)
            unit, refusal, creatable = directory.find_unit(path)
            if creatable:
                missing[creatable].append(row.no)
                if opts.create_units:
                    row.new_unit = creatable
                else:
                    row.reasons.append(chinese(_l("%(refusal)s (tick “Create missing units”)",
                                                  refusal=refusal)))
            elif refusal:
                row.reasons.append(refusal)
            row.unit = unit
            row.unit_id = unit.id if unit else None
        if row.id_number:
            holder = directory.digests.get(crypto.digest(row.id_number))
            if holder is not None and holder != row.user_id:
                other = directory.user_emp.get(holder)
                row.reasons.append(chinese(
                    _l("The ID number is registered to the member with employee number %(number)s",
                       number=other)
                    if other else _l("The ID number is registered to another member")))
    # Phones that members of this file give up are free for others in the same file.
    leaving = {r.old_phone: r.user_id for r in rows if r.old_phone and r.phone and r.phone != r.old_phone
               and not r.reasons}
    for row in rows:
        if row.phone:
            holder = directory.phones.get(row.phone)
            if holder is not None and holder != row.user_id and leaving.get(row.phone) != holder:
                other = directory.user_emp.get(holder)
                row.reasons.append(chinese(
                    _l("Mobile number “%(phone)s” is used by the account with employee number %(number)s",
                       phone=row.phone, number=other)
                    if other else
                    _l("Mobile number “%(phone)s” is used by another account", phone=row.phone)))
    report = Report(dry_run=dry_run, total=len(rows))
    report.missing_units = [{"path": "/".join(p), "rows": len(n), "create": opts.create_units}
                            for p, n in sorted(missing.items())]
    plan = {"create": [], "update": [], "deactivate": [],
            "units": sorted(missing) if opts.create_units else []}
    for row in rows:
        if row.reasons:
            report.refused.append({"row": row.no, "reason": "；".join(row.reasons),
                                   "employee_no": row.employee_no, "name": row.name})
            continue
        if row.user is None:
            report.created += 1
            plan["create"].append(row)
            if len(report.planned) < 1000:
                unit = "/".join(row.new_unit) if row.new_unit else row.unit.full_name().replace(" / ", "/")
                report.planned.append({"row": row.no, "action": "create", "employee_no": row.employee_no,
                                       "name": row.name, "unit": unit})
            continue
        row.changes = _diff(row, directory)
        if row.changes:
            report.updated += 1
            plan["update"].append(row)
            if len(report.planned) < 1000:
                report.planned.append({"row": row.no, "action": "update", "employee_no": row.employee_no,
                                       "name": row.name, "changes": row.changes})
        else:
            report.unchanged += 1
    if opts.deactivate_missing:
        plan["deactivate"] = _leavers(rows, file_emps, directory, actor)
        report.deactivated = [{"employee_no": u.employee_no, "name": u.name, "unit": u.unit.name}
                              for u in plan["deactivate"]]
    plan["directory"] = directory
    return rows, report, plan


def _diff(row: Row, d: _Directory) -> list[list]:
    user, out = row.user, []
    if row.name != user.name:
        out.append(["name", user.name, row.name])
    if row.phone and row.phone != user.phone:
        out.append(["phone", user.phone or "", row.phone])
    if row.new_unit or row.unit_id != user.unit_id:
        target = "/".join(row.new_unit) if row.new_unit else row.unit.full_name()
        out.append(["unit", user.unit.full_name(), target])
    if row.id_number:
        have = d.identities.get(user.id)
        if have is None or have.id_digest != crypto.digest(row.id_number):
            out.append(["id_number", have.id_masked if have else "", crypto.mask(row.id_number)])
    if row.roles is not None:
        held = set() if row.new_unit else {r for r, u in d.roles.get(user.id, ()) if u == row.unit_id}
        remove, add = role_changes(held, row.roles)
        if remove or add:
            after = (held - remove) | add
            out.append(["roles", "、".join(in_chinese(ROLE_LABELS, r) for r in sorted(held & set(ROSTER_ROLES))),
                        "、".join(in_chinese(ROLE_LABELS, r) for r in sorted(after & set(ROSTER_ROLES)))])
    if not user.active:
        out.append(["active", chinese(_l("Inactive")), chinese(_l("Active"))])
    return out


def role_changes(held: set[str], listed: list[str]) -> tuple[set[str], set[str]]:
    """(roles to remove, roles to add) at the member's unit for the file's roles column."""
    want_member = {"worker"} | {r for r in listed if r in MEMBER_ROLES}
    want_office = {r for r in listed if r not in MEMBER_ROLES}
    have_member = {r for r in held if r in MEMBER_ROLES}
    return have_member - want_member, (want_member - have_member) | (want_office - held)


def _leavers(rows: list[Row], file_emps: set[str], d: _Directory, actor: User | None) -> list[User]:
    """Active members of the units the file covers (and their sub-units) whom the file no longer lists.
    Never the importing admin nor any admin: their accounts are managed by hand."""
    scope = sorted({r.unit.path for r in rows if r.unit is not None})
    if not scope:
        return []
    out = []
    for emp, user in sorted(d.users.items()):
        if (emp in file_emps or not user.active or (actor and user.id == actor.id) or user.id in d.admins):
            continue
        if any(user.unit.path.startswith(p) for p in scope):
            out.append(user)
    return out


# -- writing ------------------------------------------------------------------------------------------

def _write(plan: dict, report: Report, actor: User | None, job: RosterImport | None,
           on_progress: Callable[[int, int], None] | None):
    d: _Directory = plan["directory"]
    creates, updates, leavers = plan["create"], plan["update"], [u.id for u in plan["deactivate"]]
    total = len(creates) + len(updates) + len(leavers)
    done = 0
    if job is not None:
        job.total, job.done, job.heartbeat_at = total, 0, utcnow()
        if job.id is None:
            db.session.add(job)

    def tick(n: int):
        nonlocal done
        done += n
        if job is not None:
            job.done, job.heartbeat_at = done, utcnow()
        db.session.commit()
        if on_progress:
            on_progress(done, total)

    created_units = _create_units(plan["units"], d)
    report.units_created = ["/".join(p) for p in plan["units"]]
    for row in creates + updates:
        if row.new_unit:
            row.unit_id = created_units[row.new_unit]
    # Phones may move between members of the same file: free them all first, so no step of the import
    # trips the unique constraint half-way (an interrupted import is finished by running it again).
    moving = [r.user_id for r in updates if any(c[0] == "phone" for c in r.changes)]
    for start in range(0, len(moving), CHUNK):
        db.session.execute(update(User).where(User.id.in_(moving[start:start + CHUNK])).values(phone=None),
                           execution_options={"synchronize_session": False})
    tick(0)
    expires = utcnow() + timedelta(days=ACTIVATION_DAYS)
    for start in range(0, len(creates), CHUNK):
        chunk = creates[start:start + CHUNK]
        report.activations += _create_users(chunk, d, job, expires)
        tick(len(chunk))
    for start in range(0, len(updates), CHUNK):
        chunk = updates[start:start + CHUNK]
        _update_users(chunk, d)
        tick(len(chunk))
    for start in range(0, len(leavers), CHUNK):
        part = leavers[start:start + CHUNK]
        db.session.execute(update(User).where(User.id.in_(part)).values(active=False),
                           execution_options={"synchronize_session": False})
        _void_codes(part)
        tick(len(part))


def _create_units(paths: list[tuple], d: _Directory) -> dict[tuple, int]:
    made: dict[tuple, Unit] = {}
    for path in paths:
        for depth in range(2, len(path) + 1):
            prefix = path[:depth]
            if prefix in d.paths or prefix in made:
                continue
            parent = made.get(prefix[:-1]) or d.paths[prefix[:-1]]
            unit = Unit(code=_unit_code(), name=prefix[-1][:100], level=NEXT_LEVEL.get(parent.level, "group"),
                        parent=parent)
            db.session.add(unit)
            db.session.flush()
            unit.set_path()
            made[prefix] = unit
    db.session.flush()
    return {p: (made.get(p) or d.paths[p]).id for p in paths}


def _unit_code() -> str:
    while True:
        code = "R" + secrets.token_hex(4).upper()
        if db.session.scalar(select(Unit.id).where(Unit.code == code)) is None:
            return code


def _username(employee_no: str, taken: set[str]) -> str:
    fits = EMPLOYEE_RE.match(employee_no) and len(employee_no) <= 56
    base = employee_no if fits else "m" + secrets.token_hex(4)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    taken.add(name)
    return name


def new_code() -> str:
    number, raw = secrets.randbelow(len(CODE_ALPHABET) ** 12), ""  # 12 of 30 symbols: 58 bits
    for _ in range(12):
        number, digit = divmod(number, len(CODE_ALPHABET))
        raw += CODE_ALPHABET[digit]
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _create_users(rows: list[Row], d: _Directory, job: RosterImport | None, expires) -> int:
    now = utcnow()
    params = [{"username": _username(r.employee_no, d.usernames), "name": r.name,
               "employee_no": r.employee_no, "phone": r.phone, "unit_id": r.unit_id, "password_hash": "",
               "active": True, "session_epoch": 0, "failed_logins": 0, "created_at": now} for r in rows]
    inserted = db.session.execute(insert(User).returning(User.id, User.employee_no), params)
    ids = {emp: uid for uid, emp in inserted}
    roles, identities, codes = [], [], []
    for r in rows:
        uid = ids[r.employee_no]
        for role in sorted({"worker", *(r.roles or [])}):
            roles.append({"user_id": uid, "role": role, "unit_id": r.unit_id})
        if r.id_number:
            identities.append(_identity_params(uid, r.id_number, now))
        code = new_code()
        codes.append({"user_id": uid, "import_id": job.id if job is not None else None,
                      "code_hash": Activation.digest(code), "code_encrypted": crypto.encrypt(code),
                      "created_at": now, "expires_at": expires})
    if roles:
        db.session.execute(insert(RoleAssignment), roles)
    if identities:
        db.session.execute(insert(UserIdentity), identities)
    db.session.execute(insert(Activation), codes)
    return len(codes)


def _identity_params(uid: int, number: str, now) -> dict:
    return {"user_id": uid, "id_number_encrypted": crypto.encrypt(number), "id_masked": crypto.mask(number),
            "id_digest": crypto.digest(number), "updated_at": now}


def _update_users(rows: list[Row], d: _Directory):
    """Core statements from the values snapshotted at the check: no per-member reloads."""
    now = utcnow()
    for r in rows:
        changed = {c[0] for c in r.changes}
        values = {}
        if "name" in changed:
            values["name"] = r.name
        if "phone" in changed:
            values["phone"] = r.phone
        if "unit" in changed:
            values["unit_id"] = r.unit_id
        if "active" in changed:
            values["active"] = True
        if values:
            db.session.execute(update(User).where(User.id == r.user_id).values(**values),
                               execution_options={"synchronize_session": False})
        held = d.roles.get(r.user_id, set())
        wanted = None
        if "unit" in changed and r.old_unit_id != r.unit_id:
            # The member moved: their member roles at the old unit move with them.
            old = {role for role, unit_id in held if unit_id == r.old_unit_id and role in MEMBER_ROLES}
            if old:
                db.session.execute(delete(RoleAssignment).where(
                    RoleAssignment.user_id == r.user_id, RoleAssignment.unit_id == r.old_unit_id,
                    RoleAssignment.role.in_(sorted(old))))
            wanted = list(r.roles) if r.roles is not None else sorted(old | {"worker"})
        elif "roles" in changed:
            wanted = list(r.roles)
        if wanted is not None:
            have = {role for role, unit_id in held if unit_id == r.unit_id}
            remove, add = role_changes(have, wanted)
            if remove:
                db.session.execute(delete(RoleAssignment).where(
                    RoleAssignment.user_id == r.user_id, RoleAssignment.unit_id == r.unit_id,
                    RoleAssignment.role.in_(sorted(remove))))
            if add:
                db.session.execute(insert(RoleAssignment), [
                    {"user_id": r.user_id, "role": role, "unit_id": r.unit_id} for role in sorted(add)])
        if "id_number" in changed:
            db.session.execute(delete(UserIdentity).where(UserIdentity.user_id == r.user_id))
            db.session.execute(insert(UserIdentity), [_identity_params(r.user_id, r.id_number, now)])


def _void_codes(user_ids: list[int]):
    db.session.execute(update(Activation).where(Activation.user_id.in_(user_ids),
                                                Activation.used_at.is_(None), Activation.voided_at.is_(None))
                       .values(voided_at=utcnow(), code_encrypted=None),
                       execution_options={"synchronize_session": False})


# -- refused rows: the file to fix and upload again -----------------------------------------------------

def _encrypted_refusals(table: Table, rows: list[Row]) -> bytes | None:
    import json
    refused = [{"row": r.no, "cells": r.cells, "reason": "；".join(r.reasons)} for r in rows if r.reasons]
    if not refused:
        return None
    body = {"headers": table.headers, "rows": refused}
    return crypto.encrypt_bytes(json.dumps(body, ensure_ascii=False).encode())


def refused_rows(job: RosterImport) -> dict | None:
    import json
    blob = crypto.decrypt_bytes(job.refused_rows)
    return json.loads(blob) if blob else None


escape_cell = writer.escape_text  # OWASP CSV injection: a formula-like cell is prefixed with '


def refusal_file(body: dict, fmt: str) -> tuple[bytes, str]:
    """The refused rows with a 原因 (reason) column, as XLSX or CSV; formulas escaped, ID numbers as text."""
    headers = [h or chinese(_l("Column %(number)d", number=i + 1)) for i, h in enumerate(body["headers"])] + [
        chinese(_lp("roster file", "Reason")), chinese(_l("Row in the file"))]
    lines = [[escape_cell(c) for c in (r["cells"] + [""] * (len(body["headers"]) - len(r["cells"])))
              [:len(body["headers"])]] + [escape_cell(r["reason"]), str(r["row"])] for r in body["rows"]]
    if fmt == "csv":
        return writer.csv_bytes(headers, lines), writer.CSV_TYPE
    # text cells: ID numbers keep all 18 digits when edited
    return writer.xlsx_bytes(chinese(_l("Rows not imported")), headers, lines, text=True), writer.XLSX_TYPE


# -- activation ---------------------------------------------------------------------------------------------

def pending_codes(unit: Unit | None = None, import_id: int | None = None) -> list[tuple[Activation, str]]:
    """Unused, unexpired codes with their text, for the printed list; newest code per member."""
    stmt = (select(Activation).join(User, User.id == Activation.user_id)
            .where(Activation.used_at.is_(None), Activation.voided_at.is_(None), User.active.is_(True),
                   Activation.expires_at > utcnow(), Activation.code_encrypted.is_not(None)))
    if unit is not None:
        stmt = stmt.where(User.unit_id.in_(select(Unit.id).where(Unit.path.startswith(unit.path))))
    if import_id is not None:
        stmt = stmt.where(Activation.import_id == import_id)
    out, seen = [], set()
    for act in db.session.scalars(stmt.order_by(User.unit_id, User.employee_no, Activation.id.desc())):
        code = crypto.decrypt(act.code_encrypted)
        if code and act.user_id not in seen:
            seen.add(act.user_id)
            out.append((act, code))
    return out


def reissue(user: User, *, printable: bool = True,
            lifetime: timedelta = timedelta(days=ACTIVATION_DAYS)) -> str:
    """A fresh code for one member (a lost list, an expired code, a forgotten password); the old ones stop
    working. A code handed over at once (a password reset by staff) keeps no copy for the printed list."""
    _void_codes([user.id])
    code = new_code()
    db.session.add(Activation(user_id=user.id, code_hash=Activation.digest(code),
                              code_encrypted=crypto.encrypt(code) if printable else None,
                              expires_at=utcnow() + lifetime))
    return code


def reset_link_token(user: User, lifetime: timedelta) -> str:
    """A one-time secret for an e-mailed reset link, kept only as its SHA-256 among the member's codes.
    Earlier codes stay valid: anybody can ask for a link by name, and that must not void a printed slip."""
    token = secrets.token_hex(32).upper()
    db.session.add(Activation(user_id=user.id, code_hash=Activation.digest(token), code_encrypted=None,
                              expires_at=utcnow() + lifetime))
    return token


def _set_password_with(user: User, act: Activation, password: str) -> User:
    from ..accounts import auth
    user.set_password(password)
    user.session_epoch = (user.session_epoch or 0) + 1
    auth.revoke_all(user)  # a new password ends the old sessions and API tokens alike
    act.used_at, act.code_encrypted = utcnow(), None
    _void_codes([user.id])
    return user


def reset_with_token(token: str, password: str) -> User | None:
    """Sets a new password if the link's token is unused and unexpired; it and every other code then stop
    working. None otherwise."""
    act = db.session.scalar(select(Activation).where(
        Activation.code_hash == Activation.digest((token or "").strip()), Activation.used_at.is_(None),
        Activation.voided_at.is_(None), Activation.expires_at > utcnow()))
    if act is None or not act.user.active:
        return None
    return _set_password_with(act.user, act, password)


def activate(login: str, code: str, password: str) -> User | None:
    """Sets the member's first password if the code is theirs, unused and unexpired; else None."""
    from ..accounts.models import find_login
    user = find_login(login)
    if user is None or not user.active:
        return None
    act = db.session.scalar(select(Activation).where(
        Activation.user_id == user.id, Activation.code_hash == Activation.digest(code.strip()),
        Activation.used_at.is_(None), Activation.voided_at.is_(None), Activation.expires_at > utcnow()))
    if act is None:
        return None
    return _set_password_with(user, act, password)


def identity_of(user: User) -> UserIdentity | None:
    return db.session.get(UserIdentity, user.id)


__all__ = ["import_roster", "import_now", "save_upload", "run_saved", "Report", "refusal_file",
           "refused_rows", "escape_cell", "pending_codes", "reissue", "activate", "reset_link_token",
           "reset_with_token", "COLUMNS", "HEADER_ZH"]
