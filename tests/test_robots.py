"""WeCom and DingTalk group robots: a local fake receiver that checks DingTalk's signature, the outbox's
retries and its 20-a-minute limit on the project's clock, what a message may say, the admin page."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from casework.accounts.models import Unit
from casework.clock import utcnow
from casework.notifications import robots
from casework.notifications.robots import ChatRobot, RobotOutbox
from casework.notifications.steps import replaying
from casework.scheduler import run_due
from tests.factories import aid_to, attach, fire, new_case

SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
PUBLIC = "https://gonghui.example.cn"


class FakeRobot:
    """A robot's webhook on 127.0.0.1: keeps what it is sent, checks DingTalk's sign, answers like the
    services do (HTTP 200 with an errcode), or with what `answer` says."""

    def __init__(self, secret: str = ""):
        self.secret = secret
        self.received: list[dict] = []
        self.rejected: list[str] = []
        self.answer: tuple[int, dict] | None = None
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                status, reply = fake.answer or (200, {"errcode": 0, "errmsg": "ok"})
                query = parse_qs(urlsplit(self.path).query)
                if status == 200 and reply["errcode"] == 0 and fake.secret and not fake.signed(query):
                    status, reply = 200, {"errcode": 310000, "errmsg": "sign not match"}
                with fake.lock:
                    if status == 200 and reply["errcode"] == 0:
                        fake.received.append({"path": self.path, "query": query, "body": body})
                    else:
                        fake.rejected.append(self.path)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?access_token=tok123456"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def signed(self, query) -> bool:
        """DingTalk's check: sign = urlencode(base64(HMAC-SHA256(secret, timestamp + "\\n" + secret)))."""
        try:
            stamp, sign = query["timestamp"][0], query["sign"][0]
        except KeyError:
            return False
        want = base64.b64encode(hmac.new(self.secret.encode(), f"{stamp}\n{self.secret}".encode(),
                                         hashlib.sha256).digest()).decode()
        # parse_qs has undone the URL-encoding once: what is left is the base64 text itself
        return hmac.compare_digest(sign, want)

    @property
    def texts(self) -> list[str]:
        with self.lock:
            return [r["body"]["text"]["content"] for r in self.received]

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def public(app, monkeypatch):
    monkeypatch.setitem(app.config, "CASEWORK_PUBLIC_URL", PUBLIC)


def _robot(db, url: str, kind: str = "dingtalk", secret: str = SECRET, unit_code: str = "HQ") -> ChatRobot:
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    robot = ChatRobot(unit=unit, kind=kind, name="帮扶工作群", webhook_url=url, secret=secret)
    db.session.add(robot)
    db.session.commit()
    return robot


def _rows(db, *where) -> int:
    n = db.session.scalar(select(func.count()).select_from(RobotOutbox).where(*where))
    db.session.rollback()
    return n


def _send():
    return run_due(parts=("mail",)).mail


def test_a_step_reaches_the_dingtalk_group_signed_and_without_personal_facts(demo, db, public):
    with FakeRobot(SECRET) as fake:
        _robot(db, fake.url)
        case = new_case("aid", demo["worker1"])
        attach(case, "income_proof", demo["worker1"])
        fire(case, "submit", demo["worker1"])
        assert _rows(db) == 1
        assert _send()["robot_sent"] == 1
        assert fake.rejected == [] and len(fake.received) == 1
        got = fake.received[0]
        assert got["body"]["msgtype"] == "text" and got["query"]["access_token"] == ["tok123456"]
        text = fake.texts[0]
        assert case.number in text and "帮扶申请" in text and "提交" in text and "当前状态：已提交" in text
        assert f"{PUBLIC}/cases/aid/{case.id}" in text
        # no name, no circumstance, no category, no income, no ID number
        for private in ("张建国", demo["worker1"].employee_no, "重病", "困难帮扶", "2100", "3000"):
            assert private not in text
        assert _rows(db, RobotOutbox.status == "sent") == 1
        assert _send()["robot_sent"] == 0 and len(fake.received) == 1  # nothing twice


def test_a_wrong_secret_is_refused_by_the_receiver_and_retried_with_backoff(demo, db, clock):
    with FakeRobot(SECRET) as fake:
        robot = _robot(db, fake.url, secret="SECwrong")
        robots.queue(robot, "测试")
        db.session.commit()
        assert _send()["robot_retry"] == 1 and fake.received == [] and len(fake.rejected) == 1
        row = db.session.scalar(select(RobotOutbox))
        assert row.status == "pending" and row.attempts == 1 and "310000" in row.last_error
        assert row.next_attempt_at >= utcnow() + timedelta(seconds=50)  # the first back-off: a minute
        assert _send()["robot_retry"] == 0  # not due yet
        robot.secret = SECRET
        db.session.commit()
        clock.shift(timedelta(minutes=2))
        assert _send()["robot_sent"] == 1 and fake.texts == ["测试"]


def test_wecom_messages_carry_no_signature(demo, db):
    with FakeRobot() as fake:
        robot = _robot(db, fake.url, kind="wecom", secret="")
        robots.queue(robot, "企业微信测试")
        db.session.commit()
        assert _send()["robot_sent"] == 1
        assert "sign" not in fake.received[0]["query"] and fake.texts == ["企业微信测试"]


