"""Search over the cases a person may see: partial numbers, titles, people's names and Chinese full text.

`index` keeps one row of jieba words per case (only the fields its kind declares in `search_fields`),
written in the transaction that creates or changes the case; SQLite matches them with FTS5, PostgreSQL
with a GIN full-text index over to_tsvector('simple', ...). `service.search` is the one query the header
box, the results page and the API share.
"""
from __future__ import annotations

from flask import Flask

from . import index, models  # noqa: F401  (the table and the hooks that keep it)


def register(app: Flask):
    from . import api, cli  # noqa: F401  (the API blueprint and `search-rebuild`)
    from flask_login import current_user

    from . import saved
    from .views import bp
    app.register_blueprint(bp)
    # The lists show the signed-in person's saved filters above them (templates/search/_saved_filters.html).
    app.jinja_env.globals["saved_filters"] = lambda page: saved.owned(current_user, page)
