"""PDF notices in Chinese: issued at workflow steps, numbered (文号), stored once with their SHA-256, checked by
anyone at /verify/<code>, printed in batches off the request.

`operations.issue` is the one way to issue a notice; `renderer.render` the one way to make a PDF.
"""
from __future__ import annotations

import logging

import click
from flask import Flask

from . import api, models, rules  # noqa: F401  (API blueprint, tables, the issue_notice effect)
from .renderer import rmb_capitals

__all__ = ["register", "rmb_capitals"]
log = logging.getLogger("casework.notices")


def register(app: Flask):
    from ..cli import casework_cli
    from .views import bp
    app.register_blueprint(bp)
    app.add_template_global(_case_notices, "case_notices")
    if "notices-check" not in casework_cli.commands:
        _commands(casework_cli)
    from . import keys_cli  # noqa: F401  (casework keys ...)
    checked = []

    @app.before_request
    def _check_once():
        # At a web process's first request, not at start-up: WeasyPrint costs ~0.5 s CPU to import, which
        # every CLI command and the scheduler would pay (`notices-check` checks from the command line).
        if not checked:
            checked.append(True)
            _startup_checks(app)


def _case_notices(case):
    from flask_login import current_user
    from .operations import visible_for_case
    return visible_for_case(case, current_user) if case is not None and case.id else []


def _startup_checks(app: Flask):
    from . import renderer
    try:
        if renderer.harfbuzz_subset_missing():
            app.logger.warning("libharfbuzz-subset0 is missing: PDF notices will render ~50x slower "
                               "(fontTools subsetting). Install the Debian package libharfbuzz-subset0.")
        renderer.check_fonts()
    except renderer.FontMissing as exc:
        app.logger.warning("%s", exc.message)
    except Exception as exc:  # noqa: BLE001  a broken Pango must not stop the app; issuing will say why
        app.logger.warning("PDF notices cannot be rendered: %s", exc)


def _commands(group):
    @group.command("notices-check")
    def notices_check():
        """Render a sample notice: checks the Chinese font, HarfBuzz subsetting and the time it takes."""
        import time
        from . import renderer
        if renderer.harfbuzz_subset_missing():
            click.echo("warning: libharfbuzz-subset0 is missing (apt-get install libharfbuzz-subset0)")
        try:
            renderer.check_fonts()
        except renderer.FontMissing as exc:
            raise click.ClickException(exc.message) from None
        values = {"org": "示范公司工会委员会", "number": "工帮〔2026〕1号", "date": "2026年11月25日",
                  "verify_code": "TEST-TEST-TEST", "verify_url": "http://127.0.0.1:5000/verify/TEST",
                  "title": "救助审批通知书", "name": "张建国", "person_unit": "一车间小组", "case_number": "A2026-00001",
                  "case_title": "", "submitted": "2026年11月20日", "category": "困难帮扶", "amount": 120000,
                  "fund": "困难职工救助基金", "posting_days": 5}
        renderer.render("aid_approval.html", {**values, "qr": renderer.qr_svg(values["verify_url"])})
        start = time.perf_counter()
        pdf = renderer.render("aid_approval.html", {**values, "qr": renderer.qr_svg(values["verify_url"])})
        click.echo(f"ok: one notice in {time.perf_counter() - start:.2f} s, {len(pdf)} bytes, "
                   f"font {renderer.FONT_FAMILY!r}")

    @group.command("fund-report")
    @click.option("--fund", "fund_code", required=True, help="fund code, e.g. AID")
    @click.option("--year", type=int, required=True)
    @click.option("--quarter", type=click.IntRange(1, 4), required=True)
    def fund_report_command(fund_code, year, quarter):
        """Issue (or show, if unchanged) the public quarterly report of a fund."""
        from sqlalchemy import select
        from ..extensions import db
        from ..funds.models import Fund
        from .operations import fund_report
        fund = db.session.scalar(select(Fund).where(Fund.code == fund_code))
        if fund is None:
            raise click.ClickException(f"no fund with code {fund_code!r}")
        if not 2000 <= year <= 2100:
            raise click.ClickException(f"year {year} is out of range")
        notice = fund_report(fund, year, quarter)
        db.session.commit()
        click.echo(f"{notice.number} sha256 {notice.sha256} check code {notice.display_code}")

    @group.command("annual-report")
    @click.option("--kind", required=True, help="aid, proposal or motion")
    @click.option("--unit", "unit_code", required=True, help="unit code, e.g. HQ (the units below it count)")
    @click.option("--year", required=True, help="calendar year, e.g. 2026")
    def annual_report_command(kind, unit_code, year):
        """Issue (or show, if unchanged) a unit's annual report: aid, proposal or motion."""
        from sqlalchemy import select
        from ..accounts.models import Unit
        from ..core.errors import CaseworkError
        from ..extensions import db
        from ..stats import reports
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if unit is None:
            raise click.ClickException(f"no unit with code {unit_code!r}")
        try:
            kind, year = reports.check(kind, year)
            notice, issued = reports.annual_report(kind, unit, year)
            db.session.commit()
        except CaseworkError as exc:
            db.session.rollback()
            details = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
            raise click.ClickException(f"{exc.message} {details}".strip()) from None
        state = "issued" if issued else "unchanged, the current report"
        click.echo(f"{notice.number} ({state}) sha256 {notice.sha256} check code {notice.display_code}")
