"""The counter app and the rating tablet in headless Chromium against a real server, and no double calls."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.support.browser import TABLET_LISTENING, screenshot
from tests.support.server import OfficeSetup, ServerProcess


def _issue(office: OfficeSetup, service_id: int, **kw: Any) -> dict[str, Any]:
    return office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets",
                           json={"service_id": service_id, "print": False, **kw})


def _login_counter(page: Any, server: ServerProcess, username: str) -> None:
    page.goto(server.base_url + "/counter")
    page.fill("#username", username)
    page.fill("#password", "password-123")
    page.click("#login-btn")


def _stored_feedback(office: OfficeSetup, n: int, timeout: float = 10) -> dict[str, Any]:
    """The office's stored ratings once there are n (a tablet sends its rating after the screen moves on)."""
    deadline = time.monotonic() + timeout
    stored = office.admin.ok("GET", f"/api/v1/offices/{office.id}/feedback")
    while stored["total"] < n and time.monotonic() < deadline:
        time.sleep(0.1)
        stored = office.admin.ok("GET", f"/api/v1/offices/{office.id}/feedback")
    assert stored["total"] == n, stored
    return stored


@pytest.mark.browser
def test_clerk_calls_recalls_transfers_finishes_and_the_tablet_asks(server: ServerProcess, office: OfficeSetup,
                                                                     chromium: Any) -> None:
    b = office.service("B", "Hộ tịch", name_en="Civil status")
    c = office.service("C", "Đất đai – Xây dựng", name_en="Land and construction")
    c1 = office.counter(1, [b["id"], c["id"]])
    office.counter(2, [c["id"]])
    clerk = office.user("canbo_ui")
    tablet = office.device("tablet", "Máy đánh giá quầy 1", counter_id=c1["id"])
    b1 = _issue(office, b["id"])
    _issue(office, b["id"])
    c01 = _issue(office, c["id"], priority="elderly")
    _issue(office, c["id"])

    ctx = chromium.new_context(viewport={"width": 1366, "height": 820}, locale="vi-VN")
    tctx = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    try:
        tab = tctx.new_page()
        tab.goto(f"{server.base_url}/tablet#token={tablet.token}")
        tab.wait_for_function("() => document.body.dataset.screen === 'idle' && "
                              "document.querySelector('#idle-number').textContent === '1'")

        page = ctx.new_page()
        _login_counter(page, server, "canbo_ui")
        page.click(f"[data-counter='{c1['id']}']")
        page.wait_for_selector("#view-work:not(.hidden)")
        page.wait_for_function("() => document.querySelectorAll('#waiting-body tr').length === 4")
        # the waiting list is in calling order: the priority ticket first, marked
        first_row = page.text_content("#waiting-body tr:first-child td.num") or ""
        assert first_row.startswith(c01["display_number"]) and "★" in first_row
        # the tablet now names the clerk who opened counter 1
        tab.wait_for_function("() => document.querySelector('#idle-clerk').textContent.includes('Canbo_Ui')")

        page.keyboard.press("g")  # Next by keyboard (Gọi): the elderly citizen first
        page.wait_for_function("n => document.querySelector('#current-number').textContent === n",
                               arg=c01["display_number"])
        page.click("#btn-recall")
        page.wait_for_function("() => document.querySelector('#message').textContent.includes('gọi lại')")
        assert clerk.ok("GET", f"/api/v1/tickets/{c01['id']}")["recalls"] == 1

        page.wait_for_selector("#btn-transfer:not([disabled])")  # the recall's request has finished
        page.keyboard.press("c")  # transfer (Chuyển) to the civil-status queue with a note
        page.wait_for_selector("#transfer-dialog[open]")
        page.select_option("#transfer-target", str(b["id"]))
        page.fill("#transfer-note", "Cần làm thêm giấy khai sinh")
        page.click("#transfer-confirm")
        page.wait_for_function("() => document.querySelector('#current-number').textContent === '—'")
        moved = clerk.ok("GET", f"/api/v1/tickets/{c01['id']}")
        assert moved["status"] == "waiting" and moved["service_id"] == b["id"] and moved["transfers"] == 1
        assert moved["note"] == "Cần làm thêm giấy khai sinh"

        page.click("#btn-next")  # the transferred ticket keeps its place (and its priority)
        page.wait_for_function("n => document.querySelector('#current-number').textContent === n",
                               arg=c01["display_number"])
        page.wait_for_selector("#btn-start:not([disabled])")
        page.keyboard.press("b")  # Bắt đầu
        page.wait_for_function("() => document.querySelector('#current-status').dataset.status === 'serving'")
        page.wait_for_function("() => document.querySelectorAll('#waiting-body tr').length === 3")
        screenshot(page, "counter")

        page.keyboard.press("h")  # Hoàn thành
        page.wait_for_function("() => document.querySelector('#current-number').textContent === '—'")
        finished_at = time.monotonic()
        tab.wait_for_function(f"() => document.body.dataset.screen === 'rate' && "
                              f"document.querySelector('#rate-number').textContent === '{c01['display_number']}'",
                              timeout=1000)
        shown_after = time.monotonic() - finished_at
        assert shown_after < 1.0
        assert tab.locator("#levels .level").count() == 3  # the office's 3-level scale
        screenshot(tab, "tablet_rating")
        tab.click("[data-level='satisfied']")
        tab.wait_for_function("() => document.body.dataset.screen === 'thanks'")
        stored = _stored_feedback(office, 1)
        assert stored["items"][0]["ticket_id"] == c01["id"] and stored["items"][0]["rating"] == "satisfied"
        assert stored["items"][0]["counter_id"] == c1["id"]
        tab.wait_for_function("() => document.body.dataset.screen === 'idle'", timeout=8000)

        # own figures of the day come from the live view's counter row
        page.wait_for_function("() => document.querySelector('#stat-served').textContent === '1'")
        assert b1["status"] == "waiting"
    finally:
        ctx.close()
        tctx.close()


