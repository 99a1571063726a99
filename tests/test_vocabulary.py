"""No hand-kept Chinese label maps: a code's Chinese name comes from the one vocabulary (casework/labels.py and
the Babel catalogue), read with `labels.in_chinese` where a document is Chinese whatever the reader's language."""
from __future__ import annotations

import ast
import re
from pathlib import Path

from flask_babel import force_locale

ROOT = Path(__file__).resolve().parent.parent
HAN = re.compile(r"[\u3400-\u9fff]")
# Data, not labels: the demo's story, a notice preview's sample values, an API example, an example roster.
DATA = {"casework/demo_story.py", "casework/notices/__init__.py", "casework/notices/api.py",
        "casework/roster/example.py"}


def _chinese_maps(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Dict) or len(node.values) < 2:
            continue
        zh = [v for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
              and HAN.search(v.value)]
        if len(zh) >= 2:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_module_keeps_a_dict_of_chinese_labels():
    paths = [p for d in ("casework", "workflows") for p in (ROOT / d).rglob("*.py")
             if "translations" not in p.parts and str(p.relative_to(ROOT)) not in DATA]
    assert [hit for p in paths for hit in _chinese_maps(p)] == []


def test_the_scan_finds_a_chinese_map(tmp_path):
    sample = ROOT / "casework" / "_sample_for_scan.py"
    try:
        sample.write_text('GRADES = {"general": "一般", "good": "良好"}\n', encoding="utf-8")
        assert _chinese_maps(sample) == ["casework/_sample_for_scan.py:1"]
    finally:
        sample.unlink()


def test_documents_read_labels_in_chinese_whatever_the_request_language(app):
    from casework.labels import CHOICE_LABELS, GRADE_LABELS, in_chinese
    with app.test_request_context(headers={"Accept-Language": "en"}), force_locale("en"):
        assert str(CHOICE_LABELS["hardship"]) == "Hardship relief"
        assert in_chinese(CHOICE_LABELS, "hardship") == "困难帮扶"
        assert in_chinese(GRADE_LABELS, "not_adopted") == "不采纳"
        assert in_chinese(GRADE_LABELS, "unknown", "—") == "—"


def _codes() -> set[str]:
    """Every code the workflows use: states, triggers, roles, choices."""
    import workflows
    from workflows.base import PARTY_ROLES, UNIT_ROLES
    codes = set(UNIT_ROLES) | set(PARTY_ROLES)
    for wf in (*workflows.WORKFLOWS.values(), *workflows.SUBJECTS.values()):
        codes |= set(wf.state_names) | set(wf.triggers)
        codes |= {c for t in wf.transitions for f in t.fields for c in f.choices}
    return codes


def test_every_code_the_workflows_use_has_words_in_the_vocabulary():
    import workflows
    from casework import labels
    from workflows.base import PARTY_ROLES, UNIT_ROLES
    missing = [r for r in (*UNIT_ROLES, *PARTY_ROLES) if r not in labels.ROLE_LABELS
               and r not in labels.PARTY_ROLE_LABELS]
    for kind, wf in {**workflows.WORKFLOWS, **workflows.SUBJECTS}.items():
        missing += [f"{kind} state {s}" for s in wf.state_names if s not in labels.STATE_LABELS]
        missing += [f"{kind} trigger {t}" for t in wf.triggers if t not in labels.TRIGGER_LABELS]
        for t in wf.transitions:
            missing += [f"{kind} {t.trigger} role {r}" for r in t.roles
                        if r not in labels.ROLE_LABELS and r not in labels.PARTY_ROLE_LABELS]
            missing += [f"{kind} {t.trigger}.{f.name} choice {c}" for f in t.fields for c in f.choices
                        if c not in labels.CHOICE_LABELS]
            missing += [f"{kind} {t.trigger} field {f.name}" for f in t.fields if f.name not in labels.FIELD_LABELS]
    assert missing == []


