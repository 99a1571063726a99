"""casework: a trade union's casework service."""
from __future__ import annotations

import os

from apiflask import APIFlask
from flask import Flask, g, has_request_context, request, session
from sqlalchemy import event

from .config import ConfigError, from_env
from .extensions import REPLICA, babel, csrf, db, limiter, login_manager, migrate, replica_bind

__all__ = ["create_app", "ConfigError"]

# Catalogues live under casework/translations/<code>; "zh" is Simplified Chinese (zh_CN).
LANGUAGES = ("zh", "en")
ALIASES = {"zh_CN": "zh", "zh-CN": "zh", "zh": "zh", "en": "en"}


def create_app(config: dict | None = None) -> Flask:
    # APIFlask: a Flask app that also builds the OpenAPI document from the API's code.
    app = APIFlask(__name__, title="casework API", version="1", json_errors=False,
                   spec_path="/api/v1/openapi.json", docs_path=None,
                   instance_path=os.environ.get("CASEWORK_INSTANCE") or None,
                   instance_relative_config=True,
                   template_folder=os.path.join(os.path.dirname(os.path.dirname(__file__)), "templates"))
    app.config.update(from_env(app.instance_path))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        SQLALCHEMY_TRACK_MODIFICATIONS=False,
        WTF_CSRF_TIME_LIMIT=None,
        JSON_AS_ASCII=False,
        BABEL_TRANSLATION_DIRECTORIES=os.path.join(os.path.dirname(__file__), "translations"),
    )
    if config:
        app.config.update(config)
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    if app.config.get("CASEWORK_REPLICA_URL"):
        app.config["SQLALCHEMY_BINDS"] = {**app.config.get("SQLALCHEMY_BINDS", {}),
                                          REPLICA: replica_bind(app.config["CASEWORK_REPLICA_URL"])}
    if app.config.get("CASEWORK_PROXIES"):
        # Behind that many reverse proxies the client's address (for limits and sign-in throttling) is the
        # one they add to X-Forwarded-For; Host is never taken from them.
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = app.config["CASEWORK_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)
    app.json.ensure_ascii = False

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(os.path.dirname(__file__)),
                                                    "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_locale)
    with app.app_context():
        _tune_engine(db.engine)
    _scope_requests(app)

    from . import aid, handling, models, motions, proposals, ratings  # noqa: F401  (tables, kinds, rules)
    from .core import engine, rules  # noqa: F401
    from importlib import import_module
    # Each capability mounts its own pages, API blueprint and commands; the API is mounted last
    # because it collects every capability's API blueprint.
    for name in CAPABILITIES:
        import_module(name, __name__).register(app)
    engine.check_registry()  # every guard and effect the workflows name exists by now
    return app


CAPABILITIES = (
    ".accounts.views", ".accounts.mine", ".admin", ".web", ".guide", ".attachments", ".funds.views", ".notifications.views", ".scheduler",
    ".notices", ".disclosure", ".proposals.views", ".motions.views", ".handling.views", ".stats", ".exports", ".roster", ".register",
    ".ratings", ".ops", ".privacy", ".supervision", ".upward", ".search", ".tasks", ".api", ".cli",
)


def _scope_requests(app):
    """Each request's queries of unit-scoped rows see only its signed-in person's units
    (casework/core/tenancy.py); the API's person is known once its token is read."""
    from flask_login import current_user

    from .core import tenancy

    def person():
        if request.path.startswith("/api/"):
            return g.api_user if "api_user" in g else tenancy.pending()
        return current_user._get_current_object() if current_user.is_authenticated else None

    tenancy.set_resolver(person)
    app.before_request(tenancy.forget)
    app.teardown_request(lambda _exc: tenancy.forget())


def _locale():
    """?lang= (remembered in the session); pages: the session's, else the default (zh_CN); the API:
    Accept-Language, else the default."""
    if not has_request_context():
        return None  # CLI and scheduler: the configured default
    chosen = ALIASES.get(request.args.get("lang", ""))
    if chosen:
        session["lang"] = chosen
        return chosen
    if not request.path.startswith("/api/"):
        # Pages: the person's own choice (the switch in the header), else the union's default.
        return session.get("lang") if session.get("lang") in LANGUAGES else None
    if request.headers.get("Accept-Language"):
        best = request.accept_languages.best_match(["zh-CN", "zh", "en"])
        return "en" if best == "en" else "zh"
    return None


def _tune_engine(engine):
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # We issue BEGIN ourselves (below), so pysqlite must not.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the lock up front: a read that upgrades to a write mid-transaction fails
        # with "database is locked" whatever the busy timeout. Page views (GET) only read.
        reading = has_request_context() and request.method in ("GET", "HEAD", "OPTIONS") \
            and not g.get("casework_writes")  # a page view that logs its reads writes after all
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")
