"""The rate limits on a real Redis: one allowance shared by every worker (two Throttle objects with their
own clients stand for two workers), a sliding window that does not hand out a fresh allowance at a
window's edge, and, when Redis does not answer, counting in the worker's memory instead of failing."""
from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from server.errors import ApiError
from server.throttle import Throttle
from tests.support.aio import run
from tests.support.server import free_port
from tests.support.services import PrivateRedis, have_redis

pytestmark = pytest.mark.skipif(not have_redis(), reason="needs redis-server")


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    server = PrivateRedis().start()
    yield server.url
    server.stop()


def _worker(url: str, limit: int, window_s: float, namespace: str) -> Throttle:
    import redis.asyncio as aioredis
    t = Throttle(limit, window_s, "tries", redis=aioredis.from_url(url, socket_connect_timeout=1, socket_timeout=2))
    t.namespace = namespace
    return t


async def _outcomes(t: Throttle, key: str, n: int) -> list[int]:
    out = []
    for _ in range(n):
        try:
            await t.hit(key)
            out.append(200)
        except ApiError as e:
            out.append(e.status)
    return out


def test_two_workers_share_one_allowance(redis_url: str) -> None:
    async def scenario() -> list[Any]:
        a, b = _worker(redis_url, 6, 60, "t-share"), _worker(redis_url, 6, 60, "t-share")
        first = await _outcomes(a, "addr:1", 4) + await _outcomes(b, "addr:1", 4)
        other_key = await _outcomes(b, "addr:2", 1)
        racing = _worker(redis_url, 5, 60, "t-race")  # concurrent hits cannot both take the last place
        raced = await asyncio.gather(*(_outcomes(w, "addr:1", 1) for w in [racing, _worker(redis_url, 5, 60,
                                                                                              "t-race")] * 10))
        try:
            await a.check("addr:1")
            retry = None
        except ApiError as e:
            retry = e.details["retry_after_s"]
        return [first, other_key, sorted(x[0] for x in raced), retry]

    first, other_key, raced, retry = run(scenario())
    assert first == [200] * 6 + [429] * 2
    assert other_key == [200]
    assert raced == [200] * 5 + [429] * 15
    assert retry is not None and 55 < retry <= 60


def test_the_window_slides_rather_than_resetting_at_its_edge(redis_url: str) -> None:
    async def scenario() -> list[int]:
        t = _worker(redis_url, 3, 2.0, "t-edge")
        while not 1.6 < time.time() % 2.0 < 1.8:  # just before a fixed window's edge
            await asyncio.sleep(0.02)
        before = await _outcomes(t, "k", 3)
        await asyncio.sleep(0.5)  # past the edge: a fixed window would start afresh
        after_edge = await _outcomes(t, "k", 1)
        await asyncio.sleep(2.0)  # the first hits have left the window
        later = await _outcomes(t, "k", 1)
        return before + after_edge + later

    assert run(scenario()) == [200, 200, 200, 429, 200]


def test_redis_not_answering_counts_in_memory_instead_of_failing() -> None:
    async def scenario() -> tuple[list[int], list[int]]:
        t = _worker(f"redis://127.0.0.1:{free_port()}/0", 5, 60, "t-down")  # nothing listens there
        hits = await _outcomes(t, "dev:1", 7)
        await t.fail("user:x")
        checks = []
        for _ in range(5):
            try:
                await t.check("user:x")
                await t.fail("user:x")
                checks.append(200)
            except ApiError as e:
                checks.append(e.status)
        return hits, checks

    hits, checks = run(scenario())
    assert hits == [200] * 5 + [429] * 2
    assert checks == [200] * 4 + [429]


def test_redis_back_shares_the_allowance_again() -> None:
    server = PrivateRedis()
    try:
        async def scenario() -> list[int]:
            t = _worker(server.url, 2, 60, "t-back")
            down = await _outcomes(t, "k", 1)  # not started yet: counted in memory
            await asyncio.to_thread(server.start)
            await asyncio.sleep(1.1)  # the throttle asks Redis again after REDIS_RETRY_S
            other = _worker(server.url, 2, 60, "t-back")
            return down + await _outcomes(other, "k", 2) + await _outcomes(t, "k", 1)
        assert run(scenario()) == [200, 200, 200, 429]
    finally:
        server.stop()
