"""Refusals the UI and the API both turn into a clear message; never a traceback."""
from __future__ import annotations


# The one map from an HTTP status to the API's machine-readable `code` (API.md, "Errors"); pages use it too.
CODES = {400: "malformed", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 422: "invalid", 429: "rate_limited"}


def code_for(status: int) -> str:
    return CODES.get(status, "internal_error" if status >= 500 else "invalid")


class CaseworkError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None, **extra):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}
        self.extra = extra

    def to_dict(self) -> dict:
        body = {"code": self.code, "message": str(self.message)}
        if self.fields:
            body["fields"] = {k: str(v) for k, v in self.fields.items()}
        return {"error": body}


class BadRequest(CaseworkError):
    status, code = 400, "malformed"


class Unauthorized(CaseworkError):
    status, code = 401, "unauthorized"


class Forbidden(CaseworkError):
    status, code = 403, "forbidden"


class NotFound(CaseworkError):
    status, code = 404, "not_found"


class Conflict(CaseworkError):
    status, code = 409, "conflict"


class TooLarge(CaseworkError):
    status, code = 413, "too_large"


class Invalid(CaseworkError):
    status, code = 422, "invalid"


class Unavailable(CaseworkError):
    status, code = 503, "unavailable"
