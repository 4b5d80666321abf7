"""The kiosk page in headless Chromium against a real server and a fake printer.

A ticket in at most three taps, shown with its QR code and the printer's outcome; the messages for a
closed service, a daily limit and the hours; printer trouble; live service changes.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser import screenshot
from tests.support.server import OfficeSetup, ServerProcess
from tests.ticket_printer.fakeprinter import FakePrinter

pytestmark = pytest.mark.browser
KIOSK_VIEWPORT = {"width": 1080, "height": 1920}


class Taps:
    """Counts the citizen's taps, so the test can hold the kiosk to its three-tap promise."""

    def __init__(self, page: Any) -> None:
        self.page, self.count = page, 0

    def tap(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.count += 1


def open_kiosk(chromium: Any, server: ServerProcess, token: str) -> Any:
    context = chromium.new_context(viewport=KIOSK_VIEWPORT, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base_url}/kiosk#token={token}")
    page.wait_for_selector("body.ready .service")
    page.errors = errors  # type: ignore[attr-defined]
    return page


def service_button(code: str) -> str:
    return f".service:has(.code:text-is('{code}'))"


def test_kiosk_issues_a_ticket_in_three_taps_and_shows_it(chromium: Any, server: ServerProcess,
                                                          office: OfficeSetup) -> None:
    svc = office.service("A", "Chứng thực", name_en="Certification", desk="do_it_now")
    office.service("B", "Hộ tịch", name_en="Civil status")
    office.service("C", "Đất đai – Xây dựng", name_en="Land and construction")
    office.service("D", "Đăng ký kinh doanh", name_en="Business registration")
    office.service("E", "Lao động – Thương binh và Xã hội", name_en="Labour and social affairs")
    with FakePrinter() as printer:
        p = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                            json={"name": "Kiosk sảnh", "transport": "network", "address": printer.address})
        kiosk = office.device("kiosk", "Kiosk sảnh", printer_id=p["id"])
        page = open_kiosk(chromium, server, kiosk.token or "")
        assert page.locator(".service").count() == 5
        assert "Bộ phận làm ngay" in page.locator(service_button("A")).inner_text()
        screenshot(page, "kiosk_start")

        taps = Taps(page)
        taps.tap(service_button("A"))
        page.wait_for_selector("#screen-priority:not(.hidden)")
        taps.tap("#no-priority")
        page.wait_for_selector("#screen-ticket:not(.hidden)")
        number = page.locator("#t-number").inner_text()
        assert re.fullmatch(r"A\d{3}", number)
        assert taps.count <= 3
        page.wait_for_selector("#print-status.ok", timeout=15000)
        assert page.locator("#print-status").inner_text() == "Mời bạn nhận phiếu bên dưới."
        page.wait_for_selector("#t-qr.loaded")
        assert page.locator("#t-ahead").inner_text() == "0"
        assert "Bộ phận làm ngay" in page.locator("#t-tags").inner_text()
        screenshot(page, "kiosk_ticket")
        printer.wait_for_cut(1, timeout=10)
        waiting = office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets?status=waiting")["items"]
        assert [t["display_number"] for t in waiting] == [number]
        assert waiting[0]["service_id"] == svc["id"] and waiting[0]["priority"] is None

        # with a priority: still two taps, and the ticket says so
        page.locator("#done").click()
        page.wait_for_selector("#screen-start:not(.hidden)")
        taps = Taps(page)
        taps.tap(service_button("B"))
        taps.tap(".priority[data-priority='elderly']")
        page.wait_for_selector("#screen-ticket:not(.hidden)")
        assert taps.count <= 3
        assert page.locator("#t-number").inner_text().startswith("B")
        assert "Người cao tuổi" in page.locator("#t-tags").inner_text()

        # in English, and back to the start screen by itself when left alone
        page.locator("#lang-en").click()
        page.wait_for_selector("#screen-start:not(.hidden)")
        assert "Certification" in page.locator(service_button("A")).inner_text()
        assert "Touch the service you need" in page.locator("h1.prompt").inner_text()
        page.locator("#lang-vi").click()
        assert not page.errors  # type: ignore[attr-defined]
        page.context.close()


