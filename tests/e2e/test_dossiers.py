"""Dossier codes linked to visits, through a real server: links, refusals by actor and state, unlink,
the staff look-up with a rating, the `dossier.linked` event over a real WebSocket, reports by procedure,
the trips question in feedback and reports, and the per-visit export with its dossier codes."""
from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from tests.support.aio import run
from tests.support.server import Api, OfficeSetup, ServerProcess, WsClient

CODE1 = "000.00.12.H26-241204-0001"
CODE2 = "000.00.12.H26-241204-0002"


def _desk(office: OfficeSetup) -> tuple[Api, dict[str, Any], dict[str, Any]]:
    """A service, a counter, its clerk (counter open); returns the clerk, the counter and the service."""
    svc = office.service("A", "Chứng thực")
    counter = office.counter(1, [svc["id"]])
    clerk = office.user(f"clerk{office.id}")
    clerk.ok("POST", f"/api/v1/counters/{counter['id']}/open")
    return clerk, counter, svc


def _issue(office: OfficeSetup, svc: dict[str, Any]) -> dict[str, Any]:
    ticket: dict[str, Any] = office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets",
                                             json={"service_id": svc["id"], "print": False})
    return ticket


def _error(r: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    err: dict[str, Any] = r.json()["error"]
    if code:
        assert err["code"] == code, err
    return err


def test_link_refusals_unlink_and_event(server: ServerProcess, office: OfficeSetup) -> None:
    clerk, counter, svc = _desk(office)
    first = _issue(office, svc)
    waiting = _issue(office, svc)
    called = clerk.ok("POST", f"/api/v1/counters/{counter['id']}/next")["ticket"]
    assert called["id"] == first["id"] and called["dossiers"] == []
    url = f"/api/v1/tickets/{called['id']}/dossiers"

    async def linked_over_ws() -> dict[str, Any]:
        staff = await WsClient(server.ws_url, clerk.token).connect()
        display = await WsClient(server.ws_url, office.device("display").token).connect()
        await staff.drain(0.3)
        await display.drain(0.3)
        out = clerk.ok("POST", url, json={"code": f"  {CODE1.lower()} ", "procedure": "Chứng thực bản sao"},
                       expect=201)
        msg = await staff.until(lambda m: m["type"] == "dossier.linked")
        seen_by_display = [m["type"] for m in await display.drain(0.8)]
        await staff.close()
        await display.close()
        assert "dossier.linked" not in seen_by_display
        return {"out": out, "msg": msg}
    got = run(linked_over_ws())
    link = got["out"]
    assert link["code"] == CODE1 and link["ticket_id"] == called["id"] and link["procedure"] == "Chứng thực bản sao"
    assert link["counter_id"] == counter["id"] and link["clerk_id"] == called["clerk_id"] and link["linked_at"]
    data = got["msg"]["data"]
    assert data["ticket_id"] == called["id"] and data["display_number"] == called["display_number"]
    assert data["code"] == CODE1 and data["counter"]["id"] == counter["id"] and data["clerk_id"] == link["clerk_id"]
    assert "track_code" not in str(data)

    # the ticket carries its codes
    assert clerk.ok("GET", f"/api/v1/tickets/{called['id']}")["dossiers"] == [CODE1]

    # 422: not the office's shape (nothing written); 409: twice; 409: a waiting ticket, with its status
    err = _error(clerk.post(url, json={"code": "HS-123"}), 422, "invalid_value")
    assert err["details"]["field"] == "code"
    _error(clerk.post(url, json={}), 422, "invalid_value")
    _error(clerk.post(url, json={"code": CODE1}), 409, "already_linked")
    err = _error(clerk.post(f"/api/v1/tickets/{waiting['id']}/dossiers", json={"code": CODE2}), 409)
    assert err["details"]["status"] == "waiting"

    # 401 / 403 by actor, 404 unknown ticket; precedence: 403 before 422 and 409
    _error(server.client().post(url, json={"code": CODE2}), 401)
    kiosk = office.device("kiosk")
    _error(kiosk.post(url, json={"code": CODE2}), 403)
    other_counter = office.counter(2, [svc["id"]])
    stranger = office.user(f"other{office.id}")
    stranger.ok("POST", f"/api/v1/counters/{other_counter['id']}/open")
    _error(stranger.post(url, json={"code": CODE2}), 403)
    _error(stranger.post(url, json={"code": "bad"}), 403)
    elsewhere = OfficeSetup(server)
    foreign = elsewhere.user(f"foreign{elsewhere.id}")
    _error(foreign.post(url, json={"code": CODE2}), 403)
    _error(foreign.post(url, json={"code": CODE1}), 403)
    _error(clerk.post("/api/v1/tickets/987654321/dossiers", json={"code": CODE2}), 404)
    assert clerk.ok("GET", f"/api/v1/tickets/{called['id']}")["dossiers"] == [CODE1]

    # a second dossier, then unlink it: refused to others, allowed to the clerk
    second = clerk.ok("POST", url, json={"code": CODE2}, expect=201)
    assert clerk.ok("GET", f"/api/v1/tickets/{called['id']}")["dossiers"] == [CODE1, CODE2]
    listed = clerk.ok("GET", url)
    assert [x["code"] for x in listed["items"]] == [CODE1, CODE2]
    _error(server.client().delete(f"/api/v1/dossier-links/{second['id']}"), 401)
    _error(kiosk.delete(f"/api/v1/dossier-links/{second['id']}"), 403)
    _error(stranger.delete(f"/api/v1/dossier-links/{second['id']}"), 403)
    _error(foreign.delete(f"/api/v1/dossier-links/{second['id']}"), 403)
    assert clerk.ok("DELETE", f"/api/v1/dossier-links/{second['id']}")["code"] == CODE2
    _error(clerk.delete(f"/api/v1/dossier-links/{second['id']}"), 404)
    assert clerk.ok("GET", f"/api/v1/tickets/{called['id']}")["dossiers"] == [CODE1]
    # after unlinking, the code may be linked again
    clerk.ok("POST", url, json={"code": CODE2}, expect=201)
    # a head links to a finished ticket of the day
    clerk.ok("POST", f"/api/v1/tickets/{called['id']}/finish")
    head = office.user(f"head{office.id}", role="head")
    head.ok("POST", url, json={"code": "000.00.12.H26-241204-0003"}, expect=201)
    assert clerk.ok("GET", f"/api/v1/tickets/{called['id']}")["dossiers"] == [CODE1, CODE2, "000.00.12.H26-241204-0003"]


def test_lookup_with_rating_reports_by_procedure_and_trips(server: ServerProcess, office: OfficeSetup) -> None:
    clerk, counter, svc = _desk(office)
    office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"ask_trips": True})
    tablet = office.device("tablet", counter_id=counter["id"])
    for _ in range(3):
        _issue(office, svc)
    visits = []
    plan = [([CODE1], "Cấp bản sao", "very_satisfied", 1),
            ([CODE1, CODE2], "Đăng ký khai sinh", "unsatisfied", 3),
            ([], None, "satisfied", 2)]
    for codes, procedure, rating, trips in plan:
        t = clerk.ok("POST", f"/api/v1/counters/{counter['id']}/next")["ticket"]
        clerk.ok("POST", f"/api/v1/tickets/{t['id']}/start")
        for code in codes:
            clerk.ok("POST", f"/api/v1/tickets/{t['id']}/dossiers", json={"code": code, "procedure": procedure},
                     expect=201)
        clerk.ok("POST", f"/api/v1/tickets/{t['id']}/finish")
        fb = tablet.ok("POST", "/api/v1/feedback", json={"ticket_id": t["id"], "rating": rating, "trips": trips},
                       expect=201)
        assert fb["trips"] == trips
        visits.append(t)

    # trips outside 1..3 are refused and change nothing
    t4 = _issue(office, svc)
    clerk.ok("POST", f"/api/v1/counters/{counter['id']}/call", json={"ticket_id": t4["id"]})
    clerk.ok("POST", f"/api/v1/tickets/{t4['id']}/finish")
    for bad in (0, 4, "2", True, 1.5):
        _error(tablet.post("/api/v1/feedback", json={"ticket_id": t4["id"], "rating": "satisfied", "trips": bad}),
               422, "invalid_value")

    # the look-up: both visits of CODE1, each with its counter, clerk and rating
    found = clerk.ok("GET", f"/api/v1/offices/{office.id}/dossiers/{CODE1.lower()}")
    assert found["code"] == CODE1
    assert [v["ticket"]["id"] for v in found["visits"]] == [visits[0]["id"], visits[1]["id"]]
    assert [v["rating"] for v in found["visits"]] == ["very_satisfied", "unsatisfied"]
    assert all(v["counter"]["id"] == counter["id"] and v["clerk"]["full_name"] for v in found["visits"])
    assert found["visits"][1]["ticket"]["dossiers"] == [CODE1, CODE2]
    _error(clerk.get(f"/api/v1/offices/{office.id}/dossiers/000.00.12.H26-241204-0099"), 404, "not_found")
    _error(office.device("kiosk").get(f"/api/v1/offices/{office.id}/dossiers/{CODE1}"), 403)
    elsewhere = OfficeSetup(server)
    _error(elsewhere.user(f"x{elsewhere.id}").get(f"/api/v1/offices/{office.id}/dossiers/{CODE1}"), 403)

    head = office.user(f"head{office.id}", role="head")
    base = f"/api/v1/offices/{office.id}/reports"
    by_proc = {r["key"]: r for r in head.ok("GET", f"{base}?group_by=procedure")["items"]}
    assert set(by_proc) == {"Cấp bản sao", "Đăng ký khai sinh"}
    birth = by_proc["Đăng ký khai sinh"]  # one visit with two dossiers: counted once
    assert (birth["issued"], birth["served"], birth["ratings"], birth["satisfaction_pct"]) == (1, 1, 1, 0.0)
    assert birth["avg_trips"] == 3 and birth["one_trip_pct"] == 0.0
    copy = by_proc["Cấp bản sao"]
    assert (copy["served"], copy["satisfaction_pct"], copy["avg_trips"], copy["one_trip_pct"]) == (1, 100.0, 1, 100.0)

    day = head.ok("GET", f"{base}?group_by=day")["items"]
    assert len(day) == 1 and day[0]["ratings"] == 3
    assert day[0]["avg_trips"] == 2.0 and day[0]["one_trip_pct"] == 33.3

    # the per-visit export: one row per ticket with its dossier codes, in JSON, CSV and XLSX
    rows = head.ok("GET", f"{base}?group_by=ticket")
    by_id = {r["key"]: r for r in rows["items"]}
    assert len(by_id) == 4 and "dossiers" in rows["fields"] and "track_code" not in rows["fields"]
    assert by_id[str(visits[1]["id"])]["dossiers"] == [CODE1, CODE2]
    assert by_id[str(visits[1]["id"])]["trips"] == 3 and by_id[str(visits[2]["id"])]["dossiers"] == []
    r = head.get(f"{base}?group_by=ticket&format=csv")
    parsed = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert {p["key"]: p["dossiers"] for p in parsed}[str(visits[1]["id"])] == f"{CODE1}; {CODE2}"
    x = head.get(f"{base}?group_by=ticket&format=xlsx")
    sheet = load_workbook(io.BytesIO(x.content)).active
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    col = table[0].index("dossiers")
    assert f"{CODE1}; {CODE2}" in [row[col] for row in table[1:]]
    csv_proc = head.get(f"{base}?group_by=procedure&format=csv").content.decode("utf-8-sig")
    assert "avg_trips" in csv_proc.splitlines()[0] and "Đăng ký khai sinh" in csv_proc
    _error(head.get(f"{base}?group_by=ticket&from=2026-01-01&to=2026-12-31"), 422, "invalid_value")
    _error(head.get(f"{base}?group_by=dossier"), 422, "invalid_value")
