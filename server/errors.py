"""The contract's error shape, and the translation of queue refusals to HTTP (never a 500 for client input)."""
from __future__ import annotations

import logging
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from counters.errors import QueueError

log = logging.getLogger("qms.errors")


class ApiError(QueueError):
    """An edge refusal: 400 malformed, 401, 403, 404, 422, 409, 429."""

    def __init__(self, status: int, code: str, message: str, **details: Any) -> None:
        super().__init__(message, code=code, **details)
        self.status = status


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def from_queue_error(e: QueueError) -> JSONResponse:
    headers = None
    if e.status in (429, 503) and "retry_after_s" in e.details:
        headers = {"Retry-After": str(int(e.details["retry_after_s"]) + 1)}
    return error_response(e.status, e.code, e.message, e.details, headers)


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=dict(exc.headers or {}))


async def unhandled(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "Something went wrong on the server; it was logged.")
