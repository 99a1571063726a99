"""Two-part ratings of replies, the ratings ledger and the call-backs (回访) after a 不满意."""
from . import models, rules  # noqa: F401  (tables, guards and effects)


def register(app):
    from . import api, jobs  # noqa: F401  (API blueprint, the sweep's reminder task)
    from .views import bp, case_ratings
    app.register_blueprint(bp)
    app.add_template_global(case_ratings, "case_ratings")
