"""API benchmark against a real `qms serve`: ticket issue latency p50/p99 and throughput with 1 and 16
concurrent clients, and concurrent `next` throughput with 20 counters. Run: `qms bench --only api`.

Uses SQLite by default, PostgreSQL + Redis when QMS_TEST_POSTGRES_URL / QMS_TEST_REDIS_URL are set.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.cpu import pct
from tests.support.server import OfficeSetup, ServerProcess

ISSUES_PER_RUN = 600
COUNTERS = 20


async def issue_run(base: str, token: str, office_id: int, services: list[int], clients: int,
                    total: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                 limits=httpx.Limits(max_connections=clients)) as c:
        counter = iter(range(total))

        async def worker() -> None:
            for i in counter:
                t0 = time.perf_counter()
                r = await c.post(f"/api/v1/offices/{office_id}/tickets",
                                 json={"service_id": services[i % len(services)], "print": False})
                latencies.append(time.perf_counter() - t0)
                assert r.status_code == 201, r.text
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return latencies, time.perf_counter() - start


async def next_run(base: str, token: str, counters: list[int]) -> tuple[int, float, list[float]]:
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                 limits=httpx.Limits(max_connections=len(counters))) as c:
        async def press(cid: int) -> int:
            n = 0
            while True:
                t0 = time.perf_counter()
                r = await c.post(f"/api/v1/counters/{cid}/next", json={})
                latencies.append(time.perf_counter() - t0)
                if r.json()["ticket"] is None:
                    return n
                n += 1
        start = time.perf_counter()
        called = sum(await asyncio.gather(*(press(cid) for cid in counters)))
        return called, time.perf_counter() - start, latencies


def main() -> int:
    backend = "PostgreSQL + Redis" if os.environ.get("QMS_TEST_POSTGRES_URL") else "SQLite (embedded)"
    server = ServerProcess().start()
    try:
        office = OfficeSetup(server)
        services = [office.service(code)["id"] for code in "ABC"]
        counters = [office.counter(n, services)["id"] for n in range(1, COUNTERS + 1)]
        head = office.user("bench_head", "head")
        token = head.token or ""
        print(f"backend: {backend}; server: 1 worker; machine: {os.cpu_count()} cores")
        print(f"{'ticket issue':<28}{'p50 ms':>9}{'p99 ms':>9}{'tickets/s':>11}")
        for clients in (1, 16):
            lat, wall = asyncio.run(issue_run(server.base_url, token, office.id, services, clients, ISSUES_PER_RUN))
            print(f"{f'{clients} concurrent client(s)':<28}{statistics.median(lat) * 1000:>9.1f}"
                  f"{pct(lat, 99) * 1000:>9.1f}{len(lat) / wall:>11.1f}")
        for cid in counters:
            head.ok("POST", f"/api/v1/counters/{cid}/open")
        called, wall, lat = asyncio.run(next_run(server.base_url, token, counters))
        print(f"concurrent next: {COUNTERS} counters called {called} tickets in {wall:.1f} s = "
              f"{called / wall:.1f} calls/s (p50 {statistics.median(lat) * 1000:.1f} ms, "
              f"p99 {pct(lat, 99) * 1000:.1f} ms)")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
