"""Aid requests: the kind and its guards and effects (the pages are the shared case pages in casework/web)."""
from . import kind, levels, rules  # noqa: F401  (register the kind, its guards, effects and levels)
