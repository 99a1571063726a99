"""notices (being built)."""


def register(app):
    return None
