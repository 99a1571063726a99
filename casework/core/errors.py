"""Refusals the UI and the API both turn into a clear message; never a traceback."""
from __future__ import annotations


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