def _visible_words(html: str) -> list[str]:
    """The Latin words a person reads on the page: its text, not its markup, scripts or styles."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__()
            self.words, self._hidden = [], 0

        def handle_starttag(self, tag, attrs):
            self._hidden += tag in ("script", "style")

        def handle_endtag(self, tag):
            self._hidden -= tag in ("script", "style")

        def handle_data(self, data):
            if not self._hidden:
                self.words += re.findall(r"[A-Za-z_][A-Za-z0-9_]*", data)

    parser = Text()
    parser.feed(html)
    return parser.words


def test_case_pages_in_chinese_show_no_raw_code(app, demo):
    """Next-step panels and timelines name roles, departments, people and choices in words: a stored code
    (TECH, co_handler, bank_transfer, basically_satisfied, a user name) on the page fails."""
    import sqlalchemy as sa

    from casework.accounts.models import Department, DepartmentMember, User
    from casework.core.models import CongressSession
    from casework.extensions import db

    from .conftest import Browser
    from .factories import aid_to, fire, new_case

    hr = User(username="handler2", name="钱明", unit=demo["handler1"].unit)
    hr.set_password("demo-password")
    db.session.add(hr)
    db.session.add(DepartmentMember(user=hr, department=db.session.scalar(
        sa.select(Department).where(Department.code == "HR"))))
    db.session.commit()
    session = db.session.scalar(sa.select(CongressSession))

    codes = _codes() | set(db.session.scalars(sa.select(Department.code))) | set(
        db.session.scalars(sa.select(User.username)))
    shown = {}

    def look(user, case):
        b = Browser(app.test_client())
        b.login(user)
        r = b.get(f"/cases/{case.kind}/{case.id}")
        assert r.status_code == 200
        html = r.get_data(as_text=True)
        found = {w for w in _visible_words(html[html.index("<main"):]) if w in codes}
        if found:
            shown[f"{user} {case.kind} {case.state}"] = found

    motion = new_case("motion", demo["rep1"], session=session.id)
    fire(motion, "open_for_cosigning", demo["rep1"])
    for rep in ("rep2", "rep3"):
        fire(motion, "cosign", demo[rep])
    fire(motion, "submit", demo["rep1"])
    fire(motion, "file", demo["motions1"], department="TECH", co_departments=["HR"], deadline="2027-01-15")
    look("staff1", motion)  # awaiting 签收: the receiving handler's turn
    fire(motion, "acknowledge", demo["handler1"])
    look("motions1", motion)  # the co-handling department's opinion awaited
    fire(motion, "contribute", hr, text="同意")
    fire(motion, "reply", demo["handler1"], text="已增设两个窗口")
    fire(motion, "rate", demo["rep1"], satisfaction="basically_satisfied")
    look("rep1", motion)
    look("motions1", motion)
    aid = aid_to(demo, "posting")
    look("staff1", aid)
    assert shown == {}


def test_the_scan_finds_a_raw_code_in_a_page():
    words = _visible_words('<main><p>承办部门：TECH</p><script>var co_handler = 1;</script>'
                           '<dd title="x">bank_transfer</dd></main>')
    assert {"TECH", "bank_transfer"} <= set(words) and "co_handler" not in words


def test_the_sessions_page_names_each_status_in_words(app, demo):
    from casework.core.models import CongressSession
    from casework.labels import SESSION_STATUS_LABELS

    from .conftest import Browser
    checks = [str(c.sqltext) for c in CongressSession.__table__.constraints if hasattr(c, "sqltext")]
    assert "status IN ('preparing', 'open', 'closed')" in checks
    assert set(SESSION_STATUS_LABELS) == {"preparing", "open", "closed"}
    b = Browser(app.test_client())
    b.login("staff1")
    html = b.get("/sessions").get_data(as_text=True)
    assert "征集提案中" in html and not {"open", "preparing", "closed"} & set(_visible_words(html[html.index("<main"):]))


def test_the_timeline_reads_each_input_by_its_declared_type(app, demo):
    from types import SimpleNamespace

    from casework.core.redaction import clear
    from casework.web.timeline import Reader

    entries = [SimpleNamespace(trigger="file", changes={"inputs": {"department": "TECH", "co_departments": ["HR"]}}),
               SimpleNamespace(trigger="record_visit", changes={"inputs": {"visitors": ["staff1", clear("leader1")]}})]
    with app.test_request_context(headers={"Accept-Language": "zh"}):
        motion, aid = Reader("motion", entries[:1]), Reader("aid", entries[1:])
        assert motion.value("file", "department", "TECH") == "生产技术部"
        assert motion.value("file", "co_departments", ["HR"]) == "人力资源部"
        assert motion.value("rate", "satisfaction", "basically_satisfied") == "基本满意"
        assert aid.value("record_visit", "visitors", ["staff1", clear("leader1")]) == "刘芳、（申请匿名化时已删除）"
        assert aid.value("verify", "proposed_amount", 500000) == "¥5,000.00"
        assert aid.value("disburse", "method", "bank_transfer") == "银行转账"
        assert aid.text(clear("爱人重病")) == "（申请匿名化时已删除）" and aid.text("同意") == "同意"
