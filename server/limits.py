"""Limits on what a client may send: body size (413 before anything is parsed) and JSON that cannot be
parsed safely (nesting too deep for the parser is malformed, 400, never a 500).

The largest body the API takes is an office's settings (a few kilobytes); 1 MiB, nginx's default
`client_max_body_size`, leaves a wide margin and stops a 10 MB body before it is read into memory.
WebSocket messages from clients are a hello, a pong or nothing: 64 KiB is plenty.
"""
from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_response

MAX_BODY_BYTES = 1024 * 1024
MAX_WS_MESSAGE_BYTES = 64 * 1024


def loads(raw: str | bytes) -> Any:
    """`json.loads`, where nesting too deep for the parser is a ValueError like any other bad JSON."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


class BodyLimit:
    """Refuse request bodies over `limit` bytes with 413 `body_too_large`, by Content-Length when given,
    else as the chunks arrive (what has arrived is buffered, at most `limit` bytes, then replayed)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(413, "body_too_large", f"The request body is larger than {self.limit} bytes.",
                                  {"limit_bytes": self.limit}, headers={"Connection": "close"})
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.limit:
                await self._refuse(scope, receive, send)
                return
            await self.app(scope, receive, send)  # the server delivers no more than Content-Length
            return
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        size = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()
        await self.app(scope, replay, send)
