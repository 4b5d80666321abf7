"""The kiosk as an older citizen sees it, measured in headless Chromium against a real server: every text
at least 18 px (the language buttons too) and at WCAG AA contrast on a 1080x1920 kiosk and a 1920x1080
one, in Be Vietnam Pro; the start screen fills the screen rather than leaving half of it empty, takes
extra buttons (added later by other features) without breaking; no phrase breaks mid-word."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.browser import screenshot
from tests.support.looks import font_loaded, texts, too_faint
from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
MIN_PX = 18


def small_or_faint(page: Any, screen: str) -> list[str]:
    items = texts(page)
    bad = [f"{screen}: {t['text']!r} ({t['cls'] or t['tag']}) is {t['size']:.1f} px"
           for t in items if t["size"] < MIN_PX]
    bad += [f"{screen}: {b}" for b in too_faint(items)]
    bad += [f"{screen}: {t['text']!r} not in Be Vietnam Pro ({t['font']})" for t in items
            if not t["font"].startswith('"Be Vietnam Pro"')]
    return bad


def on_one_line(page: Any, selector: str, phrase: str) -> bool:
    """Whether `phrase` inside `selector` is laid out on one line (a Range over it has one line box)."""
    return page.evaluate("""([sel, phrase]) => { const el = document.querySelector(sel);
      const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const i = n.textContent.replace(/\\u00a0/g, ' ').indexOf(phrase);
        if (i < 0) continue;
        const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + phrase.length);
        return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size === 1; }
      return false; }""", [selector, phrase])  # type: ignore[no-any-return]


@pytest.mark.parametrize("viewport", [PORTRAIT, LANDSCAPE], ids=["portrait", "landscape"])
def test_kiosk_reads_for_older_eyes_and_fills_the_screen(chromium: Any, server: ServerProcess, office: OfficeSetup,
                                                         viewport: dict[str, int]) -> None:
    office.service("A", "Chứng thực", name_en="Certification", desk="do_it_now")
    office.service("B", "Hộ tịch", name_en="Civil status")
    office.service("C", "Đất đai – Xây dựng", name_en="Land and construction")
    office.service("D", "Lao động – Thương binh và Xã hội", name_en="Labour and social affairs")
    kiosk = office.device("kiosk", "Kiosk sảnh")
    context = chromium.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base_url}/kiosk#token={kiosk.token}")
    page.wait_for_selector("body.ready .service")
    assert font_loaded(page)
    bad = small_or_faint(page, "start")
    name = "portrait" if viewport is PORTRAIT else "landscape"
    screenshot(page, f"kiosk_start_{name}")

    # the start screen uses the screen: the buttons reach down to the hint at the bottom
    used = page.evaluate("""() => { const main = document.querySelector('#screen-start').getBoundingClientRect();
      const boxes = [...document.querySelectorAll('#screen-start .service')].map((e) => e.getBoundingClientRect());
      const bottom = Math.max(...boxes.map((b) => b.bottom)), top = Math.min(...boxes.map((b) => b.top));
      return (bottom - top) / main.height; }""")
    assert used >= 0.6, f"the service buttons take only {used:.0%} of the screen's height"

    # other features add buttons to the start screen: they fit, as big touch targets, nothing scrolls away
    page.evaluate("""() => { const box = document.querySelector('#start-actions');
      for (const label of ['Tra cứu kết quả hồ sơ', 'Đã có lịch hẹn']) {
        const b = document.createElement('button'); b.type = 'button'; b.className = 'action'; b.textContent = label;
        box.append(b); } }""")
    fit = page.evaluate("""() => [...document.querySelectorAll('#screen-start .service, #start-actions .action')]
      .map((e) => {
      const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, h: r.height, w: r.width }; })""")
    assert all(b["top"] >= 0 and b["bottom"] <= viewport["height"] for b in fit), fit
    assert all(b["h"] >= 90 and b["w"] >= 300 for b in fit), fit
    bad += small_or_faint(page, "start with extra buttons")
    screenshot(page, f"kiosk_start_actions_{name}")

    page.locator(".service:has(.code:text-is('B'))").click()
    page.wait_for_selector("#screen-priority:not(.hidden)")
    bad += small_or_faint(page, "priority")
    page.locator("#no-priority").click()
    page.wait_for_selector("#screen-ticket:not(.hidden)")
    page.wait_for_selector("#t-qr.loaded")
    bad += small_or_faint(page, "ticket")
    assert on_one_line(page, ".qr-help", "điện thoại"), "'điện thoại' is one word to a reader"
    screenshot(page, f"kiosk_ticket_{name}")
    page.locator("#lang-en").click()
    page.wait_for_selector("#screen-start:not(.hidden)")
    bad += small_or_faint(page, "start in English")
    assert not bad, "\n".join(bad)
    assert not errors, errors
    context.close()
