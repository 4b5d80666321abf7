"""The hub's fan-out to many screens: the call goes to every socket first, the rest of the action after,
each socket in seq order; with fewer sockets, one write each."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from server import hub as hub_module
from server.hub import Client, Hub


class Recorder:
    """Stands in for a uvicorn socket on the fast path: records every frame write, in global order."""

    log: list[tuple[int, bytes]] = []

    def __init__(self, n: int) -> None:
        self.n = n

    def write(self, frame: bytes) -> bool:
        Recorder.log.append((self.n, frame))
        return True


def _batch(office_id: int, seq: int) -> list[dict[str, Any]]:
    ticket = {"id": 7, "display_number": "A007", "status": "called"}
    counter = {"id": 3, "number": 3, "name": "Quầy 3", "state": "open", "current_ticket": ticket}
    at = "2026-11-23T08:00:00+07:00"
    return [
        {"type": "ticket.finished", "seq": seq, "at": at, "office_id": office_id, "data": {"ticket": {"id": 6}}},
        {"type": "ticket.called", "seq": seq + 1, "at": at, "office_id": office_id,
         "data": {"ticket": ticket, "counter": {"id": 3, "number": 3, "name": "Quầy 3"}, "announcement": None}},
        {"type": "counter.updated", "seq": seq + 2, "at": at, "office_id": office_id, "data": {"counter": counter}},
        {"type": "queue.updated", "seq": seq + 3, "at": at, "office_id": office_id,
         "data": {"services": [{"id": 1, "waiting": 4}]}},
    ]


def _frames(raw: bytes) -> list[dict[str, Any]]:
    """Decode consecutive unmasked server text frames (the short forms a test batch uses)."""
    out = []
    while raw:
        n, start = raw[1] & 0x7F, 2
        if n == 126:
            n, start = int.from_bytes(raw[2:4], "big"), 4
        out.append(json.loads(raw[start:start + n]))
        raw = raw[start + n:]
    return out


def _fan_out(sockets: int, audience: str) -> dict[int, list[list[str]]]:
    async def run() -> dict[int, list[list[str]]]:
        async def no_fetch(*_: Any) -> list[dict[str, Any]]:
            return []

        async def last(_: int) -> int:
            return 10
        hub = Hub(no_fetch, last)
        for n in range(sockets):
            c = Client(ws=None, office_id=1, audience=audience, kind="display", actor_id=n, token_id=None)  # type: ignore[arg-type]
            c.raw, c.direct, c.last_seq = Recorder(n), True, 10  # type: ignore[assignment]
            await hub.register(c)
        Recorder.log = []
        await hub.on_events(_batch(1, 11))
        writes: dict[int, list[list[str]]] = {}
        for n, frame in Recorder.log:
            writes.setdefault(n, []).append([m["type"] for m in _frames(frame)])
        return writes
    return asyncio.run(run())


def test_with_many_screens_every_call_goes_out_before_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hub_module, "TWO_PASS_FROM", 5)
    writes = _fan_out(6, "public")
    assert all(w == [["ticket.called"], ["queue.updated"]] for w in writes.values()), writes
    order = [n for n, _ in Recorder.log]
    assert sorted(order[:6]) == list(range(6)) and len(order) == 12, "every call before any second write"
    staff = _fan_out(6, "staff")  # staff see everything, the finish and the counter before the call's rest
    assert all(w == [["ticket.finished", "ticket.called"], ["counter.updated", "queue.updated"]]
               for w in staff.values()), staff


def test_with_few_screens_each_gets_one_write() -> None:
    writes = _fan_out(3, "public")
    assert all(w == [["ticket.called", "queue.updated"]] for w in writes.values()), writes
