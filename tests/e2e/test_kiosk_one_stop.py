"""The kiosk's one-stop flows in headless Chromium against a real server: a chip ID card scanned as
keystrokes (greeting, elderly priority, a ticket in two taps), a malformed scan, and the result look-up
(on-screen keyboard, a scanned receipt, the province down or slow) against a fake province service."""
from __future__ import annotations

import time
from datetime import date
from typing import Any

import pytest

from tests.e2e.test_kiosk import Taps, open_kiosk, service_button
from tests.support.browser import screenshot
from tests.support.province import FakeProvince
from tests.support.server import OfficeSetup, ServerProcess, free_port

pytestmark = pytest.mark.browser
CODE = "000.00.12.H26-250312-0001"


def card_qr(born: date, name: str = "Nguyễn Văn An", sex: str = "Nam") -> str:
    return (f"001060012345|012345678|{name}|{born:%d%m%Y}|{sex}|"
            f"Số 1 phố Mẫu, Ba Đình, Hà Nội|10082021")


def scan(page: Any, text: str) -> None:
    """A keyboard-wedge scanner: fast keystrokes, then Enter."""
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def years_ago(n: int) -> date:
    today = date.today()
    return today.replace(year=today.year - n) if not (today.month == 2 and today.day == 29) \
        else date(today.year - n, 2, 28)


def test_a_chip_id_card_scan_issues_an_elderly_ticket_in_two_taps(chromium: Any, server: ServerProcess,
                                                                  office: OfficeSetup) -> None:
    office.service("A", "Chứng thực")
    office.service("B", "Hộ tịch")
    kiosk = office.device("kiosk", "Kiosk CCCD")
    page = open_kiosk(chromium, server, kiosk.token or "")
    scan(page, card_qr(years_ago(66), "Nguyễn Văn An", "Nam"))
    page.wait_for_selector("#card-greeting:not(.hidden)")
    assert page.locator("#card-hello").inner_text() == "Kính chào Ông An"
    assert "ưu tiên người cao tuổi" in page.locator("#card-next").inner_text()
    screenshot(page, "kiosk_card_greeting")

    taps = Taps(page)
    taps.tap(service_button("B"))
    page.wait_for_selector("#screen-priority:not(.hidden)")
    assert "người cao tuổi" in page.locator("#no-priority").inner_text()
    taps.tap("#no-priority")
    page.wait_for_selector("#screen-ticket:not(.hidden)")
    assert taps.count <= 2
    assert "Người cao tuổi" in page.locator("#t-tags").inner_text()
    waiting = office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets?status=waiting")["items"]
    assert len(waiting) == 1
    assert waiting[0]["priority"] == "elderly" and waiting[0]["id_checked"] is True
    assert page.locator("#t-number").inner_text() == waiting[0]["display_number"]

    # an adult: greeted as Chị, no priority chosen for her, still two taps
    page.locator("#done").click()
    page.wait_for_selector("#screen-start:not(.hidden)")
    assert page.locator("#card-greeting").is_hidden(), "the last holder's greeting is gone"
    scan(page, card_qr(years_ago(35), "Trần Thị Bích Hạnh", "Nữ"))
    page.wait_for_selector("#card-greeting:not(.hidden)")
    assert page.locator("#card-hello").inner_text() == "Kính chào Chị Hạnh"
    taps = Taps(page)
    taps.tap(service_button("A"))
    taps.tap("#no-priority")
    page.wait_for_selector("#screen-ticket:not(.hidden)")
    assert taps.count <= 2
    tickets = office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets?status=waiting")["items"]
    adult = [t for t in tickets if t["service_id"] != waiting[0]["service_id"]]
    assert len(adult) == 1 and adult[0]["priority"] is None and adult[0]["id_checked"] is True

    # a young holder: Em
    page.locator("#done").click()
    scan(page, card_qr(years_ago(16), "Lê Minh Khôi", "Nam"))
    page.wait_for_selector("#card-greeting:not(.hidden)")
    assert page.locator("#card-hello").inner_text() == "Kính chào Em Khôi"

    # in English
    page.locator("#lang-en").click()
    page.wait_for_selector("#screen-start:not(.hidden)")
    assert page.locator("#card-greeting").is_hidden()
    scan(page, card_qr(years_ago(75), "Đỗ Thị Lan", "Nữ"))
    page.wait_for_selector("#card-greeting:not(.hidden)")
    assert page.locator("#card-hello").inner_text() == "Welcome, Mrs. Lan"
    assert "Elderly priority selected" in page.locator("#card-next").inner_text()
    page.locator(service_button("A")).click()
    assert page.locator("#no-priority .go-sub").inner_text() == "Elderly priority (from the ID card)"
    page.locator("#lang-vi").click()
    assert not page.errors  # type: ignore[attr-defined]
    page.context.close()


