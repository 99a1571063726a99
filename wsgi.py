"""Entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""
import sys

from casework import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    print(f"casework: configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
