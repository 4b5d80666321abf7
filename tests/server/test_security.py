"""Security: throttling, CSRF for cookie sessions, headers on every page, token revocation closing
sockets at once, and no passwords or tokens in the logs."""
from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from server.pages import PAGES
from tests.support.aio import run
from tests.support.server import ADMIN_PASSWORD, OfficeSetup, ServerProcess, WsClient


@pytest.fixture(scope="module")
def debug_server() -> Iterator[ServerProcess]:
    s = ServerProcess(env={"QMS_LOG_LEVEL": "debug"}).start()
    yield s
    s.stop()


def test_login_failures_are_throttled(debug_server: ServerProcess) -> None:
    OfficeSetup(debug_server).user("victim", "clerk")
    anon = debug_server.client()
    codes = [anon.post("/api/v1/auth/login", json={"username": "victim", "password": f"wrong{i}"}).status_code
             for i in range(7)]
    assert codes[:5] == [401] * 5 and codes[5:] == [429, 429]
    assert debug_server.admin().token, "another account is not locked out"
    r = anon.post("/api/v1/auth/login", json={"username": "victim", "password": "password-123"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0, "even the right password waits"
    assert r.json()["error"]["code"] == "rate_limited"


def test_pairing_codes_are_throttled() -> None:
    own = ServerProcess().start()  # the limit is per address, and tests all come from 127.0.0.1
    try:
        anon = own.client()
        codes = [anon.post("/api/v1/pairings", json={"kind": "display"}).status_code for _ in range(22)]
        assert codes[:20] == [201] * 20 and 429 in codes[20:]
    finally:
        own.stop()


def test_a_flooding_kiosk_is_throttled_others_are_not(server: ServerProcess, office: OfficeSetup) -> None:
    a = office.service("A")["id"]
    kiosk, other = office.device("kiosk"), office.device("kiosk")
    codes = [kiosk.post(f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False}).status_code
             for _ in range(62)]
    assert codes[:60] == [201] * 60 and codes[60:] == [429, 429]
    assert other.post(f"/api/v1/offices/{office.id}/tickets", json={"service_id": a}).status_code == 201


def test_cookie_sessions_need_the_csrf_header(server: ServerProcess, office: OfficeSetup) -> None:
    with httpx.Client(base_url=server.base_url) as browser:
        r = browser.post("/api/v1/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        assert r.status_code == 200
        assert "httponly" in r.headers.get_list("set-cookie")[0].lower()
        assert browser.get(f"/api/v1/offices/{office.id}").status_code == 200, "cookie works for reads"
        body = {"name": "Đổi tên"}
        r = browser.patch(f"/api/v1/offices/{office.id}", json=body)
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        r = browser.patch(f"/api/v1/offices/{office.id}", json=body,
                          headers={"X-CSRF-Token": "forged-value-000"})
        assert r.status_code == 403
        r = browser.patch(f"/api/v1/offices/{office.id}", json=body,
                          headers={"X-CSRF-Token": browser.cookies["qms_csrf"]})
        assert r.status_code == 200 and r.json()["name"] == "Đổi tên"


def test_every_page_has_a_strict_content_security_policy(server: ServerProcess) -> None:
    anon = server.client()
    for path in ["/", *[f"/{p}" for p in PAGES], "/t/abcdefghijkl", "/api/v1/openapi.json"]:
        r = anon.get(path)
        csp = r.headers.get("content-security-policy", "")
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert r.headers.get("x-content-type-options") == "nosniff"
        assert r.headers.get("x-frame-options") == "DENY"


def test_revoking_a_device_closes_its_socket_at_once(server: ServerProcess, office: OfficeSetup) -> None:
    display = office.device("display", "Màn hình bị thu hồi")
    device_id = office.admin.ok("GET", f"/api/v1/offices/{office.id}/devices")["items"][-1]["id"]

    async def scenario() -> int:
        ws = await WsClient(server.ws_url, display.token).connect()
        await ws.next_event()
        office.admin.ok("DELETE", f"/api/v1/devices/{device_id}")
        try:
            while True:
                await ws.next_event(3)
        except Exception:  # noqa: BLE001 - the close ends the loop
            return int(ws.ws.close_code or 0)
    assert run(scenario()) == 4001
    assert display.get("/api/v1/auth/me").status_code == 401


def test_no_passwords_or_tokens_in_the_logs(debug_server: ServerProcess) -> None:
    office = OfficeSetup(debug_server)
    clerk = office.user("canbo_log")
    kiosk = office.device("kiosk")

    async def ws_once() -> None:
        ws = await WsClient(debug_server.ws_url, kiosk.token).connect()
        await ws.next_event()
        await ws.close()
    run(ws_once())
    debug_server.client().post("/api/v1/auth/login", json={"username": "canbo_log", "password": "typo-password"})
    log = debug_server.log_path.read_text(errors="replace")
    assert len(log) > 0
    for secret in (ADMIN_PASSWORD, "password-123", "typo-password", clerk.token, kiosk.token,
                   office.admin.token):
        assert secret and secret not in log, "a secret reached the log"
