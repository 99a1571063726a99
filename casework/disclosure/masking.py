"""Masked names for public pages: the surname and one * per remaining character, whatever was typed.

张三 -> 张*, 欧阳明明 -> 欧阳**, 谢 文斌 / 谢\u200b文斌 -> 谢**, 王　芳 -> 王*: the name is normalised first
(casework.names: NFKC, no whitespace or format characters), so spaces, U+3000, zero-width or bidi characters
can neither hide a character from the mask nor push the surname out of it. A Han name keeps its surname: one
character, or two for the compound surnames below (kept when the name is longer than them). Any other name
(Latin, etc.) keeps only the initial of its first word, since which word is the family name cannot be told:
John Smith -> J*** *****. Never cuts a character in half.
"""
from __future__ import annotations

import unicodedata

from ..names import is_han, normalise_name

# Two-character surnames (复姓) that keep both characters.
COMPOUND_SURNAMES = frozenset("""
欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 令狐 慕容 长孙 宇文 司徒 夏侯 轩辕 端木 独孤 南宫 西门 百里 呼延 闻人
澹台 公冶 太史 申屠 钟离 宗政 濮阳 淳于 单于 仲孙 赫连 万俟 拓跋 东郭 左丘 第五 梁丘 羊舌 微生 段干 亓官
司空 司寇 完颜 鲜于 闾丘 乐正 公西 公羊 谷梁 夹谷 公良 东门 南门 巫马 漆雕 子车 颛孙 壤驷 宰父 呼衍 叱干
歐陽 司馬 諸葛 東方 尉遲 公孫 長孫 軒轅 獨孤 南宮 西門 聞人 澹臺 鍾離 單于 萬俟 夏侯 慕容 令狐 皇甫 上官
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


def mask_name(name: str) -> str:
    name = normalise_name(name)
    if not name:
        return "*"
    parts = _graphemes(name)
    if is_han(parts[0]):
        keep = 2 if len(parts) > 2 and "".join(parts[:2]) in COMPOUND_SURNAMES else 1
        return "".join(parts[:keep]) + "*" * (len(parts) - keep)
    # Other scripts: the first word's initial; words stay apart so the mask still reads as a name.
    first, *rest = name.split(" ")
    words = [_graphemes(first)[0] + "*" * (len(_graphemes(first)) - 1)] + ["*" * len(_graphemes(w)) for w in rest]
    return " ".join(words)
