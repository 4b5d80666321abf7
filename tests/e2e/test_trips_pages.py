"""The trips question (office setting ask_trips) in headless Chromium: the tablet asks it after the rating,
the answer is stored, and the dashboard and the reports page (by procedure, and per visit with its dossier
codes) show the figures."""
from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.browser import TABLET_LISTENING
from tests.support.server import OfficeSetup, ServerProcess

CODE = "000.00.12.H26-241204-0042"


def _login(page: Any, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", "password-123")
    page.click("#login-form button[type=submit]")


@pytest.mark.browser
def test_tablet_asks_trips_and_the_pages_show_them(server: ServerProcess, office: OfficeSetup, chromium: Any) -> None:
    svc = office.service("B", "Hộ tịch")
    counter = office.counter(1, [svc["id"]])
    clerk = office.user(f"cb{office.id}")
    head = office.user(f"ld{office.id}", role="head")
    tablet = office.device("tablet", "Máy đánh giá", counter_id=counter["id"])
    office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"], "print": False})
    clerk.ok("POST", f"/api/v1/counters/{counter['id']}/open")

    ctx = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    try:
        # the head switches the trips question on in the admin page (and a bad code shape is refused)
        admin = chromium.new_context(viewport={"width": 1440, "height": 1000}, locale="vi-VN").new_page()
        admin.goto(server.base_url + "/admin")
        admin.fill("#username", f"ld{office.id}")
        admin.fill("#password", "password-123")
        admin.click("#login-btn")
        admin.wait_for_selector("#view-admin:not(.hidden)")
        admin.wait_for_function("() => document.querySelector('#dossier-pattern').value.startsWith('^')")
        assert not admin.is_checked("#ask-trips")
        admin.fill("#dossier-pattern", "([")
        admin.click("#save-settings")
        admin.wait_for_function("() => document.querySelector('#flash').textContent.includes('dossier_code_pattern')")
        assert head.ok("GET", f"/api/v1/offices/{office.id}")["ask_trips"] is False
        admin.fill("#dossier-pattern", "^[0-9A-Z]{2,4}(\\.[0-9A-Z]{2,4}){1,4}-[0-9]{6}-[0-9]{4,5}$")
        admin.check("#ask-trips")
        admin.click("#save-settings")
        admin.wait_for_function("() => document.querySelector('#flash').textContent === 'Đã lưu.'")
        assert head.ok("GET", f"/api/v1/offices/{office.id}")["ask_trips"] is True

        # the result look-up address, next to the code shape: a bad one is refused and says so, a good one saved
        assert admin.input_value("#lookup-url") == ""
        admin.fill("#lookup-url", "ftp://tinh.gov.vn/ket-qua")
        admin.click("#save-settings")
        admin.wait_for_function("() => document.querySelector('#flash').dataset.kind === 'error'")
        refusal = admin.inner_text("#flash")
        assert "Không lưu được" in refusal and "Địa chỉ tra cứu kết quả hồ sơ" in refusal, refusal
        assert "dossier_lookup_url is an http://, https:// or file:/// URL" in refusal, refusal
        assert admin.get_attribute("#lookup-url", "aria-invalid") == "true"
        assert admin.evaluate("() => document.activeElement.id") == "lookup-url"
        assert head.ok("GET", f"/api/v1/offices/{office.id}")["dossier_lookup_url"] is None
        admin.fill("#lookup-url", "  file:///srv/qms/ket-qua.csv ")
        admin.click("#save-settings")
        admin.wait_for_function("() => document.querySelector('#flash').textContent === 'Đã lưu.'")
        assert head.ok("GET", f"/api/v1/offices/{office.id}")["dossier_lookup_url"] == "file:///srv/qms/ket-qua.csv"
        assert admin.get_attribute("#lookup-url", "aria-invalid") is None
        admin.reload()  # what the page shows is what the server kept
        admin.wait_for_selector("#view-admin:not(.hidden)")
        admin.wait_for_function("() => document.querySelector('#lookup-url').value === 'file:///srv/qms/ket-qua.csv'")
        admin.fill("#lookup-url", "")  # empty switches it off again
        admin.click("#save-settings")
        admin.wait_for_function("() => document.querySelector('#flash').textContent === 'Đã lưu.'")
        assert head.ok("GET", f"/api/v1/offices/{office.id}")["dossier_lookup_url"] is None
        admin.click("#lang-toggle")  # in English too
        assert admin.inner_text("label:has(#lookup-url) span") == "Dossier result look-up address"
        assert "Empty = off" in admin.inner_text("[data-i18n=lookup_url_hint]")
        admin.fill("#lookup-url", "tinh.gov.vn/ket-qua")
        admin.click("#save-settings")
        admin.wait_for_function("() => document.querySelector('#flash').textContent.startsWith("
                                "'Not saved – Dossier result look-up address: ')")
        assert head.ok("GET", f"/api/v1/offices/{office.id}")["dossier_lookup_url"] is None
        admin.click("#lang-toggle")

        tab = ctx.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(f"{server.base_url}/tablet#token={tablet.token}")
        tab.wait_for_function(TABLET_LISTENING)
        ticket = clerk.ok("POST", f"/api/v1/counters/{counter['id']}/next")["ticket"]
        clerk.ok("POST", f"/api/v1/tickets/{ticket['id']}/dossiers",
                 json={"code": CODE, "procedure": "Đăng ký khai sinh"}, expect=201)
        clerk.ok("POST", f"/api/v1/tickets/{ticket['id']}/finish")
        tab.wait_for_function("() => document.body.dataset.screen === 'rate'")
        tab.click("#levels [data-level='satisfied']")
        tab.wait_for_function("() => document.body.dataset.screen === 'trips'")
        assert "bao nhiêu lần" in tab.inner_text("#screen-trips")
        tab.click("#trips [data-trips='2']")
        tab.wait_for_function("() => document.body.dataset.screen === 'thanks'")
        deadline = time.monotonic() + 10  # the thanks screen shows while the rating is sent
        while not (rated := head.ok("GET", f"/api/v1/offices/{office.id}/feedback")["items"]) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [(f["ticket_id"], f["rating"], f["trips"]) for f in rated] == [(ticket["id"], "satisfied", 2)]
        assert not errors

        page = chromium.new_context(viewport={"width": 1440, "height": 1000}, locale="vi-VN").new_page()
        page.goto(f"{server.base_url}/dashboard")
        _login(page, f"ld{office.id}")
        page.wait_for_selector("#trips-line")
        assert "2" in page.inner_text("#trips-line") and "0%" in page.inner_text("#trips-line")

        page = chromium.new_context(viewport={"width": 1440, "height": 1000}, locale="vi-VN").new_page()
        page.goto(f"{server.base_url}/reports?group_by=procedure")
        _login(page, f"ld{office.id}")
        page.wait_for_selector("body[data-loaded='1']")
        table = page.inner_text("#table")
        assert "Đăng ký khai sinh" in table and "Số lần đi lại TB" in table
        page.select_option("#group_by", "ticket")
        page.wait_for_function("c => document.querySelector('#table').textContent.includes(c)", arg=CODE)
        assert ticket["display_number"] in page.inner_text("#table")
    finally:
        ctx.close()
