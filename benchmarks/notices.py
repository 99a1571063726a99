"""PDF notices: one notice through casework's renderer against bare WeasyPrint on the same HTML, and a batch.

    python benchmarks/notices.py [--db URL] [--repeat 15] [--n 1000] [--workers -1] [--serial 0]

Targets (issue 7): one notice ≤ 1.2x bare WeasyPrint (same HTML and stylesheet, measured interleaved); a
1,000-notice batch printed off the request. Prints times and ratios; not a test (the machines are noisy).
"""
from __future__ import annotations

import secrets
import statistics
import time

from common import args, make_app


def main():
    opts = args(__doc__, repeat=(int, 15, "single-notice renders per side"),
                n=(int, 1000, "notices in the batch"), workers=(int, -1, "batch worker processes (-1: auto)"),
                serial=(int, 0, "also time the batch without worker processes (1: yes)"))
    app = make_app(opts.db)
    import weasyprint
    from sqlalchemy import insert, select
    from casework.accounts.models import Unit
    from casework.extensions import db
    from casework.notices import batch, operations, renderer
    from casework.notices.models import Notice, NoticeBatch
    from casework.accounts.models import User

    with app.app_context(), app.test_request_context("/"):
        hq = db.session.scalar(select(Unit).where(Unit.code == "HQ"))
        values = {"name": "张建国", "person_unit": "一车间小组", "case_number": "A2026-00012", "case_title": "",
                  "submitted": "2026年11月20日", "category": "困难帮扶", "amount": 200000,
                  "fund": "困难职工救助基金", "posting_days": 5}
        first = operations.issue("aid_approval", unit=hq, values=values)
        db.session.commit()
        fields = dict(db.session.get(Notice, first.id).fields)
        template = first.spec.template
        page = renderer.html(template, {**fields, "qr": renderer.qr_svg(fields["verify_url"])})
        css = renderer.STYLESHEET.read_text(encoding="utf-8")
        bare_html = page.replace("</head>", f"<style>{css}</style></head>", 1)

        def ours():
            renderer.render(template, {**fields, "qr": renderer.qr_svg(fields["verify_url"])})

        def bare():
            weasyprint.HTML(string=bare_html).write_pdf()

        def issue():
            operations.issue("aid_approval", unit=hq, values=values)
            db.session.commit()

        ours(), bare()  # warm both: fontconfig, Pango, imports
        times = {"casework render": [], "bare WeasyPrint": [], "casework issue (number+render+store)": []}
        for _ in range(opts.repeat):
            for name, fn in (("casework render", ours), ("bare WeasyPrint", bare),
                             ("casework issue (number+render+store)", issue)):
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"one notice, median of {opts.repeat} (harfbuzz-subset: "
              f"{'MISSING' if renderer.harfbuzz_subset_missing() else 'yes'}):")
        for k, v in med.items():
            print(f"  {k:40s} {v * 1000:8.1f} ms")
        ratio = med["casework render"] / med["bare WeasyPrint"]
        print(f"  ratio casework render / bare          {ratio:8.2f}x  (target <= 1.2x: "
              f"{'ok' if ratio <= 1.2 else 'MISSED'})")
        issued = med["casework issue (number+render+store)"] / med["bare WeasyPrint"]
        print(f"  ratio casework issue / bare           {issued:8.2f}x")

        # A batch of n notices: the stored values of n issued notices (rows cloned from a real one, so the
        # set-up does not take n single renders), laid out again into one PDF by the batch printer.
        user = db.session.scalar(select(User).where(User.username == "staff1"))
        rows = []
        for k in range(opts.n):
            code = operations.new_code()
            number = operations.number_for("aid_approval", hq, 2026, 100000 + k)
            rows.append({"kind": "aid_approval", "unit_id": hq.id, "year": 2026, "seq": 100000 + k,
                         "number": number, "issued_at": first.issued_at, "sha256": "0" * 64, "size": 0, "verify_code": code,
                         "fields": {**fields, "number": number, "verify_code": code, "name": f"职工{k:04d}",
                                    "verify_url": fields["verify_url"][:-12] + code},
                         "pdf": b""})
        db.session.execute(insert(Notice), rows)
        db.session.commit()
        ids = list(db.session.scalars(select(Notice.id).where(Notice.seq >= 100000).order_by(Notice.id)))
        single = med["bare WeasyPrint"]
        modes = [("pool", opts.workers)] + ([("serial", 0)] if opts.serial else [])
        for label, workers in modes:
            if workers >= 0:
                app.config["CASEWORK_NOTICE_WORKERS"] = workers
            row = NoticeBatch(token=secrets.token_urlsafe(16), title="bench", requested_by_id=user.id,
                              notice_ids=ids, total=len(ids), status="queued")
            db.session.add(row)
            db.session.commit()
            batch_id = row.id
            db.session.rollback()
            t = time.perf_counter()
            batch.launch(batch_id, app).result()
            elapsed = time.perf_counter() - t
            db.session.expire_all()
            done = db.session.get(NoticeBatch, batch_id)
            size = len(done.pdf or b"")
            print(f"batch of {len(ids)} ({label}, {batch.workers()} worker processes, "
                  f"chunks of {batch.CHUNK}): "
                  f"{done.status}, {elapsed:.1f} s, {elapsed / len(ids) * 1000:.1f} ms a notice, "
                  f"{size / 1e6:.1f} MB; {len(ids)} single bare renders would take {len(ids) * single:.1f} s "
                  f"(ratio {elapsed / (len(ids) * single):.2f}x)")
            if done.status != "done":
                print("  error:", done.error)


if __name__ == "__main__":
    main()
