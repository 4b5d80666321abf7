"""The lobby display as people see it, measured in headless Chromium against a real server: every text
reads at WCAG AA against what is painted behind it, before, during (each step of the flash) and after a
call's highlight, with 1, 6 and 20 counters in landscape and portrait; the tiles fit the screen without
one counter filling half of it; closed counters are listed; the clock is the office's, never the PC's."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.support.browser import screenshot
from tests.support.looks import font_loaded, texts, too_faint
from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser
LANDSCAPE = {"width": 1920, "height": 1080}
PORTRAIT = {"width": 1080, "height": 1920}
FLASH_STEPS_MS = (0, 200, 500, 800, 1000, 1300, 1600, 1900, 2100, 2400, 2900)  # each on/off step of the 3 s flash


def lobby(office: OfficeSetup, n: int) -> tuple[Any, list[dict[str, Any]]]:
    """An office with `n` counters, most open and serving, one closed (when n > 1); returns a head and the
    counters that were opened."""
    svc = office.service("A", "Chứng thực")
    counters = [office.counter(i, [svc["id"]]) for i in range(1, n + 1)]
    head = office.user(f"head_{office.id}", role="head")
    opened = counters if n == 1 else counters[:-1]
    for _ in range(len(opened) + 3):
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"]})
    for c in opened:
        head.ok("POST", f"/api/v1/counters/{c['id']}/open")
    for c in opened[:-1]:
        head.ok("POST", f"/api/v1/counters/{c['id']}/next")
    return head, opened


def open_display(chromium: Any, server: ServerProcess, office: OfficeSetup, viewport: dict[str, int]) -> Any:
    display = office.device("display")
    context = chromium.new_context(viewport=viewport, timezone_id="America/New_York")
    page = context.new_page()
    page.goto(f"{server.base_url}/display#token={display.token}")
    page.wait_for_function("() => window.qmsDisplay && window.qmsDisplay.online && window.qmsDisplay.seq !== null",
                           timeout=15000)
    return page


def faint_at_every_flash_step(page: Any) -> list[str]:
    """Freeze the running animations at each step of the flash and measure every text at each."""
    bad: list[str] = []
    page.evaluate("() => document.getAnimations().forEach((a) => a.pause())")
    for ms in FLASH_STEPS_MS:
        page.evaluate("(ms) => document.getAnimations().forEach((a) => { a.currentTime = ms; })", ms)
        bad += [f"at {ms} ms: {b}" for b in too_faint(texts(page, ".board"))]
    page.evaluate("() => document.getAnimations().forEach((a) => a.play())")
    return bad


@pytest.mark.parametrize("n", [1, 6, 20])
@pytest.mark.parametrize("viewport", [LANDSCAPE, PORTRAIT], ids=["landscape", "portrait"])
def test_every_text_reads_at_every_moment_and_the_tiles_fit(chromium: Any, server: ServerProcess,
                                                            office: OfficeSetup, n: int,
                                                            viewport: dict[str, int]) -> None:
    head, opened = lobby(office, n)
    page = open_display(chromium, server, office, viewport)
    assert font_loaded(page)
    calm = too_faint(texts(page))
    assert not calm, f"outside a highlight: {calm}"

    ticket = head.ok("POST", f"/api/v1/counters/{opened[-1]['id']}/next")["ticket"]
    page.wait_for_function("(n) => document.querySelector('#hero-number').textContent === n "
                           "&& document.querySelector('#hero.flash')", arg=ticket["display_number"], timeout=5000)
    flashing = faint_at_every_flash_step(page)
    assert not flashing, f"during the highlight: {flashing}"
    page.wait_for_function("() => !document.querySelector('.flash')", timeout=10000)
    assert not too_faint(texts(page)), "after the highlight"

    tiles = page.eval_on_selector_all(".counter-tile", """els => els.map((e) => { const r = e.getBoundingClientRect();
        const t = e.querySelector('.tile-ticket');
        return { x: r.x, y: r.y, w: r.width, h: r.height, closed: e.classList.contains('closed'),
                 ticketPx: parseFloat(getComputedStyle(t).fontSize), clipped: t.scrollWidth > t.clientWidth + 1 ||
                 t.getBoundingClientRect().bottom > r.bottom + 1 }; })""")
    assert len(tiles) == n, "every counter has a tile, closed ones too"
    assert sum(t["closed"] for t in tiles) == (0 if n == 1 else 1)
    ticker_top = page.eval_on_selector(".ticker", "e => e.getBoundingClientRect().top")
    area = viewport["width"] * viewport["height"]
    for t in tiles:
        assert t["x"] >= 0 and t["x"] + t["w"] <= viewport["width"] + 1
        assert t["y"] >= 0 and t["y"] + t["h"] <= ticker_top + 1, "tiles stay above the ticker"
        assert not t["clipped"], f"the ticket number fits its tile ({t})"
        assert t["w"] * t["h"] <= 0.1 * area, f"one tile takes {t['w'] * t['h'] / area:.0%} of the screen"
        assert t["ticketPx"] >= (40 if n <= 6 else 26)
    hero = page.eval_on_selector("#hero-number", "e => { const r = e.getBoundingClientRect(); "
                                 "return { bottom: r.bottom, px: parseFloat(getComputedStyle(e).fontSize) }; }")
    hero_box = page.eval_on_selector("#hero", "e => e.getBoundingClientRect().bottom")
    assert hero["bottom"] <= hero_box + 1 and hero["px"] >= (90 if n <= 6 else 70), hero
    screenshot(page, f"display_{n}_{'portrait' if viewport is PORTRAIT else 'landscape'}")
    page.context.close()


def test_the_clock_is_the_offices_and_absent_before_pairing(chromium: Any, server: ServerProcess,
                                                            office: OfficeSetup) -> None:
    """A display PC set to New York: before pairing it does not know its office, so it shows no clock
    (rather than the PC's time); once paired it shows the office's time (Asia/Ho_Chi_Minh)."""
    context = chromium.new_context(viewport=LANDSCAPE, timezone_id="America/New_York")
    page = context.new_page()
    page.goto(server.base_url + "/display")
    page.wait_for_function("() => /^\\d{6}$/.test(document.querySelector('#pair-code').textContent)", timeout=10000)
    assert page.text_content("#clock-time") == "" and page.text_content("#clock-date") == ""
    new_york = datetime.now(ZoneInfo("America/New_York")).strftime("%H:%M")
    assert new_york not in page.inner_text("body"), "the PC's own time is never shown"
    expires = page.text_content("#pair-expires") or ""
    assert re.search(r"\b(10|9) phút\b", expires), expires
    code = page.text_content("#pair-code")
    office.admin.ok("POST", f"/api/v1/offices/{office.id}/pairings/{code}/approve", json={"name": "Sảnh"})
    page.wait_for_function("() => window.qmsDisplay.online && document.querySelector('#clock-time').textContent",
                           timeout=15000)
    shown = page.text_content("#clock-time")
    now = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert shown in {(now + timedelta(minutes=d)).strftime("%H:%M") for d in (-1, 0, 1)}, shown
    context.close()
