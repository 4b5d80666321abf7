"""Province scale: 4 workers on PostgreSQL + Redis.

- 10,000 display WebSocket clients spread over the workers receive a call: latency p50/p99 from just
  before the `next` request to receipt, and the resident memory of each worker.
- Ticket issuing at a fixed 200 requests/s for 60 s (open loop), spread over the province's offices as
  kiosks would be (ISSUING_OFFICES offices, 4 services each): p50/p99 latency and the rate achieved.

Uses QMS_TEST_POSTGRES_URL / QMS_TEST_REDIS_URL when set, else starts private servers (needs the
postgresql and redis-server Debian packages). Run: `qms bench --only scale`. Figures are printed.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.fanout import ClientFleet, raise_fd_limit
from tests.support.server import OfficeSetup, ServerProcess
from tests.support.services import PrivatePostgres, PrivateRedis

WORKERS = 4
DISPLAYS = int(os.environ.get("QMS_BENCH_DISPLAYS", "10000"))
CALLS = 5
RATE = 200
ISSUING_OFFICES = int(os.environ.get("QMS_BENCH_OFFICES", "20"))
SECONDS = int(os.environ.get("QMS_BENCH_SECONDS", "60"))
GRACE_S = 30


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def workers_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) the server's worker processes have used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split() if entry.name.isdigit() else []
        except OSError:
            continue
        if fields and fields[1] == str(master_pid):  # field 4 (ppid), counted after the ")" of the name
            total += int(fields[11]) + int(fields[12])
    return total / tick


def machine_busy_s() -> float:
    """CPU seconds all cores spent not idle, from /proc/stat."""
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(cpu) - cpu[3] - cpu[4]) / os.sysconf("SC_CLK_TCK")


def worker_rss_mb(master_pid: int) -> list[float]:
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid) and "VmRSS" in fields:
            out.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(out)


async def issue_at_rate(host: str, port: int, token: str, targets: list[tuple[int, int]],
                        max_connections: int = 1000) -> tuple[list[float], list[int], int, float]:
    """Open loop: request i is sent at i / RATE s whatever the earlier ones are doing, on an idle keep-alive
    connection or a new one (kiosks do not wait for each other); targets = (office, service).

    Latency counts from the due time. Requests still unsent GRACE_S after the last one was due are dropped
    and counted, so the run stays bounded when the server cannot keep up. A plain HTTP/1.1 client: httpx's
    pool spends CPU per queued request and would become the bottleneck itself at a few hundred per second.
    """
    latencies: list[float] = []
    statuses: list[int] = []
    unsent = 0
    failures: Counter[str] = Counter()
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    slots = asyncio.Semaphore(max_connections)
    start = time.perf_counter()

    async def one(i: int, at: float) -> None:
        nonlocal unsent
        async with slots:
            if time.perf_counter() - start > SECONDS + GRACE_S:
                unsent += 1
                return
            office_id, service_id = targets[i % len(targets)]
            body = json.dumps({"service_id": service_id, "print": False}).encode()
            head = (f"POST /api/v1/offices/{office_id}/tickets HTTP/1.1\r\nHost: {host}\r\n"
                    f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n").encode()
            status = 0
            try:
                reused = bool(idle)
                reader, writer = idle.pop() if idle else await asyncio.open_connection(host, port)
                writer.write(head + body)
                first = await asyncio.wait_for(reader.readline(), 120)
                if not first and reused:  # the server closed the idle keep-alive meanwhile: a new connection
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    writer.write(head + body)
                    first = await asyncio.wait_for(reader.readline(), 120)
                status = int(first.split()[1])
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                await reader.readexactly(length)
                idle.append((reader, writer))
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
                failures[type(e).__name__] += 1
            latencies.append(time.perf_counter() - start - at)
            statuses.append(status)

    tasks = []
    for i in range(RATE * SECONDS):
        at = i / RATE
        delay = start + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, at)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    if failures:
        print(f"client-side failures: {dict(failures)}")
    return latencies, statuses, unsent, time.perf_counter() - start


def main() -> int:
    pg = redis = None
    pg_url, redis_url = os.environ.get("QMS_TEST_POSTGRES_URL"), os.environ.get("QMS_TEST_REDIS_URL")
    if not pg_url:
        pg = PrivatePostgres().init()
        pg_url = pg.url
    if not redis_url:
        redis = PrivateRedis().start()
        redis_url = redis.url
    os.environ["QMS_TEST_POSTGRES_URL"], os.environ["QMS_TEST_REDIS_URL"] = pg_url, redis_url
    raise_fd_limit(DISPLAYS + 2000)
    server = ServerProcess(workers=WORKERS, env={"QMS_REDIS_URL": redis_url, "QMS_PING_INTERVAL_S": "15"}).start()
    fleet = None
    try:
        office = OfficeSetup(server)
        services = [office.service(c)["id"] for c in "ABCD"]
        counter = office.counter(1, services)["id"]
        head = office.user("bench_scale", "head")
        display = office.device("display")
        head.ok("POST", f"/api/v1/counters/{counter}/open")
        for _ in range(CALLS):
            head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": services[0], "print": False})
        print(f"{WORKERS} workers on PostgreSQL + Redis; {os.cpu_count()} cores shared with the clients")
        t = time.monotonic()
        fleet = ClientFleet(f"{server.ws_url}?token={display.token}", DISPLAYS, {"type": "hello", "since_seq": None})
        print(f"{DISPLAYS} display clients connected in {time.monotonic() - t:.1f} s")
        time.sleep(3)
        rss_before = worker_rss_mb(server.proc.pid if server.proc else 0)
        lat: list[float] = []
        for r in range(1, CALLS + 1):
            t0 = time.monotonic()
            head.ok("POST", f"/api/v1/counters/{counter}/next")
            got = fleet.round(r, timeout=60)
            if got is None:
                print(f"call {r}: not every client received it within 60 s "
                      f"({fleet.lost} connections closed by the server)")
                return 1
            lat += [x - t0 for x in got]
            time.sleep(0.5)
        print(f"call to {DISPLAYS} displays: p50 {pct(lat, 50) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, "
              f"max {max(lat) * 1000:.0f} ms ({CALLS} calls)")
        print("worker RSS MB: " + ", ".join(f"{m:.0f}" for m in rss_before))
        fleet.close()
        fleet = None
        targets = []
        for _ in range(ISSUING_OFFICES):
            branch = OfficeSetup(server)
            targets += [(branch.id, branch.service(c)["id"]) for c in "ABCD"]
        cpu0, busy0 = workers_cpu_s(server.proc.pid if server.proc else 0), machine_busy_s()
        lat, statuses, unsent, wall = asyncio.run(issue_at_rate("127.0.0.1", server.port, office.admin.token or "",
                                                                targets))
        ok = [t for t, st in zip(lat, statuses) if st == 201]
        refused = [t for t, st in zip(lat, statuses) if st == 503]
        others = Counter(st for st in statuses if st not in (201, 503))
        print(f"issuing at {RATE}/s for {SECONDS} s over {ISSUING_OFFICES} offices: {len(lat)} sent in {wall:.1f} s; "
              f"{len(ok)} issued ({len(ok) / wall:.0f}/s achieved), latency from the due time p50 "
              f"{pct(ok or [0], 50) * 1000:.0f} ms, p99 {pct(ok or [0], 99) * 1000:.0f} ms")
        print(f"refused with 503 busy (nothing changed, retry): {len(refused)}, answered in p50 "
              f"{pct(refused or [0], 50) * 1000:.0f} ms; other answers {dict(others)} (0 = no HTTP answer); "
              f"not sent within {GRACE_S} s after the last was due: {unsent}")
        issued = max(1, len(ok))
        cpu, used = workers_cpu_s(server.proc.pid if server.proc else 0) - cpu0, machine_busy_s() - busy0
        print(f"CPU per issued ticket: server workers {cpu / issued * 1000:.1f} ms, whole machine (workers, "
              f"PostgreSQL, Redis, this client) {used / issued * 1000:.1f} ms; machine busy "
              f"{used / wall / (os.cpu_count() or 1) * 100:.0f}% of {os.cpu_count()} cores")
    finally:
        if fleet is not None:
            fleet.close()
        server.stop()
        if pg:
            pg.stop()
        if redis:
            redis.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
