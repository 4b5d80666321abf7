"""Headless Chromium: the dashboard shows the surge's alert and staffing advice, live; the report page
shows the table and chart and downloads the CSV."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.support.browser import screenshot
from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser


def _surge(office: OfficeSetup) -> dict[str, Any]:
    a = office.service("A", "Chứng thực", desk="do_it_now")
    b = office.service("B", "Hộ tịch", target_wait_min=15)
    c = office.service("C", "Đất đai", target_wait_min=20)
    c1 = office.counter(1, [a["id"]], desk="do_it_now")
    c2 = office.counter(2, [b["id"], c["id"]])
    office.counter(3, [b["id"], c["id"]])
    clerk = office.user(f"canbo_dash{office.id}")
    head = office.user(f"lanhdao{office.id}", role="head")
    tablet = office.device("tablet", counter_id=c2["id"])
    clerk.ok("POST", f"/api/v1/counters/{c2['id']}/open")
    for sid in [a["id"]] * 3 + [b["id"]] * 24 + [c["id"]] * 6:
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": sid, "print": False})
    first = clerk.ok("POST", f"/api/v1/counters/{c2['id']}/next")["ticket"]
    clerk.ok("POST", f"/api/v1/counters/{c2['id']}/next")
    r = tablet.post("/api/v1/feedback", json={"ticket_id": first["id"], "rating": "very_satisfied"})
    assert r.status_code in (201, 404), r.text  # 404 only if the feedback room is not in this build
    return {"b": b, "c1": c1, "c2": c2, "clerk": clerk, "head": head}


def _login(page: Any, username: str) -> None:
    page.fill("#username", username)
    page.fill("#password", "password-123")
    page.click("#login-form button[type=submit]")


def test_dashboard_alerts_and_staffing_in_a_surge(server: ServerProcess, office: OfficeSetup, chromium: Any) -> None:
    s = _surge(office)
    page = chromium.new_page(viewport={"width": 1440, "height": 1500})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base_url}/dashboard")
    _login(page, f"lanhdao{office.id}")
    page.wait_for_selector("body[data-loaded='1']")
    page.wait_for_selector(".alert.wait_over_target")
    assert "Dịch vụ B: 22 người chờ" in page.inner_text("#alerts")
    page.wait_for_selector(".alert.staffing")
    open_now = int(page.inner_text("#open-counters"))
    advised = int(page.inner_text("#suggested-counters"))
    assert open_now == 1 and advised > open_now
    assert page.is_visible(".staffing-card.short")
    rows = page.inner_text("#services")
    assert "Hộ tịch" in rows and "Chứng thực" in rows
    assert page.inner_text("#counters").count("Quầy") >= 3
    assert page.locator("#chart-hours svg rect.bar").count() >= 1

    # Live: a new ticket reaches the dashboard over the WebSocket without a reload.
    waiting_before = page.inner_text(".kpis .kpi:nth-child(2) .kpi-num")
    office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": s["b"]["id"], "print": False})
    expect(page.locator(".kpis .kpi:nth-child(2) .kpi-num")).not_to_have_text(waiting_before, timeout=10000)
    page.wait_for_selector("#status.online")
    screenshot(page, "dashboard")
    assert not errors


def test_report_page_table_chart_and_download(server: ServerProcess, office: OfficeSetup, chromium: Any) -> None:
    s = _surge(office)
    clerk, c2 = s["clerk"], s["c2"]
    for _ in range(4):
        clerk.ok("POST", f"/api/v1/counters/{c2['id']}/next")
    # a browser whose clock is 19 hours behind the office's: the default range is still the office's days
    page = chromium.new_context(viewport={"width": 1440, "height": 1100}, accept_downloads=True,
                                timezone_id="Etc/GMT+12").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base_url}/reports?group_by=service")
    _login(page, f"lanhdao{office.id}")
    page.wait_for_selector("body[data-loaded='1']")
    office_today = datetime.now(ZoneInfo(office.admin.ok("GET", f"/api/v1/offices/{office.id}")["timezone"])).date()
    assert page.input_value("#to") == office_today.isoformat()
    table = page.inner_text("#table")
    assert "Hộ tịch" in table and "Chứng thực" in table
    assert page.locator("#table tbody tr").count() == 3
    assert page.locator("#chart svg rect.bar").count() >= 3
    with page.expect_download() as info:
        page.click("#csv")
    path = info.value.path()
    text = open(path, encoding="utf-8-sig").read()
    assert text.splitlines()[0].startswith("Mã lĩnh vực,Lĩnh vực,Lấy số,Đã phục vụ"), "headers for people"
    assert "Hộ tịch" in text
    page.check("#machine-columns")  # the machine's file keeps the JSON field names
    with page.expect_download() as info:
        page.click("#csv")
    assert open(info.value.path(), encoding="utf-8-sig").read().startswith("key,label,issued,served")
    page.select_option("#group_by", "hour")
    expect(page.locator("#table")).to_contain_text(":00")
    page.select_option("#group_by", "day")
    expect(page.locator("#table tbody tr")).to_have_count(1)
    # grouped by day: one date column (not the date twice), durations as minutes:seconds
    expect(page.locator("#table thead th").first).to_have_text("Ngày")
    assert page.locator("#table th[data-col=key]").count() == 0
    wait = page.locator("#table td[data-col=avg_wait_s]").first.inner_text()
    assert re.fullmatch(r"\d+:\d\d", wait), wait
    page.select_option("#metric", "wait")
    assert page.locator("#chart svg rect.bar:not(.key)").count() == 2      # average and p90 of the one day
    page.select_option("#group_by", "service")
    expect(page.locator("#table tbody tr")).to_have_count(3)
    page.select_option("#metric", "volume")
    screenshot(page, "reports")
    assert not errors
