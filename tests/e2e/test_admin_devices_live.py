"""The admin's device list is live: a display paired on its own page shows online, with its last-seen
time, without reloading, and shows offline again by itself when it goes away."""
from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_admin import _login_admin
from tests.support.server import OfficeSetup, ServerProcess


@pytest.mark.browser
def test_a_display_paired_on_its_page_shows_online_with_last_seen(server: ServerProcess, office: OfficeSetup,
                                                                   chromium: Any) -> None:
    office.user("truongphong_dev", role="head")
    admin_ctx = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    display_ctx = chromium.new_context(viewport={"width": 1280, "height": 720}, locale="vi-VN")
    try:
        admin = admin_ctx.new_page()
        _login_admin(admin, server, "truongphong_dev")
        admin.click("[data-tab=devices]")
        screen = display_ctx.new_page()
        screen.goto(server.base_url + "/display")
        screen.wait_for_function("() => /\\d{6}/.test(document.body.innerText)")
        code = screen.evaluate("() => document.body.innerText.match(/\\b(\\d{6})\\b/)[1]")
        admin.fill("#approve-code", code)
        admin.fill("#approve-name", "Màn hình sảnh")
        admin.click("#approve-btn")
        row = "#devices-body tr[data-kind=display]"
        admin.wait_for_selector(f"{row} .pill[data-online='1']", timeout=15000)
        seen = admin.text_content(f"{row} td.hint") or ""
        assert "vừa xong" in seen, f"a connected display shows when it was last seen: {seen!r}"
        screen.close()  # the display goes away: the list says so by itself
        admin.wait_for_selector(f"{row} .pill[data-online='0']", timeout=15000)
        assert "Chưa kết nối" not in (admin.text_content(f"{row} td.hint") or "")
    finally:
        admin_ctx.close()
        display_ctx.close()
