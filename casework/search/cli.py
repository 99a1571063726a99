"""`flask --app wsgi casework search-rebuild`: rewrite the search index (after a change to what it holds)."""
from __future__ import annotations

import click

from ..cli import casework_cli
from ..extensions import db
from . import index


@casework_cli.command("search-rebuild")
def search_rebuild_command():
    """Rewrite the search index from the cases' texts."""
    written = index.rebuild()
    db.session.commit()
    click.echo(f"search index: {written} cases with words")