def test_a_malformed_scan_shows_a_message_and_issues_nothing(chromium: Any, server: ServerProcess,
                                                             office: OfficeSetup) -> None:
    office.service("A", "Chứng thực")
    kiosk = office.device("kiosk", "Kiosk CCCD 2")
    page = open_kiosk(chromium, server, kiosk.token or "")
    for bad in ("001060012345|Nguyễn Văn An|15031958",
                "00106001234|012345678|Nguyễn Văn An|15031958|Nam|Hà Nội|10082021",
                "001060012345|012345678|Nguyễn Văn An|31021958|Nam|Hà Nội|10082021"):
        scan(page, bad)
        page.wait_for_selector("#screen-message:not(.hidden)")
        assert page.locator("#message-title").inner_text() == "Không đọc được thẻ căn cước"
        page.locator("#message-ok").click()
        page.wait_for_selector("#screen-start:not(.hidden)")
    assert page.locator("#card-greeting").is_hidden()
    # nothing was issued, and the next tap is an ordinary ticket without a card
    assert office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets")["total"] == 0
    page.locator(service_button("A")).click()
    assert page.locator("#no-priority .go-sub").inner_text() == "Không thuộc diện ưu tiên"
    page.locator("#no-priority").click()
    page.wait_for_selector("#screen-ticket:not(.hidden)")
    items = office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets")["items"]
    assert len(items) == 1 and items[0]["id_checked"] is False

    # the card scanned after the service was chosen: the priority step takes it, still one tap to go
    page.locator("#done").click()
    page.locator(service_button("A")).click()
    page.wait_for_selector("#screen-priority:not(.hidden)")
    scan(page, card_qr(years_ago(81), "Vũ Thị Mai", "Nữ"))
    page.wait_for_selector("#screen-priority #card-greeting:not(.hidden)")
    assert page.locator("#card-hello").inner_text() == "Kính chào Bà Mai"
    page.locator("#no-priority").click()
    page.wait_for_selector("#screen-ticket:not(.hidden)")
    items = office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets")["items"]
    assert len(items) == 2 and items[1]["priority"] == "elderly" and items[1]["id_checked"] is True
    assert not page.errors  # type: ignore[attr-defined]
    page.context.close()


