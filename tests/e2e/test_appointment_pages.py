"""The booking page on a phone-sized screen and the kiosk's "Đã có lịch hẹn", in headless Chromium against a
real server: book (service → day → slot), see the code and its QR, cancel by the manage link; check in at the
kiosk by on-screen keys and by a scanner's keystrokes; too early said plainly with the offer of a normal ticket.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser import screenshot
from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
KIOSK = {"width": 1080, "height": 1920}
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ALL_DAY = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
CARD = "001060012345|012345678|Nguyễn Văn An|15031958|Nam|Số 1 phố Mẫu, Ba Đình, Hà Nội|10082021"
HOURS = {d: [["07:30", "11:30"], ["13:00", "16:30"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def _page(chromium: Any, viewport: dict[str, int], url: str) -> Any:
    context = chromium.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    page.goto(url)
    return page


def test_booking_on_a_phone_then_cancelling_by_the_manage_link(chromium: Any, server: ServerProcess) -> None:
    o = OfficeSetup(server)
    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", json={"opening_hours": HOURS})
    svc = o.service("B", name="Hộ tịch", name_en="Civil status", bookable=True)
    o.service("C", name="Đất đai")  # not bookable: not offered
    page = _page(chromium, PHONE, f"{server.base_url}/book?office_id={o.id}")
    page.wait_for_selector("body.ready")
    assert page.locator("#services .service").count() == 1
    assert "Hộ tịch" in page.inner_text("#services")
    page.locator("#services .service").first.click()
    tomorrow = (datetime.now(TZ).date() + timedelta(days=1)).isoformat()
    page.locator(f".day[data-day='{tomorrow}']").click()
    page.wait_for_selector(".slot")
    first = page.locator(".slot").first
    start = first.get_attribute("data-start")
    assert start is not None and start[11:16] == "07:30"
    first.click()
    page.fill("#phone", "0912345678")
    page.click("#book")
    page.wait_for_selector("body[data-step='done']")
    code = page.inner_text("#b-code").strip()
    assert len(code) == 7 and page.inner_text("#b-status") == "Đã đặt lịch"
    page.wait_for_function("() => document.querySelector('#b-qr').naturalWidth > 0")
    assert "07:30" in page.inner_text("#b-when")
    # the page is phone-sized: nothing wider than the screen, the code large
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert float(page.eval_on_selector("#b-code", "e => parseFloat(getComputedStyle(e).fontSize)")) >= 36
    screenshot(page, "book-confirmation")
    booked = o.admin.ok("GET", f"/api/v1/offices/{o.id}/appointments?date={tomorrow}")["items"]
    assert [(b["code"], b["phone"], b["service_id"]) for b in booked] == [(code, "0912345678", svc["id"])]

    # English, then the manage link opens the booking's own page, where it is cancelled (two taps)
    page.click(".lang[data-lang='en']")
    assert page.inner_text("#b-status") == "Booked"
    manage = page.get_attribute("#b-manage", "href")
    assert manage and "manage=" in manage
    page2 = _page(chromium, PHONE, f"{server.base_url}{manage}")
    page2.wait_for_selector("body[data-step='done']")
    assert page2.inner_text("#b-code").strip() == code
    page2.click("#cancel")
    page2.click("#cancel")
    page2.wait_for_selector("body[data-status='cancelled']")
    assert o.admin.ok("GET", f"/api/v1/offices/{o.id}/appointments?date={tomorrow}")["items"][0]["status"] == \
        "cancelled"
    assert not page.errors and not page2.errors  # type: ignore[attr-defined]


def _soon(o: OfficeSetup, svc: dict[str, Any], minutes_ahead: int, **kw: Any) -> dict[str, Any]:
    """A booking whose slot starts a few minutes from now (one-minute slots all day)."""
    day = datetime.now(TZ).date()
    items = o.admin.ok("GET", f"/api/v1/offices/{o.id}/slots?service_id={svc['id']}&date={day}")["items"]
    target = datetime.now(TZ) + timedelta(minutes=minutes_ahead)
    slot = next(s for s in items if datetime.fromisoformat(s["start"]) >= target)
    return o.server.client().ok("POST", f"/api/v1/offices/{o.id}/appointments",  # type: ignore[no-any-return]
                                json={"service_id": svc["id"], "start": slot["start"], **kw}, expect=201)


def test_kiosk_checks_in_by_keys_and_by_scanner_and_says_when_too_early(chromium: Any, server: ServerProcess) -> None:
    o = OfficeSetup(server)
    if datetime.now(TZ).hour == 23 and datetime.now(TZ).minute > 20:
        pytest.skip("needs an hour of today's slots left")
    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", json={"opening_hours": ALL_DAY, "booking_slot_min": 1})
    svc = o.service("B", name="Hộ tịch", bookable=True)
    kiosk = o.device("kiosk")
    on_time, scanned, early = _soon(o, svc, 3), _soon(o, svc, 4), _soon(o, svc, 45)
    by_card = _soon(o, svc, 5, id_number="001060012345")
    page = _page(chromium, KIOSK, f"{server.base_url}/kiosk#token={kiosk.token}")
    page.wait_for_selector("body.ready #appt-open")
    assert "ĐÃ CÓ LỊCH HẸN" in page.inner_text("#appt-open")

    # on-screen keys
    page.click("#appt-open")
    for ch in on_time["code"]:
        page.click(f".appt-key[data-key='{ch}']")
    assert page.inner_text("#appt-code").strip() == on_time["code"]
    page.click("#appt-go")
    page.wait_for_selector("body[data-screen='ticket']")
    number = page.inner_text("#t-number").strip()
    screenshot(page, "kiosk-appointment-ticket")
    tickets = o.admin.ok("GET", f"/api/v1/offices/{o.id}/tickets")["items"]
    mine = next(t for t in tickets if t["display_number"] == number)
    assert mine["channel"] == "appointment" and mine["appointment_id"] == on_time["id"]

    # a scanner types the booking's QR (its code) and Enter, right on the start screen
    page.click("#done")
    page.wait_for_selector("body[data-screen='start']")
    page.keyboard.type(scanned["code"].lower())
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-screen='ticket']")
    tickets = o.admin.ok("GET", f"/api/v1/offices/{o.id}/tickets")["items"]
    assert any(t["appointment_id"] == scanned["id"] for t in tickets)

    # a scanner reads the holder's chip ID card (its QR's text, then Enter): the booking made with that number
    page.click("#done")
    page.click("#appt-open")
    page.keyboard.type(CARD)
    page.keyboard.press("Enter")
    page.wait_for_selector("body[data-screen='ticket']")
    tickets = o.admin.ok("GET", f"/api/v1/offices/{o.id}/tickets")["items"]
    assert any(t["appointment_id"] == by_card["id"] for t in tickets)

    # too early: said plainly, with a normal ticket one tap away
    page.click("#done")
    page.click("#appt-open")
    for ch in early["code"]:
        page.click(f".appt-key[data-key='{ch}']")
    page.click("#appt-go")
    page.wait_for_selector("#appt-result:not(.hidden)")
    assert page.inner_text("#appt-result-title") == "Bạn đến sớm"
    text = page.inner_text("#appt-result-text")
    start = datetime.fromisoformat(early["start"]).astimezone(TZ)
    assert start.strftime("%H:%M") in text and (start - timedelta(minutes=15)).strftime("%H:%M") in text
    screenshot(page, "kiosk-appointment-too-early")
    page.click("#appt-normal")
    page.wait_for_selector("body[data-screen='start'] .service")
    assert not page.errors  # type: ignore[attr-defined]


def test_a_clerk_finds_a_booking_by_phone_and_checks_it_in(chromium: Any, server: ServerProcess) -> None:
    o = OfficeSetup(server)
    if datetime.now(TZ).hour == 23 and datetime.now(TZ).minute > 40:
        pytest.skip("needs some of today's slots left")
    o.admin.ok("PATCH", f"/api/v1/offices/{o.id}", json={"opening_hours": ALL_DAY, "booking_slot_min": 1})
    svc = o.service("B", name="Hộ tịch", bookable=True)
    c1 = o.counter(1, [svc["id"]])
    o.user("canbo_hen")
    day = datetime.now(TZ).date()
    items = o.admin.ok("GET", f"/api/v1/offices/{o.id}/slots?service_id={svc['id']}&date={day}")["items"]
    slot = next(s for s in items if datetime.fromisoformat(s["start"]) >= datetime.now(TZ) + timedelta(minutes=3))
    booking = server.client().ok("POST", f"/api/v1/offices/{o.id}/appointments", expect=201,
                                 json={"service_id": svc["id"], "start": slot["start"], "phone": "0977 123 456"})
    page = _page(chromium, {"width": 1366, "height": 820}, f"{server.base_url}/counter")
    page.fill("#username", "canbo_hen")
    page.fill("#password", "password-123")
    page.click("#login-btn")
    page.click(f"[data-counter='{c1['id']}']")
    page.wait_for_selector("#view-work:not(.hidden)")
    page.click("#btn-appointments")
    page.fill("#appt-q", "123 456")
    page.click("#appt-find")
    page.wait_for_selector(f"#appt-rows tr[data-code='{booking['code']}']")
    assert "0977 123 456" in page.inner_text("#appt-rows")
    page.click(f"#appt-rows tr[data-code='{booking['code']}'] .appt-checkin")
    page.wait_for_function("() => /B\\d+/.test(document.querySelector('#appt-msg').textContent)")
    tickets = o.admin.ok("GET", f"/api/v1/offices/{o.id}/tickets?status=waiting")["items"]
    assert [t["appointment_id"] for t in tickets] == [booking["id"]]
    assert tickets[0]["display_number"] in page.inner_text("#appt-msg")
    assert not page.errors  # type: ignore[attr-defined]


def test_a_head_makes_a_service_bookable_and_sets_the_booking_window(chromium: Any, server: ServerProcess) -> None:
    o = OfficeSetup(server)
    svc = o.service("B", name="Hộ tịch")
    head = o.user("truong_hen", role="head")
    page = _page(chromium, {"width": 1366, "height": 900}, f"{server.base_url}/admin")
    page.fill("#username", "truong_hen")
    page.fill("#password", "password-123")
    page.click("#login-btn")
    page.wait_for_selector("#booking-settings #bk-booking_slot_min")
    assert page.input_value("#bk-booking_slot_min") == "15"
    assert page.get_attribute("#bk-link", "href") == f"/book?office_id={o.id}"
    page.fill("#bk-booking_slot_min", "20")
    page.fill("#bk-checkin_late_min", "5")
    page.click("#bk-save")
    page.wait_for_function("() => document.querySelector('#bk-msg').textContent === 'Đã lưu.'")
    office = head.ok("GET", f"/api/v1/offices/{o.id}")
    assert (office["booking_slot_min"], office["checkin_late_min"], office["booking_days_ahead"]) == (20, 5, 14)
    page.fill("#bk-booking_slot_min", "0")  # out of range: refused, nothing changed
    page.click("#bk-save")
    page.wait_for_function("() => document.querySelector('#bk-msg').textContent !== 'Đã lưu.'")
    assert head.ok("GET", f"/api/v1/offices/{o.id}")["booking_slot_min"] == 20

    page.click("[data-tab=services]")
    page.click("#services-body tr:has-text('Hộ tịch') button:has-text('Sửa')")
    page.check("#f-bookable")
    page.fill("#f-booking_per_slot", "3")
    page.click("#edit-save")
    page.wait_for_function("() => !document.querySelector('#edit-dialog').open")
    saved = head.ok("GET", f"/api/v1/offices/{o.id}/services")["items"][0]
    assert saved["id"] == svc["id"] and saved["bookable"] is True and saved["booking_per_slot"] == 3
    assert not page.errors  # type: ignore[attr-defined]
