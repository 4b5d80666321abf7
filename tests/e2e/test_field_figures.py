"""Field-ready figures: no time promised while no counter serves a service; set-up refusals that
would otherwise make tickets print nowhere (a real server, real HTTP)."""
from __future__ import annotations

from tests.support.server import OfficeSetup


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
