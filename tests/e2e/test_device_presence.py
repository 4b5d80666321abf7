"""A display that drops off the network (stops answering pings) is disconnected and shown offline, and
comes back online when it reconnects."""
from __future__ import annotations

import asyncio
import json
import time

import websockets

from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess, WsClient


def _online(office: OfficeSetup, name: str) -> bool:
    items = office.admin.ok("GET", f"/api/v1/offices/{office.id}/devices")["items"]
    return next(d["online"] for d in items if d["name"] == name)


def test_a_silent_display_is_dropped_and_shown_offline(server: ServerProcess, office: OfficeSetup) -> None:
    display = office.device("display", "Màn hình tầng 2")

    async def silent() -> tuple[int, float]:
        ws = await websockets.connect(f"{server.ws_url}?token={display.token}")
        await ws.send(json.dumps({"type": "hello", "since_seq": None}))
        started = time.monotonic()
        await asyncio.sleep(0.5)
        assert _online(office, "Màn hình tầng 2")
        try:
            async for _ in ws:  # read, never answer the pings: a cable pulled at the display
                pass
        except websockets.ConnectionClosed:
            pass
        return int(ws.close_code or 0), time.monotonic() - started

    code, after = run(silent())
    assert code == 4002, "closed for not answering pings"
    assert after < 2 * 2.5 + 3, "within a few ping intervals (2 s in tests)"
    deadline = time.monotonic() + 5
    while _online(office, "Màn hình tầng 2") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _online(office, "Màn hình tầng 2")

    async def back() -> None:
        ws = await WsClient(server.ws_url, display.token).connect()
        await ws.next_event()
        assert _online(office, "Màn hình tầng 2")
        await ws.close()
    run(back())
