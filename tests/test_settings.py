"""The settings registry: every rule number declared once, with help; the admin page reads and checks them."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from sqlalchemy import select

from casework.core import settings
from casework.core.models import UnitSetting
from casework.extensions import db as _db

from .conftest import Browser

ROOT = Path(__file__).resolve().parent.parent / "casework"


def _literal_keys() -> set[str]:
    """Keys named as a plain string in settings.get/put(unit, "key") anywhere in casework."""
    keys = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("get", "put") and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "settings" and len(node.args) >= 2
                    and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
                keys.add(node.args[1].value)
    return keys


def test_every_key_read_in_the_code_is_declared_with_help(app):
    used = _literal_keys()
    assert {"committee_quorum", "attachment_max_mb", "notice_org_code", "posting_days"} <= used
    assert used <= set(settings.REGISTRY)
    for spec in settings.REGISTRY.values():
        assert spec.type in settings.TYPES and str(spec.help).strip(), spec.key
        assert settings.DEFAULTS[spec.key] == spec.default


def test_a_key_cannot_be_declared_twice(app):
    with pytest.raises(ValueError, match="declared twice"):
        settings.declare("committee_quorum", 4, "count", "again")


@pytest.mark.parametrize("key, raw, value", [
    ("committee_quorum", " 4 ", 4), ("aid_cap_hardship", "6000.50", 600050),
    ("grade_thresholds", "90，75, 60", [90, 75, 60]),
    ("aid_docs_hardship", "income_proof, id_card", ["income_proof", "id_card"]),
    ("duplicate_threshold", "45", 45),
    ("aid_requires_register_hardship", "yes", True), ("aid_requires_register_hardship", "否", False),
    ("notice_org_code", "示工", "示工"),
])
def test_values_are_read_by_their_type(app, key, raw, value):
    with app.test_request_context():
        assert settings.parse_value(key, raw) == value


@pytest.mark.parametrize("key, raw, message", [
    ("committee_quorum", "four", "whole number"), ("committee_quorum", "0", "from 1 to 99"),
    ("aid_cap_hardship", "12.345", "two decimal places"), ("aid_cap_hardship", "0", "more than zero"),
    ("grade_thresholds", "60, 70, 85", "highest first"), ("grade_thresholds", "90, 80", "3 different scores"),
    ("aid_docs_hardship", "收入证明", "codes"), ("duplicate_threshold", "101", "from 0 to 100"),
    ("aid_requires_register_hardship", "maybe", "yes or no"), ("notice_org_code", "", "required"),
])
def test_bad_values_are_refused_with_the_reason(app, key, raw, message):
    with app.test_request_context("/?lang=en"):
        with pytest.raises(ValueError, match=message):
            settings.parse_value(key, raw)


def test_admin_page_shows_help_and_edits_in_yuan(app, demo):
    admin = Browser(app.test_client())
    admin.login("admin")
    branch = demo["worker1"].unit.parent
    page = admin.get(f"/admin/settings?unit={branch.id}&lang=en").get_data(as_text=True)
    for key in settings.REGISTRY:
        assert f"<code>{key}</code>" in page
    assert "Highest amount of one aid request of the category “Hardship relief”, in yuan." in page
    assert 'value="5000.00"' in page  # the hardship cap, shown in yuan
    r = admin.post("/admin/settings", {"unit": branch.id, "key": "aid_cap_hardship", "value": "6000"},
                   form_page=f"/admin/settings?unit={branch.id}")
    assert r.status_code == 302 and settings.get(demo["worker1"].unit, "aid_cap_hardship") == 600000
    r = admin.post("/admin/settings", {"unit": branch.id, "key": "committee_quorum", "value": "6"},
                   form_page=f"/admin/settings?unit={branch.id}", follow_redirects=True)
    text = r.get_data(as_text=True)
    assert ("The setting “Committee votes that decide a case, a register entry or a board batch (at most the "
            "committee size)” was not changed: "
            "The quorum cannot be larger than the committee (5 members here).") in text
    assert settings.get(demo["worker1"].unit, "committee_quorum") == 3
    r = admin.post("/admin/settings", {"unit": branch.id, "key": "no_such_rule", "value": "1"},
                   form_page=f"/admin/settings?unit={branch.id}", follow_redirects=True)
    assert r.status_code == 200 and "There is no setting no_such_rule." in r.get_data(as_text=True)
    admin.post("/admin/settings", {"unit": branch.id, "key": "aid_requires_register_illness", "value": "yes"},
               form_page=f"/admin/settings?unit={branch.id}")
    assert settings.get(demo["worker1"].unit, "aid_requires_register_illness") is True
    stored = _db.session.scalar(select(UnitSetting.value).where(UnitSetting.unit_id == branch.id,
                                                                UnitSetting.key == "aid_cap_hardship"))
    assert stored == 600000  # fen in the database, yuan on the page


def test_admin_page_speaks_chinese(app, demo):
    admin = Browser(app.test_client())
    admin.login("admin")
    r = admin.post("/admin/settings?lang=zh", {"unit": demo["worker1"].unit.id, "key": "committee_quorum",
                                                "value": "many"},
                   form_page="/admin/settings?lang=zh", follow_redirects=True)
    assert "设置项“决定一件事项、一条困难职工档案或一批公示所需的委员会票数（不超过委员会人数）”未修改：请输入整数。" in r.get_data(as_text=True)


def test_each_setting_is_named_by_its_chinese_help_not_its_key(app, demo):
    """The page names a rule by its help text; the key shows only as a small muted code, never as the label
    of a row or of its input."""
    import html
    import re
    from flask_babel import force_locale
    admin = Browser(app.test_client())
    admin.login("admin")
    page = admin.get("/admin/settings?lang=zh").get_data(as_text=True)
    names = dict(re.findall(r'<th scope="row" class="setting-name"><span id="label-(\w+)">([^<]+)</span> '
                            r'<small class="muted setting-key"><code>\1</code></small></th>', page))
    assert set(names) == set(settings.REGISTRY)
    with app.test_request_context("/?lang=zh"), force_locale("zh"):
        for key, spec in settings.REGISTRY.items():
            assert html.unescape(names[key]) == str(spec.help), key
            assert re.search(r"[\u4e00-\u9fff]", names[key]) and key not in names[key], key
    assert "aria-label=" not in page.split("<tbody>", 1)[1]  # inputs are named by the help text
    assert page.count('aria-labelledby="label-') == len(settings.REGISTRY)
    visible = re.sub(r"<code>[^<]*</code>|<[^>]+>", " ", page.split("<tbody>", 1)[1])
    assert not [key for key in settings.REGISTRY if re.search(rf"\b{key}\b", visible)]
