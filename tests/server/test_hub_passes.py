"""The hub's fan-out through public APIs: the call goes to every socket first, the rest of the action after,
each socket in seq order."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from server.hub import Client, Hub


class RecordingSocket:
    """Stands in for a Starlette WebSocket: records every text sent, in global order."""

    log: list[tuple[int, str]] = []

    def __init__(self, n: int) -> None:
        self.n = n

    async def send_text(self, text: str) -> None:
        RecordingSocket.log.append((self.n, text))


def _batch(office_id: int, seq: int) -> list[dict[str, Any]]:
    ticket = {"id": 7, "display_number": "A007", "status": "called"}
    counter = {"id": 3, "number": 3, "name": "Quầy 3", "state": "open", "current_ticket": ticket}
    at = "2026-11-23T08:00:00+07:00"
    return [
        {"type": "ticket.finished", "seq": seq, "at": at, "office_id": office_id, "data": {"ticket": {"id": 6}}},
        {"type": "ticket.called", "seq": seq + 1, "at": at, "office_id": office_id,
         "data": {"ticket": ticket, "counter": {"id": 3, "number": 3, "name": "Quầy 3"}, "announcement": None}},
        {"type": "counter.updated", "seq": seq + 2, "at": at, "office_id": office_id, "data": {"counter": counter}},
        # a derived frame: the seq of the latest event it reflects, no slot of its own
        {"type": "queue.updated", "seq": seq + 2, "at": at, "office_id": office_id,
         "data": {"services": [{"id": 1, "waiting": 4}]}},
    ]


def _hub() -> Hub:
    """A hub whose log is empty and whose offices stand at seq 10: what these tests fan out is all there is."""
    async def no_fetch(*_: Any) -> list[dict[str, Any]]:
        return []

    async def last(_: int) -> int:
        return 10
    return Hub(no_fetch, last)


def _fan_out(sockets: int, audience: str) -> dict[int, list[str]]:
    """Every socket's received event types, after one action fanned out through the real senders;
    also checks the global order: no socket gets the rest of the action before every socket got its call."""
    async def run() -> list[tuple[int, str]]:
        hub = _hub()
        RecordingSocket.log = []
        clients = [Client(RecordingSocket(n), 1, audience, "display", n, None) for n in range(sockets)]  # type: ignore[arg-type]
        for c in clients:
            await hub.register(c)
            c.last_seq = 10
        senders = [asyncio.create_task(hub.sender(c)) for c in clients]
        await hub.on_events(_batch(1, 11))
        for _ in range(50):
            await asyncio.sleep(0)
        for c in clients:
            hub.unregister(c)
        await asyncio.gather(*senders)
        return RecordingSocket.log
    log = asyncio.run(run())
    got: dict[int, list[str]] = {}
    for n, text in log:
        got.setdefault(n, []).append(json.loads(text)["type"])
    return got, [json.loads(text)["type"] for _, text in log]  # type: ignore[return-value]


@pytest.mark.parametrize("sockets", [3, 200])
def test_every_screen_gets_the_call_before_any_screen_gets_the_rest(sockets: int) -> None:
    got, order = _fan_out(sockets, "public")  # type: ignore[misc]
    assert len(got) == sockets
    for types in got.values():  # each socket in seq order; displays skip the counter.updated that restates it
        assert types == ["ticket.called", "queue.updated"]
    first_rest = order.index("queue.updated")
    assert order[:first_rest] == ["ticket.called"] * sockets


def test_staff_get_the_whole_action_in_seq_order() -> None:
    got, _ = _fan_out(5, "staff")  # type: ignore[misc]
    for types in got.values():
        assert types == ["ticket.finished", "ticket.called", "counter.updated", "queue.updated"]


def test_a_derived_frame_waits_for_the_event_it_reflects_and_is_not_taken_for_a_duplicate() -> None:
    """A frame ahead of its event (another worker's, late on the pub/sub) is held until that event is
    delivered; then it is sent although its seq equals the client's last one."""
    async def run() -> list[str]:
        hub = _hub()
        RecordingSocket.log = []
        client = Client(RecordingSocket(0), 1, "public", "display", 0, None)  # type: ignore[arg-type]
        await hub.register(client)
        client.last_seq = 10
        sender = asyncio.create_task(hub.sender(client))
        batch = _batch(1, 11)
        await hub.on_events(batch[3:])  # the frame (seq 13) before its events
        for _ in range(10):
            await asyncio.sleep(0)
        early = [json.loads(t)["type"] for _, t in RecordingSocket.log]
        await hub.on_events(batch[:3])
        for _ in range(10):
            await asyncio.sleep(0)
        hub.unregister(client)
        await sender
        assert early == []
        return [json.loads(t)["type"] for _, t in RecordingSocket.log]
    assert asyncio.run(run()) == ["ticket.called", "queue.updated"]


def test_a_resume_is_served_from_the_delivered_events_in_memory_only_when_they_are_all_there() -> None:
    """A reconnect storm resumes from what this worker delivered (no log read per socket); a range that
    reaches before its memory is None, so the caller reads the log."""
    async def run() -> Hub:
        hub = _hub()
        client = Client(RecordingSocket(0), 1, "staff", "user", 0, None)  # type: ignore[arg-type]
        await hub.register(client)
        await hub.on_events(_batch(1, 11))
        assert [m["seq"] for m in hub.recent(1, 10, 13) or []] == [11, 12, 13]  # the frame takes no place
        assert [m["seq"] for m in hub.recent(1, 11, 12) or []] == [12]
        await hub.on_events([{**_batch(1, 15)[0], "seq": 15}])  # 14 is missing, and the log has no 14 either:
        await asyncio.sleep(0.5)  # after the gap wait the hub skips ahead and its memory restarts at 15
        return hub
    hub = asyncio.run(run())
    assert hub.recent(1, 10, 13) is None  # the hole at 14 cleared what came before it
    assert hub.recent(1, 13, 14) is None and hub.recent(1, 13, 15) is None
    assert [m["seq"] for m in hub.recent(1, 14, 15) or []] == [15]
    assert hub.recent(2, 0, 1) is None  # an office nobody follows here


def test_a_derived_frame_reaches_lobby_screens_only_when_what_they_show_changed() -> None:
    """Lobby screens show per service the count and the wait in minutes: a refined wait that reads the same
    minutes is sent to staff (who see the running figures) and to no screen; a new count is sent to both."""
    def frame(seq: int, waiting: int, wait_s: int, longest_s: int) -> dict[str, Any]:
        return {"type": "queue.updated", "seq": seq, "at": "2026-11-23T08:00:00+07:00", "office_id": 1,
                "data": {"services": [{"id": 1, "service_id": 1, "code": "A", "waiting": waiting,
                                       "estimated_wait_s": wait_s, "longest_wait_s": longest_s,
                                       "estimated_wait_range_s": [wait_s // 2, wait_s * 2], "serving_now": True}]}}

    async def run() -> dict[str, list[dict[str, Any]]]:
        hub = _hub()
        RecordingSocket.log = []
        screen = Client(RecordingSocket(0), 1, "public", "display", 0, None)  # type: ignore[arg-type]
        clerk = Client(RecordingSocket(1), 1, "staff", "user", 1, None)  # type: ignore[arg-type]
        for c in (screen, clerk):
            await hub.register(c)
            c.last_seq = 10
        senders = [asyncio.create_task(hub.sender(c)) for c in (screen, clerk)]
        for f in (frame(10, 4, 600, 100), frame(10, 4, 610, 101), frame(10, 3, 610, 102)):
            await hub.on_events([f])
            for _ in range(10):
                await asyncio.sleep(0)
        for c in (screen, clerk):
            hub.unregister(c)
        await asyncio.gather(*senders)
        got: dict[str, list[dict[str, Any]]] = {"public": [], "staff": []}
        for n, text in RecordingSocket.log:
            got["public" if n == 0 else "staff"].append(json.loads(text)["data"]["services"][0])
        return got
    got = asyncio.run(run())
    assert [r["longest_wait_s"] for r in got["staff"]] == [100, 101, 102]
    assert [(r["waiting"], r["estimated_wait_s"]) for r in got["public"]] == [(4, 600), (3, 600)]
    assert "longest_wait_s" not in got["public"][0]  # the running figure is not the screens' to show
