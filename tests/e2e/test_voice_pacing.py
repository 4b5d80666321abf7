"""The display's announcer with the page's clock driven by Playwright and an injected player that "plays"
each real WAV (chime, sentence, fetched from a real server) for exactly its length over the playback rate:
the 20 s bound holds for six calls spread over five seconds and for six at the same instant, whatever the
machine's load; parts never overlap; a lone call gets the full chime and the office's repeats."""
from __future__ import annotations

from typing import Any

import pytest

from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.browser
LAG_BOUND_MS = 20000

SETUP_JS = """async () => {
  const m = await import('/static/display/announcer.js');
  const log = [];
  const player = { async play(src, rate, onStart) {
    // the clip's length, from the announcer's own fetched clips (the page's CSP keeps fetch() off blob: URLs)
    const a = window.announcer;
    const clips = await Promise.all([...a.clips.values(), ...a.shorts.values(), ...Object.values(a.chimes)]);
    const clip = clips.find((c) => c && c.url === src);
    if (!clip) throw new Error('unknown clip ' + src);
    const start = Date.now(); onStart();
    await new Promise((r) => setTimeout(r, clip.seconds * 1000 / rate));
    log.push({ start, end: Date.now(), seconds: clip.seconds, rate });
    return 'ended'; } };
  window.announcer = new m.Announcer({ player });
  window.playLog = log;
  await Promise.all(Object.values(window.announcer.chimes));
}"""


def calls(office: OfficeSetup, n: int) -> list[dict[str, Any]]:
    """`n` real calls (counters 11.., so the sentences are long ones) and their announcements."""
    a = office.service("A")
    head = office.user(f"head_{office.id}", role="head")
    out = []
    for i in range(n):
        c = office.counter(11 + i, [a["id"]])
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"]})
        head.ok("POST", f"/api/v1/counters/{c['id']}/open")
        head.ok("POST", f"/api/v1/counters/{c['id']}/next")
        out.append(head.ok("POST", f"/api/v1/counters/{c['id']}/recall")["announcement"])
    return out


def run(chromium: Any, server: ServerProcess, anns: list[dict[str, Any]], every_ms: int,
        repeat: int = 2) -> dict[str, Any]:
    context = chromium.new_context()
    page = context.new_page()
    page.clock.install()
    page.goto(server.base_url + "/")
    page.clock.pause_at(1_800_000_000)  # seconds since the epoch
    page.evaluate(SETUP_JS)
    page.evaluate("(n) => { window.announcer.repeat = n; }", repeat)
    for i, a in enumerate(anns):
        page.evaluate("async (a) => { window.announcer.enqueue(a, { n: a.id }); "
                      "await Promise.all([...window.announcer.clips.values(), ...window.announcer.shorts.values()]); }",
                      a)  # what is fetched is at hand before time moves
        if i < len(anns) - 1:
            for _ in range(every_ms // 50):
                page.clock.run_for(50)
    for _ in range(60000 // 50):
        if page.evaluate("() => window.announcer.played.length") == len(anns):
            break
        page.clock.run_for(50)
    state = page.evaluate("() => ({ played: window.announcer.played, log: window.playLog })")
    context.close()
    return state  # type: ignore[no-any-return]


def check(state: dict[str, Any], n: int) -> list[dict[str, Any]]:
    played, log = state["played"], state["log"]
    assert len(played) == n and all(p["outcome"] == "ended" for p in played), played
    for a, b in zip(log, log[1:], strict=False):
        assert b["start"] >= a["end"], "one clip at a time: nothing is cut off or spoken over"
    assert all(c["seconds"] > 0.4 for c in log), "every clip really has a length"
    for p in played:
        assert p["said_at"] - p["queued_at"] <= LAG_BOUND_MS, p
    return played  # type: ignore[no-any-return]


def test_six_calls_over_five_seconds_and_six_at_once_stay_within_the_bound(chromium: Any, server: ServerProcess,
                                                                           office: OfficeSetup) -> None:
    anns = calls(office, 6)
    for every_ms in (1000, 0):
        played = check(run(chromium, server, anns, every_ms), 6)
        lags = [(p["said_at"] - p["queued_at"]) / 1000 for p in played]
        print(f"\ncalls every {every_ms} ms: said after " + ", ".join(f"{x:.1f}" for x in lags)
              + " s; rates " + ", ".join(str(p["rate"]) for p in played)
              + "; forms " + ", ".join(p["form"] for p in played))
        assert [p["id"] for p in played] == [a["id"] for a in anns], "in the order called"
        assert all(p["repeats"] == 1 for p in played[:-1]) and played[-1]["repeats"] == 2
        assert all(p["chime"] == "short" for p in played[1:])
        assert all(1.0 <= p["rate"] <= 1.35 for p in played)


def test_a_lone_call_is_said_at_its_own_pace_with_the_full_chime(chromium: Any, server: ServerProcess,
                                                                 office: OfficeSetup) -> None:
    anns = calls(office, 1)
    played = check(run(chromium, server, anns, 0, repeat=3), 1)
    assert (played[0]["chime"], played[0]["rate"], played[0]["repeats"]) == ("full", 1, 3)
