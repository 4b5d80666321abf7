"""Print jobs end to end: a real server, a fake network printer on loopback, the paper decoded back.

The ticket is issued through the API; the server's print worker sends ESC/POS over TCP; the test
decodes the raster, reads the number with tesseract and scans the QR code with zbar.
"""
from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from pyzbar.pyzbar import decode as scan_codes

from tests.support.server import Api, OfficeSetup, ServerProcess, WsClient
from tests.ticket_printer.fakeprinter import FakePrinter, decode_raster, iter_commands
from tests.ticket_printer.ocr import ocr_lines
from ticket_printer.codepages import decode_cp1258

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def wait_until(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last: {value!r})")
        time.sleep(0.05)


def kiosk_with_printer(office: OfficeSetup, printer: FakePrinter, **printer_fields: Any) -> tuple[Api, dict[str, Any]]:
    p = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                        json={"name": "Kiosk 1", "transport": "network", "address": printer.address, **printer_fields})
    return office.device("kiosk", "Kiosk sảnh", printer_id=p["id"]), p


def issue(kiosk: Api, office: OfficeSetup, service_id: int, **kw: Any) -> dict[str, Any]:
    return kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": service_id, **kw})


def test_fake_network_printer_prints_the_issued_ticket(server: ServerProcess, office: OfficeSetup) -> None:
    svc = office.service("A", "Chứng thực", desk="do_it_now")
    with FakePrinter() as printer:
        kiosk, p = kiosk_with_printer(office, printer)
        issue(kiosk, office, svc["id"])  # someone ahead
        t = issue(kiosk, office, svc["id"])
        assert t["print_job"]["status"] == "queued"
        printer.wait_for_cut(2, timeout=15)
        papers = printer.tickets()
        assert len(papers) == 2
        paper = papers[1]
        ARTIFACTS.mkdir(exist_ok=True)
        paper.save(ARTIFACTS / "printed_ticket.png")
        assert paper.width == 576

        lines = ocr_lines(paper, "vie")
        assert t["display_number"] in lines  # e.g. "A002", alone on its line
        for expected in ("Chứng thực", "Bộ phận làm ngay"):
            assert expected in lines, lines
        ahead = [line.split(":")[-1].strip().replace("O", "0") for line in lines if line.startswith("Số người chờ")]
        assert ahead == [str(t["position"])]  # tesseract reads this font's 0 as O
        url = f"{server.base_url}/t/{t['track_code']}"
        assert [c.data.decode() for c in scan_codes(paper.convert("L"))] == [url]

        job = wait_until(lambda: (j := kiosk.ok("GET", f"/api/v1/print-jobs/{t['print_job']['id']}"))["status"]
                         == "printed" and j, what="job printed")
        assert job["attempts"] == 1 and job["error"] is None
        status = office.admin.ok("GET", f"/api/v1/printers/{p['id']}")
        assert status["online"] is True and status["paper"] == "ok" and status["last_seen"]

        # the kiosk may fetch the exact image of its ticket; it matches the paper
        png = kiosk.get(f"/api/v1/tickets/{t['id']}/ticket.png")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        img = Image.open(io.BytesIO(png.content))
        assert img.size == paper.size
        assert [c.data.decode() for c in scan_codes(img.convert("L"))] == [url]

        # reprint: a new job, a third ticket on paper
        again = office.admin.ok("POST", f"/api/v1/tickets/{t['id']}/reprint", json={})
        assert again["id"] != t["print_job"]["id"] and again["status"] == "queued"
        printer.wait_for_cut(3, timeout=15)


def test_text_mode_prints_vietnamese_through_the_code_page(server: ServerProcess, office: OfficeSetup) -> None:
    svc = office.service("M", "Mời công dân")
    with FakePrinter() as printer:
        kiosk, _ = kiosk_with_printer(office, printer, mode="text", profile="TM-T88V")
        t = issue(kiosk, office, svc["id"])
        printer.wait_for_cut(1, timeout=15)
        data = bytes(printer.connections[-1])  # the first connection asked for the paper status
    assert printer.status_requests >= 1
    assert decode_raster(data) == []
    assert data.startswith(b"\x1b@\x1bt\x34")  # CP1258 on the TM-T88V
    text = b"".join(c.raw for c in iter_commands(data) if c.kind == "text")
    printed = decode_cp1258(text)
    for expected in ("Mời công dân", t["display_number"], "SỐ THỨ TỰ", "Xin cảm ơn!"):
        assert expected in printed
    qr = [c.args for c in iter_commands(data) if c.kind == "qr"]
    assert any(f"/t/{t['track_code']}".encode() in payload for payload in qr)


