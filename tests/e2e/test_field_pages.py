"""Pages never promise a time while no counter serves a service: kiosk (start and ticket screens), the
citizen's tracking page and the lobby display say "Chưa có quầy phục vụ" instead, and show a time
again, live, once a counter opens (headless Chromium, real server)."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.test_kiosk import open_kiosk, service_button
from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser
NO_COUNTER = "Chưa có quầy phục vụ"


def test_pages_say_no_counter_serves_it_instead_of_a_time(chromium: Any, server: ServerProcess,
                                                          office: OfficeSetup) -> None:
    b = office.service("B", "Hộ tịch", name_en="Civil status")
    counter = office.counter(2, [b["id"]])
    clerk = office.user(f"pg{office.id}")
    kiosk = office.device("kiosk", "Kiosk")
    display = office.device("display", "Sảnh")
    page = open_kiosk(chromium, server, kiosk.token or "")
    page.locator(service_button("B"), has_text=NO_COUNTER).wait_for(timeout=10000)  # nobody waits, nobody serves
    page.locator(service_button("B")).click()
    page.locator("#no-priority").click()
    page.wait_for_selector("#screen-ticket:not(.hidden)")
    assert page.locator("#t-ahead").inner_text() == "0"
    assert page.locator("#t-wait").inner_text() == NO_COUNTER
    assert page.locator("#t-wait").is_visible()
    number = page.locator("#t-number").inner_text()
    ticket = next(t for t in office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets")["items"]
                  if t["display_number"] == number)

    phone = chromium.new_context(viewport={"width": 412, "height": 860}).new_page()
    phone.goto(f"{server.base_url}/t/{ticket['track_code']}")
    phone.locator("#wait", has_text=NO_COUNTER).wait_for(timeout=10000)
    assert "tiếp theo" not in (phone.text_content("#status-text") or "")  # not "you are next" with nobody serving
    lobby = chromium.new_context(viewport={"width": 1920, "height": 1080}).new_page()
    lobby.goto(f"{server.base_url}/display#token={display.token}")
    lobby.locator("#waiting .svc-wait", has_text=NO_COUNTER).wait_for(timeout=10000)

    page.locator("#done").click()
    page.wait_for_selector("#screen-start:not(.hidden)")
    assert NO_COUNTER in page.locator(service_button("B")).inner_text()
    page.locator("#lang-en").click()
    page.locator(service_button("B"), has_text="No counter is serving this yet").wait_for()
    page.locator("#lang-vi").click()

    clerk.ok("POST", f"/api/v1/counters/{counter['id']}/open", json={})  # now a time may be given, live
    minutes = re.compile(r"\d+ phút")
    page.locator(service_button("B"), has_text=minutes).wait_for(timeout=10000)
    phone.locator("#wait", has_text=minutes).wait_for(timeout=10000)
    phone.locator("#status-text", has_text="Bạn là người tiếp theo").wait_for(timeout=10000)
    lobby.locator("#waiting .svc-wait", has_text=minutes).wait_for(timeout=10000)
    assert NO_COUNTER not in page.locator(service_button("B")).inner_text()
    assert not page.errors  # type: ignore[attr-defined]
    for p in (page, phone, lobby):
        p.context.close()
