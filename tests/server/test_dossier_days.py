"""Dossier links belong to the day of the visit: the next day neither a link nor an unlink is accepted, and
nothing changes; an unlinked dossier leaves the report by procedure. In-process app with a movable clock."""
from __future__ import annotations

from typing import Any

from tests.server.test_feedback import ClockedOffice, MovableClock, clocked  # noqa: F401 - the fixture
from tests.support.server import ADMIN_PASSWORD

CODE = "000.00.12.H26-241204-0100"


def test_links_are_made_and_corrected_on_the_day_of_the_visit(clocked: Any) -> None:  # noqa: F811
    http, clock = clocked
    assert isinstance(clock, MovableClock)
    o = ClockedOffice(http, clock)
    svc = o.service("D")
    counter = o.counter(1, [svc["id"]])
    clerk = o.clerk("canbo_ngay")
    clerk.ok("POST", f"/api/v1/counters/{counter['id']}/open")
    o.issue(svc["id"])
    ticket = clerk.ok("POST", f"/api/v1/counters/{counter['id']}/next")["ticket"]
    url = f"/api/v1/tickets/{ticket['id']}/dossiers"
    kept = clerk.ok("POST", url, {"code": CODE, "procedure": "Đăng ký kinh doanh"})
    wrong = clerk.ok("POST", url, {"code": "000.00.12.H26-241204-0101", "procedure": "Nhầm thủ tục"})
    clerk.ok("DELETE", f"/api/v1/dossier-links/{wrong['id']}")  # the same day: a mistake is undone
    clerk.ok("POST", f"/api/v1/tickets/{ticket['id']}/finish")
    day = clerk.ok("GET", f"/api/v1/tickets/{ticket['id']}")["issued_at"][:10]
    rows = o.admin.ok("GET", f"/api/v1/offices/{o.id}/reports?group_by=procedure&from={day}&to={day}")["items"]
    assert [(r["key"], r["served"]) for r in rows] == [("Đăng ký kinh doanh", 1)]

    clock.advance(days=1)
    clerk, admin = o.login("canbo_ngay", "password-123"), o.login("admin", ADMIN_PASSWORD)  # tokens expired
    r = clerk.req("POST", url, {"code": "000.00.12.H26-241204-0102"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_today", r.text
    r = clerk.req("DELETE", f"/api/v1/dossier-links/{kept['id']}")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_today", r.text
    r = admin.req("DELETE", f"/api/v1/dossier-links/{kept['id']}")  # not even an admin: the day is closed
    assert r.status_code == 409, r.text
    assert clerk.ok("GET", f"/api/v1/tickets/{ticket['id']}")["dossiers"] == [CODE]
    found = clerk.ok("GET", f"/api/v1/offices/{o.id}/dossiers/{CODE}")
    assert [v["ticket"]["id"] for v in found["visits"]] == [ticket["id"]] and found["visits"][0]["rating"] is None
