"""Server-rendered SVG bar charts: no script, no library; the numbers also appear in a table below."""
from __future__ import annotations

from markupsafe import Markup, escape


def shown(value, unit: str = "") -> str:
    """A bar's value as the chart prints it and its data table repeats it."""
    return f"{float(value or 0):,.2f}".rstrip("0").rstrip(".") + unit


def _text_width(text: str, size: int = 12) -> int:
    """About how wide `text` draws at `size` px: CJK characters a full em, others a little over half."""
    return sum(size if ord(ch) >= 0x2E80 else round(size * 0.6) for ch in text)


def bar_chart(pairs, title: str = "", width: int | None = None, bar: int = 22, unit: str = "",
              label: str = "") -> Markup:
    """Horizontal bars for (label, value) pairs; values >= 0. `label` names the chart for screen readers
    when it has no `title` of its own (the page's heading gives it)."""
    pairs = [(str(label), float(value or 0)) for label, value in pairs]
    if not pairs:
        return Markup("")
    # The labels' column as wide as the longest label needs; the whole no wider than needed, so that a
    # 390-px phone, which shrinks the drawing to fit, still draws the text at a readable size.
    label_w, gap = min(max(_text_width(n) for n, _v in pairs) + 10, 240), 6
    width = width or label_w + 260
    top = 24 if title else 4
    height = top + len(pairs) * (bar + gap) + 4
    peak = max(v for _l, v in pairs) or 1.0
    span = width - label_w - 80
    parts = [f'<svg class="chart" role="img" xmlns="http://www.w3.org/2000/svg" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(label or title)}">']
    if title:
        parts.append(f'<text x="0" y="16" font-weight="bold" font-size="14">{escape(title)}</text>')
    for i, (name, value) in enumerate(pairs):
        y = top + i * (bar + gap)
        w = max(1, round(span * value / peak)) if value else 0
        text = shown(value, unit)
        parts.append(f'<text x="{label_w - 6}" y="{y + bar * 0.7:.0f}" text-anchor="end" font-size="12">'
                     f'{escape(name)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar}" fill="#c0392b"><title>'
                     f'{escape(name)}: {escape(text)}</title></rect>'
                     f'<text x="{label_w + w + 4}" y="{y + bar * 0.7:.0f}" font-size="12">{escape(text)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