def test_result_lookup_by_keyboard_and_by_scan(chromium: Any, server: ServerProcess, office: OfficeSetup) -> None:
    office.service("A", "Chứng thực")
    kiosk = office.device("kiosk", "Kiosk tra cứu")
    page = open_kiosk(chromium, server, kiosk.token or "")
    assert page.locator("#lookup-open").is_hidden(), "no button while the office has no look-up"
    with FakeProvince() as province:
        province.dossiers[CODE] = {"status_text": "Đã có kết quả, mời nhận tại quầy 3", "ready": True,
                                   "return_date": "2025-03-20"}
        province.dossiers["H26.12-250312-0002"] = {"status_text": "Đang thẩm định hồ sơ", "ready": False,
                                                   "return_date": "2025-04-02"}
        office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"dossier_lookup_url": province.url})
        page.wait_for_selector("#lookup-open:not(.hidden)", timeout=10000)
        assert "Tra cứu kết quả hồ sơ" in page.locator("#lookup-open").inner_text()
        screenshot(page, "kiosk_start_with_lookup")

        # typed on the on-screen keyboard
        page.locator("#lookup-open").click()
        page.wait_for_selector("#screen-lookup:not(.hidden)")
        for ch in CODE:
            page.locator(f".osk-key[data-key='{ch}']").click()
        assert page.locator("#lookup-code").inner_text() == CODE
        screenshot(page, "kiosk_lookup_keyboard")
        page.locator("#lookup-go").click()
        page.wait_for_selector("#screen-lookup-result:not(.hidden)")
        assert page.locator("#lookup-headline").inner_text() == "HỒ SƠ ĐÃ CÓ KẾT QUẢ"
        assert page.locator("#lookup-status").inner_text() == "Đã có kết quả, mời nhận tại quầy 3"
        assert page.locator("#lookup-date").inner_text() == "Ngày hẹn trả kết quả: 20/03/2025"
        screenshot(page, "kiosk_lookup_ready")
        page.locator("#lookup-done").click()
        page.wait_for_selector("#screen-start:not(.hidden)")

        # a receipt's QR scanned on the start screen: answered at once, not ready yet
        scan(page, "h26.12-250312-0002")
        page.wait_for_selector("#screen-lookup-result:not(.hidden)")
        assert page.locator("#lookup-headline").inner_text() == "HỒ SƠ CHƯA CÓ KẾT QUẢ"
        assert "Đang thẩm định" in page.locator("#lookup-status").inner_text()
        assert "02/04/2025" in page.locator("#lookup-date").inner_text()

        # an unknown code, then one that is not a dossier code at all
        page.locator("#lookup-again").click()
        scan(page, "000.00.12.H26-250312-9999")
        page.wait_for_selector("#lookup-card[data-kind='not_found']")
        assert page.locator("#lookup-headline").inner_text() == "Không tìm thấy hồ sơ"
        page.locator("#lookup-again").click()
        page.locator(".osk-key[data-key='Q']").click()
        page.locator("#lookup-go").click()
        page.wait_for_selector("#lookup-card[data-kind='bad_code']")
        page.locator("#lookup-done").click()
        page.locator("#lang-en").click()
        assert page.locator("#lookup-open").inner_text().startswith("Look up a dossier's result")
        scan(page, CODE)
        page.wait_for_selector("#lookup-card[data-kind='ready']")
        assert page.locator("#lookup-headline").inner_text() == "THE RESULT IS READY"
        assert page.locator("#lookup-date").inner_text() == "Return date: 20/03/2025"
        page.locator("#lang-vi").click()
        scan(page, CODE)
        page.wait_for_selector("#lookup-card[data-kind='ready']")

        # the province slow: the kiosk says so within 4 s
        province.mode = "slow"
        page.locator("#lookup-again").click()
        started = time.monotonic()
        scan(page, CODE)
        page.wait_for_selector("#lookup-card[data-kind='down']", timeout=6000)
        assert time.monotonic() - started < 4.5
        assert page.locator("#lookup-headline").inner_text() == "Hệ thống tra cứu đang gián đoạn"
        screenshot(page, "kiosk_lookup_down")

        # the citizen walks away while the province is slow: the late answer does not pop up
        page.locator("#lookup-again").click()
        scan(page, CODE)
        page.wait_for_selector("#lookup-wait:not(.hidden)")
        page.locator("#lookup-back").click()
        page.wait_for_selector("#screen-start:not(.hidden)")
        page.wait_for_timeout(4500)
        assert page.locator("#screen-start").is_visible()
        page.locator("#lookup-open").click()
        scan(page, CODE)
        page.wait_for_selector("#lookup-card[data-kind='down']", timeout=6000)

    # the province gone (connection refused): said plainly; and back to the start screen by itself
    office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"dossier_lookup_url":
                                                                   f"http://127.0.0.1:{free_port()}/x"})
    page.locator("#lookup-again").click()
    scan(page, CODE)
    page.wait_for_selector("#lookup-card[data-kind='down']")
    assert "không trả lời" in page.locator("#lookup-status").inner_text()
    page.wait_for_selector("#screen-start:not(.hidden)", timeout=30000)
    assert office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets")["total"] == 0
    assert not page.errors  # type: ignore[attr-defined]
    page.context.close()
