"""Congress motions: the kind, its guards and effects, its API (its pages are in `views`)."""
from . import api, kind, rules  # noqa: F401  (the kind, its guards and effects, API blueprint)
