"""A human check that needs no internet: a small sum in words, its answer kept in the signed session."""
from __future__ import annotations

import secrets

from flask import session

DIGITS = "零一二三四五六七八九十"


def challenge() -> str:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    session["human_answer"] = a + b
    return f"{DIGITS[a]}加{DIGITS[b]}等于几？(请填阿拉伯数字 / digits)"


def passed(answer) -> bool:
    expected = session.pop("human_answer", None)
    try:
        return expected is not None and int(str(answer).strip()) == expected
    except ValueError:
        return False
