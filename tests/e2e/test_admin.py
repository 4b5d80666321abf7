"""The admin page in headless Chromium: settings and programmes, pairing a display, revoking a tablet."""
from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from tests.support.browser import screenshot
from tests.support.server import OfficeSetup, ServerProcess, WsClient


def _login_admin(page: Any, server: ServerProcess, username: str) -> None:
    page.goto(server.base_url + "/admin")
    page.fill("#username", username)
    page.fill("#password", "password-123")
    page.click("#login-btn")
    page.wait_for_selector("#view-admin:not(.hidden)")


class SocketWatch:
    """A WebSocket client on its own thread and loop; records how the server closed it."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        self.client = WsClient(server.ws_url, token)
        self.connected = threading.Event()
        self.closed = threading.Event()
        self.close_code: int | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self.thread.start()

    async def _run(self) -> None:
        import websockets
        await self.client.connect()
        first = await self.client.next_event()
        assert first["type"] == "snapshot"
        self.connected.set()
        try:
            while True:
                await self.client.next_event(timeout=60)
        except websockets.ConnectionClosed as e:
            self.close_code = e.rcvd.code if e.rcvd else None
        finally:
            self.closed.set()


@pytest.mark.browser
def test_head_configures_pairs_a_display_and_revokes_a_tablet(server: ServerProcess, office: OfficeSetup,
                                                              chromium: Any) -> None:
    a = office.service("A", "Chứng thực", desk="do_it_now")
    b = office.service("B", "Hộ tịch")
    office.counter(1, [a["id"]], desk="do_it_now")
    c2 = office.counter(2, [b["id"]])
    head = office.user("truongphong_ui", role="head")
    tablet = office.device("tablet", "Máy đánh giá quầy 2", counter_id=c2["id"])
    office.device("kiosk", "Kiosk sảnh")
    watch = SocketWatch(server, tablet.token or "")
    assert watch.connected.wait(10)

    ctx = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN")
    try:
        page = ctx.new_page()
        _login_admin(page, server, "truongphong_ui")
        page.wait_for_function("() => document.querySelector('#office-title').textContent === 'Phường Thử'")

        # programmes and settings: Friday a no-wait day with a 10-minute target, 4-level ratings, hours
        page.check("#nw-fri")
        page.fill("#no-wait-dates", "2026-12-04")
        page.fill("#no-wait-target", "10")
        page.select_option("#rating-scale", "4")
        page.uncheck("#always-open")
        for day in ("mon", "tue", "wed", "thu", "fri"):
            page.fill(f"#hours-{day}", "07:30-11:30, 13:00-16:30")
        page.fill("#extra-sessions", "2026-11-28 07:30-11:30 Sáng thứ Bảy")
        page.fill("#template", "Kính mời công dân có số {number} đến quầy số {counter}")
        screenshot(page, "admin")
        page.click("#save-settings")
        page.wait_for_function("() => document.querySelector('#flash').textContent !== ''")
        assert page.text_content("#flash") == "Đã lưu."
        o = head.ok("GET", f"/api/v1/offices/{office.id}")
        assert o["no_wait_days"] == ["fri", "2026-12-04"] and o["no_wait_target_min"] == 10
        assert o["rating_scale"] == 4 and o["opening_hours"]["mon"] == [["07:30", "11:30"], ["13:00", "16:30"]]
        assert o["opening_hours"]["sat"] == [] and o["extra_sessions"][0]["label"] == "Sáng thứ Bảy"
        assert o["announcement_template"].startswith("Kính mời")
        with page.expect_response(lambda r: "/api/v1/voice/preview" in r.url) as preview:
            page.click("#listen")
        assert preview.value.status in (200, 503)  # 503 only where no speech engine is installed

        # a refused setting is shown, not swallowed
        page.fill("#no-wait-target", "5")
        page.fill("#extra-sessions", "2026-13-40 07:30-11:30 Sai ngày")
        page.click("#save-settings")
        page.wait_for_function("() => document.querySelector('#flash').dataset.kind === 'error'")
        assert "extra_sessions" in (page.text_content("#flash") or "")
        assert head.ok("GET", f"/api/v1/offices/{office.id}")["no_wait_target_min"] == 10

        # services: add one; counters: give counter 2 both standard services in order
        page.click("[data-tab=services]")
        page.click("#add-service")
        page.fill("#f-code", "E")
        page.fill("#f-name", "Lao động – Thương binh và Xã hội")
        page.click("#edit-save")
        page.wait_for_selector("#services-body tr:has-text('Lao động')")
        e = next(s for s in head.ok("GET", f"/api/v1/offices/{office.id}/services")["items"] if s["code"] == "E")
        page.click("[data-tab=counters]")
        page.click(f"[data-counter='{c2['id']}'] button")
        page.select_option(".order-add", str(e["id"]))
        page.click(".order-list + .row button")
        page.click(f".order-list li[data-id='{e['id']}'] button[title='Lên']")
        page.click("#edit-save")
        page.wait_for_function("() => !document.querySelector('#edit-dialog').open")
        assert head.ok("GET", f"/api/v1/counters/{c2['id']}")["service_ids"] == [e["id"], b["id"]]

        # devices: a display shows its code, the head approves it by that code and a name
        page.click("[data-tab=devices]")
        page.wait_for_selector(f"[data-device='{tablet_id(head, office)}'] .pill[data-online='1']")
        anon = server.client()
        pairing = anon.ok("POST", "/api/v1/pairings", json={"kind": "display"})
        page.fill("#approve-code", pairing["code"])
        page.fill("#approve-name", "Màn hình sảnh")
        page.click("#approve-btn")
        page.wait_for_selector("#devices-body tr[data-kind=display]")
        polled = anon.ok("GET", f"/api/v1/pairings/{pairing['pairing_id']}")
        assert polled["status"] == "approved" and polled["token"]
        display = server.client(polled["token"])
        assert display.ok("GET", "/api/v1/auth/me")["kind"] == "display"
        screenshot(page, "admin_devices")

        # revoke the tablet: its socket is closed at once and its token refused
        page.click(f"[data-device='{tablet_id(head, office)}'] button.revoke")
        page.click("#edit-save")
        assert watch.closed.wait(5), "the revoked tablet's WebSocket stayed open"
        assert watch.close_code == 4001
        r = tablet.get("/api/v1/auth/me")
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        page.wait_for_function("() => document.querySelectorAll('#devices-body tr[data-kind=tablet]').length === 0")
    finally:
        ctx.close()


def tablet_id(head: Any, office: OfficeSetup) -> int:
    devices = head.ok("GET", f"/api/v1/offices/{office.id}/devices")["items"]
    return next(d["id"] for d in devices if d["kind"] == "tablet")


@pytest.mark.browser
def test_printers_tab_lists_and_adds(server: ServerProcess, office: OfficeSetup, chromium: Any) -> None:
    head = office.user("truongphong_pr", role="head")
    ctx = chromium.new_context(viewport={"width": 1366, "height": 900})
    try:
        page = ctx.new_page()
        _login_admin(page, server, "truongphong_pr")
        page.click("[data-tab=printers]")
        page.click("#add-printer")
        page.fill("#f-name", "Máy in kiosk")
        page.select_option("#f-transport", "file")
        page.fill("#f-address", str(server.data_dir / "printer.bin"))
        page.select_option("#f-width_px", "384")
        page.click("#edit-save")
        page.wait_for_selector("#printers-body tr:has-text('Máy in kiosk')")
        printers = head.ok("GET", f"/api/v1/offices/{office.id}/printers")["items"]
        assert [(p["name"], p["transport"], p["width_px"]) for p in printers] == [("Máy in kiosk", "file", 384)]
    finally:
        ctx.close()
