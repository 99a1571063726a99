"""Tenants that never leak: two sibling grassroots unions under one city federation, each with the same
demo-like data; route by route and API operation by operation, nothing of one reaches the other's people."""
from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from casework.clock import today
from tests.factories import attach, fire, new_case, post_on_board

# (tag, Chinese mark, people's names): the same roles in both unions, different people.
UNIONS = {
    "a": ("甲", {"worker1": "钱一鸣", "leader1": "孙二强", "staff1": "李三华", "committee1": "周四海",
                 "committee2": "吴五洲", "committee3": "郑六合", "admin": "冯七星", "fund1": "陈八方", "rep1": "黄九章"}),
    "b": ("乙", {"worker1": "褚九龄", "leader1": "卫十全", "staff1": "蒋百川", "committee1": "沈千里",
                 "committee2": "韩万顷", "committee3": "杨亿年", "admin": "朱兆丰", "fund1": "秦京华", "rep1": "许十方"}),
}
ROLES = {  # username -> (unit: union|branch|group, roles at the union or the group)
    "worker1": ("group", [("worker", "group")]),
    "leader1": ("group", [("worker", "group"), ("group_leader", "group")]),
    "staff1": ("union", [("worker", "union"), ("union_staff", "union")]),
    "committee1": ("branch", [("worker", "branch"), ("committee", "union")]),
    "committee2": ("branch", [("worker", "branch"), ("committee", "union")]),
    "committee3": ("branch", [("worker", "branch"), ("committee", "union")]),
    "admin": ("union", [("admin", "union")]),
    "fund1": ("union", [("worker", "union"), ("fund_manager", "union")]),
    "rep1": ("group", [("worker", "group"), ("representative", "union")]),
}
PEOPLE = ("worker1", "staff1", "committee1", "admin", "fund1")  # whose eyes the test looks through


class Union:
    """One grassroots union's rows and the marks that must never be seen from the other one."""

    def __init__(self, tag):
        self.tag = tag
        self.users = {}
        self.ids = {}
        self.marks = set()

    def __getitem__(self, name):
        return self.users[name]


