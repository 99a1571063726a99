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
