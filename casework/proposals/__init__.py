from . import kind, rules  # noqa: F401  (register the kind, its guards and effects)
