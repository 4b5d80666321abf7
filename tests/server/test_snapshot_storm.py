"""A storm of connecting displays costs one snapshot build: every socket asking at the same seq gets the
very same text, and the office's state was read once (qms_ws_snapshot_builds_total); after an event the
next socket gets a fresh snapshot that includes it."""
from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
import websockets
from prometheus_client.parser import text_string_to_metric_families

from server.snapshots import Shared, Snapshots
from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess

DISPLAYS = 200


@pytest.fixture(scope="module")
def one_worker() -> Iterator[ServerProcess]:
    s = ServerProcess(workers=1).start()  # one worker: the build count is that process's alone
    yield s
    s.stop()


def _builds(server: ServerProcess) -> float:
    for family in text_string_to_metric_families(server.client().get("/metrics").text):
        for sample in family.samples:
            if sample.name == "qms_ws_snapshot_builds_total":
                return float(sample.value)
    raise AssertionError("qms_ws_snapshot_builds_total is not exposed")


async def _snapshots(url: str, n: int, since_seq: int | None = None) -> list[str]:
    """Connect n sockets at once, each saying hello; the raw text of the snapshot each receives."""
    async def one() -> str:
        async with websockets.connect(url, compression=None, open_timeout=60, max_size=2**24) as ws:
            await ws.send(json.dumps({"type": "hello", "since_seq": since_seq}))
            while True:
                raw = str(await asyncio.wait_for(ws.recv(), 60))
                if json.loads(raw)["type"] == "snapshot":
                    return raw
    return list(await asyncio.gather(*(one() for _ in range(n))))


def _waiting(snapshot: str) -> int:
    return sum(s["waiting"] for s in json.loads(snapshot)["data"]["services"])


def test_a_storm_of_displays_gets_one_build_and_an_event_makes_the_next_one_fresh(one_worker: ServerProcess) -> None:
    office = OfficeSetup(one_worker)
    svc = office.service("A")
    office.counter(1, [svc["id"]])
    display = office.device("display", "Lobby").token
    head = office.user("storm_head", "head")

    def issue() -> None:
        head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"], "print": False})
    issue()
    issue()
    url = f"{one_worker.ws_url}?token={display}"
    staff_url = f"{one_worker.ws_url}?token={head.token}"

    async def scenario() -> None:
        # one socket stays open throughout: a display's first socket marks it online (an event of its own)
        async with websockets.connect(url, compression=None) as holder:
            await holder.send(json.dumps({"type": "hello", "since_seq": None}))
            await asyncio.sleep(0.5)
            issue()  # a change: the holder's snapshot is out of date, the storm's first socket builds anew
            before = _builds(one_worker)
            shown, staff = await asyncio.gather(_snapshots(url, DISPLAYS), _snapshots(staff_url, 5))
            assert len(set(shown)) == 1, "every display got the very same snapshot text"
            assert len(set(staff)) == 1
            assert shown[0] != staff[0], "each audience has its own form"
            assert "totals" in json.loads(staff[0])["data"] and "totals" not in json.loads(shown[0])["data"]
            assert _builds(one_worker) - before == 1, "one state build for 205 sockets of two audiences"
            first: dict[str, Any] = json.loads(shown[0])
            assert _waiting(shown[0]) == 3

            # reconnects with a seq too old to know (null) at the same seq: still no new build
            again = await _snapshots(url, 20)
            assert set(again) == set(shown) and _builds(one_worker) - before == 1

            issue()
            fresh = await _snapshots(url, 50)
            assert len(set(fresh)) == 1
            assert json.loads(fresh[0])["seq"] > first["seq"]
            assert _waiting(fresh[0]) == 4, "the ticket issued before the connect is in the snapshot"
            assert _builds(one_worker) - before == 2
    run(scenario())


def test_a_shared_build_runs_once_survives_a_caller_that_leaves_and_a_failure_is_retried() -> None:
    async def scenario() -> None:
        shared: Shared[str, int] = Shared(limit=4, max_age_s=60)
        calls = 0
        gate = asyncio.Event()

        async def build() -> int:
            nonlocal calls
            calls += 1
            await gate.wait()
            return calls

        leaver = asyncio.create_task(shared.get("k", build))
        stayers = [asyncio.create_task(shared.get("k", build)) for _ in range(50)]
        await asyncio.sleep(0)
        leaver.cancel()  # the first socket goes away while its build runs: the others still get it
        gate.set()
        assert await asyncio.gather(*stayers) == [1] * 50 and calls == 1
        assert await shared.get("k", build) == 1 and calls == 1

        async def broken() -> int:
            raise RuntimeError("database away")
        with pytest.raises(RuntimeError):
            await shared.get("x", broken)
        assert await shared.get("x", build) == 2, "a failed build is forgotten, the next caller builds"

        for key in "abcdef":  # bounded: the oldest keys go
            await shared.get(key, build)
        assert len(shared) == 4
    run(scenario())


def test_figures_that_moved_without_a_new_seq_make_the_next_snapshot_fresh() -> None:
    """A derived frame (refined waits) keeps the seq: `stale` drops the office's snapshots so a socket that
    connects next is built afresh, and another office's stay shared."""
    builds: list[int] = []

    async def scenario() -> list[str]:
        snaps = Snapshots()

        async def text(office: int) -> str:
            async def build() -> dict[str, Any]:
                builds.append(office)
                return {"n": len(builds)}
            return await snaps.text(office, 7, "public", "office", build, lambda d: json.dumps(d))
        out = [await text(1), await text(2), await text(1)]
        snaps.stale(1)
        out += [await text(1), await text(2)]
        return out
    got = run(scenario())
    assert got == ['{"n": 1}', '{"n": 2}', '{"n": 1}', '{"n": 3}', '{"n": 2}']
    assert builds == [1, 2, 1]  # office 2's snapshot stayed shared
