"""Masked names for public pages: 张* , 欧阳** , 𠮷* . Never cut a character in half."""
from __future__ import annotations

import unicodedata

# Two-character surnames (复姓) that keep both characters.
COMPOUND_SURNAMES = frozenset("""
欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 令狐 慕容 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫 西门 百里 呼延 闻人
澹台 公冶 太史 申屠 钟离 宗政 濮阳 淳于 单于 仲孙 赫连 万俟 拓跋 东郭 左丘 第五 梁丘 羊舌 微生 段干 亓官
""".split())


def _graphemes(text: str) -> list[str]:
    """Code points with their combining marks and variation selectors attached."""
    out: list[str] = []
    for ch in text:
        cp = ord(ch)
        joins = (unicodedata.combining(ch) or 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF
                 or cp == 0x200D)
        if out and joins:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def _is_han(g: str) -> bool:
    return unicodedata.category(g[0]) == "Lo"


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return "*"
    parts = _graphemes(name)
    if all(_is_han(g) for g in parts):
        keep = 2 if len(parts) > 2 and "".join(parts[:2]) in COMPOUND_SURNAMES else 1
        if len(parts) == 1:
            return parts[0]
        return "".join(parts[:keep]) + "*" * (len(parts) - keep)
    # Latin and other scripts: the initial of each word, the rest starred.
    words = name.split()
    return " ".join(_graphemes(w)[0] + "*" * (len(_graphemes(w)) - 1) for w in words)
