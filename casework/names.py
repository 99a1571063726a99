"""People's names: one normal form for every entry point (the admin's people form, the roster import from
file, page or API, the hardship register's household members), and what of a name counts as its surname.

normalise_name: NFKC (full-width letters and compatibility ideographs become the plain ones), then format and
control characters (U+200B, U+200D, U+202E, U+FEFF, ...) and invisible fillers removed. A name with a Han
character loses all its whitespace (谢 文斌, 王　芳 -> 谢文斌, 王芳): Chinese names have none. Other names keep
one ASCII space between words (" Anna\u3000 Smith " -> "Anna Smith").
"""
from __future__ import annotations

import unicodedata

# Code points that draw nothing yet are letters (Hangul fillers) or joiners that NFKC keeps.
INVISIBLE = frozenset({0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800})


def is_han(ch: str) -> bool:
    """A CJK ideograph (any extension, and the compatibility block), or 〇."""
    if not ch:
        return False
    cp = ord(ch[0])
    return (0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF
            or 0x20000 <= cp <= 0x3FFFF or cp == 0x3007)


def normalise_name(raw) -> str:
    """The stored form of a person's name (see the module's docstring); "" when nothing visible is left."""
    text = unicodedata.normalize("NFKC", "" if raw is None else str(raw))
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch.isspace() or category.startswith("Z"):
            kept.append(" ")
        elif category in ("Cc", "Cf", "Cs") or ord(ch) in INVISIBLE:
            continue
        else:
            kept.append(ch)
    words = "".join(kept).split()
    if any(is_han(ch) for ch in text):
        return "".join(words)
    return " ".join(words)
