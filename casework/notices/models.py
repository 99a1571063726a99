"""Issued notices (immutable PDFs with their hash and verification code) and batch print jobs.

The PDF bytes live in the database (a deferred LargeBinary), not in files: a notice is issued inside the
transition's transaction, so a rolled-back step leaves neither a row nor an orphan file; backups and restores
of the database carry the notices with the audit trail they belong to; and every web worker or host serves the
same bytes. A one-page notice with its embedded font subset is ~100-250 KB.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (JSON, CheckConstraint, DateTime, ForeignKey, Integer, LargeBinary, String,
                        UniqueConstraint, event, inspect)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Unit, User
from ..clock import utcnow
from ..core.models import Case
from ..extensions import db
from ..tasks.models import Job


@dataclass(frozen=True)
class NoticeKind:
    name: str
    title: str           # printed title and what /verify shows
    mark: str            # 代字 after the unit's code: 工 + 帮 → 工帮〔2026〕12号
    public: bool = False  # board postings and fund reports: anyone may see them
    supersedes: tuple[str, ...] = ()  # earlier notices of the same case (or subject) this one replaces
    # A yearly statistics report of a unit and the units below it: seen by whoever may see that unit's
    # statistics dashboard (casework/stats/tables.py), never by anyone else.
    statistics: bool = False

    @property
    def template(self) -> str:
        return f"{self.name}.html"


KINDS: dict[str, NoticeKind] = {k.name: k for k in (
    NoticeKind("aid_approval", "救助审批通知书", "帮", supersedes=("aid_approval", "aid_rejection")),
    NoticeKind("aid_rejection", "不予救助通知书", "帮复", supersedes=("aid_approval", "aid_rejection")),
    NoticeKind("aid_receipt", "救助金发放签收单", "帮发", supersedes=("aid_receipt",)),
    NoticeKind("proposal_reply", "合理化建议答复函", "建函", supersedes=("proposal_reply",)),
    NoticeKind("proposal_certificate", "合理化建议奖励证书", "建奖", supersedes=("proposal_certificate",)),
    NoticeKind("motion_filing", "提案立案通知书", "提立"),
    NoticeKind("motion_not_filed", "提案不予立案答复函", "提复"),
    NoticeKind("motion_reply", "提案答复函", "提答", supersedes=("motion_reply",)),
    NoticeKind("board_posting", "公开栏公示", "公", public=True, supersedes=("board_posting",)),
    NoticeKind("fund_report", "救助基金收支情况报告", "基", public=True, supersedes=("fund_report",)),
    NoticeKind("annual_aid", "年度困难职工帮扶工作统计报告", "帮统", statistics=True),
    NoticeKind("annual_proposal", "年度合理化建议工作报告", "建统", statistics=True),
    NoticeKind("annual_motion", "年度职代会提案工作报告", "提统", statistics=True),
    # 督办: a slip to a handling department (on its case), and the monthly bulletin of a unit's figures.
    NoticeKind("supervision_slip", "督办单", "督"),
    NoticeKind("supervision_bulletin", "督办通报", "督通", statistics=True),
)}


class Notice(db.Model):
    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    seq: Mapped[int] = mapped_column(Integer)
    number: Mapped[str] = mapped_column(String(40))        # 文号, e.g. 工帮〔2026〕12号
    issued_at: Mapped[datetime] = mapped_column(DateTime)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # What a notice without a case is about, e.g. "disclosure:12", "fund:1:2026Q4/1" or "annual:aid:1:2026/1".
    subject: Mapped[str | None] = mapped_column(String(60), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    verify_code: Mapped[str] = mapped_column(String(16), unique=True)
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The plain values the template got: batch printing lays the same notice out again from them.
    fields: Mapped[dict] = mapped_column(JSON, nullable=False, deferred=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, deferred=True)

    unit: Mapped[Unit] = relationship()
    case: Mapped[Case | None] = relationship()
    issued_by: Mapped[User | None] = relationship()
    superseded_by: Mapped[Notice | None] = relationship(remote_side=[id])

    __table_args__ = (
        UniqueConstraint("kind", "unit_id", "year", "seq"),
        CheckConstraint(f"kind IN {tuple(KINDS)}", name="kind"),
        CheckConstraint("superseded_by_id IS NULL OR superseded_by_id <> id", name="not_self"),
    )

    @property
    def spec(self) -> NoticeKind:
        return KINDS[self.kind]

    @property
    def display_code(self) -> str:
        c = self.verify_code
        return "-".join(c[i:i + 4] for i in range(0, len(c), 4))


# Once issued, a notice never changes: only the pointer to the notice that replaced it is ever set.
_MUTABLE = {"superseded_by_id", "superseded_by"}


@event.listens_for(Notice, "before_update")
def _notice_is_immutable(mapper, connection, target):
    state = inspect(target)
    changed = {a.key for a in state.attrs if a.history.has_changes()} - _MUTABLE
    if changed:
        raise RuntimeError(f"issued notices are immutable (tried to change {', '.join(sorted(changed))})")


@event.listens_for(Notice, "before_delete")
def _notice_is_kept(mapper, connection, target):
    raise RuntimeError("issued notices are never deleted; issue a new one that supersedes it")


class NoticeBatch(db.Model):
    """A print job: many stored notices laid out again into one PDF. Its progress is its job's row (tasks)."""
    __tablename__ = "notice_batches"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    notice_ids: Mapped[list] = mapped_column(JSON, default=list)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sha256: Mapped[str | None] = mapped_column(String(64))
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    requested_by: Mapped[User] = relationship()
    job: Mapped[Job | None] = relationship()


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(Notice)
