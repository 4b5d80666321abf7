"""The counter app all day long (headless Chromium, real server): one accidental key never closes a
visit being served, "nobody waiting" does not outlive new tickets, the header names the counter once,
the average service time is shown even when short, Vietnamese shortcut letters on the buttons, and
reports tell served-after-start from closed-without-start."""
from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.e2e.test_counter import _issue, _login_counter
from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser


def _current(page: Any) -> str:
    return page.text_content("#current-number") or ""


def test_a_day_at_the_counter(server: ServerProcess, office: OfficeSetup, chromium: Any) -> None:
    a = office.service("A", "Chứng thực", desk="do_it_now")
    c1 = office.counter(1, [a["id"]], desk="do_it_now", name="Quầy 1 – Bộ phận làm ngay")
    clerk = office.user("canbo_day")
    ctx = chromium.new_context(viewport={"width": 1366, "height": 820}, locale="vi-VN")
    try:
        page = ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        _login_counter(page, server, "canbo_day")
        page.click(f"[data-counter='{c1['id']}']")
        page.wait_for_selector("#view-work:not(.hidden)")
        assert page.text_content("#counter-title") == "Quầy 1 – Bộ phận làm ngay"  # not "Quầy 1 · Quầy 1 – …"

        # the shortcut letters are on the buttons, the same in both languages
        keys = {b: page.text_content(f"#{b} kbd") for b in ("btn-recall", "btn-start", "btn-finish", "btn-noshow",
                                                           "btn-transfer")}
        assert keys == {"btn-recall": "L", "btn-start": "B", "btn-finish": "H", "btn-noshow": "V", "btn-transfer": "C"}
        page.click("#lang-toggle")
        assert page.text_content("#btn-finish kbd") == "H" and "Finish" in (page.text_content("#btn-finish") or "")
        assert "H finish" in (page.text_content(".shortcuts") or "")
        page.click("#lang-toggle")

        # nobody waiting, then six arrive: the page says so at once
        page.keyboard.press("Space")
        page.wait_for_function("() => document.querySelector('#message').textContent === 'Không còn ai chờ.'")
        tickets = [_issue(office, a["id"]) for _ in range(6)]
        page.wait_for_function("() => document.querySelectorAll('#waiting-body tr').length === 6")
        page.wait_for_function("() => document.querySelector('#message').textContent !== 'Không còn ai chờ.'")
        assert "6" in (page.text_content("#message") or "")

        # G calls, B starts; one Space while serving asks, it does not close the visit
        page.keyboard.press("g")
        page.wait_for_function("n => document.querySelector('#current-number').textContent === n",
                               arg=tickets[0]["display_number"])
        page.wait_for_selector("#btn-start:not([disabled])")
        page.keyboard.press("b")
        page.wait_for_function("() => document.querySelector('#current-status').dataset.status === 'serving'")
        page.keyboard.press("Space")
        page.wait_for_selector("#btn-next.armed")
        assert "đang được phục vụ" in (page.text_content("#message") or "")
        page.keyboard.press("Space")  # a bounce right after is not the confirmation
        time.sleep(1.0)
        assert clerk.ok("GET", f"/api/v1/tickets/{tickets[0]['id']}")["status"] == "serving"
        assert _current(page) == tickets[0]["display_number"]
        time.sleep(5.0)  # the question lapses: one more press asks again
        page.wait_for_selector("#btn-next:not(.armed)")
        page.keyboard.press("Space")
        page.wait_for_selector("#btn-next.armed")
        time.sleep(0.5)
        page.keyboard.press("Space")  # the deliberate second press
        page.wait_for_function("n => document.querySelector('#current-number').textContent === n",
                               arg=tickets[1]["display_number"])
        assert clerk.ok("GET", f"/api/v1/tickets/{tickets[0]['id']}")["status"] == "done"

        # a called ticket is closed by Next at once (no question), and by H: both served without a start
        page.wait_for_selector("#btn-next:not([disabled])")
        page.keyboard.press("Space")
        page.wait_for_function("n => document.querySelector('#current-number').textContent === n",
                               arg=tickets[2]["display_number"])
        page.wait_for_selector("#btn-finish:not([disabled])")
        page.keyboard.press("h")
        page.wait_for_function("() => document.querySelector('#current-number').textContent === '—'")

        # three served in a few seconds: the average is shown (seconds), not "–"
        page.wait_for_function("() => document.querySelector('#stat-served').textContent === '3'")
        page.wait_for_function("() => /^\\d+ giây$/.test(document.querySelector('#stat-avg').textContent)")
        assert not errors, errors
    finally:
        ctx.close()

    live = office.admin.ok("GET", f"/api/v1/offices/{office.id}/live")
    row = next(c for c in live["counters"] if c["id"] == c1["id"])
    assert row["served_today"] == 3 and row["closed_unstarted"] == 2
    report = office.admin.ok("GET", f"/api/v1/offices/{office.id}/reports?group_by=counter")["items"]
    assert [(r["served"], r["served_started"], r["closed_unstarted"]) for r in report] == [(3, 1, 2)]
    csv = office.admin.get(f"/api/v1/offices/{office.id}/reports?group_by=counter&format=csv").text
    header = csv.lstrip("\ufeff").splitlines()[0].split(",")
    at = header.index("served_started")
    assert re.search(r"served_started", csv) and header[at:at + 2] == ["served_started", "closed_unstarted"]