def _build(db, parent, tag: str) -> Union:
    from casework.accounts.models import RoleAssignment, Unit, User
    from casework.core import settings
    from casework.core.models import CongressSession
    from casework.funds.models import Fund, LedgerEntry
    from casework.notices.models import Notice
    from casework.notifications.robots import ChatRobot
    cn, names = UNIONS[tag]
    out = Union(tag)
    units = {}
    for key, code, name, level, up in (("union", "HQ", f"{cn}公司工会委员会", "federation", parent),
                                       ("branch", "B1", f"{cn}公司生产车间分会", "branch", None),
                                       ("group", "G1", f"{cn}公司一车间小组", "group", None)):
        unit = Unit(code=f"{tag.upper()}{code}", name=name, level=level,
                    parent=up if up is not None else units["union" if key == "branch" else "branch"])
        db.session.add(unit)
        db.session.flush()
        unit.set_path()
        units[key] = unit
    for username, (at, roles) in ROLES.items():
        user = User(username=f"{tag}_{username}", name=names[username], unit=units[at],
                    employee_no=f"{tag.upper()}{len(out.users):04d}")
        user.set_password("demo-password")
        for role, where in roles:
            user.roles.append(RoleAssignment(role=role, unit=units[where]))
        db.session.add(user)
        out.users[username] = user
    db.session.flush()
    fund = Fund(code=f"{tag.upper()}-AID", name=f"{cn}公司困难职工救助基金", unit=units["union"], purpose="aid",
                balance=5000000, reserved=0)
    db.session.add(fund)
    db.session.flush()
    entry = LedgerEntry(fund_id=fund.id, kind="income", amount=5000000, source="union_dues",
                        note=f"{cn}公司年度经费划拨", actor_id=out["fund1"].id)
    db.session.add(entry)
    start = today()
    congress = CongressSession(name=f"{cn}公司第一届职代会", unit=units["union"], starts_on=start,
                               ends_on=start + timedelta(days=60), status="open",
                               cosigning_until=datetime.combine(start + timedelta(days=30), datetime.min.time()))
    robot = ChatRobot(unit_id=units["union"].id, kind="wecom", name=f"{cn}公司工会群",
                      webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={tag}")
    db.session.add_all([congress, robot])
    # Each union's own 文号 series: its own organ code.
    settings.put(units["union"], "notice_org_code", f"{cn}工")
    db.session.commit()

    aid = new_case("aid", out["worker1"])
    attach(aid, "income_proof", out["worker1"])
    fire(aid, "submit", out["worker1"])
    fire(aid, "start_verification", out["staff1"])
    fire(aid, "record_visit", out["staff1"], visited_on=today().isoformat(),
         visitors=[f"{tag}_staff1", f"{tag}_leader1"], findings=f"{cn}公司住房简陋，情况属实")
    fire(aid, "verify", out["staff1"], proposed_amount="2000.00")
    for i in (1, 2, 3):
        fire(aid, "approve", out[f"committee{i}"], amount="2000.00")
    batch = post_on_board({f"committee{i}": out[f"committee{i}"] for i in (1, 2, 3)}, units["union"])
    proposal = new_case("proposal", out["worker1"], title=f"{cn}公司改进冲压车间排班")
    motion = new_case("motion", out["rep1"], title=f"{cn}公司关于改善职工食堂的提案", session=congress.id)
    notices = db.session.scalars(select(Notice).where(Notice.unit_id.in_([u.id for u in units.values()]))).all()

    out.units = units
    out.cases = {"aid": aid, "proposal": proposal, "motion": motion}
    out.ids = {"case_id": aid.id, "proposal_id": proposal.id, "motion_id": motion.id,
               "disclosure_id": batch.id, "fund_id": fund.id, "entry_id": entry.id, "user_id": out["worker1"].id,
               "unit_id": units["union"].id, "session_id": congress.id, "robot_id": robot.id,
               "notice_id": notices[0].id if notices else None}
    out.ids.update({f"{kind}_case": case.id for kind, case in out.cases.items()})
    out.marks = ({c.number for c in out.cases.values()} | {c.title for c in out.cases.values() if c.title}
                 | set(names.values()) | {fund.name, f"{cn}公司年度经费划拨", congress.name, robot.name}
                 | {n.number for n in notices})
    out.notices = notices
    return out


@pytest.fixture()
def unions(db):
    from casework.accounts.models import Unit
    from casework.core.models import Attachment
    city = Unit(code="CITY", name="示范市总工会", level="federation")
    db.session.add(city)
    db.session.flush()
    city.set_path()
    db.session.commit()
    built = {tag: _build(db, city, tag) for tag in UNIONS}
    shared = built["a"].marks & built["b"].marks  # the same in both (an aid request's title is its category)
    for u in built.values():
        u.marks -= shared
        u.ids["attachment_id"] = db.session.scalar(select(Attachment.id).where(
            Attachment.case_id == u.cases["aid"].id))
    return built


def _other(unions, tag):
    return unions["b" if tag == "a" else "a"]


def _leaks(body: str, other) -> set[str]:
    return {mark for mark in other.marks if mark and mark in body}


# Arguments that are not an id: what to put in their place.
_PLAIN = {"fmt": "csv", "kind": None, "trigger": "submit", "decision": "accept", "table": None}
_KIND_OF = {"case_id": "aid", "proposal_id": "proposal", "motion_id": "motion"}


def _urls(rule_args, template, other):
    """The URLs of a route (or an OpenAPI path) filled with the other union's ids; None when an argument has no
    row of the other union built here (a secret token, a file name)."""
    values = {}
    for name in rule_args:
        if name in other.ids and other.ids[name] is not None:
            values[name] = other.ids[name]
        elif name == "kind":
            continue
        elif name in _PLAIN and _PLAIN[name] is not None:
            values[name] = _PLAIN[name]
        else:
            return None
    if "kind" in rule_args:
        kind = next((_KIND_OF[a] for a in rule_args if a in _KIND_OF), "aid")
        values["kind"] = kind
        if "case_id" in values:
            values["case_id"] = other.ids[f"{kind}_case"]
    return template(values)


def _flask_url(rule):
    def fill(values):
        out = rule.rule
        for name, value in values.items():
            out = re.sub(rf"<(?:[^:<>]+(?:\([^)]*\))?:)?{name}>", str(value), out)
        return out
    return fill


def _api_url(path):
    def fill(values):
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)
    return fill


# Statuses a write on the other union's row may end in: refused, unknown, or the input refused before any
# row is read (a body that says nothing); never done.
REFUSED = {400, 403, 404, 405, 409, 422}


