"""The floor for the fan-out bench: a bare Starlette WebSocket broadcast, nothing else.

Clients connect to `/ws` and say hello; `POST /broadcast` with a body sends that body, as text, to every
client one after the other (in a task, so the trigger returns at once, like a publish after commit).
Served by uvicorn with per-message compression off, as `qms serve` is.

    python -m bench.floor_server --port 8765
"""
from __future__ import annotations

import argparse
import asyncio

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

clients: set[WebSocket] = set()
tasks: set[asyncio.Task[None]] = set()


async def endpoint(ws: WebSocket) -> None:
    await ws.accept()
    try:
        await ws.receive_text()  # the hello
        clients.add(ws)
        while True:
            await ws.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        clients.discard(ws)


async def _send_all(text: str) -> None:
    for ws in list(clients):
        try:
            await ws.send_text(text)
        except (WebSocketDisconnect, RuntimeError, OSError):
            clients.discard(ws)


async def broadcast(request: Request) -> PlainTextResponse:
    text = (await request.body()).decode()
    task = asyncio.create_task(_send_all(text))
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return PlainTextResponse(str(len(clients)))


async def count(request: Request) -> PlainTextResponse:
    return PlainTextResponse(str(len(clients)))


app = Starlette(routes=[WebSocketRoute("/ws", endpoint), Route("/broadcast", broadcast, methods=["POST"]),
                        Route("/count", count)])


def main() -> None:
    import uvicorn
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, ws_per_message_deflate=False, log_level="warning",
                backlog=4096)


if __name__ == "__main__":
    main()
