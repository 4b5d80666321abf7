"""The whole ticket life cycle through the HTTP API of a real server, seen by a real WebSocket client."""
from __future__ import annotations


from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess, WsClient, logged


def test_life_cycle_over_http_and_websocket(server: ServerProcess, office: OfficeSetup) -> None:
    a = office.service("A", "Chứng thực")
    b = office.service("B", "Hộ tịch")
    c1 = office.counter(1, [a["id"], b["id"]])
    c2 = office.counter(2, [b["id"]])
    clerk = office.user("canbo_lc")
    kiosk = office.device("kiosk")

    async def scenario() -> list[dict]:
        ws = await WsClient(server.ws_url, office.admin.token, office.id).connect()
        snap = await ws.next_event()
        assert snap["type"] == "snapshot"
        start_seq = snap["seq"]

        t1 = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"]})
        t2 = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": b["id"]})
        t3 = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": b["id"]})
        assert (t1["display_number"], t2["display_number"], t3["display_number"]) == ("A001", "B001", "B002")
        assert t1["status"] == "waiting" and t1["position"] == 0 and len(t1["track_code"]) >= 16
        assert t3["position"] == 1

        clerk.ok("POST", f"/api/v1/counters/{c1['id']}/open")
        called = clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next")["ticket"]
        assert called["display_number"] == "A001" and called["status"] == "called"
        recalled = clerk.ok("POST", f"/api/v1/counters/{c1['id']}/recall")
        assert recalled["announcement"]["text"] == "Xin mời công dân có số A001 đến quầy số 1"
        assert recalled["ticket"]["recalls"] == 1
        clerk.ok("POST", f"/api/v1/tickets/{called['id']}/start")
        # transfer A001 to B: back to waiting, ahead of B001/B002 (issued earlier)
        moved = clerk.ok("POST", f"/api/v1/tickets/{called['id']}/transfer", json={"service_id": b["id"]})
        assert moved["status"] == "waiting" and moved["transfers"] == 1 and moved["position"] == 0
        nxt = clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next")["ticket"]
        assert nxt["id"] == called["id"] and nxt["display_number"] == "A001"
        nxt2 = clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next", json={"close_current": "done"})["ticket"]
        assert nxt2["display_number"] == "B001"
        done = clerk.ok("GET", f"/api/v1/tickets/{called['id']}")
        assert done["status"] == "done" and done["finished_at"] is not None
        nxt3 = clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next", json={"close_current": "no_show"})["ticket"]
        assert nxt3["display_number"] == "B002"
        assert clerk.ok("GET", f"/api/v1/tickets/{nxt2['id']}")["status"] == "no_show"
        recalled_ns = clerk.ok("POST", f"/api/v1/counters/{c1['id']}/call",
                               json={"ticket_id": nxt2["id"]})["ticket"]
        assert recalled_ns["display_number"] == "B001" and recalled_ns["status"] == "called"
        fin = clerk.ok("POST", f"/api/v1/tickets/{nxt2['id']}/finish")
        assert fin["status"] == "done"
        # B002 was closed as done when B001 was called out of order
        assert clerk.ok("GET", f"/api/v1/tickets/{nxt3['id']}")["status"] == "done"
        t4 = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": b["id"]})
        cancelled = clerk.ok("POST", f"/api/v1/tickets/{t4['id']}/cancel")
        assert cancelled["status"] == "cancelled"
        assert clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next")["ticket"] is None
        r = clerk.post(f"/api/v1/tickets/{t4['id']}/finish")
        assert r.status_code == 409 and r.json()["error"]["details"]["status"] == "cancelled"
        clerk.ok("POST", f"/api/v1/counters/{c1['id']}/close")
        r = clerk.post(f"/api/v1/counters/{c2['id']}/next")
        assert r.status_code == 409 and r.json()["error"]["code"] == "counter_not_open"

        events = await ws.drain(1.0)
        await ws.close()
        seqs = [e["seq"] for e in logged(events)]
        assert seqs == list(range(start_seq + 1, start_seq + 1 + len(seqs))), "consecutive seq"
        # queue.updated is derived: it reuses the seq of the latest event it reflects, after that event
        last = start_seq
        for e in events:
            if e["type"] == "queue.updated":
                assert start_seq <= e["seq"] <= last, "a derived frame takes no seq slot"
            else:
                last = e["seq"]
        return events

    events = run(scenario())
    types = [e["type"] for e in events]
    for t in ("ticket.issued", "ticket.called", "ticket.recalled", "ticket.started", "ticket.transferred",
              "ticket.finished", "ticket.no_show", "ticket.cancelled", "counter.updated", "queue.updated",
              "feedback.request"):
        assert t in types, t
    called = [e for e in events if e["type"] == "ticket.called"]
    assert called[0]["data"]["announcement"]["audio_url"].endswith(".wav")
    assert called[0]["data"]["counter"]["number"] == 1
    assert all(e["office_id"] == office.id and e["at"].endswith("+07:00") for e in events)
    # the ticket life is in order in the log: issued < called < recalled < started < transferred
    a001 = [e["type"] for e in events if (e["data"].get("ticket") or {}).get("display_number") == "A001"
            and e["type"].startswith("ticket.")]
    assert a001[:6] == ["ticket.issued", "ticket.called", "ticket.recalled", "ticket.started",
                        "ticket.transferred", "ticket.called"]
