"""Group robots of WeCom (企业微信) and DingTalk (钉钉): a webhook per robot, configured per unit by an admin.

A robot's messages wait in their own outbox and go out through the e-mail outbox's delivery (claim, retry
with back-off, failed rows on the admin page), at most RATE_PER_MINUTE a minute per robot, the limit both
services set: the rest wait for the next free minute, none is dropped. A message says only the case's
kind, number, step, state and a link (CASEWORK_PUBLIC_URL): a group chat is no place for a person's facts.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import quote_plus, urlsplit

from flask_babel import gettext as _
from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import Unit
from ..clock import utcnow
from ..core.models import Case
from ..extensions import db
from .models import OutboxDelivery

log = logging.getLogger("casework.robots")

ROBOT_KINDS = ("wecom", "dingtalk")
RATE_PER_MINUTE = 20
TIMEOUT = 5.0  # seconds: a robot that does not answer waits for the next run, it does not hold the sweep
# errcodes that mean "too many messages": the row waits, whatever the number of attempts
THROTTLED = {"dingtalk": {130101}, "wecom": {45009}}


class ChatRobot(db.Model):
    __tablename__ = "chat_robots"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    webhook_url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(200), default="")  # DingTalk's 加签 secret; WeCom has none
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    unit: Mapped[Unit] = relationship()
    __table_args__ = (CheckConstraint(f"kind IN {ROBOT_KINDS}", name="kind"),)


class RobotOutbox(OutboxDelivery, db.Model):
    """One message to one robot; the delivery columns are the e-mail outbox's."""
    __tablename__ = "robot_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    robot_id: Mapped[int] = mapped_column(ForeignKey("chat_robots.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    text: Mapped[str] = mapped_column(Text)
    robot: Mapped[ChatRobot] = relationship()
    case: Mapped[Case | None] = relationship()
    __table_args__ = OutboxDelivery.delivery_args("robot_outbox",
                                                  Index("ix_robot_outbox_robot_sent", "robot_id", "sent_at"))


# -- configuration -----------------------------------------------------------------------------

def webhook_problem(url: str) -> str | None:
    """Why `url` cannot be a robot's webhook, in the reader's language; None when it can."""
    url = (url or "").strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return _("A webhook address starts with https:// (or http://); other kinds of address are refused.")
    if not parts.hostname or any(c.isspace() for c in url):
        return _("This is not a complete web address.")
    if len(url) > 500:
        return _("The address is too long (at most 500 characters).")
    return None


def masked(value: str, keep: int = 4) -> str:
    """Enough of a secret (or of a webhook's token) to recognise it, never all of it."""
    value = value or ""
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        tail = value[len(f"{parts.scheme}://{parts.netloc}"):]
        return f"{parts.scheme}://{parts.netloc}" + (f"/…{tail[-keep:]}" if len(tail) > keep else tail)
    return ("…" + value[-keep:]) if len(value) > 2 * keep else "…"


def robots_for(unit: Unit | None) -> list[ChatRobot]:
    """The active robots of the nearest unit at or above `unit` that has any (as reminders find people)."""
    if unit is None:
        return []
    ids = unit.ancestor_ids()
    rows = db.session.scalars(select(ChatRobot).where(ChatRobot.unit_id.in_(ids), ChatRobot.active.is_(True))
                              .order_by(ChatRobot.id)).all()
    for unit_id in reversed(ids):
        found = [r for r in rows if r.unit_id == unit_id]
        if found:
            return found
    return []


def queue(robot: ChatRobot, text: str, case: Case | None = None) -> RobotOutbox:
    row = RobotOutbox(robot=robot, case_id=case.id if case else None, text=text, next_attempt_at=utcnow())
    db.session.add(row)
    return row


# -- sending -----------------------------------------------------------------------------------

class RobotError(Exception):
    def __init__(self, message: str, throttled: bool = False):
        super().__init__(message)
        self.throttled = throttled


def sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签: base64 of HMAC-SHA256(secret, "<timestamp>\\n<secret>"), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def _millis(moment: datetime) -> int:
    return int(moment.replace(tzinfo=timezone.utc).timestamp() * 1000)


