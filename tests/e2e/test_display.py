"""The lobby display in headless Chromium against a real server: pairing, call latency, the announcement
queue (real audio, in order, never overlapping), recovery after a server restart, safe text, a 1080p
screenshot. Page state is read from `window.qmsDisplay` and the DOM, never by sleeping."""
from __future__ import annotations

import io
import time
import wave
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import screenshot
from tests.support.server import Api, OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser

ALL_WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


@pytest.fixture()
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1920, "height": 1080})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.errors = errors  # type: ignore[attr-defined]
    yield pg
    context.close()
    assert not errors, f"page errors: {errors}"


def open_display(page: Any, server: ServerProcess, token: str | None) -> None:
    page.goto(server.base_url + "/display" + (f"#token={token}" if token else ""))
    page.wait_for_function("() => window.qmsDisplay && window.qmsDisplay.online && window.qmsDisplay.seq !== null",
                           timeout=15000)


def display_state(page: Any) -> dict[str, Any]:
    return page.evaluate("() => JSON.parse(JSON.stringify(window.qmsDisplay))")  # type: ignore[no-any-return]


def call_next(clerk: Api, counter_id: int) -> dict[str, Any]:
    return clerk.ok("POST", f"/api/v1/counters/{counter_id}/next")["ticket"]  # type: ignore[no-any-return]


def issue(office: OfficeSetup, service_id: int, n: int = 1) -> None:
    for _ in range(n):
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": service_id})


def wav_seconds(body: bytes) -> float:
    with wave.open(io.BytesIO(body)) as w:
        return w.getnframes() / w.getframerate()


def test_paired_display_shows_a_call_within_one_second(page: Any, server: ServerProcess,
                                                       office: OfficeSetup) -> None:
    a = office.service("A", "Chứng thực")
    c1 = office.counter(1, [a["id"]])
    clerk = office.user(f"cb_{office.id}_lat")
    clerk.ok("POST", f"/api/v1/counters/{c1['id']}/open")
    issue(office, a["id"], 2)

    # First start without a token: the page asks for a pairing code, a head approves it.
    page.goto(server.base_url + "/display")
    page.wait_for_function("() => /^\\d{6}$/.test(document.querySelector('#pair-code').textContent)", timeout=10000)
    code = page.text_content("#pair-code")
    office.admin.ok("POST", f"/api/v1/offices/{office.id}/pairings/{code}/approve", json={"name": "Sảnh chính"})
    page.wait_for_function("() => window.qmsDisplay.online && window.qmsDisplay.seq !== null", timeout=15000)
    assert page.is_hidden("#pair-overlay")
    assert page.text_content("#office-name") == "Phường Thử"
    assert page.evaluate("() => Object.keys(localStorage).some(k => k.startsWith('qms.token.'))")

    before = time.time() * 1000
    ticket = call_next(clerk, c1["id"])
    after = time.time() * 1000
    number = ticket["display_number"]
    page.wait_for_function("(n) => document.querySelector('#hero-number').textContent === n", arg=number,
                           timeout=1000)
    shown = [s for s in display_state(page)["shown"] if s["number"] == number]
    assert shown, "the call is recorded as shown"
    latency = shown[0]["shown_at"] - after
    print(f"\ndisplay latency: {latency:.0f} ms after the next response "
          f"({shown[0]['shown_at'] - before:.0f} ms after the request was sent)")
    assert latency < 1000
    tile = page.locator(f".counter-tile[data-counter-id='{c1['id']}'] .tile-ticket")
    assert tile.text_content() == number
    assert page.locator("#recent li").first.locator(".recent-number").text_content() == number


def test_two_quick_calls_are_spoken_in_order_without_overlap(page: Any, server: ServerProcess,
                                                             office: OfficeSetup) -> None:
    office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"announcement_repeat": 1})
    a = office.service("A")
    c1, c2 = office.counter(1, [a["id"]]), office.counter(2, [a["id"]])
    clerk = office.user(f"cb_{office.id}_q")
    for c in (c1, c2):
        clerk.ok("POST", f"/api/v1/counters/{c['id']}/open")
    issue(office, a["id"], 2)
    display = office.device("display")
    open_display(page, server, display.token)

    first = call_next(clerk, c1["id"])
    second = call_next(clerk, c2["id"])
    page.wait_for_function("() => window.qmsDisplay.played.length >= 2", timeout=60000)
    state = display_state(page)
    p1, p2 = state["played"][:2]
    assert (p1["number"], p2["number"]) == (first["display_number"], second["display_number"])
    assert p1["outcome"] == p2["outcome"] == "ended", "both files really played to their end"
    assert p2["queued_at"] < p1["ended_at"], "the second call waited in the queue while the first was heard"
    assert p2["started_at"] >= p1["ended_at"], "never two voices at once"
    # played in parts (chime, then the sentence, faster and after the short chime while a call waits)
    client = server.client()
    chime = wav_seconds(client.get(f"/api/v1/voice/chime.wav?length={p1['chime']}").content)
    planned = chime + wav_seconds(client.get(p1["url"] + "?part=sentence").content) / p1["rate"]
    heard = (p1["ended_at"] - p1["started_at"]) / 1000
    assert heard >= 0.9 * planned, f"played {heard:.2f} s of a {planned:.2f} s announcement"
    assert state["queue"] == [] and state["playing"] is None


