"""The queue's small vocabulary of refusals, translated to HTTP/WS at the edge (server/errors.py).

Each error carries a stable snake_case `code` that clients may rely on and `details` that name the fix.
"""
from __future__ import annotations

from typing import Any


class QueueError(Exception):
    """Base of every refusal the queue makes; never raised for a bug."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details


class NotFound(QueueError):
    status = 404
    code = "not_found"


class InvalidValue(QueueError):
    """A value the client sent is not acceptable (422)."""

    status = 422
    code = "invalid_value"


class StateConflict(QueueError):
    """The action does not fit the current state (409); details say the current state."""

    status = 409
    code = "state_conflict"


class Forbidden(QueueError):
    status = 403
    code = "forbidden"
