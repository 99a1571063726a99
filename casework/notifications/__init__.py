from . import rules  # noqa: F401  (the notify_applicant and notify_author effects)
