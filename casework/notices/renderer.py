"""The one PDF renderer: a notice template and a plain dict in, PDF bytes out.

No Flask and no database here: the web process, the effect inside a transition and the batch worker
processes all call `render`. Templates get plain values only (never ORM objects) and autoescape user text.
"""
from __future__ import annotations

import logging
import os
import struct
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
# Named explicitly in print.css too: the generic fallbacks miss rarer characters. The serif face sets title
# and body (GB/T 9704: 小标宋, 仿宋), the sans face the annual reports' headings (黑体).
FONT_FAMILY = "Noto Serif CJK SC"
HEADING_FAMILY = "Noto Sans CJK SC"
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
    """Stop with one clear error when a CJK font is absent: never a PDF with empty boxes."""
    for name in (family,) if family else (FONT_FAMILY, HEADING_FAMILY):
        if name.casefold() not in {n.casefold() for n in font_families(name)}:
            raise FontMissing(f"The notices need the Chinese font “{name}”, which is not installed. "
                              f"Install the Debian package {FONT_PACKAGE} (apt-get install {FONT_PACKAGE}).")


def harfbuzz_subset_missing() -> bool:
    """Without HarfBuzz's subsetter WeasyPrint falls back to fontTools: ~50x slower on CJK fonts."""
    from weasyprint.text.ffi import harfbuzz_subset
    return harfbuzz_subset is None


# -- compact font subsets ----------------------------------------------------------------------
# WeasyPrint 70 subsets with HarfBuzz's RETAIN_GIDS, so a CJK subset keeps an empty slot for every glyph id
# up to the highest one used (most of 65,535: ~140 KB a face, ~280 KB of a 310 KB notice). For a CID-keyed CFF font whose CIDs equal its glyph
# ids (Noto CJK: Adobe-Identity-0) we subset without retained ids, keep only the CFF table and embed it as
# FontFile3 /CIDFontType0C: the CFF charset maps each CID that the page's Identity-H codes name back to its
# glyph, so content streams, widths and ToUnicode stay as WeasyPrint wrote them. The OpenType wrapper must
# go: poppler reads an OpenType CFF by glyph id and garbles renumbered glyphs. Any other font (TrueType,
# variable, colour, a CFF whose CIDs are not its glyph ids) keeps WeasyPrint's own subsetting. Only our
# renders (the thread-local flag) take this path; the finisher names the bare CFF streams in the PDF.

_compact = threading.local()


def _cff_index(buf, pos: int) -> tuple[list[tuple[int, int]], int]:
    """A CFF INDEX at `pos`: the (start, end) of each item and the position after it."""
    count = struct.unpack_from(">H", buf, pos)[0]
    if count == 0:
        return [], pos + 2
    size = buf[pos + 2]
    offsets = [int.from_bytes(buf[pos + 3 + i * size:pos + 3 + (i + 1) * size], "big") for i in range(count + 1)]
    base = pos + 2 + (count + 1) * size
    return [(base + offsets[i], base + offsets[i + 1]) for i in range(count)], base + offsets[-1]


def _cff_dict(data) -> dict[int, list]:
    """A CFF DICT: operator (12 x as 1200 + x) → operands."""
    out, operands, i = {}, [], 0
    while i < len(data):
        b = data[i]
        if b <= 21:
            op = 1200 + data[i + 1] if b == 12 else b
            i += 2 if b == 12 else 1
            out[op], operands = operands, []
        elif b == 28:
            operands.append(struct.unpack_from(">h", data, i + 1)[0]); i += 3
        elif b == 29:
            operands.append(struct.unpack_from(">i", data, i + 1)[0]); i += 5
        elif b == 30:  # a real: skip its nibbles up to the 0xf terminator
            i += 1
            while data[i] & 0x0F != 0x0F and data[i] >> 4 != 0x0F:
                i += 1
            i += 1
            operands.append(0.0)
        elif 32 <= b <= 246:
            operands.append(b - 139); i += 1
        elif 247 <= b <= 250:
            operands.append((b - 247) * 256 + data[i + 1] + 108); i += 2
        elif 251 <= b <= 254:
            operands.append(-(b - 251) * 256 - data[i + 1] - 108); i += 2
        else:
            raise ValueError("bad CFF DICT")
    return out