@pytest.mark.parametrize("tag", sorted(UNIONS))
def test_no_route_shows_the_other_union(app, unions, tag, monkeypatch):
    from tests.conftest import Browser, _fresh_request_globals
    from casework.core.models import Case
    from casework.extensions import db
    own, other = unions[tag], _other(unions, tag)
    before = {c.id: (c.state, c.version) for c in other.cases.values()}
    aid_number, proposal_title = own.cases["aid"].number, own.cases["proposal"].title
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # the writes below reach their views
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    checked, problems, seen = 0, [], {}
    for person in PEOPLE:
        web = Browser(app.test_client())  # a browser of one's own: nobody else's session cookie
        _fresh_request_globals()
        signed = web.client.post("/login", data={"login": f"{tag}_{person}", "password": "demo-password"})
        assert signed.status_code == 302, person
        for rule in rules:
            if rule.rule.startswith(("/api/", "/logout", "/login")):  # signing in and out: a session's own
                continue
            url = _urls(rule.arguments, _flask_url(rule), other) if rule.arguments else rule.rule
            if url is None:
                continue
            by_id = any(a in other.ids for a in rule.arguments)
            for method in sorted(rule.methods & {"GET", "POST"}):
                db.session.close()  # each request its own session, as when served: nothing carried over
                _fresh_request_globals()
                r = web.client.get(url) if method == "GET" else web.client.post(url, data={})
                checked += 1
                _judge(problems, seen, person, method, url, r, own, other, by_id)
    assert not problems, "\n".join(map(str, problems))
    assert checked > 300
    db.session.expire_all()
    assert {c.id: (c.state, c.version) for c in db.session.scalars(
        select(Case).where(Case.id.in_(before)))} == before
    # The same pages show each person their own union's rows: the test looked where they are.
    assert all(aid_number in seen[p] and UNIONS[tag][1]["worker1"] in seen[p] for p in PEOPLE), seen
    assert proposal_title in seen["staff1"] and f"{UNIONS[tag][0]}公司困难职工救助基金" in seen["fund1"]


@pytest.mark.parametrize("tag", sorted(UNIONS))
def test_no_api_operation_shows_the_other_union(app, unions, api, tag):
    from casework.core.models import Case
    from casework.extensions import db
    own, other = unions[tag], _other(unions, tag)
    before = {c.id: (c.state, c.version) for c in other.cases.values()}
    aid_number = own.cases["aid"].number
    paths = app.spec["paths"]
    checked, problems, seen = 0, [], {}
    for person in PEOPLE:
        caller = api.as_(f"{tag}_{person}")
        for path, operations in paths.items():
            names = re.findall(r"\{(\w+)\}", path)
            url = _urls(names, _api_url(path), other) if names else path
            if url is None:
                continue
            by_id = any(a in other.ids for a in names)
            for method in operations:
                if method not in ("get", "post", "put", "patch", "delete"):
                    continue
                if path == "/api/v1/tokens" or path.startswith("/api/v1/tokens/"):
                    continue  # its own sign-in and revocation
                call = getattr(caller.client, method)
                db.session.close()  # each request its own session, as when served
                r = call(url, headers=caller._headers({}), json={})
                checked += 1
                _judge(problems, seen, person, method, url, r, own, other, by_id)
    assert not problems, "\n".join(map(str, problems))
    assert checked > 150
    assert all(aid_number in seen[p] for p in ("worker1", "staff1", "committee1")), seen
    db.session.expire_all()
    assert {c.id: (c.state, c.version) for c in db.session.scalars(
        select(Case).where(Case.id.in_(before)))} == before


def test_a_query_that_forgets_its_filter_sees_only_the_scope(unions):
    """A bare SELECT of every case, fund, notice, person or setting returns the caller's union's rows and the
    federation's above them; the other union's are not there."""
    from casework.accounts.models import User
    from casework.core import tenancy
    from casework.core.models import Case, UnitSetting
    from casework.extensions import db
    from casework.funds.models import Fund
    from casework.notices.models import Notice
    a, b = unions["a"], unions["b"]
    with tenancy.within(a["worker1"]):
        cases = set(db.session.scalars(select(Case)))
        assert cases and all(c.unit_id in {u.id for u in a.units.values()} for c in cases)
        assert {f.name for f in db.session.scalars(select(Fund))} == {"甲公司困难职工救助基金"}
        assert {n.number for n in db.session.scalars(select(Notice))} == {n.number for n in a.notices}
        names = set(db.session.scalars(select(User.name)))
        assert set(UNIONS["a"][1].values()) <= names and not names & set(UNIONS["b"][1].values())
        other_id = b.cases["proposal"].id
        db.session.expunge(b.cases["proposal"])  # what the session holds already stays; a fresh read is filtered
        assert db.session.get(Case, other_id) is None
        values = db.session.scalars(select(UnitSetting.value)).all()
        assert values == ["甲工"]
    with tenancy.within(b["staff1"]):
        assert {f.name for f in db.session.scalars(select(Fund))} == {"乙公司困难职工救助基金"}


