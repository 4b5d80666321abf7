"""Field-ready figures: no time promised while no counter serves a service; set-up refusals that
would otherwise make tickets print nowhere (a real server, real HTTP)."""
from __future__ import annotations

import asyncio
import re

from tests.support.server import OfficeSetup, ServerProcess, WsClient
from tests.ticket_printer.fakeprinter import FakePrinter, iter_commands
from ticket_printer.codepages import decode_cp1258


def test_default_printer_must_be_a_printer_of_the_office(office: OfficeSetup) -> None:
    other = OfficeSetup(office.server)
    theirs = other.admin.ok("POST", f"/api/v1/offices/{other.id}/printers",
                            json={"name": "Their", "transport": "file", "address": "/tmp/qms-other.bin"})
    mine = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                           json={"name": "Mine", "transport": "file", "address": "/tmp/qms-mine.bin"})
    for bad in (999999, theirs["id"]):
        r = office.admin.patch(f"/api/v1/offices/{office.id}", json={"default_printer_id": bad})
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "invalid_value" and err["details"]["field"] == "default_printer_id"
    assert office.admin.ok("GET", f"/api/v1/offices/{office.id}")["default_printer_id"] is None
    assert office.admin.ok("PATCH", f"/api/v1/offices/{office.id}",
                           json={"default_printer_id": mine["id"]})["default_printer_id"] == mine["id"]
    office.admin.ok("DELETE", f"/api/v1/printers/{mine['id']}")
    r = office.admin.patch(f"/api/v1/offices/{office.id}", json={"default_printer_id": mine["id"]})
    assert r.status_code == 422, r.text  # a removed printer is no default either
    assert office.admin.ok("PATCH", f"/api/v1/offices/{office.id}",
                           json={"default_printer_id": None})["default_printer_id"] is None


def test_no_time_is_promised_while_no_counter_serves_the_service(server: ServerProcess, office: OfficeSetup) -> None:
    a = office.service("A", "Chứng thực")
    b = office.service("B", "Hộ tịch")
    ca = office.counter(1, [a["id"]])
    cb = office.counter(2, [b["id"]])
    clerk = office.user(f"cb{office.id}")
    clerk.ok("POST", f"/api/v1/counters/{ca['id']}/open", json={})
    kiosk = office.device("kiosk", "Kiosk")

    async def scenario() -> None:
        ws = await WsClient(server.ws_url, office.admin.token, office_id=office.id).connect()
        await ws.drain(0.3)
        # B: every counter closed
        tb = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": b["id"], "print": False})
        assert tb["serving_now"] is False and tb["position"] == 0
        assert tb["estimated_wait_s"] is None and tb["estimated_wait_range_s"] is None
        ta = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"], "print": False})
        assert ta["serving_now"] is True and ta["estimated_wait_s"] is not None

        track = server.client().ok("GET", f"/api/v1/track/{tb['track_code']}")
        assert track["serving_now"] is False and track["estimated_wait_s"] is None
        assert track["estimated_wait_range_s"] is None
        assert server.client().ok("GET", f"/api/v1/track/{ta['track_code']}")["serving_now"] is True
        staff = office.admin.ok("GET", f"/api/v1/tickets/{tb['id']}")
        assert staff["serving_now"] is False and staff["estimated_wait_s"] is None
        listed = office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets?status=waiting")["items"]
        assert {t["id"]: t["serving_now"] for t in listed} == {tb["id"]: False, ta["id"]: True}
        assert next(t for t in listed if t["id"] == tb["id"])["estimated_wait_s"] is None

        live = office.admin.ok("GET", f"/api/v1/offices/{office.id}/live")
        rows = {s["code"]: s for s in live["services"]}
        assert rows["B"]["serving_now"] is False and rows["B"]["estimated_wait_s"] is None
        assert rows["B"]["estimated_wait_range_s"] is None and rows["B"]["waiting"] == 1
        assert rows["A"]["serving_now"] is True and rows["A"]["estimated_wait_s"] is not None

        frames = [m for m in await ws.drain(1.5) if m["type"] == "queue.updated"]
        b_rows = [s for m in frames for s in m["data"]["services"] if s["id"] == b["id"]]
        assert b_rows and all(s["serving_now"] is False and s["estimated_wait_s"] is None for s in b_rows)

        # a counter for B opens: the time comes back, live
        clerk.ok("POST", f"/api/v1/counters/{ca['id']}/close", json={})
        clerk.ok("POST", f"/api/v1/counters/{cb['id']}/open", json={})
        frame = await ws.until(lambda m: m["type"] == "queue.updated" and any(
            s["id"] == b["id"] and s["serving_now"] for s in m["data"]["services"]))
        row = next(s for s in frame["data"]["services"] if s["id"] == b["id"])
        assert row["estimated_wait_s"] is not None
        track = server.client().ok("GET", f"/api/v1/track/{tb['track_code']}")
        assert track["serving_now"] is True and track["estimated_wait_s"] is not None
        assert server.client().ok("GET", f"/api/v1/track/{ta['track_code']}")["serving_now"] is False
        # a paused counter promises nothing either (its clerk may be back after lunch)
        clerk.ok("POST", f"/api/v1/counters/{cb['id']}/pause", json={})
        track = server.client().ok("GET", f"/api/v1/track/{tb['track_code']}")
        assert track["serving_now"] is False and track["estimated_wait_s"] is None
        await ws.until(lambda m: m["type"] == "queue.updated" and any(
            s["id"] == b["id"] and s["serving_now"] is False for s in m["data"]["services"]))
        clerk.ok("POST", f"/api/v1/counters/{cb['id']}/open", json={})
        assert server.client().ok("GET", f"/api/v1/track/{tb['track_code']}")["serving_now"] is True
        await ws.close()
    asyncio.run(scenario())


