"""Settings from CASEWORK_* environment variables, checked once at start-up."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ConfigError(Exception):
    """A setting is wrong; the message names the setting and says why, in one line."""


def _int(env, name, default, lo, hi):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number (expected {lo}..{hi})") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={value} is out of range (expected {lo}..{hi})")
    return value


def _bool(env, name, default):
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a yes/no value (use true or false)")


def _database_url(env, instance_path: Path) -> str:
    url = env.get("CASEWORK_DATABASE_URL") or f"sqlite:///{instance_path / 'casework.sqlite'}"
    scheme = urlsplit(url).scheme
    if scheme.startswith("postgres"):
        if scheme in ("postgres", "postgresql"):
            url = "postgresql+psycopg" + url[len(scheme):]
        elif scheme != "postgresql+psycopg":
            raise ConfigError(f"CASEWORK_DATABASE_URL uses driver {scheme!r}; use postgresql+psycopg://...")
    elif scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if path and path != ":memory:" and not Path(path).parent.is_dir():
            raise ConfigError(f"CASEWORK_DATABASE_URL points into {Path(path).parent}, which does not exist")
    else:
        raise ConfigError(f"CASEWORK_DATABASE_URL={url!r}: only sqlite:/// and postgresql:// are supported")
    return url


def _replica_url(env, primary: str) -> str:
    """CASEWORK_REPLICA_URL: a PostgreSQL streaming replica of the primary that reports, statistics and exports
    read from; "" to read everything from the primary."""
    url = (env.get("CASEWORK_REPLICA_URL") or "").strip()
    if not url:
        return ""
    scheme = urlsplit(url).scheme
    if scheme not in ("postgres", "postgresql", "postgresql+psycopg"):
        raise ConfigError(f"CASEWORK_REPLICA_URL uses {scheme!r}; use postgresql+psycopg://... (a replica of "
                          "the PostgreSQL primary)")
    if not primary.startswith("postgresql"):
        raise ConfigError("CASEWORK_REPLICA_URL is set but CASEWORK_DATABASE_URL is not PostgreSQL: a replica "
                          "needs a PostgreSQL primary")
    if not urlsplit(url).hostname and "host=" not in url:
        raise ConfigError(f"CASEWORK_REPLICA_URL={url!r} names no host")
    return "postgresql+psycopg" + url[len(scheme):]


DEV_PUBLIC_URL = "http://127.0.0.1:5000"


def _public_url(env) -> str:
    """The address people reach the service at: printed on notices, in mails and in the OpenAPI servers.
    Never taken from a request (its Host header is the client's to forge)."""
    raw = (env.get("CASEWORK_PUBLIC_URL") or "").strip() or DEV_PUBLIC_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password or any(ch.isspace() for ch in raw):
        raise ConfigError(f"CASEWORK_PUBLIC_URL={raw!r} is not an http(s) address such as "
                          "https://casework.example.org")
    try:
        parts.port
    except ValueError:
        raise ConfigError(f"CASEWORK_PUBLIC_URL={raw!r} has a bad port number") from None
    return raw.rstrip("/")


def public_url(path: str = "") -> str:
    """CASEWORK_PUBLIC_URL (checked at start-up) with `path` appended; outside an app, the dev address."""
    from flask import current_app, has_app_context
    base = (current_app.config.get("CASEWORK_PUBLIC_URL") if has_app_context() else None) or DEV_PUBLIC_URL
    return base.rstrip("/") + path


def _redis_url(env) -> str:
    """The rate limiter's storage: Redis shared by every worker, else this process's memory."""
    url = env.get("CASEWORK_REDIS_URL", "").strip()
    if not url:
        return "memory://"
    if urlsplit(url).scheme not in ("redis", "rediss", "redis+unix"):
        raise ConfigError(f"CASEWORK_REDIS_URL={url!r}: use redis://host:port/db (or rediss://, redis+unix://)")
    return url


def _retry_seconds(env) -> list[int]:
    """CASEWORK_JOB_RETRY_SECONDS: the waits between a failed job's attempts, e.g. "10,60,300" (3 retries)."""
    raw = (env.get("CASEWORK_JOB_RETRY_SECONDS") or "").strip()
    if not raw:
        return [10, 60, 300]
    try:
        waits = [int(part) for part in raw.split(",")]
    except ValueError:
        waits = []
    if not 1 <= len(waits) <= 10 or not all(0 <= w <= 86400 for w in waits):
        raise ConfigError(f"CASEWORK_JOB_RETRY_SECONDS={raw!r} is not a list of 1 to 10 waits in seconds "
                          "(0..86400), e.g. '10,60,300'")
    return waits


def _storage(env) -> tuple[str, str, str] | None:
    """CASEWORK_STORAGE_URL: unset for the local upload folder, or s3://bucket/prefix for object storage."""
    raw = (env.get("CASEWORK_STORAGE_URL") or "").strip()
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme != "s3":
        raise ConfigError(f"CASEWORK_STORAGE_URL={raw!r}: only s3://bucket/prefix is supported "
                          "(leave it unset for the local folder CASEWORK_UPLOAD_DIR)")
    bucket = parts.netloc
    if not bucket:
        raise ConfigError(f"CASEWORK_STORAGE_URL={raw!r} names no bucket: use s3://bucket/prefix")
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", bucket) or parts.query or parts.fragment:
        raise ConfigError(f"CASEWORK_STORAGE_URL={raw!r}: {bucket!r} is not a bucket name (3-63 lower-case "
                          "letters, digits, dots and hyphens), or the address carries a query")
    prefix = parts.path.strip("/")
    if any(p in (".", "..") for p in prefix.split("/")) or "//" in prefix:
        raise ConfigError(f"CASEWORK_STORAGE_URL={raw!r}: the prefix {prefix!r} has empty or dot parts")
    endpoint = (env.get("AWS_ENDPOINT_URL") or "").strip()
    if endpoint and (urlsplit(endpoint).scheme not in ("http", "https") or not urlsplit(endpoint).hostname):
        raise ConfigError(f"AWS_ENDPOINT_URL={endpoint!r} is not an http(s) address such as "
                          "https://minio.example.org:9000")
    if bool(env.get("AWS_ACCESS_KEY_ID")) != bool(env.get("AWS_SECRET_ACCESS_KEY")):
        raise ConfigError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together for "
                          "CASEWORK_STORAGE_URL")
    return ("s3", bucket, prefix)


