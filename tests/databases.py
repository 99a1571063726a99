"""A fresh empty database beside the one the tests were given: a file for SQLite, a new database on the same
PostgreSQL server (dropped first when it is left from an earlier run)."""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa


def new_database(database_url: str, folder: Path, suffix: str, *, force: bool = False) -> str:
    """The URL of an empty database named after `suffix`; `force` ends other sessions still connected to it."""
    url = sa.engine.make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{folder / f'{suffix}.sqlite'}"
    name = f"{url.database}_{suffix}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"' + (" WITH (FORCE)" if force else ""))
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)
