"""Admin pages: the WeCom and DingTalk group robots of each unit, and what waits or failed in their outbox."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from wtforms import BooleanField, SelectField, StringField

from ..accounts.models import Unit
from ..core.inputs import Reader, record_id
from ..extensions import db
from ..forms import BaseForm, commit_and_return, opts
from ..notifications.mail import retry
from ..notifications.robots import ROBOT_KINDS, ChatRobot, RobotOutbox, masked, queue, webhook_problem
from .access import admin_required

bp = Blueprint("robots", __name__, url_prefix="/admin/robots")

KIND_LABELS = {"wecom": _l("WeCom group robot"), "dingtalk": _l("DingTalk group robot")}


class RobotForm(BaseForm):
    unit_id = SelectField(_l("Unit"), coerce=record_id, validate_choice=False)
    kind = SelectField(_l("Kind"), choices=opts((k, KIND_LABELS[k]) for k in ROBOT_KINDS), validate_choice=False)
    name = StringField(_l("Name"))
    webhook_url = StringField(_l("Webhook address"), render_kw={"autocomplete": "off"},
                              description=_l("The robot's address from the group's settings, starting with https://. "
                                             "On a saved robot, leave empty to keep the one saved."))
    secret = StringField(_l("Signing secret (DingTalk)"), render_kw={"autocomplete": "off"},
                         description=_l("DingTalk's signing secret (SEC…), from the robot's security settings. Leave empty to keep the one saved."))
    active = BooleanField(_l("Active"), default=True)


def read_robot(data: dict, *, keeps_webhook: bool) -> dict:
    """A robot's values; a saved robot keeps its webhook and secret when they are left empty."""
    r = Reader(data)
    values = {"unit_id": getattr(r.record("unit_id", Unit, _("No such unit.")), "id", None),
              "kind": r.choice("kind", ROBOT_KINDS), "name": r.text("name", max_len=100),
              "webhook_url": r.text("webhook_url", required=False), "secret": r.text("secret", required=False,
                                                                                     max_len=200),
              "active": bool(data.get("active"))}
    if "webhook_url" not in r.errors and (values["webhook_url"] or not keeps_webhook):
        if problem := webhook_problem(values["webhook_url"]):
            r.fail("webhook_url", problem)
    r.done()
    return values


def _form(robot: ChatRobot | None = None) -> RobotForm:
    form = RobotForm(obj=robot) if robot is not None else RobotForm()
    if robot is not None and not form.is_submitted():
        form.secret.data = form.webhook_url.data = ""  # never shown back: both let anyone post to the group
    units = db.session.scalars(select(Unit).order_by(Unit.path)).all()
    form.unit_id.choices = opts((u.id, ("　" * (len(u.ancestor_ids()) - 1)) + u.name) for u in units)
    return form


def _save(values: dict, robot: ChatRobot) -> None:
    robot.unit_id, robot.kind, robot.name = values["unit_id"], values["kind"], values["name"]
    robot.active = values["active"]
    if values["webhook_url"]:
        robot.webhook_url = values["webhook_url"]
    if values["secret"]:
        robot.secret = values["secret"]
    if robot.kind != "dingtalk":
        robot.secret = ""


@bp.route("", methods=["GET", "POST"])
@admin_required
def index():
    form = _form()
    if form.is_submitted() and (values := form.read(read_robot, keeps_webhook=False)) is not None:
        robot = ChatRobot()
        _save(values, robot)
        db.session.add(robot)
        db.session.commit()
        flash(_("Robot saved."), "success")
        return redirect(url_for("robots.index"))
    robots = db.session.scalars(select(ChatRobot).order_by(ChatRobot.unit_id, ChatRobot.id)).all()
    counts: dict[int, dict[str, int]] = {}
    for robot_id, status, n in db.session.execute(
            select(RobotOutbox.robot_id, RobotOutbox.status, func.count())
            .group_by(RobotOutbox.robot_id, RobotOutbox.status)).all():
        counts.setdefault(robot_id, {})[status] = n
    waiting = db.session.scalars(select(RobotOutbox).where(RobotOutbox.status.in_(("pending", "failed")),
                                                           (RobotOutbox.attempts > 0) | (RobotOutbox.status == "failed"))
                                 .order_by(RobotOutbox.id.desc()).limit(100)).all()
    return render_template("admin/robots.html", form=form, robots=robots, counts=counts, waiting=waiting,
                           masked=masked, kinds=KIND_LABELS)


@bp.route("/<int:robot_id>", methods=["GET", "POST"])
@admin_required
def edit(robot_id: int):
    robot = db.session.get(ChatRobot, robot_id) or abort(404)
    form = _form(robot)
    if form.is_submitted() and (values := form.read(read_robot, keeps_webhook=True)) is not None:
        _save(values, robot)
        db.session.commit()
        flash(_("Robot saved."), "success")
        return redirect(url_for("robots.index"))
    return render_template("admin/robot_edit.html", form=form, robot=robot, masked=masked)


@bp.route("/<int:robot_id>/test", methods=["POST"])
@admin_required
def test(robot_id: int):
    robot = db.session.get(ChatRobot, robot_id) or abort(404)
    return commit_and_return(
        lambda: queue(robot, _("Test message from the union's casework system: this robot is set up.")),
        _("A test message waits in the outbox; the scheduler sends it within a minute."), url_for("robots.index"))


@bp.route("/<int:robot_id>/delete", methods=["POST"])
@admin_required
def delete(robot_id: int):
    robot = db.session.get(ChatRobot, robot_id) or abort(404)
    return commit_and_return(lambda: _delete(robot), _("Robot removed."), url_for("robots.index"))


def _delete(robot: ChatRobot) -> None:
    for row in db.session.scalars(select(RobotOutbox).where(RobotOutbox.robot_id == robot.id)):
        db.session.delete(row)
    db.session.delete(robot)


@bp.route("/outbox/<int:row_id>/retry", methods=["POST"])
@admin_required
def outbox_retry(row_id: int):
    row = db.session.get(RobotOutbox, row_id) or abort(404)
    return commit_and_return(lambda: retry(row), _("The message will be sent at the scheduler's next run."),
                             url_for("robots.index"))
