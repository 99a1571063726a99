"""Notifications: the inbox, e-mail, and the effects that tell people about a step."""
from . import rules  # noqa: F401  (the notify_applicant and notify_author effects)