def _cff_charset(buf) -> tuple[int, int, int] | None:
    """(glyph count, charset format, position of its data) of a CID-keyed CFF (version 1) font, else None."""
    if len(buf) < 4 or buf[0] != 1:
        return None
    _, pos = _cff_index(buf, buf[2])  # Name INDEX
    tops, _ = _cff_index(buf, pos)
    top = _cff_dict(buf[tops[0][0]:tops[0][1]])
    if 1230 not in top or 15 not in top or 17 not in top:  # ROS, charset, CharStrings
        return None
    return struct.unpack_from(">H", buf, top[17][0])[0], buf[top[15][0]], top[15][0] + 1


def _cff_ranges(buf, fmt: int, pos: int):
    """The charset's (first CID, count) runs, glyph 1 onwards."""
    if fmt == 0:
        while True:
            yield struct.unpack_from(">H", buf, pos)[0], 1
            pos += 2
    while True:
        first, left = struct.unpack_from(">HB" if fmt == 1 else ">HH", buf, pos)
        pos += 3 if fmt == 1 else 4
        yield first, left + 1


BAD_CFF = (struct.error, IndexError, ValueError)  # a truncated or malformed table: not ours to embed


def cff_cids(buf) -> list[int] | None:
    """The CID of each glyph of a CID-keyed CFF font, or None for any other CFF."""
    try:
        found = _cff_charset(buf)
        if found is None:
            return None
        glyphs, fmt, pos = found
        cids, runs = [0], _cff_ranges(buf, fmt, pos)
        while len(cids) < glyphs:
            first, count = next(runs)
            cids.extend(range(first, first + count))
        return cids[:glyphs]
    except BAD_CFF:
        return None


def cff_cids_are_gids(buf, glyphs: int) -> bool:
    """Whether a CFF font is CID-keyed with CID = glyph id for all its `glyphs` glyphs (Noto CJK: one run),
    without listing 65,535 CIDs."""
    try:
        found = _cff_charset(buf)
        if found is None or found[0] != glyphs:
            return False
        expected, runs = 1, _cff_ranges(buf, found[1], found[2])
        while expected < glyphs:
            first, count = next(runs)
            if first != expected:
                return False
            expected += count
        return True
    except BAD_CFF:
        return False


def _table(face, tag: bytes):
    """(a read-only view of) one table of a HarfBuzz face, and the blob to destroy after use."""
    from weasyprint.text.ffi import ffi, harfbuzz
    blob = harfbuzz.hb_face_reference_table(face, harfbuzz.hb_tag_from_string(tag, -1))
    length = ffi.new("unsigned int *")
    data = harfbuzz.hb_blob_get_data(blob, length)
    return memoryview(b"" if data == ffi.NULL else ffi.buffer(data, length[0])), blob


def compact_cff(font, to_unicode: dict, hinting: bool) -> bytes | None:
    """The CFF table of `font` subset to the glyphs used, without retained glyph ids; None when the font
    does not qualify (then WeasyPrint subsets it as usual)."""
    from weasyprint.text.ffi import ffi, harfbuzz, harfbuzz_subset as hbs
    if (hbs is None or not harfbuzz.hb_version_atleast(4, 1, 0)  # as WeasyPrint: hb_set_add_sorted_array
            or not to_unicode or "CFF " not in font.tables or "fvar" in font.tables
            or font.bitmap or font.png or font.svg or font.colr):
        return None
    source, blob = _table(font.hb_face, b"CFF ")
    try:
        if not cff_cids_are_gids(source, font.glyph_count):
            return None
    finally:
        harfbuzz.hb_blob_destroy(blob)
    used = sorted(g for g in to_unicode if 0 < g < font.glyph_count)  # ids past the font: missing glyphs
    plan = ffi.gc(hbs.hb_subset_input_create_or_fail(), hbs.hb_subset_input_destroy)
    harfbuzz.hb_set_add_sorted_array(hbs.hb_subset_input_glyph_set(plan),
                                     ffi.new(f"hb_codepoint_t[{len(used)}]", used), len(used))
    flags = hbs.HB_SUBSET_FLAGS_DESUBROUTINIZE | hbs.HB_SUBSET_FLAGS_NO_LAYOUT_CLOSURE
    if not hinting:
        flags |= hbs.HB_SUBSET_FLAGS_NO_HINTING
    if font.missing:
        flags |= hbs.HB_SUBSET_FLAGS_NOTDEF_OUTLINE
    hbs.hb_subset_input_set_flags(plan, flags)
    drop = sorted(harfbuzz.hb_tag_from_string(t.encode(), -1) for t in font.tables if t != "CFF ")
    harfbuzz.hb_set_add_sorted_array(hbs.hb_subset_input_set(plan, hbs.HB_SUBSET_SETS_DROP_TABLE_TAG),
                                     ffi.new(f"hb_codepoint_t[{len(drop)}]", drop), len(drop))
    face = hbs.hb_subset_or_fail(font.hb_face, plan)
    if face == ffi.NULL:
        return None
    face = ffi.gc(face, harfbuzz.hb_face_destroy)
    view, blob = _table(face, b"CFF ")
    try:
        cff = bytes(view)
    finally:
        harfbuzz.hb_blob_destroy(blob)
    kept = cff_cids(cff) if cff else None
    # Every glyph the page names must be there under its own id as CID, or the subset is not used.
    if kept is None or kept != sorted(set(kept)) or not set(used) <= set(kept):
        return None
    return cff


