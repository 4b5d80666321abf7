"""A service named like an attack shows as text on the kiosk and the dashboard (the display has its own
test): no element is created from it and no script runs."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import OfficeSetup, ServerProcess

EVIL = "<script>window.hacked=1</script><img src=x onerror=\"window.hacked=2\">"


@pytest.mark.browser
def test_kiosk_and_dashboard_show_hostile_names_as_text(chromium: Any, server: ServerProcess,
                                                         office: OfficeSetup) -> None:
    service = office.service("X", EVIL)
    office.counter(1, [service["id"]])
    kiosk = office.device("kiosk")
    head = office.user("truong_xss", "head")
    head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": service["id"], "print": False})
    for path, token in (("/kiosk", kiosk.token), ("/dashboard", head.token)):
        page = chromium.new_page()
        try:
            page.goto(f"{server.base_url}{path}#token={token}")
            page.wait_for_function("t => document.body.innerText.includes(t)", arg="window.hacked=1", timeout=15000)
            assert page.evaluate("window.hacked === undefined"), f"a script ran on {path}"
            assert page.locator("img[src='x']").count() == 0, f"an element was made from data on {path}"
        finally:
            page.close()