def test_kiosk_shows_closed_limit_and_hours_messages(chromium: Any, server: ServerProcess,
                                                     office: OfficeSetup) -> None:
    office.service("A", "Chứng thực")
    closing = office.service("B", "Hộ tịch")
    limited = office.service("C", "Đất đai", daily_limit=1)
    kiosk = office.device("kiosk", "Kiosk 2")
    kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": limited["id"]})
    page = open_kiosk(chromium, server, kiosk.token or "")

    # a service closed while the kiosk is showing: it changes live, and says so when touched
    office.admin.ok("PATCH", f"/api/v1/services/{closing['id']}", json={"active": False})
    page.wait_for_selector(".service.closed:has(.code:text-is('B'))")
    assert "Tạm ngừng nhận số" in page.locator(service_button("B")).inner_text()
    page.locator(service_button("B")).click()
    page.wait_for_selector("#screen-message:not(.hidden)")
    assert page.locator("#message-title").inner_text() == "Dịch vụ tạm ngừng nhận số"
    assert "Hộ tịch" in page.locator("#message-text").inner_text()
    screenshot(page, "kiosk_closed")
    page.locator("#message-ok").click()

    # the daily limit reached
    page.locator(service_button("C")).click()
    page.locator("#no-priority").click()
    page.wait_for_selector("#screen-message:not(.hidden)")
    assert page.locator("#message-title").inner_text() == "Đã hết số trong ngày"
    assert "1 số" in page.locator("#message-text").inner_text()
    screenshot(page, "kiosk_limit")
    page.locator("#message-ok").click()

    # outside the issuing hours: the hours of today are shown
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    start = (now + timedelta(hours=2)).replace(minute=0)
    if start.date() != now.date() or start.hour >= 23:
        start = now.replace(hour=0, minute=0) if now.hour >= 2 else now.replace(hour=23, minute=0)
    window = [start.strftime("%H:%M"), (start + timedelta(minutes=30)).strftime("%H:%M")]
    days = {d: [window] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"opening_hours": days})
    page.wait_for_selector("#banner:not(.hidden)", timeout=10000)
    assert f"{window[0]}–{window[1]}" in page.locator("#banner").inner_text()
    page.locator(service_button("A")).click()
    page.wait_for_selector("#screen-message:not(.hidden)")
    assert page.locator("#message-title").inner_text() == "Ngoài giờ lấy số"
    assert f"{window[0]}–{window[1]}" in page.locator("#message-text").inner_text()
    assert not page.errors  # type: ignore[attr-defined]
    page.context.close()


def test_kiosk_tells_the_citizen_to_photograph_the_qr_when_the_printer_is_down(
        chromium: Any, server: ServerProcess, office: OfficeSetup) -> None:
    office.service("A", "Chứng thực")
    with FakePrinter() as printer:
        p = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                            json={"name": "Kiosk 3", "transport": "network", "address": printer.address})
        kiosk = office.device("kiosk", "Kiosk 3", printer_id=p["id"])
        printer.refuse_connections()
        page = open_kiosk(chromium, server, kiosk.token or "")
        page.locator(service_button("A")).click()
        page.locator("#no-priority").click()
        page.wait_for_selector("#screen-ticket:not(.hidden)")
        page.wait_for_selector("#print-status.trouble", timeout=15000)
        assert page.locator("#print-status").inner_text() == "Máy in đang gặp sự cố — hãy chụp ảnh mã QR"
        assert re.fullmatch(r"A\d{3}", page.locator("#t-number").inner_text())
        page.wait_for_selector("#t-qr.loaded")
        screenshot(page, "kiosk_printer_trouble")
        page.context.close()


def test_kiosk_pairs_by_code_without_a_token(chromium: Any, server: ServerProcess, office: OfficeSetup) -> None:
    office.service("A", "Chứng thực")
    context = chromium.new_context(viewport=KIOSK_VIEWPORT)
    page = context.new_page()
    page.goto(f"{server.base_url}/kiosk")
    page.locator("#pair-code", has_text=re.compile(r"^\d{6}$")).wait_for()
    code = page.locator("#pair-code").inner_text()
    office.admin.ok("POST", f"/api/v1/offices/{office.id}/pairings/{code}/approve", json={"name": "Kiosk mới"})
    page.wait_for_selector("body.ready .service", timeout=15000)
    assert page.locator(".service").count() == 1
    context.close()
