"""Check-in and fair ordering through the HTTP API of an in-process app whose clock the test moves.

The check-in window's edges (one second early, the first and the last allowed second, one second late),
check-in by code at a kiosk and by chip ID card, and the calling order: walk-ins issued before the booked
start are called before the appointment, those issued after it are called after it, under both priority
policies; a transfer keeps the booked start.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from tests.server.test_feedback import ClockedOffice, MovableClock, clocked_app

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAY = datetime(2026, 11, 23, 7, 0, tzinfo=TZ)
HOURS = {d: [["07:30", "11:30"], ["13:00", "16:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}
CARD = "001060012345|012345678|Nguyễn Văn An|15031958|Nam|Số 1 phố Mẫu, Ba Đình, Hà Nội|10082021"


@pytest.fixture(scope="module")
def clocked() -> Iterator[tuple[TestClient, MovableClock]]:
    with clocked_app() as app:
        yield app


def at(hh: int, mm: int, ss: int = 0) -> datetime:
    return MONDAY.replace(hour=hh, minute=mm, second=ss).astimezone(UTC)


class Booked:
    def __init__(self, http: TestClient, clock: MovableClock, policy: str = "strict") -> None:
        clock.now = at(7, 0)
        self.o = ClockedOffice(http, clock)
        self.clock = clock
        self.o.admin.ok("PATCH", f"/api/v1/offices/{self.o.id}", {"opening_hours": HOURS, "priority_policy": policy,
                                                                  "interleave_every": 3})
        self.svc = self.o.service("B", bookable=True, booking_per_slot=5)
        self.other = self.o.service("C")
        self.counter = self.o.counter(1, [self.svc["id"]])
        self.clerk = self.o.clerk(f"cb{policy}{os.urandom(4).hex()}")
        self.kiosk = self.o.device("kiosk")

    def book(self, hh: int, mm: int, **kw: Any) -> dict[str, Any]:
        start = MONDAY.replace(hour=hh, minute=mm).isoformat()
        return self.o.http.post(f"/api/v1/offices/{self.o.id}/appointments",  # type: ignore[no-any-return]
                                json={"service_id": self.svc["id"], "start": start, **kw}).json()

    def check_in(self, body: dict[str, Any], who: Any = None) -> Any:
        return (who or self.kiosk).req("POST", f"/api/v1/offices/{self.o.id}/appointments/check-in",
                                       {"print": False, **body})

    def walk_in(self, hh: int, mm: int, **kw: Any) -> dict[str, Any]:
        self.clock.now = at(hh, mm)
        return self.o.issue(self.svc["id"], **kw)

    def call_all(self) -> list[int]:
        out = []
        while True:
            t = self.clerk.ok("POST", f"/api/v1/counters/{self.counter['id']}/next")["ticket"]
            if t is None:
                return out
            out.append(t["id"])


def test_check_in_window_edges(clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    b = Booked(http, clock)
    a1, a2, a3 = b.book(8, 0), b.book(8, 0), b.book(8, 0)
    assert a1["status"] == "booked"

    clock.now = at(7, 44, 59)  # one second before start - checkin_early_min (15)
    r = b.check_in({"code": a1["code"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "checkin_too_early"
    assert r.json()["error"]["details"]["checkin_from"].startswith("2026-11-23T07:45:00")
    clock.now = at(7, 45)  # the first allowed second; codes are read case- and space-insensitively
    r = b.check_in({"code": " " + a1["code"].lower()[:3] + " " + a1["code"].lower()[3:]})
    assert r.status_code == 201, r.text
    t1 = r.json()
    assert t1["channel"] == "appointment" and t1["appointment_id"] == a1["id"] and t1["status"] == "waiting"
    r = b.check_in({"code": a1["code"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_checked_in"

    clock.now = at(8, 10)  # start + checkin_late_min (10): still on time, at a clerk's desk
    r = b.check_in({"code": a2["code"]}, who=b.clerk)
    assert r.status_code == 201 and r.json()["channel"] == "appointment"
    clock.now = at(8, 10, 1)  # one second late: a normal ticket instead
    r = b.check_in({"code": a3["code"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "checkin_too_late"
    r = b.check_in({"code": "ZZZZZZZ"})
    assert r.status_code == 404
    assert b.check_in({}).status_code == 422
    assert b.check_in({"code": a3["code"], "id_card_qr": CARD}).status_code == 422

    # on read, a booking past its window is missed; its holder sees that too
    listed = b.o.admin.ok("GET", f"/api/v1/offices/{b.o.id}/appointments?date=2026-11-23")["items"]
    assert {x["code"]: x["status"] for x in listed} == {a1["code"]: "checked_in", a2["code"]: "checked_in",
                                                        a3["code"]: "missed"}
    assert b.o.admin.ok("GET", f"/api/v1/appointments/{a3['manage_code']}")["status"] == "missed"
    missed = b.o.admin.req("POST", f"/api/v1/appointments/{a3['manage_code']}/cancel")
    assert missed.status_code == 409


def test_check_in_by_chip_id_card(clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    b = Booked(http, clock)
    mine = b.book(9, 0, id_number="001060012345")
    b.book(9, 0, id_number="001099000001")
    clock.now = at(8, 55)
    r = b.check_in({"id_card_qr": CARD})
    assert r.status_code == 201 and r.json()["appointment_id"] == mine["id"], r.text
    other_card = CARD.replace("001060012345", "001060099999")
    r = b.check_in({"id_card_qr": other_card})
    assert r.status_code == 404
    r = b.check_in({"id_card_qr": "not a card"})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "id_card_qr"


def _scenario(b: Booked, with_priority: bool) -> dict[str, int]:
    """Walk-ins at 07:50 and 07:58, a booking at 08:00 checked in early (07:52), a priority ticket at 08:03
    (optional), walk-ins at 08:01 and 08:05; the counter opens at 08:06."""
    a = b.book(8, 0)
    ids: dict[str, int] = {}
    ids["w1"] = b.walk_in(7, 50)["id"]
    b.clock.now = at(7, 52)
    t = b.check_in({"code": a["code"]}).json()
    ids["a"] = t["id"]
    ids["w2"] = b.walk_in(7, 58)["id"]
    ids["w3"] = b.walk_in(8, 1)["id"]
    if with_priority:
        ids["p"] = b.walk_in(8, 3, priority="elderly")["id"]
    ids["w4"] = b.walk_in(8, 5)["id"]
    b.clock.now = at(8, 6)
    b.clerk.ok("POST", f"/api/v1/counters/{b.counter['id']}/open")
    return ids


@pytest.mark.parametrize("policy", ["strict", "interleave"])
def test_an_appointment_is_called_as_if_issued_at_its_start(clocked: tuple[TestClient, MovableClock],
                                                            policy: str) -> None:
    http, clock = clocked
    b = Booked(http, clock, policy)
    ids = _scenario(b, with_priority=True)
    waiting = b.o.admin.ok("GET", f"/api/v1/offices/{b.o.id}/tickets?status=waiting")["items"]
    appointment = next(t for t in waiting if t["id"] == ids["a"])
    called = b.call_all()
    name = {v: k for k, v in ids.items()}
    order = [name[t] for t in called]
    if policy == "strict":  # priority first, then by queue time: the booking stands at 08:00
        assert order == ["p", "w1", "w2", "a", "w3", "w4"]
    else:  # every 3 normal calls a priority one: the booking is still between 07:58 and 08:01
        assert order == ["w1", "w2", "a", "p", "w3", "w4"]
    assert appointment["position"] == order.index("a")  # the estimate's place agrees with the calls


def test_walk_ins_issued_before_the_start_go_first_even_when_checked_in_late(
        clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    b = Booked(http, clock)
    a = b.book(8, 0)
    w1 = b.walk_in(7, 55)["id"]
    w2 = b.walk_in(8, 2)["id"]
    clock.now = at(8, 8)  # late but inside the window
    t = b.check_in({"code": a["code"]}).json()
    w3 = b.walk_in(8, 9)["id"]
    clock.now = at(8, 10)
    b.clerk.ok("POST", f"/api/v1/counters/{b.counter['id']}/open")
    assert b.call_all() == [w1, t["id"], w2, w3]


def test_a_transfer_keeps_the_booked_start(clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    b = Booked(http, clock)
    b.o.admin.ok("PATCH", f"/api/v1/counters/{b.counter['id']}", {"service_ids": [b.other["id"]]})
    a = b.book(8, 0)
    clock.now = at(7, 50)
    t = b.check_in({"code": a["code"]}).json()  # checked in at 07:50, standing at 08:00
    clock.now = at(7, 55)
    x = b.o.issue(b.other["id"])["id"]
    clock.now = at(8, 2)
    y = b.o.issue(b.other["id"])["id"]
    moved = b.o.admin.ok("POST", f"/api/v1/tickets/{t['id']}/transfer", {"service_id": b.other["id"]})
    assert moved["status"] == "waiting" and moved["position"] == 1
    clock.now = at(8, 3)
    b.clerk.ok("POST", f"/api/v1/counters/{b.counter['id']}/open")
    assert b.call_all() == [x, t["id"], y]


def test_live_view_counts_the_bookings_still_to_come(clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    b = Booked(http, clock)
    a, _, _ = b.book(9, 0), b.book(9, 15), b.book(10, 0)
    clock.now = at(8, 50)
    row = next(s for s in b.o.live()["services"] if s["id"] == b.svc["id"])
    assert row["booked_ahead"] == 3
    b.check_in({"code": a["code"]})
    clock.now = at(9, 26)  # the 09:15 booking's window closed: missed, no longer to come
    live = b.o.live()
    assert next(s for s in live["services"] if s["id"] == b.svc["id"])["booked_ahead"] == 1
    assert live["totals"]["booked_ahead"] == 1


def test_the_background_task_marks_missed_bookings_with_their_event(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from server.routes import appointments as routes
    monkeypatch.setattr(routes, "MISSED_EVERY_S", 0.2)  # the sweep's period, for this in-process app only
    with clocked_app() as (http, clock):
        b = Booked(http, clock)
        kept, lost = b.book(8, 0), b.book(8, 15)
        clock.now = at(8, 5)
        assert b.check_in({"code": kept["code"]}).status_code == 201
        clock.now = at(8, 26)  # 08:15 + 10 min: the second booking's window has closed
        report = f"/api/v1/offices/{b.o.id}/reports?from=2026-11-23&to=2026-11-23&group_by=channel"
        deadline = time.monotonic() + 10
        row: dict[str, Any] = {}
        while time.monotonic() < deadline:
            row = next((r for r in b.o.admin.ok("GET", report)["items"] if r["key"] == "appointment"), {})
            if row.get("appointments_missed"):
                break
            time.sleep(0.2)
        assert row["appointments_missed"] == 1 and row["appointments"] == 1
        time.sleep(0.6)  # more sweeps write nothing more
        row = next(r for r in b.o.admin.ok("GET", report)["items"] if r["key"] == "appointment")
        assert row["appointments_missed"] == 1
        assert b.o.admin.ok("GET", f"/api/v1/appointments/{lost['manage_code']}")["status"] == "missed"


def test_a_booking_holds_its_place_before_opening_and_past_the_daily_limit(
        clocked: tuple[TestClient, MovableClock]) -> None:
    http, clock = clocked
    b = Booked(http, clock)
    b.o.admin.ok("PATCH", f"/api/v1/services/{b.svc['id']}", {"daily_limit": 2})
    first, second = b.book(7, 30), b.book(8, 0)
    clock.now = at(7, 20)  # issuing opens at 07:30; the 07:30 booking's check-in window opened at 07:15
    walk_in = b.o.admin.req("POST", f"/api/v1/offices/{b.o.id}/tickets", {"service_id": b.svc["id"], "print": False})
    assert walk_in.status_code == 409 and walk_in.json()["error"]["details"]["reason"] == "outside_hours"
    assert b.check_in({"code": first["code"]}).status_code == 201
    b.walk_in(7, 40)  # the day's second ticket: the limit counts every ticket, bookings' too
    limited = b.o.admin.req("POST", f"/api/v1/offices/{b.o.id}/tickets", {"service_id": b.svc["id"], "print": False})
    assert limited.status_code == 409 and limited.json()["error"]["code"] == "daily_limit_reached"
    clock.now = at(7, 50)
    assert b.check_in({"code": second["code"]}).status_code == 201  # the booking's place was already held
