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


def test_sigkill_in_the_middle_loses_no_delivery() -> None:
    server = ServerProcess(env=FAST).start()
    receiver = Receiver(delay_s=0.03).start()
    try:
        office = OfficeSetup(server)
        head = office.user("truong_kill", "head")
        a = office.service("A")["id"]
        head.ok("POST", f"/api/v1/offices/{office.id}/webhooks",
                json={"url": receiver.url, "events": ["ticket.issued"], "secret": SECRET})
        accepted = [head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
                    for _ in range(40)]
        wait_until(lambda: len(receiver.delivered()) >= 5, 20, "first deliveries")
        server.kill()  # SIGKILL while the backlog is being sent
        before = len(receiver.delivered())
        assert before < len(accepted), "the kill came too late to test anything"
        server.start()
        head = server.client().login("truong_kill", "password-123")
        accepted += [head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
                     for _ in range(3)]
        expected = listed_seqs(server, head.token or "", office.id)
        assert len(expected) == len(accepted)
        got = receiver.wait_for(len(expected))
        check_delivered(got, expected, office.id)
        assert {r.json["data"]["ticket"]["id"] for r in got} == {t["id"] for t in accepted}
        assert all(t["track_code"] and t["track_code"].encode() not in r.body
                   for r in receiver.received for t in accepted)  # the tracking key never leaves
    finally:
        receiver.stop()
        server.stop()


def test_gives_up_after_the_window_raises_an_alert_and_a_manual_retry_sends_it() -> None:
    server = ServerProcess(env={**FAST, "QMS_WEBHOOK_GIVE_UP_S": "1.0"}).start()
    receiver = Receiver(status=503).start()
    try:
        office = OfficeSetup(server)
        head = office.user("truong_fail", "head")
        a = office.service("A")["id"]
        hook = head.ok("POST", f"/api/v1/offices/{office.id}/webhooks",
                       json={"url": receiver.url, "events": ["ticket.issued"], "secret": SECRET})
        for _ in range(2):
            head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        time.sleep(0.5)
        first, second = sorted(deliveries(head, hook["id"]), key=lambda d: d["event_seq"])
        assert first["status"] == "pending" and first["attempts"] >= 1 and second["attempts"] == 0
        failed = wait_until(lambda: [d for d in deliveries(head, hook["id"], status="failed")], 10, "failed")
        assert failed[0]["id"] == first["id"] and failed[0]["last_error"] == "HTTP 503"
        assert failed[0]["attempts"] >= 3 and failed[0]["next_attempt_at"] is None
        live = head.ok("GET", f"/api/v1/offices/{office.id}/live")
        alerts = [al for al in live["alerts"] if al["kind"] == "webhook_failed"]
        assert len(alerts) == 1 and alerts[0]["webhook_id"] == hook["id"] and receiver.url in alerts[0]["message"]
        # the next delivery goes once the first has failed, and fails after its own window
        wait_until(lambda: len(deliveries(head, hook["id"], status="failed")) == 2, 10, "second failed")
        assert len(receiver.delivered()) == 0
        receiver.status = 200
        for d in sorted(deliveries(head, hook["id"]), key=lambda d: d["event_seq"]):
            r = head.ok("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{d['id']}/retry")
            assert r["status"] == "pending"
        got = receiver.wait_for(2)
        assert [g.json["seq"] for g in got] == sorted(d["event_seq"] for d in deliveries(head, hook["id"]))
        assert {g.key for g in got} == {r.key for r in receiver.received}  # the same delivery ids as before
        wait_until(lambda: all(d["status"] == "delivered" for d in deliveries(head, hook["id"])), 10, "delivered")
        wait_until(lambda: not [al for al in head.ok("GET", f"/api/v1/offices/{office.id}/live")["alerts"]
                                if al["kind"] == "webhook_failed"], 10, "alert cleared")
    finally:
        receiver.stop()
        server.stop()


def test_api_refuses_what_it_must_and_never_returns_the_secret() -> None:
    server = ServerProcess().start()
    try:
        office = OfficeSetup(server)
        other = OfficeSetup(server)
        head = office.user("truong_api", "head")
        clerk = office.user("canbo_api", "clerk")
        other_head = other.user("truong_khac", "head")
        path = f"/api/v1/offices/{office.id}/webhooks"
        good = {"url": "https://tinh.example.gov.vn/qms-events", "events": ["ticket.issued", "dossier.linked"],
                "secret": SECRET}
        assert server.client().post(path, json=good).status_code == 401
        assert server.client("not-a-token").get(path).status_code == 401
        assert clerk.post(path, json=good).status_code == 403
        assert clerk.get(path).status_code == 403
        assert other_head.post(path, json=good).status_code == 403
        for bad, field in ((dict(good, url="ftp://tinh.example.gov.vn/x"), "url"),
                           (dict(good, url="javascript:alert(1)"), "url"),
                           (dict(good, url="http:///no-host"), "url"),
                           (dict(good, events=["ticket.recalled"]), "events"),
                           (dict(good, events=[]), "events"),
                           (dict(good, events="ticket.issued"), "events"),
                           (dict(good, secret="short"), "secret"),
                           (dict(good, secret="x" * 257), "secret"),
                           ({k: v for k, v in good.items() if k != "secret"}, "secret"),
                           (dict(good, extra=1), "extra")):
            r = head.post(path, json=bad)
            assert r.status_code == 422, (bad, r.text)
            err = r.json()["error"]
            assert err["code"] == "invalid_value" and field in err["message"], err
        assert head.ok("GET", path) == {"items": [], "total": 0}  # refusals changed nothing
        hook = head.ok("POST", path, json=dict(good, events=["ticket.issued", "ticket.issued", "dossier.linked"]))
        assert hook["events"] == ["ticket.issued", "dossier.linked"]
        listing = head.ok("GET", path)
        assert listing["total"] == 1 and SECRET not in str(listing) and "secret" not in listing["items"][0]
        one = f"/api/v1/webhooks/{hook['id']}"
        assert SECRET not in head.get(one).text
        # another office's head: 403 before the body is looked at; unknown ids 404
        assert other_head.patch(one, json={"url": "ftp://x"}).status_code == 403
        assert other_head.get(one + "/deliveries").status_code == 403
        assert other_head.delete(one).status_code == 403
        assert clerk.get(one + "/deliveries").status_code == 403
        assert head.get("/api/v1/webhooks/999999/deliveries").status_code == 404
        assert head.post(f"{one}/deliveries/999999/retry").status_code == 404
        assert head.get(one + "/deliveries", params={"status": "lost"}).status_code == 422
        assert head.patch(one, json={"events": ["nope"]}).status_code == 422
        assert head.patch(one, json={"secret": None}).status_code == 422
        changed = head.ok("PATCH", one, json={"active": False, "secret": "another-secret-0123456"})
        assert changed["active"] is False and "secret" not in changed
        gone = head.ok("DELETE", one)
        assert gone["active"] is False
        assert head.get(one).status_code == 404
        assert head.ok("GET", path)["total"] == 0
        admin = server.admin()
        assert admin.ok("POST", path, json=good)["url"] == good["url"]  # admins may too
    finally:
        server.stop()
