"""Exactly-once calling: 20 counters pressing `next` at once over HTTP against 500 waiting tickets."""
from __future__ import annotations

import asyncio
from collections import Counter as Tally

import httpx

from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess, post_as_kiosk

TICKETS = 500
COUNTERS = 20


async def _issue_all(base: str, token: str, office_id: int, service_ids: list[int]) -> list[int]:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> int:
            async with sem:
                r = await post_as_kiosk(c, f"/api/v1/offices/{office_id}/tickets",
                                        json={"service_id": service_ids[i % len(service_ids)], "print": False})
                assert r.status_code == 201, r.text
                return int(r.json()["id"])
        return await asyncio.gather(*(one(i) for i in range(TICKETS)))


async def _press_next_until_empty(base: str, token: str, counter_id: int) -> list[int]:
    called = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as c:
        while True:
            r = await post_as_kiosk(c, f"/api/v1/counters/{counter_id}/next", json={})
            assert r.status_code == 200, r.text
            t = r.json()["ticket"]
            if t is None:
                return called
            assert t["counter_id"] == counter_id and t["status"] == "called"
            called.append(int(t["id"]))


def test_twenty_counters_call_every_ticket_exactly_once(server: ServerProcess, office: OfficeSetup) -> None:
    services = [office.service("A")["id"], office.service("B")["id"]]
    counters = [office.counter(n, services)["id"] for n in range(1, COUNTERS + 1)]
    head = office.user("truong_cc", "head")
    for cid in counters:
        head.ok("POST", f"/api/v1/counters/{cid}/open")
    issued = run(_issue_all(server.base_url, head.token or "", office.id, services))
    assert len(set(issued)) == TICKETS

    async def all_counters() -> list[list[int]]:
        return await asyncio.gather(*(_press_next_until_empty(server.base_url, head.token or "", cid)
                                      for cid in counters))
    per_counter = run(all_counters())
    called = [t for calls in per_counter for t in calls]
    dupes = [t for t, n in Tally(called).items() if n > 1]
    assert not dupes, f"tickets called twice: {dupes[:10]}"
    assert sorted(called) == sorted(issued), "every ticket called, none skipped"
    assert sum(1 for calls in per_counter if calls) >= COUNTERS // 2, "the work really ran concurrently"
    waiting = head.ok("GET", f"/api/v1/offices/{office.id}/tickets?status=waiting")
    assert waiting["total"] == 0
    # numbers are unique per service and consecutive from number_start
    tickets = head.ok("GET", f"/api/v1/offices/{office.id}/tickets?limit=1000")["items"]
    for sid in services:
        numbers = sorted(t["number"] for t in tickets if t["service_id"] == sid)
        assert numbers == list(range(1, len(numbers) + 1))
