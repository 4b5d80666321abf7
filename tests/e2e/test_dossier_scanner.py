"""The counter page in headless Chromium: a barcode scanner's burst links a dossier code wherever the focus
is, without firing the page's one-key shortcuts; refusals are shown; unlink and look-up work."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import screenshot
from tests.support.server import OfficeSetup, ServerProcess

# every shortcut letter of the counter page (g next, l recall, b start, h finish, v no-show, c transfer)
SCANNED = "h26.glbv.hc-241204-0007"
CODE = SCANNED.upper()


@pytest.mark.browser
def test_a_scanner_burst_links_a_dossier_to_the_current_ticket(server: ServerProcess, office: OfficeSetup,
                                                              chromium: Any) -> None:
    svc = office.service("A", "Chứng thực")
    counter = office.counter(1, [svc["id"]])
    clerk = office.user("canbo_scan")
    for _ in range(2):
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"], "print": False})

    ctx = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    try:
        page = ctx.new_page()
        page.goto(server.base_url + "/counter")
        page.fill("#username", "canbo_scan")
        page.fill("#password", "password-123")
        page.click("#login-btn")
        page.click(f"[data-counter='{counter['id']}']")
        page.wait_for_selector("#view-work:not(.hidden)")
        page.wait_for_function("() => document.querySelectorAll('#waiting-body tr').length === 2")

        page.keyboard.press("g")  # a single key is still the shortcut (held a moment, then handed on)
        page.wait_for_function("() => document.querySelector('#current-number').textContent !== '—'")
        number = page.text_content("#current-number")
        ticket = clerk.ok("GET", f"/api/v1/offices/{office.id}/tickets?status=called")["items"][0]
        assert ticket["display_number"] == number
        page.wait_for_selector("#dossier-link:not([disabled])")

        # focus anywhere on the page (not the field): the scanner types the code fast and ends with Enter
        page.click("#current-number")
        page.keyboard.type(SCANNED)
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#dossier-list li[data-code='{CODE}']")
        after = clerk.ok("GET", f"/api/v1/tickets/{ticket['id']}")
        assert after["dossiers"] == [CODE]
        # none of the shortcut letters in the code acted: same ticket, still called, no recall, no dialog
        assert after["status"] == "called" and after["recalls"] == 0 and after["transfers"] == 0
        assert page.text_content("#current-number") == number
        assert not page.evaluate("document.querySelector('#transfer-dialog').open")
        assert clerk.ok("GET", f"/api/v1/offices/{office.id}/tickets?status=waiting")["total"] == 1
        assert "đã gắn" in (page.text_content("#message") or "").lower()

        # a scan that is not a dossier code of the office's shape is refused, clearly, and nothing changes
        page.click("#current-number")
        page.keyboard.type("HS-12345")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('#dossier-error').textContent.includes('HS-12345')")
        assert "không đúng định dạng" in (page.text_content("#dossier-error") or "")
        # the same code twice: refused with its own message
        page.click("#current-number")
        page.keyboard.type(SCANNED)
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('#dossier-error').textContent.includes('đã được gắn')")
        assert clerk.ok("GET", f"/api/v1/tickets/{ticket['id']}")["dossiers"] == [CODE]
        screenshot(page, "counter-dossier-linked")

        # typed into the field with a procedure, then a second code is linked too
        page.fill("#dossier-code", " 000.00.12.h26-241204-0001 ")
        page.fill("#dossier-procedure", "Chứng thực bản sao")
        page.click("#dossier-link")
        page.wait_for_selector("#dossier-list li[data-code='000.00.12.H26-241204-0001']")
        assert page.text_content("#dossier-error") == ""

        # unlink the first one by its button
        page.click(f"#dossier-list li[data-code='{CODE}'] button.unlink")
        page.wait_for_function(f"() => !document.querySelector(\"#dossier-list li[data-code='{CODE}']\")")
        assert clerk.ok("GET", f"/api/v1/tickets/{ticket['id']}")["dossiers"] == ["000.00.12.H26-241204-0001"]

        # slow keys are still shortcuts: B (bắt đầu) starts the service
        page.click("#current-number")
        page.keyboard.press("b")
        page.wait_for_function("() => document.querySelector('#current-status').dataset.status === 'serving'")

        # the look-up box shows the visit that carried the dossier
        page.fill("#dossier-search", "000.00.12.h26-241204-0001")
        page.press("#dossier-search", "Enter")
        page.wait_for_selector("#dossier-visits .visit")
        assert number and number in (page.text_content("#dossier-visits") or "")
        assert "Chứng thực bản sao" in (page.text_content("#dossier-visits") or "")

        # finished: the visit just served can still get a dossier (a receipt scanned at the end)
        page.click("#current-number")
        page.keyboard.press("h")
        page.wait_for_function("() => document.querySelector('#current-number').textContent === '—'")
        page.wait_for_function("() => document.querySelector('#dossier-target').textContent.includes('đã xong')")
        page.click("#current-number")
        page.keyboard.type("000.00.12.h26-241204-0002")
        page.keyboard.press("Enter")
        page.wait_for_selector("#dossier-list li[data-code='000.00.12.H26-241204-0002']")
        done = clerk.ok("GET", f"/api/v1/tickets/{ticket['id']}")
        assert done["status"] == "done"
        assert done["dossiers"] == ["000.00.12.H26-241204-0001", "000.00.12.H26-241204-0002"]
        assert clerk.ok("GET", f"/api/v1/offices/{office.id}/tickets?status=waiting")["total"] == 1  # no call

        # English
        page.click("#lang-toggle")
        page.wait_for_function("() => document.querySelector('#dossier-link').textContent === 'Link dossier'")
    finally:
        ctx.close()
