"""Rationalisation proposals: the kind, its guards and effects, the duplicate index, its API (pages: `views`)."""
from . import api, kind, rules, similar  # noqa: F401  (the kind, its guards and effects, index, API blueprint)
