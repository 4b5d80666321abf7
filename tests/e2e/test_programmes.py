"""Programmes through the API with a clock the test moves: no-wait days, the do-it-now desk, after-hours.

The live view must report each programme's target and the share within it; the kiosk/display snapshot
must carry the no-wait-day flag their banner reads.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from tests.server.test_feedback import ClockedOffice, MovableClock, clocked_app


@pytest.fixture(scope="module")
def clocked() -> Iterator[tuple[TestClient, MovableClock]]:
    with clocked_app() as app:
        yield app

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FRIDAY = datetime(2026, 11, 27, 8, 0, tzinfo=TZ)  # a Friday, office-local


def _at(local: datetime) -> datetime:
    return local.astimezone(UTC)


def _svc(live: dict, service_id: int) -> dict:
    return next(s for s in live["services"] if s["id"] == service_id)


def test_no_wait_day_reports_its_target_and_the_share_within_it(clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    clock.now = _at(FRIDAY)
    o = ClockedOffice(http, clock)
    b = o.service("B", target_wait_min=30)
    c1 = o.counter(1, [b["id"]])
    clerk = o.clerk("canbo_nw")
    display = o.device("display")
    live = o.live()
    assert live["programs"]["no_wait_day"] is False and live["programs"]["targets"]["wait_min"] is None
    assert _svc(live, b["id"])["target_wait_s"] == 30 * 60

    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", {"no_wait_days": ["fri"], "no_wait_target_min": 10})
    t1, t2 = o.issue(b["id"]), o.issue(b["id"])
    clerk.ok("POST", f"/api/v1/counters/{c1['id']}/open")
    clock.advance(minutes=4)
    assert clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next")["ticket"]["id"] == t1["id"]  # waited 4 min
    clock.advance(minutes=8)
    assert clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next")["ticket"]["id"] == t2["id"]  # waited 12 min

    live = o.live()
    assert live["programs"]["no_wait_day"] is True and live["programs"]["targets"]["wait_min"] == 10
    row = _svc(live, b["id"])
    assert row["target_wait_s"] == 600 and row["within_target_pct"] == 50.0
    assert live["programs"]["service_level"]["wait_within_target_pct"] == 50.0
    # the kiosk and display read the banner flag from their snapshot
    with http.websocket_connect(f"/ws?token={display.token}") as ws:
        ws.send_json({"type": "hello", "since_seq": None})
        snap = ws.receive_json()
        assert snap["type"] == "snapshot" and snap["data"]["programs"]["no_wait_day"] is True

    # a dated no-wait day works the same; an ordinary day measures against the service's own target
    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", {"no_wait_days": ["2026-11-27"]})
    assert o.live()["programs"]["no_wait_day"] is True
    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", {"no_wait_days": ["thu", "2026-11-26"]})
    live = o.live()
    assert live["programs"]["no_wait_day"] is False
    assert _svc(live, b["id"])["target_wait_s"] == 1800 and _svc(live, b["id"])["within_target_pct"] == 100.0


def test_do_it_now_tickets_stay_at_their_desk_and_are_measured_issue_to_finish(
        clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    clock.now = _at(FRIDAY)
    o = ClockedOffice(http, clock)
    a = o.service("A", name="Chứng thực", desk="do_it_now")
    b = o.service("B")
    assert a["target_total_min"] == 10
    standard = o.counter(1, [b["id"]])
    r = o.admin.req("PATCH", f"/api/v1/counters/{standard['id']}", {"service_ids": [b["id"], a["id"]]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "do_it_now_only"
    desk = o.counter(9, [a["id"]], desk="do_it_now")
    clerk, clerk2 = o.clerk("canbo_std"), o.clerk("canbo_dit")
    a1, a2, b1 = o.issue(a["id"]), o.issue(a["id"]), o.issue(b["id"])

    clerk.ok("POST", f"/api/v1/counters/{standard['id']}/open")
    assert clerk.ok("POST", f"/api/v1/counters/{standard['id']}/next")["ticket"]["id"] == b1["id"]
    assert clerk.ok("POST", f"/api/v1/counters/{standard['id']}/next")["ticket"] is None  # A waits, untouched
    r = clerk.req("POST", f"/api/v1/counters/{standard['id']}/call", {"ticket_id": a1["id"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "do_it_now_only"
    r = clerk.req("POST", f"/api/v1/tickets/{a1['id']}/transfer", {"counter_id": standard["id"]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "do_it_now_only"
    assert [clerk.ok("GET", f"/api/v1/tickets/{t['id']}")["status"] for t in (a1, a2)] == ["waiting", "waiting"]

    clerk2.ok("POST", f"/api/v1/counters/{desk['id']}/open")
    clock.advance(minutes=1)
    assert clerk2.ok("POST", f"/api/v1/counters/{desk['id']}/next")["ticket"]["id"] == a1["id"]
    clock.advance(minutes=5)
    assert clerk2.ok("POST", f"/api/v1/counters/{desk['id']}/next")["ticket"]["id"] == a2["id"]  # A1 done at 6 min
    clock.advance(minutes=8)
    clerk2.ok("POST", f"/api/v1/tickets/{a2['id']}/finish")  # A2 done 14 min after issue

    live = o.live()
    row = _svc(live, a["id"])
    assert row["target_total_s"] == 600 and row["total_within_target_pct"] == 50.0
    assert row["avg_total_s"] == 600 and row["served_today"] == 2
    assert live["programs"]["targets"]["do_it_now_total_min"] == 10
    assert live["programs"]["service_level"]["do_it_now_within_target_pct"] == 50.0
    assert "target_total_s" not in _svc(live, b["id"])
    assert all(clerk.ok("GET", f"/api/v1/tickets/{t['id']}")["counter_id"] == desk["id"] for t in (a1, a2))


def test_after_hours_session_opens_issuing_on_a_closed_day(clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    saturday = datetime(2026, 11, 28, 19, 0, tzinfo=TZ)
    clock.now = _at(saturday)
    o = ClockedOffice(http, clock)
    b = o.service("B")
    weekdays = {d: [["07:30", "11:30"], ["13:00", "16:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", {"opening_hours": {**weekdays, "sat": [], "sun": []}})
    r = o.admin.req("POST", f"/api/v1/offices/{o.id}/tickets", {"service_id": b["id"], "print": False})
    assert r.status_code == 409 and r.json()["error"]["code"] == "service_closed"

    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", {"extra_sessions": [
        {"date": "2026-11-28", "start": "18:00", "end": "21:00", "label": "Buổi tối"}]})
    assert o.issue(b["id"])["status"] == "waiting"
    live = o.live()
    assert live["programs"]["issuing_open"] is True and live["programs"]["hours_today"] == [["18:00", "21:00"]]
    clock.now = _at(saturday.replace(hour=21, minute=5))
    r = o.admin.req("POST", f"/api/v1/offices/{o.id}/tickets", {"service_id": b["id"], "print": False})
    assert r.status_code == 409 and r.json()["error"]["details"]["hours"] == [["18:00", "21:00"]]
    assert o.live()["programs"]["issuing_open"] is False
