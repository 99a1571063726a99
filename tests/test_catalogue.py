"""The Chinese catalogue is complete: every message the code and templates mark for translation has a zh
translation that is neither empty nor fuzzy, and the compiled catalogue is the one the .po file gives."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
ZH = ROOT / "casework" / "translations" / "zh" / "LC_MESSAGES"
METHODS = [("casework/**.py", "python"), ("templates/**.html", "jinja2"), ("workflows/**.py", "python")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "pgettext": ((1, "c"), 2),
            "lazy_pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3), "_l": None, "N_": None}


def _extracted() -> dict[tuple[str | None, str], str]:
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault((context, msgid), f"{filename}:{lineno}")
    return found


def _catalogue():
    with (ZH / "messages.po").open("rb") as f:
        return read_po(f, locale="zh")


def test_every_marked_message_has_a_chinese_translation():
    catalogue = _catalogue()
    extracted = _extracted()
    assert len(extracted) > 500  # the extraction itself found the messages
    missing = []
    for (context, msgid), where in sorted(extracted.items(), key=lambda kv: kv[1]):
        entry = catalogue.get(msgid, context=context)
        text = entry.string if entry is not None else None
        if isinstance(text, (tuple, list)):
            text = text[0]
        if not text or (entry is not None and entry.fuzzy):
            missing.append(f"{where}: {msgid!r}" + (f" (context {context!r})" if context else ""))
    assert not missing, f"{len(missing)} messages without a zh translation:\n" + "\n".join(missing[:60])


def test_the_compiled_catalogue_matches_the_po_file():
    import gettext

    catalogue = _catalogue()
    with (ZH / "messages.mo").open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for m in catalogue:
        if not m.id or not m.string or m.fuzzy:
            continue
        if isinstance(m.id, (list, tuple)):
            got = tuple(compiled.npgettext(m.context, m.id[0], m.id[1], n) if m.context
                        else compiled.ngettext(m.id[0], m.id[1], n) for n in (1,))
            want = (m.string[0],)
        else:
            got = compiled.pgettext(m.context, m.id) if m.context else compiled.gettext(m.id)
            want = m.string
        if got != want:
            stale.append(m.id)
    assert not stale, "run: .venv/bin/pybabel compile -d casework/translations -f\n" + "\n".join(map(str, stale[:20]))