@pytest.mark.browser
def test_unsatisfied_rating_with_reasons_is_kept_while_offline(server: ServerProcess, office: OfficeSetup,
                                                               chromium: Any) -> None:
    office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"rating_scale": 5})
    b = office.service("B")
    c1 = office.counter(1, [b["id"]])
    clerk = office.user("canbo_off")
    tablet = office.device("tablet", counter_id=c1["id"])
    t = _issue(office, b["id"])
    tctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = tctx.new_page()
        tab.goto(f"{server.base_url}/tablet#token={tablet.token}")
        tab.wait_for_function(TABLET_LISTENING)
        clerk.ok("POST", f"/api/v1/counters/{c1['id']}/open")
        clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next")
        clerk.ok("POST", f"/api/v1/tickets/{t['id']}/finish")
        tab.wait_for_function("() => document.body.dataset.screen === 'rate'")
        assert tab.locator("#levels .level").count() == 5
        tab.route("**/api/v1/feedback", lambda route: route.abort())  # the server is unreachable
        tab.click("[data-level='unsatisfied']")
        tab.wait_for_function("() => document.body.dataset.screen === 'reasons'")
        tab.click("[data-reason='waiting_time']")
        tab.fill("#comment", "Phải chờ lâu")
        tab.click("#send-reasons")
        tab.wait_for_function("() => JSON.parse(localStorage.getItem('qms.tablet.pending') || '[]').length === 1")
        assert office.admin.ok("GET", f"/api/v1/offices/{office.id}/feedback")["total"] == 0
        tab.unroute("**/api/v1/feedback")  # back online: the kept rating is sent
        tab.wait_for_function("() => JSON.parse(localStorage.getItem('qms.tablet.pending') || '[]').length === 0",
                              timeout=15000)
        item = office.admin.ok("GET", f"/api/v1/offices/{office.id}/feedback")["items"][0]
        assert (item["ticket_id"], item["rating"], item["reasons"], item["comment"]) == \
            (t["id"], "unsatisfied", ["waiting_time"], "Phải chờ lâu")
    finally:
        tctx.close()


