"""Fund pages (being built)."""


def register(app):
    return None
