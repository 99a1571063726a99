"""The PDF a notice becomes: small font subsets (no retained glyph ids), every Chinese word extractable by
pdfplumber, pypdf and pdftotext, and pixels the same as with WeasyPrint's own subsets (pdfium and poppler)."""
from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
from html.parser import HTMLParser

import pdfplumber
import pypdf
import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from casework.notices import renderer

from .notice_samples import SAMPLES, values

LIMIT = 40 * 1024  # a one-page letter (issue 16)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


@pytest.fixture(autouse=True)
def no_weasyprint_warnings():
    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append
    logging.getLogger("weasyprint").addHandler(handler)
    yield records
    logging.getLogger("weasyprint").removeHandler(handler)
    assert not records, [r.getMessage() for r in records]


class _Text(HTMLParser):
    """The text a page shows (not <title>, <style> or the QR code's SVG)."""

    def __init__(self):
        super().__init__()
        self.parts, self.hidden = [], 0

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in ("title", "style", "svg")

    def handle_endtag(self, tag):
        self.hidden -= tag in ("title", "style", "svg")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def chinese_words(markup: str) -> list[str]:
    parser = _Text()
    parser.feed(markup)
    return CJK.findall("".join(parser.parts))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def pdfplumber_text(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return squeeze("".join(page.extract_text() or "" for page in doc.pages))


def pypdf_text(pdf: bytes) -> str:
    return squeeze("".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages))


def pdftotext(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True)
    return squeeze(out.stdout.decode())


def font_types(pdf: bytes) -> dict[str, str]:
    """Embedded font name (without the subset tag) → type, as poppler's pdffonts reports them."""
    out = subprocess.run(["pdffonts", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    rows = [re.split(r"\s{2,}", line.strip()) for line in out.splitlines()[2:]]
    return {row[0].split("+", 1)[-1]: row[1] for row in rows}


def pdfium_pages(pdf: bytes) -> list[Image.Image]:
    doc = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=100 / 72).to_pil().convert("L") for page in doc]
    finally:
        doc.close()


def poppler_pages(pdf: bytes, tmp_path, name: str) -> list[Image.Image]:
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-gray", "-png", str(tmp_path / f"{name}.pdf"),
                    str(tmp_path / name)], check=True)
    return [Image.open(p).convert("L") for p in sorted(tmp_path.glob(f"{name}-*.png"))]


def assert_same_pixels(old: list[Image.Image], new: list[Image.Image]):
    """Equal up to anti-aliasing: no pixel off by more than a quarter of the range, and only a few
    edge pixels (≤ 0.05%) off by more than 8 of 255. A wrong or missing glyph moves thousands."""
    assert len(old) == len(new)
    for a, b in zip(old, new):
        assert a.size == b.size
        histogram = ImageChops.difference(a, b).histogram()
        assert sum(histogram[64:]) == 0, "a glyph differs"
        assert sum(histogram[9:]) <= a.size[0] * a.size[1] * 0.0005


def both(template: str) -> tuple[str, bytes, bytes]:
    """The notice's HTML, its PDF with WeasyPrint's own subsets and with ours."""
    markup = renderer.html(template, values(template))
    return markup, renderer.html_to_pdf(markup, compact=False), renderer.html_to_pdf(markup)


@pytest.mark.parametrize("template", sorted(SAMPLES))
def test_notice_pdf_small_text_intact_pixels_same(template, tmp_path):
    markup, old, new = both(template)
    pages = pdfium.PdfDocument(new)
    if len(pages) == 1:
        assert len(new) <= LIMIT, f"{len(new)} bytes"
    assert len(new) <= len(old) / 5
    # The fonts are CID-keyed CFF subsets, not OpenType files with 65,535 glyph slots.
    types = font_types(new)
    assert types and set(types.values()) == {"CID Type 0C"}, types
    assert set(font_types(old).values()) == {"CID Type 0C (OT)"}
    words = chinese_words(markup)
    assert len(words) > 10
    for extract in (pdfplumber_text, pypdf_text, pdftotext):
        text = extract(new)
        missing = [w for w in words if w not in text]
        assert not missing, (extract.__name__, missing)
        assert text == extract(old), extract.__name__
    assert_same_pixels(pdfium_pages(old), pdfium_pages(new))
    if shutil.which("pdftoppm"):  # poppler: the viewer that garbled renumbered glyphs in an OpenType wrapper
        assert_same_pixels(poppler_pages(old, tmp_path, "old"), poppler_pages(new, tmp_path, "new"))


def test_missing_glyph_still_warned_and_drawn_as_notdef(no_weasyprint_warnings, tmp_path):
    markup = '<p>公示期满\U000F0001无异议</p>'  # a private-use character that no font has
    new = renderer.html_to_pdf(markup)
    assert any(".notdef" in r.getMessage() for r in no_weasyprint_warnings)
    no_weasyprint_warnings.clear()
    old = renderer.html_to_pdf(markup, compact=False)
    no_weasyprint_warnings.clear()
    assert "公示期满" in pdftotext(new) and "无异议" in pdftotext(new)
    # pdfminer cannot read WeasyPrint's own encoding CMap for missing glyphs: no worse than before.
    assert pdfplumber_text(new) == pdfplumber_text(old)
    assert_same_pixels(pdfium_pages(old), pdfium_pages(new))
    assert_same_pixels(poppler_pages(old, tmp_path, "old"), poppler_pages(new, tmp_path, "new"))


