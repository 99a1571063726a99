"""One active scheduler: the process holding the lease runs the jobs, the others wait and take over.

PostgreSQL: a session advisory lock on a dedicated connection; the server drops it the moment the holder's
connection ends (a killed process included). SQLite: a lease row whose expiry, on the database's clock,
the holder renews; another process takes it once it has expired.
"""
from __future__ import annotations

import os
import socket
import uuid

from sqlalchemy import Engine, create_engine, insert, literal_column, or_, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from ..clock import utcnow
from .models import SchedulerLease

NAME = "scheduler"
PG_LOCK_KEY = 0x63617365776F726B  # "casework"


def _db_now(engine: Engine):
    """Seconds since the epoch on the database's clock (the same for every process)."""
    if engine.dialect.name == "postgresql":
        return literal_column("extract(epoch from clock_timestamp())")
    return literal_column("((julianday('now') - 2440587.5) * 86400.0)")


class RowLease:
    def __init__(self, engine: Engine, seconds: int = 30, name: str = NAME):
        self.engine, self.seconds, self.name = engine, seconds, name
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    def _ensure_row(self, conn):
        stmt = insert(SchedulerLease).values(name=self.name, expires=0.0)
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert
            stmt = pg_insert(SchedulerLease).values(name=self.name, expires=0.0).on_conflict_do_nothing()
        else:
            stmt = stmt.prefix_with("OR IGNORE")
        conn.execute(stmt)

    def _take(self, conn, only_if_free: bool) -> bool:
        now, expiry = utcnow(), _db_now(self.engine) + self.seconds
        stmt = update(SchedulerLease).where(SchedulerLease.name == self.name)
        if only_if_free:
            stmt = stmt.where(or_(SchedulerLease.holder.is_(None), SchedulerLease.holder == self.holder,
                                  SchedulerLease.expires < _db_now(self.engine)))
        done = conn.execute(stmt.values(holder=self.holder, host=socket.gethostname(), pid=os.getpid(),
                                        acquired_at=now, renewed_at=now, expires=expiry))
        return done.rowcount == 1

    def acquire(self) -> bool:
        with self.engine.begin() as conn:
            self._ensure_row(conn)
            return self._take(conn, only_if_free=True)

    def renew(self) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(update(SchedulerLease)
                                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                                .values(renewed_at=utcnow(), expires=_db_now(self.engine) + self.seconds))
            return done.rowcount == 1

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(SchedulerLease)
                         .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                         .values(holder=None, expires=0.0))


class PgLease(RowLease):
    """The advisory lock decides; the row (written by the holder only) tells the admin page who has it."""

    def __init__(self, engine: Engine, seconds: int = 30, name: str = NAME):
        super().__init__(engine, seconds, name)
        self.lock_engine = create_engine(engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        self.conn = None

    def _drop(self):
        if self.conn is not None:
            try:
                self.conn.close()
            except DBAPIError:
                pass
            self.conn = None

    def acquire(self) -> bool:
        try:
            if self.conn is None:
                self.conn = self.lock_engine.connect()
            got = self.conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_LOCK_KEY}).scalar()
        except DBAPIError:
            self._drop()
            return False
        if got:
            with self.engine.begin() as conn:
                self._ensure_row(conn)
                self._take(conn, only_if_free=False)
        return bool(got)

    def renew(self) -> bool:
        try:
            alive = self.conn is not None and self.conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND granted")).scalar()
        except DBAPIError:
            alive = False
        if not alive:
            self._drop()
            return False
        super().renew()
        return True

    def release(self) -> None:
        try:
            super().release()
            if self.conn is not None:
                self.conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": PG_LOCK_KEY})
        except DBAPIError:
            pass
        finally:
            self._drop()
            self.lock_engine.dispose()


def make_lease(engine: Engine, seconds: int = 30) -> RowLease:
    return PgLease(engine, seconds) if engine.dialect.name == "postgresql" else RowLease(engine, seconds)
