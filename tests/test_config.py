"""Start-up settings: wrong ones stop start-up with one clear line naming the setting."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from casework.config import ConfigError, from_env

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("env,needle", [
    ({"CASEWORK_DATABASE_URL": "mysql://x/y"}, "CASEWORK_DATABASE_URL"),
    ({"CASEWORK_DATABASE_URL": "postgresql+asyncpg://x/y"}, "postgresql+psycopg"),
    ({"CASEWORK_DATABASE_URL": "sqlite:////no/such/dir/db.sqlite"}, "does not exist"),
    ({"CASEWORK_SECRET_KEY": "short"}, "CASEWORK_SECRET_KEY"),
    ({"CASEWORK_MAX_UPLOAD_MB": "ten"}, "CASEWORK_MAX_UPLOAD_MB"),
    ({"CASEWORK_MAX_UPLOAD_MB": "0"}, "out of range"),
    ({"CASEWORK_COOKIE_SECURE": "maybe"}, "CASEWORK_COOKIE_SECURE"),
    ({"CASEWORK_TIMEZONE": "Mars/Olympus"}, "CASEWORK_TIMEZONE"),
    ({"CASEWORK_LANGUAGE": "fr"}, "CASEWORK_LANGUAGE"),
    ({"CASEWORK_LIMIT_SIGN_IN": "lots"}, "CASEWORK_LIMIT_SIGN_IN"),
    ({"CASEWORK_LIMIT_LOOKUP": "5 per fortnight"}, "CASEWORK_LIMIT_LOOKUP"),
    ({"CASEWORK_LIMIT_PUBLIC_POST": "0 per minute"}, "CASEWORK_LIMIT_PUBLIC_POST"),
    ({"CASEWORK_DATABASE_URL": "postgresql://p/casework", "CASEWORK_REPLICA_URL": "mysql://r/casework"},
     "CASEWORK_REPLICA_URL"),
    ({"CASEWORK_REPLICA_URL": "postgresql://r/casework"}, "needs a PostgreSQL primary"),
])
def test_bad_settings_are_named(tmp_path, env, needle):
    with pytest.raises(ConfigError) as err:
        from_env(str(tmp_path), env)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_defaults_and_secret_key_kept(tmp_path):
    first = from_env(str(tmp_path), {})
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'casework.sqlite'}"
    assert first["BABEL_DEFAULT_LOCALE"] == "zh"
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    assert from_env(str(tmp_path), {})["SECRET_KEY"] == first["SECRET_KEY"]


def test_replica_url_gets_the_psycopg_driver_and_is_off_by_default(tmp_path):
    assert from_env(str(tmp_path), {})["CASEWORK_REPLICA_URL"] == ""
    cfg = from_env(str(tmp_path), {"CASEWORK_DATABASE_URL": "postgresql://p/casework",
                                   "CASEWORK_REPLICA_URL": "postgres://r:5433/casework"})
    assert cfg["CASEWORK_REPLICA_URL"] == "postgresql+psycopg://r:5433/casework"


def test_postgres_url_gets_the_psycopg_driver(tmp_path):
    cfg = from_env(str(tmp_path), {"CASEWORK_DATABASE_URL": "postgresql://u@h/db"})
    assert cfg["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_cli_prints_one_line_not_a_traceback(tmp_path):
    env = {**os.environ, "CASEWORK_INSTANCE": str(tmp_path), "CASEWORK_MAX_UPLOAD_MB": "lots"}
    out = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "routes"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "CASEWORK_MAX_UPLOAD_MB" in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_a_rate_limit_can_be_replaced_per_scope(tmp_path):
    from casework.extensions import LIMITS

    limits = from_env(str(tmp_path), {"CASEWORK_LIMIT_SIGN_IN": "60 per minute; 600 per hour"})["CASEWORK_LIMITS"]
    assert limits["sign-in"] == "60 per minute; 600 per hour"
    assert {k: v for k, v in limits.items() if k != "sign-in"} == {k: v for k, v in LIMITS.items() if k != "sign-in"}
