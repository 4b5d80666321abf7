"""The office's start page at `/` and the favicon, in headless Chromium against a real server."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.looks import font_loaded, texts, too_faint
from tests.support.server import ServerProcess

pytestmark = pytest.mark.browser
PAGES = ("kiosk", "display", "counter", "tablet", "dashboard", "admin", "reports")


def test_start_page_says_what_each_page_is_for_in_vietnamese_and_english(chromium: Any,
                                                                         server: ServerProcess) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    missing: list[str] = []
    page.on("response", lambda r: r.status >= 400 and missing.append(f"{r.status} {r.url}"))
    page.goto(server.base_url + "/")
    page.wait_for_selector("body.ready")
    assert page.evaluate("document.documentElement.lang") == "vi"
    body = page.inner_text("body")
    for words in ("Kiosk lấy số", "Màn hình sảnh", "Quầy giao dịch", "Máy tính bảng đánh giá", "Bảng điều hành",
                  "Quản trị", "Báo cáo", "Theo dõi lượt chờ", "công dân chọn lĩnh vực"):
        assert words in body, words
    hrefs = page.eval_on_selector_all(".pages a", "els => els.map(e => e.getAttribute('href'))")
    assert sorted(hrefs) == sorted(f"/{p}" for p in PAGES)
    assert font_loaded(page), "Be Vietnam Pro is served by the server and used"
    items = texts(page)
    assert all(t["font"].startswith('"Be Vietnam Pro"') for t in items if "page-path" not in t["cls"])
    assert min(t["size"] for t in items) >= 16
    assert not too_faint(items), too_faint(items)

    page.click(".lang[data-lang='en']")
    assert page.evaluate("document.documentElement.lang") == "en"
    body = page.inner_text("body")
    for words in ("Ticket kiosk", "Lobby display", "Rating tablet", "Dashboard", "Reports", "Administration"):
        assert words in body, words
    assert not missing, missing
    context.close()


@pytest.mark.parametrize("path", ["/", *[f"/{p}" for p in PAGES]])
def test_every_page_links_a_favicon_that_exists(chromium: Any, server: ServerProcess, path: str) -> None:
    context = chromium.new_context()
    page = context.new_page()
    page.goto(server.base_url + path)
    href = page.eval_on_selector("link[rel=icon]", "e => e.href")
    assert href.startswith(server.base_url)
    context.close()
    client = server.client()
    icon = client.http.get(href)
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in icon.content
    ico = client.http.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00", "a real ICO file"
