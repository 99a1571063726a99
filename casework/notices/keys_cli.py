"""`flask --app wsgi casework keys init|import|list`: the union's notice-signing keys."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from ..cli import casework_cli


@casework_cli.group("keys")
def keys_group():
    """The keys that sign every PDF notice (PAdES)."""


def _top_union_name() -> str:
    from ..accounts.models import Unit
    from ..extensions import db
    unit = db.session.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
    if unit is None:
        raise click.ClickException("no union unit exists yet; give its name with --org")
    return unit.name


def _show(info: dict) -> None:
    for s in info["signers"]:
        mark = "*" if s.get("current") else " "
        if "error" in s:
            click.echo(f"{mark} {s['serial']}: {s['error']}")
        else:
            click.echo(f"{mark} {s['serial']}  {s['subject']}  valid until {s['not_after']}")
    click.echo(f"trusted roots: {info['trusted']}")


@keys_group.command("init")
@click.option("--org", help="the union's name in the certificates (default: the top unit's name)")
@click.option("--rollover", is_flag=True, help="make a new signing certificate even if one exists")
def keys_init(org, rollover):
    """Make the union's CA and a signing certificate (or, with --rollover, a new signing certificate)."""
    from .signing import SigningError, init_keys
    try:
        info = init_keys(org or _top_union_name(), rollover=rollover)
    except SigningError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("signing keys made" if info["created"] else "signing keys exist already (use --rollover "
               "for a new signing certificate)")
    _show(info)


@keys_group.command("import")
@click.argument("p12", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--password", prompt=True, hide_input=True, default="", show_default=False,
              help="the PKCS#12 file's password")
def keys_import(p12: Path, password: str):
    """Sign from now on with a certificate from a real CA (a PKCS#12 file with key and chain)."""
    from .signing import SigningError, import_p12
    try:
        data = p12.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{p12}: {exc.strerror}") from None
    try:
        info = import_p12(data, password.encode() if password else None)
    except SigningError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("imported; new notices are signed with it")
    _show(info)


@keys_group.command("list")
def keys_list():
    """The signing certificates kept (* signs new notices) and the number of trusted roots."""
    from .signing import describe
    _show(describe())