def _printed_text(data: bytes) -> str:
    text = b"".join(c.raw for c in iter_commands(data) if c.kind == "text")
    return decode_cp1258(text)


def test_the_printed_ticket_shows_the_80pct_range_or_that_no_counter_serves_it(office: OfficeSetup) -> None:
    a = office.service("A", "Chứng thực")
    b = office.service("B", "Hộ tịch")
    ca = office.counter(1, [a["id"]])
    clerk = office.user(f"pr{office.id}")
    clerk.ok("POST", f"/api/v1/counters/{ca['id']}/open", json={})
    with FakePrinter() as printer:
        p = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                            json={"name": "Sảnh", "transport": "network", "address": printer.address,
                                  "mode": "text", "profile": "TM-T88V"})
        kiosk = office.device("kiosk", "Kiosk", printer_id=p["id"])
        issued = [kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"]})
                  for _ in range(3)]
        printer.wait_for_cut(3, timeout=15)
        last = _printed_text(printer.received).split("Xin cảm ơn!")[2]
        low, high = issued[2]["estimated_wait_range_s"]
        assert issued[2]["display_number"] in last
        wait_line = " ".join(last[last.index("Thời gian chờ dự kiến"):last.index("Giờ lấy số")].split())
        assert re.fullmatch(r"Thời gian chờ dự kiến: (khoảng \d+(–\d+)? phút|dưới \d+ phút)", wait_line), wait_line
        assert str(max(1, round(high / 60))) in wait_line  # the range's top, as the API computed it

        tb = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": b["id"]})
        printer.wait_for_cut(4, timeout=15)
        paper = _printed_text(printer.received).split("Xin cảm ơn!")[3]
        assert tb["display_number"] in paper and "Chưa có quầy phục vụ" in paper
        assert "Thời gian chờ" not in paper and "Số người chờ trước: 0" in paper


def test_staffing_advice_fits_the_office(office: OfficeSetup) -> None:
    """7 counters (1 do-it-now, 6 standard): a rush on the standard desks is advised at most 6 of them;
    the do-it-now desk, whose citizens were all served, is advised no more than it has open."""
    a = office.service("A", "Chứng thực", desk="do_it_now")
    b = office.service("B", "Hộ tịch")
    quick = office.counter(1, [a["id"]], desk="do_it_now")
    std = [office.counter(n, [b["id"]]) for n in range(2, 7)]
    office.counter(7, [b["id"]])
    office.admin.ok("DELETE", f"/api/v1/counters/{office.counter(8, [b['id']])['id']}")  # archived: not counted
    clerk = office.user(f"st{office.id}")
    clerk.ok("POST", f"/api/v1/counters/{quick['id']}/open", json={})
    clerk2 = office.user(f"st2{office.id}")
    clerk2.ok("POST", f"/api/v1/counters/{std[0]['id']}/open", json={})
    for _ in range(4):
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"], "print": False})
        clerk.ok("POST", f"/api/v1/counters/{quick['id']}/next", json={})
    clerk.ok("POST", f"/api/v1/counters/{quick['id']}/next", json={})  # the last one done too
    for _ in range(45):
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": b["id"], "print": False})
    live = office.admin.ok("GET", f"/api/v1/offices/{office.id}/live")
    groups = {g["group"]: g for g in live["staffing"]["groups"]}
    assert groups["standard"]["suggested_open_counters"] == 6  # counters 2–7 serve B; 8 is archived
    assert groups["do_it_now"]["suggested_open_counters"] <= 1
    assert live["staffing"]["suggested_open_counters"] <= 7
    for alert in (x for x in live["alerts"] if x["kind"] == "staffing"):
        assert alert["suggested_open_counters"] <= 6


def test_reports_tell_served_after_start_from_closed_without_start(office: OfficeSetup) -> None:
    a = office.service("A", "Chứng thực")
    c = office.counter(1, [a["id"]])
    clerk = office.user(f"rp{office.id}")
    clerk.ok("POST", f"/api/v1/counters/{c['id']}/open", json={})
    ids = [office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets",
                           json={"service_id": a["id"], "print": False})["id"] for _ in range(4)]
    clerk.ok("POST", f"/api/v1/counters/{c['id']}/next", json={})          # 1 called
    clerk.ok("POST", f"/api/v1/counters/{c['id']}/next", json={})          # 1 closed unstarted, 2 called
    clerk.ok("POST", f"/api/v1/tickets/{ids[1]}/start", json={})
    clerk.ok("POST", f"/api/v1/tickets/{ids[1]}/finish", json={})          # 2 served after a start
    clerk.ok("POST", f"/api/v1/counters/{c['id']}/next", json={})          # 3 called
    clerk.ok("POST", f"/api/v1/tickets/{ids[2]}/finish", json={})          # 3 finished without a start
    clerk.ok("POST", f"/api/v1/counters/{c['id']}/next", json={})          # 4 called
    clerk.ok("POST", f"/api/v1/counters/{c['id']}/next", json={"close_current": "no_show"})  # 4 no-show
    for group_by in ("day", "counter", "service", "clerk"):
        (row,) = office.admin.ok("GET", f"/api/v1/offices/{office.id}/reports?group_by={group_by}")["items"]
        assert (row["served"], row["served_started"], row["closed_unstarted"], row["no_show"]) == (3, 1, 2, 1), row
    live = office.admin.ok("GET", f"/api/v1/offices/{office.id}/live")
    assert next(r for r in live["counters"] if r["id"] == c["id"])["closed_unstarted"] == 2