_install_lock = threading.Lock()


def _install_compact_fonts() -> None:
    from weasyprint.pdf import fonts
    with _install_lock:
        if not getattr(fonts.Font, "casework_compact", False):
            _hook(fonts)


def _hook(fonts) -> None:
    subset, kind = fonts.Font.subset, fonts.Font.type

    def compact_subset(self, to_unicode, hinting):
        cff = compact_cff(self, to_unicode, hinting) if getattr(_compact, "on", False) else None
        if cff is None:
            return subset(self, to_unicode, hinting)
        self.file_content, self.bare_cff = cff, True

    fonts.Font.subset = compact_subset
    # A bare CFF is embedded like an OpenType CFF (FontFile3, CIDFontType0); the finisher fixes the Subtype.
    fonts.Font.type = property(lambda self: "otf" if getattr(self, "bare_cff", False) else kind.fget(self))
    fonts.Font.casework_compact = True


def _finish(document, pdf) -> None:
    """write_pdf finisher: a font stream holding a bare CFF is /CIDFontType0C, not /OpenType; widths and
    ToUnicode maps written shorter with the same meaning (together ~1 KB of a notice)."""
    import pydyf
    for obj in pdf.objects:
        if (isinstance(obj, pydyf.Stream) and obj.extra.get("Subtype") == "/OpenType" and obj.stream
                and isinstance(obj.stream[0], bytes) and obj.stream[0][:4] != b"OTTO"):
            obj.extra["Subtype"] = "/CIDFontType0C"
        elif (isinstance(obj, pydyf.Dictionary) and obj.get("Subtype") in ("/CIDFontType0", "/CIDFontType2")
              and isinstance(obj.get("W"), list) and "DW" not in obj):
            obj["W"] = short_widths(obj["W"])
        elif isinstance(obj, pydyf.Stream) and obj.stream[:1] == [_CMAP_START] and _UCS in obj.stream:
            obj.stream[:] = short_to_unicode(obj.stream)


def short_widths(w: list) -> "pydyf.Array":
    """A CIDFont's /W without the glyphs of the default width (1000 when /DW is absent, every CJK
    glyph), the others as runs of consecutive CIDs."""
    import pydyf
    widths = {}
    for first, run in zip(w[::2], w[1::2]):
        for i, width in enumerate(run):
            widths[first + i] = width
    out = pydyf.Array()
    for cid in sorted(c for c, width in widths.items() if width != 1000):
        if cid - 1 not in widths or widths[cid - 1] == 1000:
            out.extend((cid, pydyf.Array()))
        out[-1].append(widths[cid])
    return out


_CMAP_START = b"/CIDInit /ProcSet findresource begin"
_UCS = b"/CMapName /Adobe-Identity-UCS def"


