"""Entry point: `flask --app wsgi ...` and `gunicorn wsgi:app`."""
import gc
import sys

from casework import ConfigError, create_app

try:
    app = create_app()
except ConfigError as exc:
    print(f"casework: configuration error: {exc}", file=sys.stderr)
    raise SystemExit(2) from None
# What start-up built lives as long as the process: keep the collector from walking it again and again
# (and at exit, where on this app that walk costs ~0.5 s CPU).
gc.freeze()
