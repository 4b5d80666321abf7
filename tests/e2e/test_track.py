"""The citizen's tracking page /t/{code} in headless Chromium: live position, then "your turn" with a
beep and a vibration when a clerk calls the ticket."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import screenshot
from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 412, "height": 860}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
RECORD_VIBRATIONS = ("window.__vibrations = []; "
                     "navigator.vibrate = (p) => { window.__vibrations.push(p); return true; };")


def test_track_page_follows_the_ticket_and_announces_the_turn(chromium: Any, server: ServerProcess,
                                                              office: OfficeSetup) -> None:
    svc = office.service("B", "Hộ tịch", name_en="Civil status")
    counter = office.counter(5, [svc["id"]])
    clerk = office.user(f"canbo{office.id}")
    kiosk = office.device("kiosk", "Kiosk")
    first = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"]})
    mine = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"]})

    context = chromium.new_context(**PHONE)
    context.add_init_script(RECORD_VIBRATIONS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base_url}/t/{mine['track_code']}")
    page.locator("#number", has_text=mine["display_number"]).wait_for()
    assert page.locator("#service").inner_text() == "Hộ tịch"
    assert page.locator("#ahead").inner_text() == "1"
    assert page.locator("#turn").is_hidden()

    clerk.ok("POST", f"/api/v1/counters/{counter['id']}/open", json={})
    called = clerk.ok("POST", f"/api/v1/counters/{counter['id']}/next", json={})["ticket"]
    assert called["id"] == first["id"]
    page.locator("#ahead", has_text=re.compile(r"^0$")).wait_for(timeout=10000)  # live: one fewer ahead
    assert page.locator("#status-text").inner_text() == "Bạn là người tiếp theo — hãy chú ý màn hình."
    screenshot(page, "track_waiting")
    assert page.evaluate("window.__vibrations.length") == 0

    clerk.ok("POST", f"/api/v1/counters/{counter['id']}/next", json={})
    page.locator("#turn:not(.hidden)").wait_for(timeout=10000)
    assert page.locator("#turn-title").inner_text() == "Đến lượt bạn: quầy số 5"
    assert page.locator("#turn-name").inner_text() == "Quầy 5"
    page.wait_for_selector("body[data-beeped='1']")
    assert page.evaluate("window.__vibrations.length") == 1
    assert page.title() == "Đến lượt bạn: quầy số 5"
    screenshot(page, "track_called")

    page.locator(".lang[data-lang='en']").click()
    assert page.locator("#turn-title").inner_text() == "It's your turn: counter 5"
    page.locator(".lang[data-lang='vi']").click()

    clerk.ok("POST", f"/api/v1/tickets/{mine['id']}/start", json={})
    page.locator("#status-text", has_text="Bạn đang được phục vụ tại quầy số 5.").wait_for(timeout=10000)
    assert page.locator("#turn").is_hidden()
    assert not errors
    context.close()


def test_track_page_of_an_unknown_code_says_so(chromium: Any, server: ServerProcess) -> None:
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{server.base_url}/t/not-a-real-code-123")
    page.locator("#status-text", has_text="Không tìm thấy số thứ tự này.").wait_for(timeout=10000)
    context.close()