def _secret_key(env, instance_path: Path) -> str:
    key = env.get("CASEWORK_SECRET_KEY")
    if key:
        if len(key) < 16:
            raise ConfigError("CASEWORK_SECRET_KEY is shorter than 16 characters; use a long random value")
        return key
    # One key for every worker, kept beside the database, so sessions and CSRF survive restarts.
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _limits(env) -> dict[str, str]:
    """Each scope's rate limit, CASEWORK_LIMIT_SIGN_IN and the like, in the limits library's notation."""
    from limits import parse_many

    from .extensions import LIMITS

    chosen = {}
    for scope, default in LIMITS.items():
        name = "CASEWORK_LIMIT_" + scope.upper().replace("-", "_")
        raw = env.get(name, "").strip()
        if raw:
            try:
                ok = all(item.amount >= 1 for item in parse_many(raw))
            except ValueError:
                ok = False
            if not ok:
                raise ConfigError(f"{name}={raw!r} is not a rate limit (e.g. '{default}')")
        chosen[scope] = raw or default
    return chosen


def _tsa_url(env) -> str:
    url = env.get("CASEWORK_TSA_URL", "").strip()
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise ConfigError(f"CASEWORK_TSA_URL={url!r} is not an http(s) URL of an RFC 3161 timestamp server")
    return url


def from_env(instance_path: str, env=None) -> dict:
    env = os.environ if env is None else env
    inst = Path(instance_path)
    try:
        inst.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"instance folder {inst} cannot be created: {exc.strerror}") from None
    tz = env.get("CASEWORK_TIMEZONE", "Asia/Shanghai")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"CASEWORK_TIMEZONE={tz!r} is not a known time zone (e.g. Asia/Shanghai)") from None
    language = {"zh_CN": "zh", "zh": "zh", "en": "en"}.get(env.get("CASEWORK_LANGUAGE", "zh_CN"))
    if language is None:
        raise ConfigError(f"CASEWORK_LANGUAGE={env['CASEWORK_LANGUAGE']!r} is not supported (zh_CN or en)")
    upload_dir = env.get("CASEWORK_UPLOAD_DIR") or str(inst / "uploads")
    database_url = _database_url(env, inst)
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CASEWORK_REPLICA_URL": _replica_url(env, database_url),
        "SECRET_KEY": _secret_key(env, inst),
        "CASEWORK_TIMEZONE": tz,
        "BABEL_DEFAULT_LOCALE": language,
        "BABEL_DEFAULT_TIMEZONE": tz,
        "MAX_CONTENT_LENGTH": _int(env, "CASEWORK_MAX_UPLOAD_MB", 10, 1, 200) * 1024 * 1024,
        "CASEWORK_UPLOAD_DIR": upload_dir,
        "CASEWORK_STORAGE": _storage(env),
        "SESSION_COOKIE_SECURE": _bool(env, "CASEWORK_COOKIE_SECURE", False),
        "RATELIMIT_STORAGE_URI": _redis_url(env),
        # The same Redis for the grants cache and the task queue; "" for the embedded default.
        "CASEWORK_REDIS_URL": "" if _redis_url(env) == "memory://" else _redis_url(env),
        "CASEWORK_JOB_RETRY_SECONDS": _retry_seconds(env),
        "CASEWORK_LIMITS": _limits(env),
        "CASEWORK_PROXIES": _int(env, "CASEWORK_PROXIES", 0, 0, 5),
        "CASEWORK_TOKEN_DAYS": _int(env, "CASEWORK_TOKEN_DAYS", 30, 1, 3650),
        "CASEWORK_PAGE_SIZE": _int(env, "CASEWORK_PAGE_SIZE", 25, 5, 500),
        "CASEWORK_SMTP_HOST": env.get("CASEWORK_SMTP_HOST", ""),
        "CASEWORK_SMTP_PORT": _int(env, "CASEWORK_SMTP_PORT", 25, 1, 65535),
        "CASEWORK_SMTP_USER": env.get("CASEWORK_SMTP_USER", ""),
        "CASEWORK_SMTP_PASSWORD": env.get("CASEWORK_SMTP_PASSWORD", ""),
        "CASEWORK_SMTP_SENDER": env.get("CASEWORK_SMTP_SENDER", "casework@localhost"),
        "CASEWORK_SMTP_TLS": _bool(env, "CASEWORK_SMTP_TLS", False),
        "CASEWORK_PUBLIC_URL": _public_url(env),
        "CASEWORK_DEMO": _bool(env, "CASEWORK_DEMO", False),
        "CASEWORK_KEYS_DIR": env.get("CASEWORK_KEYS_DIR") or str(inst / "keys"),
        "CASEWORK_SIGNING_PASSPHRASE": env.get("CASEWORK_SIGNING_PASSPHRASE", ""),
        "CASEWORK_TSA_URL": _tsa_url(env),
    }
