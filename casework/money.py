"""Money: yuan strings at the edges, integer fen inside.

`parse_money` is the one way money comes in (forms, the API, the engine's `money` fields, fund income, the
hardship register), and it is strict: what a person might misread is refused, never guessed at.

    accepted   "2000", "2000.5", "2000.50", "12,000.00", "１００" (full-width digits), " 100 "
    refused    "1,5" "1,00,000" (separators not in groups of three), "1_000", "١٠٠" (other digits),
               "1000.005" (more than two decimals), "-0" "-5" (negative), "1e3" "0x10" "+5" ".5" "5."
               "" (required)
"""
from __future__ import annotations

import re
from decimal import Decimal

from flask_babel import gettext as _

MAX_YUAN = Decimal("100000000")
# Full-width digits, point and comma as a Chinese input method types them; nothing else is translated.
_FULL_WIDTH = {**{0xFF10 + i: str(i) for i in range(10)}, 0xFF0E: ".", 0xFF0C: ","}
_PLAIN = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_GROUPED = re.compile(r"[1-9][0-9]{0,2}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_MINUS = ("-", "\u2212", "\uFF0D", "\uFE63")


def _general():
    return ValueError(_("Enter an amount in yuan, e.g. 2000.00."))


def parse_money(raw) -> int:
    """Yuan as a decimal string (or a JSON number) -> fen. At most two decimals, never negative."""
    if isinstance(raw, bool) or raw is None or raw == "":
        raise _general()
    if isinstance(raw, int):
        raw = str(raw)
    elif isinstance(raw, float):
        raw = repr(raw)  # 0.1 -> "0.1"; 1e+20 and nan are then refused like any other text
    elif not isinstance(raw, str):
        raise _general()
    text = raw.strip().translate(_FULL_WIDTH)
    if not text:
        raise _general()
    if text.startswith(_MINUS):
        raise ValueError(_("The amount cannot be negative."))
    if _GROUPED.fullmatch(text):
        text = text.replace(",", "")
    elif "," in text and re.fullmatch(r"[0-9][0-9,]*(?:\.[0-9]+)?", text):
        raise ValueError(_("Thousands separators go between groups of three digits, e.g. 12,000.00."))
    if not _PLAIN.fullmatch(text):
        raise _general()
    if "." in text and len(text.rpartition(".")[2]) > 2:
        raise ValueError(_("Amounts have at most two decimal places (fen)."))
    value = Decimal(text)
    if value > MAX_YUAN:
        raise ValueError(_("The amount is too large."))
    return int(value * 100)


def format_money(fen: int | None) -> str | None:
    if fen is None:
        return None
    return f"{Decimal(fen) / 100:.2f}"