def test_the_federation_above_sees_both_and_one_union_is_everything(db, unions):
    """The city federation's people see both unions' rows; an installation of one union filters nothing."""
    from casework.accounts.models import RoleAssignment, Unit, User
    from casework.core import tenancy
    from casework.funds.models import Fund
    city = db.session.scalar(select(Unit).where(Unit.code == "CITY"))
    officer = User(username="city_staff", name="市总干部", unit=city)
    officer.roles.append(RoleAssignment(role="union_staff", unit=city))
    db.session.add(officer)
    db.session.commit()
    assert tenancy.scope_for(officer).everything
    with tenancy.within(officer):
        assert len(db.session.scalars(select(Fund)).all()) == 2
    scope = tenancy.scope_for(unions["a"]["admin"])
    assert city.id in scope.unit_ids and unions["b"].units["union"].id not in scope.unit_ids


def test_an_escape_must_be_declared(unions):
    from casework.core import tenancy
    from casework.extensions import db
    from casework.funds.models import Fund
    with tenancy.within(unions["a"]["worker1"]):
        with tenancy.unscoped("board"):
            assert len(db.session.scalars(select(Fund)).all()) == 2
        with pytest.raises(ValueError):
            with tenancy.unscoped("just this once"):
                pass
        assert len(db.session.scalars(select(Fund)).all()) == 1



def test_each_union_has_its_public_board(app, unions):
    """Nobody signed in sees every union's postings; a member sees their own union's, and any union's public
    board when they ask for it (?unit=), as the public would."""
    from casework.core.models import Case  # noqa: F401  (the cases are built)
    from tests.conftest import Browser, _fresh_request_globals
    a, b = unions["a"], unions["b"]
    a_post, b_post = a.ids["disclosure_id"], b.ids["disclosure_id"]
    a_union, b_union = a.ids["unit_id"], b.ids["unit_id"]
    link = "/board/{}".format
    public = Browser(app.test_client())
    everyone = public.get("/board").get_data(as_text=True)
    assert link(a_post) in everyone and link(b_post) in everyone
    only_a = public.get(f"/board?unit={a_union}").get_data(as_text=True)
    assert f"/board/{a_post}?unit={a_union}" in only_a and link(b_post) not in only_a
    member = Browser(app.test_client())
    _fresh_request_globals()
    assert member.client.post("/login", data={"login": "b_worker1", "password": "demo-password",
                                              "csrf_token": member.csrf("/login")}).status_code == 302
    own = member.get("/board").get_data(as_text=True)
    assert link(b_post) in own and link(a_post) not in own
    assert member.get(link(a_post)).status_code == 404
    asked = member.get(f"/board?unit={a_union}").get_data(as_text=True)
    assert f"/board/{a_post}?unit={a_union}" in asked and link(b_post) not in asked
    assert member.get(f"/board/{a_post}?unit={a_union}").status_code == 200
    assert member.get(f"/board/{a_post}?unit={b_union}").status_code == 404  # not on that union's board


def test_a_notice_of_another_union_verifies_and_names_its_union(app, unions):
    from casework.notices import signing
    from tests.conftest import Browser, _fresh_request_globals
    a = unions["a"]
    notice = a.notices[0]
    check = signing.check(notice.pdf)
    assert check.valid and notice.fields["org"].startswith("甲公司")  # its own union's name on the paper
    member = Browser(app.test_client())
    _fresh_request_globals()
    member.client.post("/login", data={"login": "b_worker1", "password": "demo-password",
                                       "csrf_token": member.csrf("/login")})
    page = member.get(f"/verify/{notice.verify_code}")
    assert page.status_code == 200 and notice.number in page.get_data(as_text=True)


def _judge(problems, seen, person, method, url, r, own, other, by_id):
    """Notes what `person` saw of their own union, and a problem when the answer is a 5xx, shows the other
    union, or (for an address naming the other union's row) is anything but a refusal."""
    body = r.get_data(as_text=True) if r.mimetype and "pdf" not in r.mimetype else ""
    seen.setdefault(person, set()).update(_leaks(body, own))
    reading = method.upper() == "GET"
    if r.status_code >= 500 or _leaks(body, other):
        problems.append((person, method, url, r.status_code, _leaks(body, other)))
    elif by_id and r.status_code not in ((403, 404) if reading else REFUSED):
        problems.append((person, method, url, r.status_code, r.location or "answered"))
