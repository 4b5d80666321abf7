"""Outbound events (webhooks) against a real server and real receivers on loopback: at least once, in seq
order, signed, nothing private in the bodies, nothing lost to a SIGKILL, given up after the retry window
with an alert, sent again by hand; and the API's refusals."""
from __future__ import annotations

import time
from typing import Any

from tests.support.aio import run
from tests.support.receiver import Receiver, verify
from tests.support.server import Api, OfficeSetup, ServerProcess, WsClient

SECRET = "s3cret-for-the-province-0123"
LISTED = {"ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show", "ticket.cancelled",
          "ticket.transferred", "dossier.linked", "feedback.received", "appointment.booked",
          "appointment.checked_in", "appointment.cancelled"}
FAST = {"QMS_WEBHOOK_RETRY_BASE_S": "0.2", "QMS_WEBHOOK_RETRY_MAX_S": "0.4"}


def listed_seqs(server: ServerProcess, token: str, office_id: int) -> list[tuple[int, str]]:
    """(seq, type) of the office's logged events of listed types, from the WebSocket replay."""
    async def replay() -> list[dict[str, Any]]:
        ws = await WsClient(server.ws_url, token, office_id).connect(since_seq=0)
        try:
            return await ws.drain(quiet=0.7)
        finally:
            await ws.close()
    return [(m["seq"], m["type"]) for m in run(replay()) if m.get("type") in LISTED]


def deliveries(api: Api, webhook_id: int, **params: Any) -> list[dict[str, Any]]:
    return api.ok("GET", f"/api/v1/webhooks/{webhook_id}/deliveries", params={"limit": 500, **params})["items"]


def wait_until(pred: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(0.1)
    raise TimeoutError(what)


def busy_office(office: OfficeSetup, head: Api, n: int = 5) -> None:
    """Issue n tickets; call, finish, no-show and cancel some (every ticket event type but transfers)."""
    a = office.service("A")["id"]
    b = office.service("B")["id"]
    counter = office.counter(1, [a, b])["id"]
    head.ok("POST", f"/api/v1/counters/{counter}/open")
    tickets = [head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
               for _ in range(n)]
    head.ok("POST", f"/api/v1/counters/{counter}/next", json={})
    head.ok("POST", f"/api/v1/counters/{counter}/next", json={"close_current": "no_show"})
    head.ok("POST", f"/api/v1/counters/{counter}/next", json={"close_current": "done"})
    head.ok("POST", f"/api/v1/tickets/{tickets[-1]['id']}/transfer", json={"service_id": b})
    head.ok("POST", f"/api/v1/tickets/{tickets[-2]['id']}/cancel")


def check_delivered(got: list[Any], expected: list[tuple[int, str]], office_id: int) -> None:
    assert [(r.json["seq"], r.json["type"]) for r in got] == expected  # each once, in seq order
    for r in got:
        assert verify(SECRET, r.body, r.headers["x-qms-signature"])
        assert r.headers["x-qms-event"] == r.json["type"]
        assert set(r.json) == {"type", "seq", "at", "office_id", "data"} and r.json["office_id"] == office_id
        assert b"track_code" not in r.body


def test_down_then_500_then_200_gets_every_event_once_in_order_signed() -> None:
    server = ServerProcess(env=FAST).start()
    receiver = Receiver(status=500)  # not listening yet: the receiver is down
    try:
        office = OfficeSetup(server)
        head = office.user("truong_hook", "head")
        hook = head.ok("POST", f"/api/v1/offices/{office.id}/webhooks",
                       json={"url": receiver.url, "events": sorted(LISTED), "secret": SECRET})
        assert "secret" not in hook and hook["active"] is True and hook["url"] == receiver.url
        busy_office(office, head)
        expected = listed_seqs(server, head.token or "", office.id)
        assert {t for _, t in expected} == {"ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show",
                                            "ticket.cancelled", "ticket.transferred"}
        # down: the head delivery is retried with its error recorded; none after it is attempted
        first = wait_until(lambda: [d for d in deliveries(head, hook["id"]) if d["attempts"] >= 2], 10, "retries")
        assert first[0]["event_seq"] == expected[0][0] and first[0]["status"] == "pending"
        assert first[0]["last_error"] and first[0]["next_attempt_at"]
        assert all(d["attempts"] == 0 for d in deliveries(head, hook["id"]) if d["event_seq"] != expected[0][0])
        receiver.start()  # up, but answering 500
        wait_until(lambda: len(receiver.received) >= 2, 10, "500 answers")
        assert {r.json["seq"] for r in receiver.received} == {expected[0][0]}  # still only the head
        receiver.status = 200
        got = receiver.wait_for(len(expected))
        check_delivered(got, expected, office.id)
        # every answered request carries a key of a delivery that exists, and all are delivered
        items = wait_until(lambda: [d for d in deliveries(head, hook["id"])
                                    if d["status"] == "delivered"] if all(
            d["status"] == "delivered" for d in deliveries(head, hook["id"])) else None, 10, "all delivered")
        assert len(items) == len(expected)
        assert next(d for d in items if d["event_seq"] == expected[0][0])["attempts"] >= 4
    finally:
        receiver.stop()
        server.stop()
