"""The admin page's webhook section in headless Chromium: a head adds a webhook, sees its deliveries
fail while the receiver answers 503, sends a failed one again once it answers 200, pauses and deletes it."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.test_webhooks import FAST, SECRET
from tests.support.browser import screenshot
from tests.support.receiver import Receiver, verify
from tests.support.server import OfficeSetup, ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    s = ServerProcess(env={**FAST, "QMS_WEBHOOK_GIVE_UP_S": "0.6"}).start()
    yield s
    s.stop()


@pytest.mark.browser
def test_head_adds_a_webhook_sees_a_failure_and_sends_it_again(server: ServerProcess, chromium: Any) -> None:
    office = OfficeSetup(server)
    a = office.service("A")["id"]
    head = office.user("truong_webhook_ui", role="head")
    receiver = Receiver(status=503).start()
    ctx = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    try:
        page = ctx.new_page()
        page.goto(server.base_url + "/admin")
        page.fill("#username", "truong_webhook_ui")
        page.fill("#password", "password-123")
        page.click("#login-btn")
        page.wait_for_selector("#view-admin:not(.hidden)")
        page.click("[data-tab=webhooks]")
        page.wait_for_selector("#webhook-form")
        assert page.text_content("[data-tab=webhooks]") == "Gửi sự kiện"
        page.fill("#wh-url", "ftp://not-a-receiver.example")
        page.fill("#wh-secret", SECRET)
        page.evaluate("() => document.querySelector('#wh-url').type = 'text'")  # let the server refuse it
        page.click("#wh-add")
        page.wait_for_function("() => document.querySelector('.wh-note').dataset.kind === 'error'")
        assert "url" in page.text_content(".wh-note")
        page.evaluate("() => document.querySelector('#wh-url').type = 'url'")
        page.fill("#wh-url", receiver.url)
        page.fill("#wh-secret", SECRET)
        page.click("#wh-add")
        page.wait_for_selector("tr[data-webhook]")
        assert page.text_content("tr[data-webhook] td.mono") == receiver.url
        hooks = head.ok("GET", f"/api/v1/offices/{office.id}/webhooks")["items"]
        assert len(hooks) == 1 and "ticket.issued" in hooks[0]["events"]
        hook_id = hooks[0]["id"]

        head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        wait = 0
        while not head.ok("GET", f"/api/v1/webhooks/{hook_id}/deliveries", params={"status": "failed"})["items"]:
            page.wait_for_timeout(200)
            wait += 1
            assert wait < 50, "the delivery never failed"
        page.click(".wh-show")
        page.wait_for_selector("tr[data-delivery][data-status=failed] .wh-retry")
        assert "HTTP 503" in page.text_content("tr[data-delivery][data-status=failed]")
        screenshot(page, "admin-webhooks")
        receiver.status = 200
        page.click(".wh-retry")
        got = receiver.wait_for(1, 10)
        assert got[0].json["type"] == "ticket.issued" and verify(SECRET, got[0].body, got[0].headers["x-qms-signature"])
        page.click(".wh-show")  # hide, show again: fresh statuses
        page.click(".wh-show")
        page.wait_for_selector("tr[data-delivery][data-status=delivered]")

        page.click("#lang-toggle")
        page.wait_for_function("() => document.querySelector('.wh-toggle').textContent === 'Pause'")
        page.click(".wh-toggle")
        page.wait_for_selector("tr[data-webhook].inactive")
        assert head.ok("GET", f"/api/v1/webhooks/{hook_id}")["active"] is False
        page.click(".wh-remove")
        page.click(".wh-remove")  # the second click confirms
        page.wait_for_selector(".wh-none")
        assert head.ok("GET", f"/api/v1/offices/{office.id}/webhooks")["total"] == 0
    finally:
        ctx.close()
        receiver.stop()
