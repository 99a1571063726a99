"""People, org units, departments, role assignments, delegations and declared relatives."""
from __future__ import annotations

import hashlib
from datetime import date, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_login import UserMixin
from sqlalchemy import (Boolean, false as sa_false, CheckConstraint, Date, DateTime, ForeignKey, Integer, String,
                        UniqueConstraint, select)
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..clock import utcnow
from ..extensions import db

_hasher = PasswordHasher()

ROLES = ("worker", "representative", "group_leader", "union_staff", "committee", "fund_manager",
         "evaluator", "motion_committee", "admin")
UNIT_LEVELS = ("federation", "branch", "group")  # 总工会 → 分会 → 小组


class Unit(db.Model):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    # Materialised path "/1/4/9/": ancestors and descendants by one indexed prefix match.
    path: Mapped[str] = mapped_column(String(400), default="", index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Unit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Unit]] = relationship(back_populates="parent", order_by="Unit.id")

    __table_args__ = (CheckConstraint(f"level IN {UNIT_LEVELS}", name="level"),)

    def ancestor_ids(self) -> list[int]:
        return [int(p) for p in self.path.strip("/").split("/") if p]

    def is_within(self, other: Unit) -> bool:
        return self.path.startswith(other.path)

    def set_path(self):
        self.path = (self.parent.path if self.parent else "/") + f"{self.id}/"

    def full_name(self) -> str:
        names, unit = [], self
        while unit is not None:
            names.append(unit.name)
            unit = unit.parent
        return " / ".join(reversed(names))

    def __repr__(self):
        return f"<Unit {self.code}>"


class Department(db.Model):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    members: Mapped[list[DepartmentMember]] = relationship(back_populates="department",
                                                           cascade="all, delete-orphan")

    @property
    def handlers(self) -> list[User]:
        return [m.user for m in self.members]

    @property
    def leaders(self) -> list[User]:
        return [m.user for m in self.members if m.leader]


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    employee_no: Mapped[str | None] = mapped_column(String(40), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on password change and logout-everywhere: old sessions stop working.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    language: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    roles: Mapped[list[RoleAssignment]] = relationship(
        back_populates="user", cascade="all, delete-orphan",
        foreign_keys="RoleAssignment.user_id")
    departments: Mapped[list[DepartmentMember]] = relationship(back_populates="user",
                                                               cascade="all, delete-orphan")

    @validates("name")
    def _normal_name(self, _key, value):
        # Whatever path sets a name (forms, roster, CLI, demo), it is stored in the one normal form.
        from ..names import normalise_name
        return normalise_name(value)

    def set_password(self, password: str):
        self.password_hash = _hasher.hash(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash:
            return False
        try:
            _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        if _hasher.check_needs_rehash(self.password_hash):
            self.set_password(password)
        return True

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.active

    def department_ids(self) -> set[int]:
        return {m.department_id for m in self.departments}

    def __repr__(self):
        return f"<User {self.username}>"


class RoleAssignment(db.Model):
    __tablename__ = "role_assignments"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    user: Mapped[User] = relationship(back_populates="roles", foreign_keys=[user_id])
    unit: Mapped[Unit] = relationship()
    __table_args__ = (UniqueConstraint("user_id", "role", "unit_id"),
                      CheckConstraint(f"role IN {ROLES}", name="role"))


class Delegation(db.Model):
    """A reviewer away from `starts_on` to `ends_on` lends their role at a unit to a colleague."""
    __tablename__ = "delegations"
    id: Mapped[int] = mapped_column(primary_key=True)
    from_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    to_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    from_user: Mapped[User] = relationship(foreign_keys=[from_user_id])
    to_user: Mapped[User] = relationship(foreign_keys=[to_user_id])
    unit: Mapped[Unit] = relationship()
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="dates"),
                      CheckConstraint("from_user_id <> to_user_id", name="not_self"))


RELATIONS = ("spouse", "parent", "child", "sibling", "grandparent", "grandchild", "in_law", "other")


class Relative(db.Model):
    """A declared relative (亲属): a conflict of interest in every review role, both ways. Declared by the
    person themselves on their account page, or recorded by union staff (`recorded_by_id` is then theirs)."""
    __tablename__ = "relatives"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    relative_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    relation: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    relative: Mapped[User] = relationship(foreign_keys=[relative_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    __table_args__ = (UniqueConstraint("user_id", "relative_id"),
                      CheckConstraint("user_id <> relative_id", name="not_self"),
                      CheckConstraint(f"relation IN {RELATIONS}", name="relation"))


class DepartmentMember(db.Model):
    __tablename__ = "department_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    # The department's leader (部门负责人): a handler who also gets its 督办单.
    leader: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    department: Mapped[Department] = relationship(back_populates="members")
    user: Mapped[User] = relationship(back_populates="departments")
    __table_args__ = (UniqueConstraint("department_id", "user_id"),)


class ApiToken(db.Model):
    """Bearer tokens; only the SHA-256 of a token is kept."""
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    user: Mapped[User] = relationship()

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


def find_login(identifier: str) -> User | None:
    """A user by username, employee number or phone."""
    ident = (identifier or "").strip()
    if not ident:
        return None
    return db.session.scalar(select(User).where(
        (User.username == ident) | (User.employee_no == ident) | (User.phone == ident)).limit(1))


class LoginThrottle(db.Model):
    """Failed sign-ins of one account (or activation) from one client address; address "*" counts them from
    every address. See accounts/auth.py."""
    __tablename__ = "login_throttles"
    account: Mapped[str] = mapped_column(String(80), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failed_at: Mapped[datetime | None] = mapped_column(DateTime)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime)