def test_printer_down_never_blocks_issuing_and_the_job_prints_when_it_is_back(
        server: ServerProcess, office: OfficeSetup) -> None:
    svc = office.service("B", "Hộ tịch")
    with FakePrinter() as printer:
        kiosk, p = kiosk_with_printer(office, printer)
        staff = WsClient(server.ws_url, office.admin.token, office.id)

        async def scenario() -> None:
            await staff.connect()
            await staff.next_event()  # snapshot
            printer.refuse_connections()
            started = time.monotonic()
            t = issue(kiosk, office, svc["id"])
            issued_in = time.monotonic() - started
            assert issued_in < 1.0, f"issuing took {issued_in:.2f} s with the printer down"
            raised = await staff.until(lambda m: m["type"] == "alert.raised"  # other rooms raise alerts too
                                       and m["data"]["alert"]["kind"].startswith("printer"), timeout=10)
            assert raised["data"]["alert"]["kind"] == "printer_offline"
            assert raised["data"]["alert"]["printer_id"] == p["id"]
            job = kiosk.ok("GET", f"/api/v1/print-jobs/{t['print_job']['id']}")
            assert job["status"] in ("queued", "printing") and job["attempts"] >= 1
            assert job["printer"]["online"] is False
            wait_until(lambda: kiosk.ok("GET", f"/api/v1/print-jobs/{t['print_job']['id']}")["attempts"] >= 2,
                       what="a retry")
            assert printer.received == b""
            printer.accept_connections()
            cleared = await staff.until(lambda m: m["type"] == "alert.cleared"
                                        and m["data"]["alert"]["key"] == raised["data"]["alert"]["key"], timeout=15)
            assert cleared["data"]["alert"]["kind"] == "printer_offline"
            printer.wait_for_cut(1, timeout=15)
            done = wait_until(lambda: (j := kiosk.ok("GET", f"/api/v1/print-jobs/{t['print_job']['id']}"))
                              ["status"] == "printed" and j, what="job printed")
            assert done["attempts"] >= 2
            live = office.admin.ok("GET", f"/api/v1/offices/{office.id}/live")
            assert not [a for a in live["alerts"] if a["kind"].startswith("printer")]
            await staff.close()
        asyncio.run(scenario())
    assert len(printer.tickets()) == 1  # retried until printed, and printed once


def test_paper_out_holds_the_job_and_raises_an_alert(server: ServerProcess, office: OfficeSetup) -> None:
    svc = office.service("C", "Đất đai")
    with FakePrinter(paper="out") as printer:
        kiosk, p = kiosk_with_printer(office, printer)
        t = issue(kiosk, office, svc["id"])
        wait_until(lambda: [a for a in office.admin.ok("GET", f"/api/v1/offices/{office.id}/live")["alerts"]
                            if a["kind"] == "printer_paper_out"], what="paper-out alert")
        job = kiosk.ok("GET", f"/api/v1/print-jobs/{t['print_job']['id']}")
        assert job["status"] != "printed" and "paper" in (job["error"] or "")
        assert office.admin.ok("GET", f"/api/v1/printers/{p['id']}")["paper"] == "out"
        assert printer.tickets() == []
        printer.paper = "ok"
        printer.wait_for_cut(1, timeout=15)
        wait_until(lambda: not [a for a in office.admin.ok("GET", f"/api/v1/offices/{office.id}/live")["alerts"]
                                if a["kind"] == "printer_paper_out"], what="alert cleared")


def test_printer_configuration_is_checked(server: ServerProcess, office: OfficeSetup) -> None:
    base = f"/api/v1/offices/{office.id}/printers"
    for bad in ({"name": "x", "transport": "network", "address": "no host!"},
                {"name": "x", "transport": "network", "address": "10.0.0.5", "mode": "text", "profile": "TM-T88IV"},
                {"name": "x", "transport": "network", "address": "10.0.0.5", "profile": "TM-T88V"},
                {"name": "x", "transport": "agent", "address": "999999"},
                {"name": "x", "transport": "pigeon", "address": "roof"}):
        r = office.admin.post(base, json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_value"
    p = office.admin.ok("POST", base, json={"name": "Quầy 1", "transport": "network", "address": "10.0.0.5"})
    assert p["paper"] == "unknown" and p["width_px"] == 576
    changed = office.admin.ok("PATCH", f"/api/v1/printers/{p['id']}", json={"width_px": 384, "name": "Quầy 2"})
    assert changed["width_px"] == 384 and changed["name"] == "Quầy 2"
    assert office.admin.patch(f"/api/v1/printers/{p['id']}", json={"profile": "TM-T88V", "width_px": 576}
                              ).status_code == 422
    clerk = office.user(f"clerk{p['id']}")
    assert clerk.post(base, json={"name": "y", "transport": "file", "address": "/tmp/x"}).status_code == 403
    assert [x["id"] for x in clerk.ok("GET", base)["items"]] == [p["id"]]
    assert office.admin.ok("DELETE", f"/api/v1/printers/{p['id']}")["id"] == p["id"]
    assert office.admin.ok("GET", base)["items"] == []
    spec = server.client().ok("GET", "/api/v1/openapi.json")
    for path in ("/api/v1/offices/{office_id}/printers", "/api/v1/printers/{printer_id}",
                 "/api/v1/print-jobs/{job_id}", "/api/v1/tickets/{ticket_id}/reprint",
                 "/api/v1/tickets/{ticket_id}/ticket.png", "/api/v1/track/{track_code}/qr.svg"):
        assert path in spec["paths"], path


def test_ticket_image_is_for_staff_and_the_issuing_kiosk_only(server: ServerProcess, office: OfficeSetup) -> None:
    svc = office.service("D", "Kinh doanh")
    kiosk = office.device("kiosk", "K1")
    other = office.device("kiosk", "K2")
    t = issue(kiosk, office, svc["id"])
    assert t["print_job"] is None  # no printer anywhere: issuing still works
    assert kiosk.get(f"/api/v1/tickets/{t['id']}/ticket.png").status_code == 200
    assert other.get(f"/api/v1/tickets/{t['id']}/ticket.png").status_code == 403
    assert server.client().get(f"/api/v1/tickets/{t['id']}/ticket.png").status_code == 401
    svg = server.client().get(f"/api/v1/track/{t['track_code']}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content and b"<script" not in svg.content
    assert server.client().get("/api/v1/track/nonexistent-code/qr.svg").status_code == 404