def short_to_unicode(lines: list[bytes]) -> list[bytes]:
    """WeasyPrint's ToUnicode CMap (bfchar lines in the order glyphs were first used) sorted by glyph,
    consecutive glyphs with consecutive single characters as bfrange lines (digits, Latin letters)."""
    start, end = lines.index(b"endcodespacerange") + 1, lines.index(b"endcmap")
    pairs = sorted({line[1:5]: line for line in lines[start:end] if line.startswith(b"<")}.items())
    pairs = [(int(key, 16), line[line.index(b" ") + 2:-1]) for key, line in pairs]
    ranges, chars, i = [], [], 0
    while i < len(pairs):
        glyph, text = pairs[i]
        j = i
        while (j + 1 < len(pairs) and len(text) == 4 and pairs[j + 1][0] == pairs[j][0] + 1
               and pairs[j + 1][0] >> 8 == glyph >> 8 and len(pairs[j + 1][1]) == 4
               and int(pairs[j + 1][1], 16) == int(pairs[j][1], 16) + 1
               and int(pairs[j + 1][1], 16) >> 8 == int(text, 16) >> 8):
            j += 1
        if j > i:
            ranges.append(b"<%04x> <%04x> <%s>" % (glyph, pairs[j][0], text))
        else:
            chars.append(b"<%04x> <%s>" % (glyph, text))
        i = j + 1
    body = []
    for kind, items in ((b"bfrange", ranges), (b"bfchar", chars)):
        for k in range(0, len(items), 100):  # at most 100 lines a block (the CMap specification)
            batch = items[k:k + 100]
            body += [b"%d begin%s" % (len(batch), kind), *batch, b"end" + kind]
    return lines[:start] + body + lines[end:]


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
    """A QR code as an inline SVG path (pure Python, no image files, nothing to fetch): the outlines of
    its dark regions, corners only. The same shape as one square per module, a quarter of the bytes."""
    import qrcode
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    return Markup(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {n + 4} {n + 4}" '
                  f'width="{size_mm}mm" height="{size_mm}mm" shape-rendering="crispEdges">'
                  f'<rect x="-2" y="-2" width="{n + 4}" height="{n + 4}" fill="#fff"/>'
                  f'<path d="{module_outlines(matrix)}" fill="#000"/></svg>')


def module_outlines(matrix: list[list[bool]]) -> str:
    """SVG path data tracing the boundary of the dark cells: each loop keeps the dark side on its right,
    so holes wind the other way and the nonzero fill leaves them white."""
    n = len(matrix)

    def dark(x, y):
        return 0 <= x < n and 0 <= y < n and matrix[y][x]

    following: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for y in range(n):
        for x in range(n):
            if dark(x, y):
                for side, start, end in ((dark(x, y - 1), (x, y), (x + 1, y)),
                                         (dark(x + 1, y), (x + 1, y), (x + 1, y + 1)),
                                         (dark(x, y + 1), (x + 1, y + 1), (x, y + 1)),
                                         (dark(x - 1, y), (x, y + 1), (x, y))):
                    if not side:
                        following.setdefault(start, []).append(end)
    loops = []
    while following:
        start = min(following)
        points, here, came = [start], start, start
        while True:
            ways = following[here]
            # Two regions touching at a corner: turn right, so each loop stays simple.
            right = (here[0] - (here[1] - came[1]), here[1] + (here[0] - came[0]))
            there = right if len(ways) > 1 and right in ways else ways[0]
            ways.remove(there)
            if not ways:
                del following[here]
            came, here = here, there
            if here == start:
                break
            points.append(here)
        corners = [p for i, p in enumerate(points)
                   if not points[i - 1][0] == p[0] == points[(i + 1) % len(points)][0]
                   and not points[i - 1][1] == p[1] == points[(i + 1) % len(points)][1]]
        steps = "".join(f"h{b[0] - a[0]}" if a[1] == b[1] else f"v{b[1] - a[1]}"
                        for a, b in zip(corners, corners[1:]))
        loops.append(f"M{corners[0][0]} {corners[0][1]}{steps}z")
    return "".join(loops)


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


def html_to_pdf(markup: str, compact: bool = True) -> bytes:
    """`compact=False`: WeasyPrint's own font subsets (the reference the tests compare against)."""
    from weasyprint import HTML
    check_fonts()
    fonts, css, fetch = _tools()
    _install_compact_fonts()
    _compact.on = compact
    try:
        return HTML(string=markup, base_url=STATIC.as_uri() + "/", url_fetcher=fetch).write_pdf(
            stylesheets=[css], font_config=fonts, finisher=_finish)
    finally:
        _compact.on = False


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