def request_for(robot: ChatRobot, text: str, at: datetime | None = None) -> urllib.request.Request:
    url = robot.webhook_url.strip()
    if robot.kind == "dingtalk" and robot.secret:
        stamp = _millis(at or utcnow())
        url += ("&" if "?" in url else "?") + f"timestamp={stamp}&sign={sign(robot.secret, stamp)}"
    body = json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode()
    return urllib.request.Request(url, data=body, method="POST",
                                  headers={"Content-Type": "application/json; charset=utf-8"})


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A webhook answers itself: a redirect (perhaps to another scheme) is an error, not followed."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def post(robot: ChatRobot, text: str) -> None:
    """Sends one message; raises RobotError with the reason when the robot did not take it."""
    problem = webhook_problem(robot.webhook_url)
    if problem:
        raise RobotError(problem)
    try:
        with _OPENER.open(request_for(robot, text), timeout=TIMEOUT) as resp:
            answer = resp.read(65536)
    except urllib.error.HTTPError as exc:
        raise RobotError(f"HTTP {exc.code} {exc.reason}", throttled=exc.code == 429) from None
    except (urllib.error.URLError, OSError) as exc:
        raise RobotError(f"{getattr(exc, 'reason', exc)}") from None
    try:
        data = json.loads(answer.decode("utf-8"))
        code = int(data.get("errcode", 0))
    except (ValueError, AttributeError, TypeError):
        raise RobotError(f"unexpected answer: {answer[:200]!r}") from None
    if code != 0:
        raise RobotError(f"errcode {code}: {data.get('errmsg', '')}"[:500],
                         throttled=code in THROTTLED.get(robot.kind, ()))


def deliver(limit: int = 500) -> dict[str, int]:
    """Sends the robot messages that are due, oldest first, within each robot's rate; returns counts."""
    from .mail import _claim, _due, _finish
    stats = {"robot_sent": 0, "robot_retry": 0, "robot_failed": 0, "robot_waiting": 0}
    due = db.session.execute(select(RobotOutbox.id, RobotOutbox.robot_id).where(_due(RobotOutbox))
                             .order_by(RobotOutbox.id).limit(limit)).all()
    db.session.commit()
    by_robot: dict[int, list[int]] = {}
    for row_id, robot_id in due:
        by_robot.setdefault(robot_id, []).append(row_id)
    hold = timedelta(seconds=4 * TIMEOUT + 5)
    for robot_id, ids in by_robot.items():
        now = utcnow()
        recent = db.session.scalars(select(RobotOutbox.sent_at).where(
            RobotOutbox.robot_id == robot_id, RobotOutbox.status == "sent",
            RobotOutbox.sent_at > now - timedelta(minutes=1)).order_by(RobotOutbox.sent_at)).all()
        budget = RATE_PER_MINUTE - len(recent)
        for n, row_id in enumerate(ids):
            if budget <= 0:
                # The minute is used up: the rest wait until its oldest message is a minute old.
                free_at = (recent[-RATE_PER_MINUTE] if len(recent) >= RATE_PER_MINUTE else now) + timedelta(minutes=1)
                for wait_id in ids[n:]:
                    row = db.session.get(RobotOutbox, wait_id)
                    if row is not None and row.status == "pending":
                        row.next_attempt_at = max(row.next_attempt_at, free_at)
                stats["robot_waiting"] += len(ids) - n
                db.session.commit()
                break
            row = _claim(row_id, hold, RobotOutbox)
            if row is None:
                continue
            # A plain copy: no transaction stays open while the robot answers.
            robot = SimpleNamespace(kind=row.robot.kind, webhook_url=row.robot.webhook_url,
                                    secret=row.robot.secret, active=row.robot.active)
            text = row.text
            db.session.commit()
            budget -= 1
            try:
                if not robot.active:
                    raise RobotError(_("This robot is switched off."))
                post(robot, text)
            except RobotError as exc:
                outcome = _finish(row, exc, down=exc.throttled)
                stats["robot_failed" if outcome == "failed" else "robot_retry"] += 1
                log.warning("robot %s message %s: %s", robot_id, row_id, exc)
            else:
                _finish(row, None)
                stats["robot_sent"] += 1
                recent.append(utcnow())
    return stats


# Rows of one union: seen only within its people's scope (casework/core/tenancy.py).
from ..core.tenancy import unit_scoped  # noqa: E402

unit_scoped(ChatRobot)