def test_other_fonts_keep_weasyprint_subsetting():
    """A TrueType face (no CFF) is subset by WeasyPrint as before, beside the compact CJK subset."""
    pdf = renderer.html_to_pdf('<p>公示</p><p style="font-family: DejaVu Sans">Fund report</p>')
    assert font_types(pdf) == {"Noto-Serif-CJK-SC": "CID Type 0C", "DejaVu-Sans": "CID TrueType"}
    assert "公示" in pdfplumber_text(pdf) and "Fundreport" in pdftotext(pdf)


def test_cid_charsets_read_from_the_cff():
    """The check that decides: a CID-keyed CFF whose CIDs are its glyph ids (Noto CJK)."""
    assert renderer.cff_cids(b"") is None and renderer.cff_cids(b"OTTO\0\1\0\0") is None
    from fontTools.ttLib import TTFont
    with TTFont("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", fontNumber=0, lazy=True) as font:
        cff = bytes(font.reader["CFF "])
        glyphs = font["maxp"].numGlyphs
    cids = renderer.cff_cids(cff)
    assert cids == list(range(glyphs)) and glyphs > 60000
    assert renderer.cff_cids_are_gids(cff, glyphs) and not renderer.cff_cids_are_gids(cff, glyphs - 1)
    # Truncated: no exception into WeasyPrint's font step, just "not ours" (WeasyPrint subsets it).
    for cut in (3, 40, 200, 2000):
        assert renderer.cff_cids(cff[:cut]) is None and not renderer.cff_cids_are_gids(cff[:cut], glyphs)


def test_bare_weasyprint_is_left_alone():
    """Outside casework's renderer (e.g. the benchmark's bare WeasyPrint) fonts stay as WeasyPrint makes them."""
    import weasyprint
    renderer.html_to_pdf("<p>公示</p>")  # installs the hook
    pdf = weasyprint.HTML(string='<p style="font-family: \'Noto Sans CJK SC\'">公示</p>').write_pdf()
    assert font_types(pdf) == {"Noto-Sans-CJK-SC": "CID Type 0C (OT)"}


def _winding(path: str, px: float, py: float) -> int:
    """The nonzero winding number of the point for SVG path data made of M, h, v and z."""
    total, x, y, start = 0, 0, 0, (0, 0)
    for op, arg in re.findall(r"([Mhvz])([-\d ]*)", path):
        if op == "M":
            x, y = start = tuple(map(int, arg.split()))
        elif op in "vz":  # z closes the loop with a vertical edge (the last corner is above or below)
            y2 = y + int(arg) if op == "v" else start[1]
            if x > px and min(y, y2) < py < max(y, y2):  # a ray to the right crosses this edge
                total += 1 if y2 > y else -1
            x, y = (x, y2) if op == "v" else start
        elif op == "h":
            x += int(arg)
    return total


@pytest.mark.parametrize("text", ["http://127.0.0.1:5000/verify/K7QM3XWDPA9R", "x", "工会" * 40])
def test_qr_outlines_cover_exactly_the_dark_modules(text):
    import qrcode
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    path = renderer.module_outlines(matrix)
    filled = [[_winding(path, x + 0.5, y + 0.5) != 0 for x in range(len(matrix))] for y in range(len(matrix))]
    assert filled == matrix
    # Corners only: fewer path points than one square per module would take.
    assert len(re.findall(r"[hv]", path)) < sum(map(sum, matrix)) * 2


def test_short_widths_drop_only_the_default_width():
    widths = renderer.short_widths([1, [256], 11, [478, 1000, 327], 9901, [1000, 1000], 20000, [500]])
    assert widths == [1, [256], 11, [478], 13, [327], 20000, [500]]
    assert renderer.short_widths([9901, [1000], 10905, [1000]]) == []


def test_short_to_unicode_keeps_every_mapping():
    head = [renderer._CMAP_START, renderer._UCS, b"endcodespacerange"]
    tail = [b"endcmap", b"end"]
    pairs = [(0x13, "0032"), (0x11, "0030"), (0x12, "0031"), (0x4111, "5de5"), (0x2a99, "516c"),
             (0x0ff, "00ff"), (0x100, "0100"), (0x20, "00660069")]  # a byte boundary, a ligature
    lines = head + [b"%d beginbfchar" % len(pairs)] + [b"<%04x> <%s>" % (g, t.encode()) for g, t in pairs]
    lines += [b"endbfchar"] + tail
    out = renderer.short_to_unicode(lines)
    assert out[:3] == head and out[-2:] == tail
    assert b"<0011> <0013> <0030>" in out  # 0, 1, 2 as one range
    mapped = {}
    for line in out:
        parts = re.findall(rb"<([0-9a-f]+)>", line)
        if len(parts) == 3:
            for k in range(int(parts[0], 16), int(parts[1], 16) + 1):
                mapped[k] = "%04x" % (int(parts[2], 16) + k - int(parts[0], 16))
        elif len(parts) == 2:
            mapped[int(parts[0], 16)] = parts[1].decode()
    assert mapped == dict(pairs)
