"""What each audience is sent for one call: staff get every event, lobby screens one frame less."""
from __future__ import annotations

import asyncio
from typing import Any

from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess, WsClient, logged


def _types(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def test_a_display_is_not_sent_the_counter_update_that_restates_a_call(server: ServerProcess,
                                                                        office: OfficeSetup) -> None:
    svc = office.service("A")
    counter = office.counter(1, [svc["id"]])
    head = office.user("aud_head", "head")
    display = office.device("display")
    for _ in range(2):
        head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"], "print": False})
    head.ok("POST", f"/api/v1/counters/{counter['id']}/open")

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
        screen = await WsClient(server.ws_url, display.token).connect()
        staff = await WsClient(server.ws_url, head.token, office_id=office.id).connect()
        snap = await screen.until(lambda m: m["type"] == "snapshot")
        await staff.until(lambda m: m["type"] == "snapshot")
        await asyncio.to_thread(head.ok, "POST", f"/api/v1/counters/{counter['id']}/next")
        await asyncio.to_thread(head.ok, "POST", f"/api/v1/counters/{counter['id']}/pause")
        shown, seen = await screen.drain(1.0), await staff.drain(1.0)
        await screen.close()
        await staff.close()
        again = await WsClient(server.ws_url, display.token).connect(since_seq=snap["seq"])  # a replay
        replayed = await again.drain(1.0)
        await again.close()
        return shown, seen, replayed

    shown, seen, replayed = asyncio.run(scenario())
    call = next(e for e in seen if e["type"] == "ticket.called")
    restating = [e for e in seen if e["type"] == "counter.updated" and e["seq"] > call["seq"]]
    assert restating[0]["data"]["counter"]["current_ticket"]["id"] == call["data"]["ticket"]["id"]
    assert restating[0]["data"]["counter"]["state"] == "open"
    shown = [e for e in shown if e["seq"] >= call["seq"]]  # (refined estimates of the issues may come first)
    events = logged(shown)
    frames = [e for e in shown if e["type"] == "queue.updated"]
    assert _types([e for e in shown if e["seq"] < restating[1]["seq"]]) == ["ticket.called", "queue.updated"]
    assert shown[0]["seq"] == call["seq"] and shown[0]["data"]["ticket"]["id"] == call["data"]["ticket"]["id"]
    # a derived frame reuses the seq of the latest event it reflects (here the restating counter update the
    # display is not sent) and takes no slot: the staff's log stays gap-free
    assert frames[0]["seq"] == restating[0]["seq"]
    seqs = [e["seq"] for e in logged(seen)]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "no seq taken by a derived frame"
    assert {f["seq"] for f in frames} <= set(seqs)
    paused = [e for e in shown if e["type"] == "counter.updated"]
    assert len(paused) == 1 and paused[0]["data"]["counter"]["state"] == "paused", "other counter changes still come"
    last = events[-1]["seq"]
    assert [(e["seq"], e["type"]) for e in replayed if call["seq"] <= e["seq"] <= last] == \
        [(e["seq"], e["type"]) for e in events], "a replay sends what the live feed sent, frames aside"
    assert not [e for e in replayed if e["type"] == "queue.updated"], "derived frames are never replayed"


def test_a_tablet_that_connects_after_the_finish_is_still_asked_for_the_rating(server: ServerProcess,
                                                                               office: OfficeSetup) -> None:
    """The request is an event; a tablet that was off (rebooted, off the network) when it was sent finds it
    in its snapshot, for its own counter only, until the ticket is rated. Screens never see it."""
    svc = office.service("R")
    c1, c2 = office.counter(1, [svc["id"]]), office.counter(2, [svc["id"]])
    head = office.user("rate_head", "head")
    tab1 = office.device("tablet", "Tablet 1", counter_id=c1["id"])
    tab2 = office.device("tablet", "Tablet 2", counter_id=c2["id"])
    display = office.device("display")
    t = head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"], "print": False})
    head.ok("POST", f"/api/v1/counters/{c1['id']}/open")
    head.ok("POST", f"/api/v1/counters/{c1['id']}/next")
    head.ok("POST", f"/api/v1/tickets/{t['id']}/finish")

    async def snapshot(token: str | None) -> dict[str, Any]:
        ws = await WsClient(server.ws_url, token).connect()
        try:
            return (await ws.until(lambda m: m["type"] == "snapshot"))["data"]
        finally:
            await ws.close()

    mine, other, screen = (run(snapshot(d.token)) for d in (tab1, tab2, display))
    assert mine["rating_request"]["ticket"] == {"id": t["id"], "display_number": t["display_number"],
                                                "service_id": svc["id"]}
    assert mine["rating_request"]["counter"]["id"] == c1["id"] and mine["rating_request"]["expires_at"]
    assert other["rating_request"] is None
    assert "rating_request" not in screen and "rating_requests" not in screen
    tab1.ok("POST", "/api/v1/feedback", json={"ticket_id": t["id"], "rating": "satisfied"}, expect=201)
    assert run(snapshot(tab1.token))["rating_request"] is None  # rated: nothing left to ask