def test_25_messages_in_a_minute_go_out_as_20_and_5_a_minute_later(demo, db, clock):
    with FakeRobot(SECRET) as fake:
        robot = _robot(db, fake.url)
        for i in range(25):
            robots.queue(robot, f"消息 {i}")
        db.session.commit()
        first = _send()
        assert first["robot_sent"] == 20 and first["robot_waiting"] == 5 and len(fake.received) == 20
        clock.shift(timedelta(seconds=30))
        assert _send()["robot_sent"] == 0 and len(fake.received) == 20  # the minute is not over
        assert _rows(db, RobotOutbox.status == "pending") == 5  # they wait, none is lost or failed
        clock.shift(timedelta(seconds=31))
        assert _send()["robot_sent"] == 5
        assert fake.texts == [f"消息 {i}" for i in range(25)]  # in order, each once
        assert _rows(db, RobotOutbox.status == "sent") == 25


def test_the_services_own_rate_refusal_makes_a_message_wait_not_fail(demo, db, clock):
    with FakeRobot(SECRET) as fake:
        robot = _robot(db, fake.url)
        robots.queue(robot, "稍后再发")
        db.session.commit()
        fake.answer = (200, {"errcode": 130101, "errmsg": "send too fast"})
        for _ in range(12):  # more refusals than the back-off has steps: still waiting
            _send()
            clock.shift(timedelta(hours=5))
        assert _rows(db, RobotOutbox.status == "failed") == 0
        fake.answer = None
        assert _send()["robot_sent"] == 1 and fake.texts == ["稍后再发"]


def test_a_robot_that_does_not_answer_fails_visibly_after_its_retries(demo, db, clock, web):
    robot = _robot(db, "http://127.0.0.1:9/robot/send?access_token=gone", kind="wecom", secret="")
    robots.queue(robot, "无人接收")
    db.session.commit()
    for _ in range(10):
        _send()
        clock.shift(timedelta(hours=5))
    row = db.session.scalar(select(RobotOutbox))
    assert row.status == "failed" and row.last_error
    web.login("admin")
    page = web.get("/admin/robots").get_data(as_text=True)
    assert row.last_error[:20] in page and f"/admin/robots/outbox/{row.id}/retry" in page
    web.post(f"/admin/robots/outbox/{row.id}/retry", {}, form_page="/admin/robots")
    db.session.refresh(row)
    assert row.status == "pending" and row.attempts == 0


def test_the_demo_history_and_reflexive_steps_queue_nothing(demo, db):
    with FakeRobot(SECRET) as fake:
        _robot(db, fake.url)
        with replaying():
            aid_to(demo, "verifying")
        assert _rows(db) == 0
        case = aid_to(demo, "verifying")
        before = _rows(db)
        from casework.clock import today
        fire(case, "record_visit", demo["staff1"], visited_on=today().isoformat(), visitors=["staff1", "leader1"],
             findings="住房简陋，情况属实")
        assert _rows(db) == before  # the state did not change: the group hears nothing


def test_robots_of_the_nearest_unit_with_any(demo, db):
    hq = _robot(db, "https://oapi.dingtalk.com/robot/send?access_token=hq")
    b2 = _robot(db, "https://oapi.dingtalk.com/robot/send?access_token=b2", unit_code="B2")
    g21 = db.session.scalar(select(Unit).where(Unit.code == "G21"))
    g11 = db.session.scalar(select(Unit).where(Unit.code == "G11"))
    assert robots.robots_for(g21) == [b2] and robots.robots_for(g11) == [hq]


@pytest.mark.parametrize("url", ["ftp://oapi.dingtalk.com/robot/send", "file:///etc/passwd",
                                 "javascript:alert(1)", "oapi.dingtalk.com/robot/send", "https://", ""])
def test_only_web_addresses_are_accepted(url):
    assert robots.webhook_problem(url)


def test_the_admin_page_adds_a_robot_refuses_other_schemes_and_never_shows_the_secret(demo, db, web):
    web.login("admin")
    hq = db.session.scalar(select(Unit).where(Unit.code == "HQ"))
    form = {"unit_id": hq.id, "kind": "dingtalk", "name": "帮扶工作群", "secret": SECRET, "active": "y"}
    bad = web.post("/admin/robots", {**form, "webhook_url": "ftp://oapi.dingtalk.com/robot/send"},
                   form_page="/admin/robots")
    assert bad.status_code == 200 and "https://" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ChatRobot)) == 0
    url = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef0123456789abcdef"
    ok = web.post("/admin/robots", {**form, "webhook_url": url}, form_page="/admin/robots")
    assert ok.status_code == 302
    robot = db.session.scalar(select(ChatRobot))
    assert robot.secret == SECRET and robot.webhook_url == url
    for path in ("/admin/robots", f"/admin/robots/{robot.id}"):
        page = web.get(path).get_data(as_text=True)
        assert SECRET not in page, path and "0123456789abcdef0123456789abcdef" not in page
        assert SECRET[-4:] in page
    # an edit with the secret left empty keeps it
    web.post(f"/admin/robots/{robot.id}", {**form, "secret": "", "webhook_url": "", "name": "新名字"},
             form_page=f"/admin/robots/{robot.id}")
    db.session.refresh(robot)
    assert robot.name == "新名字" and robot.secret == SECRET and robot.webhook_url == url
    web.post(f"/admin/robots/{robot.id}/test", {}, form_page="/admin/robots")
    assert _rows(db, RobotOutbox.robot_id == robot.id) == 1


def test_robot_pages_are_for_admins_only(demo, web):
    web.login("staff1")
    assert web.get("/admin/robots").status_code == 403
