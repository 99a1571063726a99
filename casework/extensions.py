"""The Flask extensions, created once and bound to the app in create_app; named constraints."""
from contextlib import contextmanager

from flask import current_app
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so migrations can alter them on every database.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# -- read replica --------------------------------------------------------------------------------------------
# With CASEWORK_REPLICA_URL set, create_app adds the bind "replica": an engine whose every transaction is
# read-only (default_transaction_read_only), so nothing can be written through it. Inside `replica()` the session
# sends its plain SELECTs there; flushes, SELECT ... FOR UPDATE and every other statement stay on the primary.
REPLICA = "replica"
_DEPTH = "casework_replica"


def replica_bind(url: str) -> dict:
    """The SQLALCHEMY_BINDS entry of the replica."""
    return {"url": url, "pool_pre_ping": True,
            "connect_args": {"options": "-c default_transaction_read_only=on"}}


RECHECK = {True: 30.0, False: 10.0}  # seconds a replica found answering (or not) is taken as such
_answering: dict = {}  # engine -> (answers, until when, on the monotonic clock)


def _replica_answers(engine) -> bool:
    """Whether the replica takes connections, asked at most every RECHECK seconds: while it does not, its
    readers read the primary (slower, never a failed page)."""
    import logging
    import time

    from sqlalchemy.exc import DBAPIError
    now = time.monotonic()
    known = _answering.get(engine)
    if known and now < known[1]:
        return known[0]
    try:
        with engine.connect():
            answers = True
    except DBAPIError as exc:
        answers = False
        logging.getLogger("casework.replica").warning("the replica does not answer; reading the primary: %s",
                                                      exc.__class__.__name__)
    _answering[engine] = (answers, now + RECHECK[answers])
    return answers


class RoutingSession(Session):
    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and self.info.get(_DEPTH) and getattr(clause, "is_select", False) \
                and getattr(clause, "_for_update_arg", None) is None:
            engine = self._db.engines.get(REPLICA)
            if engine is not None and _replica_answers(engine):
                return engine
        return super().get_bind(mapper, clause, bind, **kwargs)


@contextmanager
def replica():
    """Reports, statistics and exports read inside this (a block, or a view as a decorator): from the replica
    when one is configured, else from the primary as everything else. Its figures may trail the primary by the
    replication lag, so nothing read here should decide a write."""
    info = db.session.info
    info[_DEPTH] = info.get(_DEPTH, 0) + 1
    try:
        yield
    finally:
        info[_DEPTH] -= 1


db = SQLAlchemy(model_class=Base, session_options={"class_": RoutingSession})
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()


# -- rate limits ---------------------------------------------------------------------------------------------
# One limiter for every public and sign-in surface, counted per client address. Its storage is
# RATELIMIT_STORAGE_URI: CASEWORK_REDIS_URL (shared by every worker and machine) or, for the embedded default,
# memory:// (one process; gunicorn workers would each count on their own).
from flask_limiter import Limiter  # noqa: E402
from flask_limiter.util import get_remote_address  # noqa: E402

limiter = Limiter(key_func=get_remote_address, default_limits=[], key_prefix="casework",
                  strategy="moving-window", headers_enabled=True, in_memory_fallback_enabled=True)

# Each scope is one budget per address, shared by the web page and the API operation that do the same thing.
# These are the defaults; CASEWORK_LIMIT_<SCOPE> (config.py) replaces one, e.g. for a works behind one NAT address.
LIMITS = {
    "sign-in": "20 per minute; 200 per hour",  # /login(/forgot, /reset), POST /api/v1/tokens, /activate/code
    "public-post": "10 per minute; 100 per day",    # objections and reports, web and API
    "challenge": "30 per minute; 600 per day",      # new human checks for the API
    "lookup": "30 per minute; 1000 per day",        # /board/track, /verify, GET /api/v1/objections/<code>
}


def limited(scope: str, methods: list[str] | None = None):
    """Puts a view under the scope's shared limit (429 with Retry-After beyond it); the API documents it."""
    def wrap(view):
        view = limiter.shared_limit(lambda: current_app.config["CASEWORK_LIMITS"][scope], scope=scope,
                                    methods=methods)(view)
        view._casework_limited = scope
        return view
    return wrap


# -- Redis ---------------------------------------------------------------------------------------------------
def shared_redis():
    """The app's client for CASEWORK_REDIS_URL (the grants cache, the task queue), or None on the embedded
    default. One connection pool per app, made on first use."""
    url = current_app.config.get("CASEWORK_REDIS_URL") or ""
    if not url:
        return None
    client = current_app.extensions.get("casework_redis")
    if client is None:
        import redis
        # The limiter's notation for a socket, redis+unix://, is redis-py's unix://.
        client = redis.Redis.from_url(url.replace("redis+unix://", "unix://", 1), socket_timeout=5,
                                      socket_connect_timeout=5, health_check_interval=30)
        current_app.extensions["casework_redis"] = client
    return client
