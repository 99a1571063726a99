"""Privacy (PIPL): the reads log of aid requests' sensitive parts, separate consent, correction requests and
a person's own data (我的数据), with their pages, API and check.

`access.note(case, user)` is called where a sensitive part is shown (the aid record with its details,
attachments, exports); a refused attempt on an aid request is noted too. Entries are hash-chained per case
and checked by `casework verify-audit`.
"""
from __future__ import annotations

from flask import Flask

from . import access, models, retention  # noqa: F401  (tables; retention's guards, effects, settings)

WHAT = ("details", "attachment", "export")


def register(app: Flask):
    from ..core import kinds
    from . import api, cli, views  # noqa: F401  (the API blueprint joins the API's list; `retention`)
    app.register_blueprint(views.bp)
    app.teardown_request(access.flush_request_reads)
    app.add_template_global(views.case_reads, "case_reads")
    app.add_template_global(views.answers_corrections, "answers_corrections")
    app.add_template_global(views.consent_notice, "consent_notice")
    app.add_template_global(views.case_retention, "case_retention")
    app.add_template_filter(views.cleared, "cleared")
    from ..labels import CONSENT_HOW_LABELS
    app.add_template_global(lambda how: str(CONSENT_HOW_LABELS.get(how or "", how or "")), "labels_consent_how")

    from ..scheduler.sweep import TASKS, due_task
    if "retention" not in TASKS:
        due_task("retention")(_retention_task)

    if not kinds.refused.has_receivers_for(None):
        kinds.refused.connect(_refused, weak=False)


def _refused(case, user=None):
    if case.kind == "aid":
        access.note(case, user, "details", allowed=False)


def _retention_task(at):
    """The sweep: anonymise the requests whose retention period ended, purge reads past theirs."""
    return retention.run(at) + retention.purge_reads(at)
