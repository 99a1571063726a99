"""Money: yuan strings at the edges, integer fen inside."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

MAX_YUAN = Decimal("100000000")


def parse_money(raw) -> int:
    """Yuan as a decimal string or number -> fen. At most two decimals, never negative."""
    if isinstance(raw, bool) or raw is None or raw == "":
        raise ValueError(_("Enter an amount in yuan, e.g. 2000.00."))
    try:
        value = Decimal(str(raw).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(_("Enter an amount in yuan, e.g. 2000.00.")) from None
    if not value.is_finite():
        raise ValueError(_("Enter an amount in yuan, e.g. 2000.00."))
    if value < 0:
        raise ValueError(_("The amount cannot be negative."))
    if value > MAX_YUAN:
        raise ValueError(_("The amount is too large."))
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(_("Amounts have at most two decimal places (fen)."))
    return int(value * 100)


def format_money(fen: int | None) -> str | None:
    if fen is None:
        return None
    return f"{Decimal(fen) / 100:.2f}"
