"""The lobby voice keeps up at peak: six counters calling within five seconds are all heard in full within
20 s of their own call, one after the other, never cut off; the sentence is said twice only when nothing
else waits, and the chime is the short one while calls queue up. Real server, real espeak-ng audio, real
playback in headless Chromium (times are the page's own clock, read from window.qmsDisplay)."""
from __future__ import annotations

import io
import shutil
import time
import wave
from typing import Any

import pytest

from tests.support.server import OfficeSetup, ServerProcess

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")]
LAG_BOUND_S = 20.0


def seconds(body: bytes) -> float:
    with wave.open(io.BytesIO(body)) as w:
        return w.getnframes() / w.getframerate()


def test_six_calls_in_five_seconds_are_all_heard_within_twenty_seconds(chromium: Any, server: ServerProcess,
                                                                       office: OfficeSetup) -> None:
    a = office.service("A")
    counters = [office.counter(n, [a["id"]]) for n in range(1, 7)]
    clerk = office.user(f"cb_{office.id}_peak")
    for c in counters:
        clerk.ok("POST", f"/api/v1/counters/{c['id']}/open")
    for _ in range(6):
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"]})
    display = office.device("display")
    context = chromium.new_context(viewport={"width": 1920, "height": 1080})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.base_url}/display#token={display.token}")
    page.wait_for_function("() => window.qmsDisplay && window.qmsDisplay.online && window.qmsDisplay.seq !== null",
                           timeout=15000)

    t0 = time.monotonic()
    for i, c in enumerate(counters):  # six calls spread over five seconds
        time.sleep(max(0.0, t0 + i - time.monotonic()))
        clerk.ok("POST", f"/api/v1/counters/{c['id']}/next")
    assert time.monotonic() - t0 < 5.5
    page.wait_for_function("() => window.qmsDisplay.played.length >= 6", timeout=60000)
    state = page.evaluate("() => JSON.parse(JSON.stringify(window.qmsDisplay))")
    shown = {s["announcement_id"]: s["shown_at"] for s in state["shown"]}
    played = state["played"]
    assert [p["counter"] for p in played] == [1, 2, 3, 4, 5, 6], "heard in the order called"

    client = server.client()
    sentence_s = {p["id"]: seconds(client.http.get(p["url"] + "?part=sentence").content) for p in played}
    said_s = {p["id"]: seconds(client.http.get(p["url"] + "?part=" + ("short" if p["form"] == "short" else "sentence"))
                               .content) for p in played}
    chime_s = {k: seconds(client.http.get(f"/api/v1/voice/chime.wav?length={k}").content) for k in ("full", "short")}
    print()
    for i, p in enumerate(played):
        lag = (p["said_at"] - shown[p["id"]]) / 1000
        print(f"{p['number']} → quầy {p['counter']}: chime {p['chime']}, said {p['repeats']}× (first in "
              f"{p['form']} form at "
              f"{p['rate']}×), started {(p['started_at'] - shown[p['id']]) / 1000:.1f} s after its call, said in "
              f"full {lag:.1f} s after, ended {(p['ended_at'] - shown[p['id']]) / 1000:.1f} s after")
        assert p["outcome"] == "ended"
        assert lag <= LAG_BOUND_S, f"{p['number']} said in full {lag:.1f} s after its call"
        heard = (p["ended_at"] - p["started_at"]) / 1000
        planned = chime_s[p["chime"]] + said_s[p["id"]] / p["rate"] + (p["repeats"] - 1) * sentence_s[p["id"]]
        assert heard >= 0.95 * planned, f"{p['number']}: {heard:.2f} s heard of {planned:.2f} s: nothing cut off"
        if i:
            assert p["started_at"] >= played[i - 1]["ended_at"], "never two voices at once"
        assert 1.0 <= p["rate"] <= 1.35
    assert played[0]["chime"] == "full", "the first call, alone, gets the full chime"
    assert all(p["chime"] == "short" for p in played[1:]), "while calls queue up (and right after), the short chime"
    assert all(p["repeats"] == 1 for p in played[:5]), "said once while others wait"
    assert played[5]["repeats"] == 2, "the last one, with nothing behind it, is said twice (office setting)"
    assert state["queue"] == [] and state["playing"] is None
    assert not errors, errors
    context.close()


def test_a_single_call_in_a_quiet_lobby_gets_the_full_chime_and_two_sayings(chromium: Any, server: ServerProcess,
                                                                            office: OfficeSetup) -> None:
    a = office.service("A")
    c = office.counter(4, [a["id"]])
    clerk = office.user(f"cb_{office.id}_quiet")
    clerk.ok("POST", f"/api/v1/counters/{c['id']}/open")
    office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"]})
    office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"announcement_repeat": 3})
    display = office.device("display")
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{server.base_url}/display#token={display.token}")
    page.wait_for_function("() => window.qmsDisplay && window.qmsDisplay.online && window.qmsDisplay.seq !== null",
                           timeout=15000)
    clerk.ok("POST", f"/api/v1/counters/{c['id']}/next")
    page.wait_for_function("() => window.qmsDisplay.played.length >= 1", timeout=40000)
    p = page.evaluate("() => window.qmsDisplay.played[0]")
    assert (p["chime"], p["repeats"], p["rate"], p["outcome"]) == ("full", 3, 1, "ended")
    context.close()


def test_chime_and_sentence_parts_are_served(server: ServerProcess, office: OfficeSetup) -> None:
    client = server.client()
    assert client.http.get("/api/v1/voice/chime.wav?length=long").json()["error"]["code"] == "invalid_value"
    short = client.http.get("/api/v1/voice/chime.wav?length=short")
    assert short.status_code == 200 and short.headers["content-type"] == "audio/wav"
    a = office.service("A")
    c = office.counter(2, [a["id"]])
    office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"]})
    office.admin.ok("POST", f"/api/v1/counters/{c['id']}/open")
    url = office.admin.ok("POST", f"/api/v1/counters/{c['id']}/next")["ticket"]
    call = office.admin.ok("POST", f"/api/v1/counters/{c['id']}/recall")["announcement"]["audio_url"]
    assert url
    bad = client.http.get(call + "?part=chorus")
    assert bad.status_code == 422 and bad.json()["error"]["details"]
    whole, sentence = client.http.get(call).content, client.http.get(call + "?part=sentence").content
    assert seconds(whole) > 2 * seconds(sentence) + seconds(client.http.get("/api/v1/voice/chime.wav").content)
    short = client.http.get(call + "?part=short").content
    assert 0.8 < seconds(short) < seconds(sentence) - 1.0, "'Số A001, quầy 2' is much shorter than the sentence"
