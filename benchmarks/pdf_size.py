"""PDF notices: size and render time through casework's renderer against bare WeasyPrint on the same HTML.

    python benchmarks/pdf_size.py [--repeat 9]

Targets (issue 16): a one-page notice ≤ 40 KB; render time ≤ 1.2x bare WeasyPrint (the same HTML and
stylesheet, default options), the two measured interleaved in one run. Renders the demo's notices from plain
values (tests/notice_samples.py), no database; the size as stored adds the PAdES signature (signing.sign with
a scratch key, as `operations.issue` signs). Prints sizes and ratios; not a test (the machines are noisy).
"""
from __future__ import annotations

import os
import statistics
import tempfile
import time

from common import args


def main():
    opts = args(__doc__, repeat=(int, 9, "renders per side and notice"))
    import pypdfium2 as pdfium
    import weasyprint
    from casework.notices import renderer
    from tests.notice_samples import SAMPLES, values

    css = renderer.STYLESHEET.read_text(encoding="utf-8")
    signed = signer()
    rows, ours_all, bare_all, own_all = [], [], [], []
    for template in sorted(SAMPLES):
        v = values(template)
        page = renderer.html(template, v)
        bare_html = page.replace("</head>", f"<style>{css}</style></head>", 1)

        def ours():
            return renderer.render(template, v)

        def bare():
            return weasyprint.HTML(string=bare_html).write_pdf()

        def own():  # casework's renderer with WeasyPrint's own font subsets: what the font step saves
            return renderer.html_to_pdf(renderer.html(template, v), compact=False)

        small, big = ours(), bare()  # warm both: fontconfig, Pango, imports
        times = {"ours": [], "bare": [], "own": []}
        for _ in range(opts.repeat):
            for name, fn in (("ours", ours), ("bare", bare), ("own", own)):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        a, b, c = (statistics.median(times[k]) for k in ("ours", "bare", "own"))
        ours_all += times["ours"]
        bare_all += times["bare"]
        own_all += times["own"]
        rows.append((template, len(pdfium.PdfDocument(small)), len(small), len(signed(small)), len(big),
                     a, b, c))

    print(f"{'notice':26s} pages casework  signed  bare WeasyPrint  casework ms  bare ms  ratio  "
          f"(own subsets ms)")
    for template, pages, small, stored, big, a, b, c in rows:
        print(f"{template:26s} {pages:5d} {small / 1024:5.1f} KB {stored / 1024:5.1f} KB "
              f"{big / 1024:10.1f} KB {a * 1000:12.1f} {b * 1000:8.1f} {a / b:5.2f}x  ({c * 1000:.1f})")
    one_page = [r[2] for r in rows if r[1] == 1]
    stored = [r[3] for r in rows if r[1] == 1]
    ratio = statistics.median(ours_all) / statistics.median(bare_all)
    print(f"largest one-page notice: {max(one_page) / 1024:.1f} KB as rendered (target <= 40 KB: "
          f"{'ok' if max(one_page) <= 40 * 1024 else 'MISSED'}), {max(stored) / 1024:.1f} KB signed as "
          f"stored ({sum(n > 40 * 1024 for n in stored)} of {len(stored)} over 40 KB)")
    print(f"render time, median over all notices: casework / bare WeasyPrint {ratio:.2f}x (target <= 1.2x: "
          f"{'ok' if ratio <= 1.2 else 'MISSED'}); with WeasyPrint's own subsets "
          f"{statistics.median(own_all) / statistics.median(bare_all):.2f}x")


def signer():
    """pdf -> the PDF signed as a notice is stored: an app on a scratch instance with its own fresh key."""
    os.environ["CASEWORK_INSTANCE"] = tempfile.mkdtemp(prefix="casework-bench-")
    from casework import create_app
    from casework.notices import signing
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://",
                      "SECRET_KEY": "benchmark-secret-key-0123456789"})

    def sign(pdf: bytes) -> bytes:
        with app.app_context():
            return signing.sign(pdf, org="示范公司工会委员会", reason="benchmark")
    return sign


if __name__ == "__main__":
    main()
