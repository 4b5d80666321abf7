"""queue.updated is a derived frame: it follows issues and calls with the office's latest seq, takes no slot
in the log and is never replayed; answers, track pages, frames and the live view tell one story."""
from __future__ import annotations

import asyncio
import os
from typing import Any

import httpx
import pytest

from tests.support.server import OfficeSetup, ServerProcess, WsClient, logged


def test_issue_and_call_send_frames_without_a_seq_slot_and_answers_match_them(server: ServerProcess,
                                                                              office: OfficeSetup) -> None:
    svc = office.service("LF")
    counter = office.counter(41, [svc["id"]])
    clerk = office.user("lf_clerk", "clerk")
    kiosk = office.device("kiosk")
    display = office.device("display")
    clerk.ok("POST", f"/api/v1/counters/{counter['id']}/open", json={})

    async def scenario() -> None:
        staff = await WsClient(server.ws_url, clerk.token, office_id=office.id).connect()
        screen = await WsClient(server.ws_url, display.token).connect()
        snap = await staff.until(lambda m: m["type"] == "snapshot")
        await screen.until(lambda m: m["type"] == "snapshot")

        tickets = []
        for n in range(3):
            t = await asyncio.to_thread(kiosk.ok, "POST", f"/api/v1/offices/{office.id}/tickets",
                                        json={"service_id": svc["id"], "print": False})
            tid = t["id"]
            issued = await staff.until(lambda m, tid=tid: m["type"] == "ticket.issued"
                                       and m["data"]["ticket"]["id"] == tid)
            frame = await staff.until(lambda m: m["type"] == "queue.updated" and not m["data"].get("refined"))
            # the event carries the plain ticket, the frame the figures, with the event's seq
            assert issued["data"]["ticket"]["estimated_wait_s"] is None
            assert frame["seq"] == issued["seq"], "a derived frame reuses the latest seq"
            (row,) = [s for s in frame["data"]["services"] if s["id"] == svc["id"]]
            assert row["waiting"] == n + 1
            assert t["position"] == n and t["estimated_wait_s"] == row["estimated_wait_s"], \
                "the answer's wait (last in line) is the frame's"
            tracked = server.client().ok("GET", f"/api/v1/track/{t['track_code']}")
            assert tracked["position"] == n and tracked["estimated_wait_s"] is not None
            tickets.append(t)
        live = await asyncio.to_thread(clerk.ok, "GET", f"/api/v1/offices/{office.id}/live")
        (mine,) = [s for s in live["services"] if s["id"] == svc["id"]]
        assert mine["waiting"] == 3

        called = await asyncio.to_thread(clerk.ok, "POST", f"/api/v1/counters/{counter['id']}/next")
        assert called["ticket"]["id"] == tickets[0]["id"]
        call = await screen.until(lambda m: m["type"] == "ticket.called")
        frame = await screen.until(lambda m: m["type"] == "queue.updated" and any(
            s["id"] == svc["id"] and s["waiting"] == 2 for s in m["data"]["services"]))
        assert frame["seq"] >= call["seq"]
        assert server.client().ok("GET", f"/api/v1/track/{tickets[1]['track_code']}")["position"] == 0

        seen = await staff.drain(1.0)
        await staff.close()
        await screen.close()
        in_log = [e["seq"] for e in logged(seen)]
        assert in_log == sorted(set(in_log))
        again = await WsClient(server.ws_url, clerk.token, office_id=office.id).connect(since_seq=snap["seq"])
        replayed = await again.drain(1.0)
        await again.close()
        seqs = [e["seq"] for e in replayed]
        assert seqs == list(range(snap["seq"] + 1, snap["seq"] + 1 + len(seqs))), "the log stays gap-free"
        assert "queue.updated" not in {e["type"] for e in replayed}, "frames are never replayed"
        assert {"ticket.issued", "ticket.called"} <= {e["type"] for e in replayed}
    asyncio.run(scenario())


@pytest.mark.skipif(not (os.environ.get("QMS_TEST_POSTGRES_URL") and os.environ.get("QMS_TEST_REDIS_URL")),
                    reason="two workers need PostgreSQL and Redis (QMS_TEST_POSTGRES_URL, QMS_TEST_REDIS_URL)")
def test_every_worker_follows_every_workers_writes(tmp_path: Any) -> None:
    """Two workers: each keeps its own live model from the pub/sub. Both are warmed (their model loaded),
    then a call lands on one of them; every fresh connection, whichever worker takes it, sees the new place."""
    srv = ServerProcess(tmp_path, workers=2).start()
    try:
        office = OfficeSetup(srv)
        svc = office.service("WW")
        counter = office.counter(42, [svc["id"]])
        clerk = office.user("w2_clerk", "clerk")
        kiosk = office.device("kiosk")
        clerk.ok("POST", f"/api/v1/counters/{counter['id']}/open", json={})
        body = {"service_id": svc["id"], "print": False}
        first = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json=body)
        second = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json=body)

        def positions() -> set[int | None]:
            out = set()
            for _ in range(24):  # a fresh connection each: either worker may take it
                with httpx.Client(base_url=srv.base_url, timeout=10) as c:
                    out.add(c.get(f"/api/v1/track/{second['track_code']}").json()["position"])
            return out
        assert positions() == {1}
        assert clerk.ok("POST", f"/api/v1/counters/{counter['id']}/next")["ticket"]["id"] == first["id"]
        assert positions() == {0}, "a worker that did not write follows the other's call"
    finally:
        srv.stop()
