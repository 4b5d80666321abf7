"""A WebSocket that meets a database outage (the handshake's token check, the catch-up read) is closed
1013 "try again later" with the contract's error frame, as the API answers 503: not 1011 and a traceback."""
from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

log = logging.getLogger("qms.ws")

TRY_AGAIN_LATER = 1013


Endpoint = Callable[[WebSocket], Awaitable[None]]


def closed_while_unavailable(endpoint: Endpoint) -> Endpoint:
    async def guarded(ws: WebSocket) -> None:
        try:
            await endpoint(ws)
        except (OperationalError, InterfaceError, PoolTimeout) as e:
            log.error("database unavailable on /ws: %s", type(e).__name__)
            if ws.application_state != WebSocketState.CONNECTED or ws.client_state != WebSocketState.CONNECTED:
                return
            try:
                await ws.send_text(json.dumps({"type": "error", "data": {
                    "code": "database_unavailable", "message": "The database is not answering; connect again shortly.",
                    "details": {"retry": True}}}))
                await ws.close(code=TRY_AGAIN_LATER, reason="database_unavailable")
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass  # the client is gone already
    return guarded