def test_a_call_made_while_the_display_was_away_is_shown_after_reconnect(page: Any) -> None:
    own = ServerProcess().start()
    try:
        office = OfficeSetup(own)
        a = office.service("A")
        c1 = office.counter(3, [a["id"]])
        clerk = office.user("cb_outage")
        clerk.ok("POST", f"/api/v1/counters/{c1['id']}/open")
        issue(office, a["id"], 2)
        display = office.device("display")
        open_display(page, own, display.token)
        snapshots_before = page.evaluate("() => window.qmsDisplay.snapshots")

        own.stop()
        page.wait_for_function("() => document.body.classList.contains('offline') && !window.qmsDisplay.online",
                               timeout=10000)
        assert page.is_visible("#offline")
        own.start()
        ticket = call_next(clerk, c1["id"])
        number = ticket["display_number"]
        page.wait_for_function("(n) => window.qmsDisplay.shown.some(s => s.number === n)", arg=number,
                               timeout=20000)
        assert page.text_content("#hero-number") == number
        assert page.is_hidden("#offline")
        state = display_state(page)
        assert state["snapshots"] == snapshots_before, "resumed by since_seq (a replay), not a new snapshot"
        heard = state["queue"] + state["played"] + ([state["playing"]] if state["playing"] else [])
        spoken = [x["number"] for x in heard]
        assert number in spoken, "a call only seconds old is still announced"
    finally:
        own.stop()


def test_text_from_the_server_is_shown_as_text(page: Any, server: ServerProcess, office: OfficeSetup) -> None:
    evil = "<script>window.hacked=1</script><img src=x onerror=\"window.hacked=2\">"
    office.service("X", evil)
    display = office.device("display")
    open_display(page, server, display.token)
    assert evil in page.locator("#waiting .svc-name").all_text_contents()
    assert page.locator("#waiting img, #waiting script").count() == 0
    assert page.evaluate("() => window.hacked === undefined")


def test_display_at_1080p_screenshot(page: Any, server: ServerProcess, office: OfficeSetup) -> None:
    office.admin.ok("PATCH", f"/api/v1/offices/{office.id}",
                    json={"name": "UBND Phường Ba Đình – Bộ phận Một cửa", "no_wait_days": ALL_WEEK})
    names = [("A", "Chứng thực"), ("B", "Hộ tịch"), ("C", "Đất đai – Xây dựng"), ("D", "Đăng ký kinh doanh"),
             ("E", "Lao động – Thương binh và Xã hội")]
    svc = {code: office.service(code, name) for code, name in names}
    counters = [office.counter(1, [svc["A"]["id"]]), office.counter(2, [svc["B"]["id"], svc["E"]["id"]]),
                office.counter(3, [svc["B"]["id"]]), office.counter(4, [svc["C"]["id"]]),
                office.counter(5, [svc["C"]["id"], svc["D"]["id"]]),
                office.counter(6, [svc["D"]["id"], svc["E"]["id"]])]
    for code, n in (("A", 6), ("B", 9), ("C", 5), ("D", 4), ("E", 3)):
        issue(office, svc[code]["id"], n)
    head = office.user(f"head_{office.id}", role="head")
    display = office.device("display")
    open_display(page, server, display.token)
    for c in counters[:5]:
        head.ok("POST", f"/api/v1/counters/{c['id']}/open")
        last = call_next(head, c["id"])
    page.wait_for_function("(n) => document.querySelector('#hero-number').textContent === n",
                           arg=last["display_number"], timeout=5000)
    assert page.is_visible("#no-wait")
    assert page.locator(".counter-tile:not(.closed)").count() == 5
    assert page.locator(".counter-tile.closed").count() == 1, "a closed counter is listed too, dimmed"
    page.wait_for_function("() => !document.querySelector('.flash')", timeout=10000)
    path = screenshot(page, "display_1080p")
    assert path.stat().st_size > 20000
