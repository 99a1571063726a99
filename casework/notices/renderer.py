"""The one PDF renderer: a notice template and a plain dict in, PDF bytes out.

No Flask and no database here: the web process, the effect inside a transition and the batch worker
processes all call `render`. Templates get plain values only (never ORM objects) and autoescape user text.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ..core.errors import CaseworkError

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = ROOT / "templates" / "notices" / "print"
STATIC = (ROOT / "casework" / "static").resolve()
STYLESHEET = Path(__file__).with_name("print.css")
# Named explicitly in print.css too: the generic sans-serif fallback misses rarer characters.
FONT_FAMILY = "Noto Sans CJK SC"
FONT_PACKAGE = "fonts-noto-cjk"
log = logging.getLogger("casework.notices")


class FontMissing(CaseworkError):
    status, code = 503, "font_missing"


# -- fonts -----------------------------------------------------------------------------------

@lru_cache(maxsize=8)
def font_families(family: str) -> tuple[str, ...]:
    """The family names fontconfig picks for `family` (as `fc-match -f '%{family}'` does), through the same
    fontconfig library WeasyPrint uses. A missing family comes back as some fallback's names."""
    from weasyprint.text.ffi import ffi, fontconfig as fc
    config = fc.FcInitLoadConfigAndFonts()
    pattern = fc.FcPatternCreate()
    try:
        fc.FcPatternAddString(pattern, b"family", family.encode())
        fc.FcConfigSubstitute(config, pattern, fc.FcMatchPattern)
        fc.FcDefaultSubstitute(pattern)
        result = ffi.new("FcResult *")
        match = fc.FcFontMatch(config, pattern, result)
        if match == ffi.NULL:
            return ()
        names, value = [], ffi.new("FcChar8 **")
        while fc.FcPatternGetString(match, b"family", len(names), value) == fc.FcResultMatch:
            names.append(ffi.string(value[0]).decode())
        fc.FcPatternDestroy(match)
        return tuple(names)
    finally:
        fc.FcPatternDestroy(pattern)
        fc.FcConfigDestroy(config)


def check_fonts(family: str | None = None) -> None:
    """Stop with one clear error when the CJK font is absent: never a PDF with empty boxes."""
    family = family or FONT_FAMILY
    if family.casefold() not in {n.casefold() for n in font_families(family)}:
        raise FontMissing(f"The notices need the Chinese font “{family}”, which is not installed. "
                          f"Install the Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE}).")


def harfbuzz_subset_missing() -> bool:
    """Without HarfBuzz's subsetter WeasyPrint falls back to fontTools: ~50x slower on CJK fonts."""
    from weasyprint.text.ffi import harfbuzz_subset
    return harfbuzz_subset is None


# -- safe fetching ---------------------------------------------------------------------------

def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):
        """Serves files under casework/static and refuses everything else (network, other files, data:)."""

        def fetch(self, url, headers=None):
            path = static_path(url)
            if path is None:
                raise ValueError(f"refused to fetch {url[:200]!r}: notices use only casework/static files")
            return URLFetcherResponse(path.as_uri(), path.read_bytes())

    return StaticOnly


def static_path(url: str) -> Path | None:
    """The file a `file:` URL names if it lies under casework/static (symlinks resolved), else None."""
    from urllib.parse import unquote, urlsplit
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    try:
        path = Path(unquote(parts.path)).resolve()
    except (OSError, ValueError):
        return None
    if not path.is_relative_to(STATIC) or not path.is_file():
        return None
    return path


def url_fetcher():
    return _fetcher_class()(allowed_protocols=("file",), allow_redirects=False)


# -- values for templates ----------------------------------------------------------------------

def rmb_capitals(fen: int) -> str:
    """人民币 + the amount in Chinese capitals, as cn2an writes it: 1200.00 → 人民币壹仟贰佰元整,
    100.05 → 人民币壹佰元零伍分, 0.10 → 人民币壹角."""
    import cn2an
    if isinstance(fen, bool) or not isinstance(fen, int) or fen < 0:
        raise ValueError(f"an amount in fen must be a non-negative whole number, not {fen!r}")
    return "人民币" + cn2an.an2cn(f"{fen // 100}.{fen % 100:02d}", "rmb")


def yuan(fen: int) -> str:
    """¥1,200.00"""
    return f"¥{Decimal(fen) / 100:,.2f}"


def date_zh(day: date) -> str:
    """The date as official documents write it since GB/T 9704-2012: 2026年11月25日 (Arabic numerals,
    no leading zeros)."""
    return f"{day.year}年{day.month}月{day.day}日"


def qr_svg(text: str, size_mm: int = 24) -> Markup:
    """A QR code as an inline SVG path (pure Python, no image files, nothing to fetch)."""
    import qrcode
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n, runs = len(matrix), []
    for y, row in enumerate(matrix):
        x = 0
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {n + 4} {n + 4}" '
                  f'width="{size_mm}mm" height="{size_mm}mm" shape-rendering="crispEdges">'
                  f'<rect x="-2" y="-2" width="{n + 4}" height="{n + 4}" fill="#fff"/>'
                  f'<path d="{"".join(runs)}" fill="#000"/></svg>')


# -- rendering -------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _jinja() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(yuan=yuan, capitals=rmb_capitals, date_zh=date_zh)
    return env


_local = threading.local()


def _tools():
    """Per thread: one FontConfiguration, passed to both the stylesheet and write_pdf, and the parsed
    stylesheet. WeasyPrint objects are not shared between threads."""
    tools = getattr(_local, "tools", None)
    if tools is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration
        fonts = FontConfiguration()
        fetch = url_fetcher()
        css = CSS(string=STYLESHEET.read_text(encoding="utf-8"), font_config=fonts, url_fetcher=fetch,
                  base_url=STATIC.as_uri() + "/")
        tools = _local.tools = (fonts, css, fetch)
    return tools


def html(template: str, values: dict) -> str:
    """The notice's HTML from plain values."""
    _check_plain(values)
    return _jinja().get_template(template).render(**values)


def html_to_pdf(markup: str) -> bytes:
    from weasyprint import HTML
    check_fonts()
    fonts, css, fetch = _tools()
    return HTML(string=markup, base_url=STATIC.as_uri() + "/", url_fetcher=fetch).write_pdf(
        stylesheets=[css], font_config=fonts)


def render(template: str, values: dict) -> bytes:
    """One notice: HTML template + plain values → PDF bytes."""
    check_fonts()
    return html_to_pdf(html(template, values))


def render_many(pages: list[tuple[str, dict]]) -> bytes:
    """Several notices in one PDF (one layout, one embedded font subset): the batch printer's unit of work."""
    body = "".join(f'<div class="sheet">{_body(html(t, v))}</div>' for t, v in pages)
    return html_to_pdf(f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>'
                       f'<body class="batch">{body}</body></html>')


def _body(markup: str) -> str:
    start = markup.find("<body")
    start = markup.find(">", start) + 1
    return markup[start:markup.rfind("</body>")]


PLAIN = (str, int, float, bool, type(None), date, Decimal, Markup)


def _check_plain(value, where="values"):
    """Templates get plain values: an ORM object here could lazily load (and print) anything."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
    elif not isinstance(value, PLAIN):
        raise TypeError(f"{where} is a {type(value).__name__}; notice templates take plain values only")


def worker_init(memory_mb: int = 2048) -> None:
    """For batch worker processes: cap memory (a runaway layout cannot take the machine down)."""
    try:
        import resource
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # pragma: no cover  (not on this platform)
        pass
    os.environ.setdefault("OMP_NUM_THREADS", "1")
