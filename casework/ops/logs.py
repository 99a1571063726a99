"""One JSON line per request and per transition, on the `casework` logger (stderr by default)."""
from __future__ import annotations

import json
import logging
import time

from flask import g, request

logger = logging.getLogger("casework")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"at": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname.lower(),
                "event": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_event(event: str, **fields) -> None:
    logger.info(event, extra={"fields": fields})


def register(app):
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False

    @app.before_request
    def _start():
        g._started = time.perf_counter()

    @app.after_request
    def _line(response):
        if request.path.startswith("/static/"):
            return response
        # The name was noted when the user was loaded: reading it now, after the view's commit, would
        # reload the user (a new transaction and a query on every request).
        log_event("request", method=request.method, path=request.path, status=response.status_code,
                  ms=round((time.perf_counter() - g.get("_started", time.perf_counter())) * 1000, 1),
                  user=g.get("log_username"))
        return response