def test_two_concurrent_next_presses_call_exactly_one_ticket(server: ServerProcess, office: OfficeSetup) -> None:
    b = office.service("B")
    c1 = office.counter(1, [b["id"]])
    clerk = office.user("canbo_dbl")
    tickets = [_issue(office, b["id"]) for _ in range(4)]
    clerk.ok("POST", f"/api/v1/counters/{c1['id']}/open")
    for current in (0, None):  # first with nothing current, then with a called ticket current
        if current is None:
            current = clerk.ok("GET", f"/api/v1/counters/{c1['id']}")["current_ticket"]["id"]
        tabs = [office.server.client(clerk.token) for _ in range(2)]
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda api, shown=current: api.post(
                f"/api/v1/counters/{c1['id']}/next", json={"current_ticket_id": shown}), tabs))
        codes = sorted(r.status_code for r in results)
        assert codes == [200, 409], [r.text for r in results]
        refused = next(r for r in results if r.status_code == 409).json()["error"]
        assert refused["code"] == "counter_changed"
    statuses = [clerk.ok("GET", f"/api/v1/tickets/{t['id']}")["status"] for t in tickets]
    assert statuses == ["done", "called", "waiting", "waiting"], \
        [(t["display_number"], t["issued_at"], t["id"]) for t in tickets]


@pytest.mark.browser
def test_double_click_on_next_calls_once(server: ServerProcess, office: OfficeSetup, chromium: Any) -> None:
    b = office.service("B")
    c1 = office.counter(1, [b["id"]])
    office.user("canbo_dc")
    tickets = [_issue(office, b["id"]) for _ in range(3)]
    ctx = chromium.new_context(viewport={"width": 1366, "height": 820})
    try:
        page, page2 = ctx.new_page(), ctx.new_page()
        _login_counter(page, server, "canbo_dc")
        page.click(f"[data-counter='{c1['id']}']")
        page.wait_for_function("() => document.querySelectorAll('#waiting-body tr').length === 3")
        page2.goto(server.base_url + "/counter")  # a second tab of the same clerk resumes the counter
        page2.wait_for_function("() => document.querySelectorAll('#waiting-body tr').length === 3")
        page.dblclick("#btn-next")
        page.wait_for_function(f"() => document.querySelector('#current-number').textContent === "
                               f"'{tickets[0]['display_number']}'")
        # the second tab learns of the call live; its press then moves on by exactly one
        page2.wait_for_function(f"() => document.querySelector('#current-number').textContent === "
                                f"'{tickets[0]['display_number']}'")
        page2.keyboard.press("Space")
        page2.wait_for_function(f"() => document.querySelector('#current-number').textContent === "
                                f"'{tickets[1]['display_number']}'")
        admin = office.admin
        statuses = [admin.ok("GET", f"/api/v1/tickets/{t['id']}")["status"] for t in tickets]
        assert statuses == ["done", "called", "waiting"]
    finally:
        ctx.close()


@pytest.mark.browser
def test_a_tablet_opened_after_the_finish_still_asks_for_the_rating(server: ServerProcess, office: OfficeSetup,
                                                                    chromium: Any) -> None:
    b = office.service("B")
    c1 = office.counter(1, [b["id"]])
    clerk = office.user("canbo_late")
    tablet = office.device("tablet", counter_id=c1["id"])
    t = _issue(office, b["id"])
    clerk.ok("POST", f"/api/v1/counters/{c1['id']}/open")
    clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next")
    clerk.ok("POST", f"/api/v1/tickets/{t['id']}/finish")  # the tablet is off (rebooting) meanwhile
    tctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    try:
        tab = tctx.new_page()
        tab.goto(f"{server.base_url}/tablet#token={tablet.token}")
        tab.wait_for_function("() => document.body.dataset.screen === 'rate'")
        assert tab.text_content("#rate-number") == t["display_number"]
        tab.click("[data-level='satisfied']")
        tab.wait_for_function("() => ['trips', 'thanks', 'idle'].includes(document.body.dataset.screen)")
        item = _stored_feedback(office, 1)["items"][0]
        assert (item["ticket_id"], item["rating"]) == (t["id"], "satisfied")
        tab.reload()  # rated: a reload does not ask again
        tab.wait_for_function(TABLET_LISTENING)
        tab.wait_for_timeout(500)
        assert tab.evaluate("document.body.dataset.screen") == "idle"
    finally:
        tctx.close()
