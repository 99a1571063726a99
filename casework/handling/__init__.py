"""Handling by departments: receipt (签收), return of misrouted work (退办) and co-handlers' opinions (会办意见).

The rules are in workflows/ (motion.py, proposal.py); their guards and effects are here, with the sweep's
reminders (jobs.py), the case page's panel and the API."""
from . import api, jobs, rules  # noqa: F401  (API blueprint; sweep tasks; guards, effects, settings)
