"""Appointments over HTTP against a real server: slots, booking, a full slot, bad starts, cancelling by the
manage code, the staff list, the throttle, concurrent bookings of one seat, and what a device or the
WebSocket may see (no phone, no ID hash).
"""
from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess, WsClient

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
HOURS = {d: [["07:30", "11:30"], ["13:00", "16:30"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def tomorrow() -> date:
    return datetime.now(TZ).date() + timedelta(days=1)


def bookable_office(server: ServerProcess, **settings: Any) -> tuple[OfficeSetup, dict[str, Any]]:
    o = OfficeSetup(server)
    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", json={"opening_hours": HOURS, **settings})
    svc = o.service("B", bookable=True, booking_per_slot=2)
    return o, svc


def slots(api: Any, o: OfficeSetup, svc: dict[str, Any], day: date) -> list[dict[str, Any]]:
    return api.ok("GET", f"/api/v1/offices/{o.id}/slots?service_id={svc['id']}&date={day}")["items"]  # type: ignore[no-any-return]


def test_slots_follow_the_issuing_windows_and_count_free_seats(server: ServerProcess) -> None:
    o, svc = bookable_office(server, booking_slot_min=20)
    anon = server.client()
    items = slots(anon, o, svc, tomorrow())
    starts = [datetime.fromisoformat(s["start"]).astimezone(TZ).strftime("%H:%M") for s in items]
    ends = [datetime.fromisoformat(s["end"]).astimezone(TZ).strftime("%H:%M") for s in items]
    # 07:30-11:30 holds 12 slots of 20 min; 13:00-16:30 holds 10 (16:20 would end after 16:30)
    assert starts[:3] == ["07:30", "07:50", "08:10"] and starts[11] == "11:10" and starts[12] == "13:00"
    assert starts[-1] == "16:00" and ends[-1] == "16:20" and len(items) == 22
    assert all(s["free"] == 2 for s in items)
    # the past, beyond booking_days_ahead, a service that is not bookable: no slots
    assert slots(anon, o, svc, tomorrow() - timedelta(days=2)) == []
    assert slots(anon, o, svc, tomorrow() + timedelta(days=14)) == []  # today + 15 > 14 days ahead
    assert slots(anon, o, svc, tomorrow() + timedelta(days=13)) != []
    plain = o.service("C")
    assert slots(anon, o, plain, tomorrow()) == []
    r = anon.get(f"/api/v1/offices/{o.id}/slots?service_id=999999&date={tomorrow()}")
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_value"
    assert anon.get(f"/api/v1/offices/{o.id}/slots?service_id={svc['id']}&date=2026-13-01").status_code == 422
    assert anon.get(f"/api/v1/offices/99999999/slots?service_id={svc['id']}").status_code == 404


def test_booking_a_full_slot_bad_starts_and_cancelling_by_the_manage_code(server: ServerProcess) -> None:
    o, svc = bookable_office(server)
    anon = server.client()
    first = slots(anon, o, svc, tomorrow())[0]
    url = f"/api/v1/offices/{o.id}/appointments"
    a = anon.ok("POST", url, json={"service_id": svc["id"], "start": first["start"], "phone": "0912 345 678",
                                   "id_number": "001060012345"}, expect=201)
    assert a["status"] == "booked" and a["service_id"] == svc["id"] and a["start"] == first["start"]
    assert re.fullmatch(r"[ACDEFHJKMNPQRTUVWXY34679]{7}", a["code"])
    assert len(a["manage_code"]) >= 16 and a["manage_code"] != a["code"]
    assert "phone" not in a and "id_card_hash" not in a
    b = anon.ok("POST", url, json={"service_id": svc["id"], "start": first["start"]}, expect=201)
    assert b["code"] != a["code"]
    assert slots(anon, o, svc, tomorrow())[0]["free"] == 0
    full = anon.post(url, json={"service_id": svc["id"], "start": first["start"]})
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"

    # not a slot, in the past, too far ahead, not bookable, malformed
    off_grid = (datetime.fromisoformat(first["start"]) + timedelta(minutes=7)).isoformat()
    past = datetime.now(TZ).replace(hour=7, minute=30, second=0, microsecond=0) - timedelta(days=1)
    far = (datetime.fromisoformat(first["start"]) + timedelta(days=30)).isoformat()
    for start, reason in ((off_grid, "not_a_slot"), (past.isoformat(), "past"), (far, "too_far_ahead")):
        r = anon.post(url, json={"service_id": svc["id"], "start": start})
        assert r.status_code == 422, (start, r.text)
        assert r.json()["error"]["details"]["reason"] == reason
    plain = o.service("C")
    r = anon.post(url, json={"service_id": plain["id"], "start": first["start"]})
    assert r.status_code == 409 and r.json()["error"]["code"] == "service_not_bookable"
    for bad in ({"service_id": svc["id"], "start": "tomorrow"}, {"service_id": svc["id"]},
                {"service_id": svc["id"], "start": first["start"], "id_number": "12ab"},
                {"service_id": svc["id"], "start": first["start"], "phone": "call me"}):
        assert anon.post(url, json=bad).status_code == 422, bad
    assert slots(anon, o, svc, tomorrow())[0]["free"] == 0  # refusals changed nothing

    # the holder sees and cancels it by the manage code; the seat is free again
    seen = anon.ok("GET", f"/api/v1/appointments/{a['manage_code']}")
    assert seen["code"] == a["code"] and seen["status"] == "booked" and seen["service"]["id"] == svc["id"]
    assert "phone" not in seen and "id_card_hash" not in seen
    qr = anon.get(f"/api/v1/appointments/{a['manage_code']}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml") and b"<svg" in qr.content
    cancelled = anon.ok("POST", f"/api/v1/appointments/{a['manage_code']}/cancel")
    assert cancelled["status"] == "cancelled"
    again = anon.post(f"/api/v1/appointments/{a['manage_code']}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "appointment_state"
    assert slots(anon, o, svc, tomorrow())[0]["free"] == 1
    assert anon.get("/api/v1/appointments/not-a-real-manage-code-at-all").status_code == 404
    assert anon.post("/api/v1/appointments/not-a-real-manage-code-at-all/cancel").status_code == 404

    # staff list the day with the phone; a device may not list at all
    listed = o.admin.ok("GET", f"/api/v1/offices/{o.id}/appointments?date={tomorrow()}")
    by_code = {x["code"]: x for x in listed["items"]}
    assert by_code[a["code"]]["status"] == "cancelled" and by_code[a["code"]]["phone"] == "0912 345 678"
    assert "id_card_hash" not in by_code[a["code"]] and by_code[a["code"]]["has_id_number"] is True
    found = o.admin.ok("GET", f"/api/v1/offices/{o.id}/appointments?date={tomorrow()}&q=345678")["items"]
    assert [x["code"] for x in found] == [a["code"]]
    only = o.admin.ok("GET", f"/api/v1/offices/{o.id}/appointments?date={tomorrow()}&status=booked")["items"]
    assert [x["code"] for x in only] == [b["code"]]
    kiosk = o.device("kiosk")
    assert kiosk.get(f"/api/v1/offices/{o.id}/appointments").status_code == 403
    assert o.admin.get(f"/api/v1/offices/{o.id}/appointments?status=lost").status_code == 422
    log = (server.data_dir / "server.log").read_text()
    assert "0912 345 678" not in log and "001060012345" not in log


def test_staff_see_booking_events_without_phone_or_id_and_displays_see_none(server: ServerProcess) -> None:
    o, svc = bookable_office(server)
    display = o.device("display")
    first = slots(server.client(), o, svc, tomorrow())[1]

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        staff = await WsClient(server.ws_url, o.admin.token, office_id=o.id).connect()
        lobby = await WsClient(server.ws_url, display.token, office_id=o.id).connect()
        await staff.drain(0.3)
        await lobby.drain(0.3)
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            r = await http.post(f"/api/v1/offices/{o.id}/appointments", json={
                "service_id": svc["id"], "start": first["start"], "phone": "0987654321", "id_number": "001060012345"})
            assert r.status_code == 201
        got = await staff.until(lambda m: m["type"] == "appointment.booked")
        rest = await lobby.drain(0.8)
        await staff.close()
        await lobby.close()
        return [got], rest
    staff_msgs, lobby_msgs = run(scenario())
    text = str(staff_msgs[0])
    assert staff_msgs[0]["data"]["appointment"]["service_id"] == svc["id"]
    assert "0987654321" not in text and "phone" not in text and "id_card_hash" not in text
    assert not [m for m in lobby_msgs if m["type"].startswith("appointment.")]


def test_concurrent_bookings_never_exceed_a_slots_seats(server: ServerProcess) -> None:
    o, svc = bookable_office(server)
    start = slots(server.client(), o, svc, tomorrow())[2]["start"]

    async def burst() -> list[int]:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            rs = await asyncio.gather(*[http.post(f"/api/v1/offices/{o.id}/appointments",
                                                  json={"service_id": svc["id"], "start": start},
                                                  headers={"X-Try": str(i)}) for i in range(8)])
        return [r.status_code for r in rs]
    codes = run(burst())
    assert sorted(codes).count(201) == 2 and codes.count(409) + codes.count(429) == 6, codes
    assert slots(server.client(), o, svc, tomorrow())[2]["free"] == 0


def test_bookings_are_throttled_per_address_but_ten_a_minute_are_served() -> None:
    server = ServerProcess().start()  # its own server: the other tests' bookings came from this address too
    try:
        o, svc = bookable_office(server)
        o.admin.ok("PATCH", f"/api/v1/services/{svc['id']}", json={"booking_per_slot": 100})
        start = slots(server.client(), o, svc, tomorrow())[0]["start"]
        anon = server.client()
        codes = [anon.post(f"/api/v1/offices/{o.id}/appointments", json={"service_id": svc["id"], "start": start}
                           ).status_code for _ in range(45)]
        assert codes[:10] == [201] * 10  # at least ten a minute per address
        assert codes.count(201) < 45 and codes[-1] == 429
        r = anon.post(f"/api/v1/offices/{o.id}/appointments", json={"service_id": svc["id"], "start": start})
        assert r.status_code == 429 and r.json()["error"]["code"] == "rate_limited"
        assert slots(server.client(), o, svc, tomorrow())[0]["free"] == 100 - codes.count(201)
    finally:
        server.stop()
