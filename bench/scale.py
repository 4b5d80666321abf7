"""Province scale: 4 workers on PostgreSQL + Redis, 10,000 displays, issues offered at 200/s.

1. 10,000 display WebSocket clients (spread over a few client processes) connect to the workers of one
   `qms serve --workers 4`; a few calls with nothing else going on give call-to-display p50/p99 (from
   just before the `next` request to receipt) and each worker's resident memory.
2. With every display still connected, ticket issues are offered at a fixed 200 requests/s for SECONDS
   (open loop, over ISSUING_OFFICES offices with 4 services each, as their kiosks and staff would), while
   a clerk at the displays' office calls a ticket every CALL_EVERY_S: the share of offered issues
   accepted (201), refused (503 busy: nothing changed, retry) or failed otherwise, their latency from
   the due time, the call-to-display delay under that load, the CPU per accepted ticket, and what limits
   it: each process's share of a core over the window (workers, PostgreSQL backends of this database,
   Redis, the bench's own client processes) and the machine's.

CPU is user + system time from /proc/<pid>/stat over the issuing window, taken per process at its start
and end (a process started meanwhile counts from zero). The displays' pings and the other idle work of
the deployment are measured for IDLE_S before the window and shown; "net" figures take that rate off.

Uses QMS_TEST_POSTGRES_URL / QMS_TEST_REDIS_URL when set, else starts private servers (needs the
postgresql and redis-server Debian packages). With shared services the PostgreSQL processes that are
not this bench's backends, and a shared Redis, may also be doing others' work.

    python -m bench.scale [--displays 10000] [--seconds 30] [--rate 200]     (qms bench --only scale)
QMS_BENCH_DISPLAYS / QMS_BENCH_SECONDS / QMS_BENCH_OFFICES set the defaults.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.cpu import TICK_S, descendants, pct, process_cpu_s, processes
from bench.fanout import ClientFleet, raise_fd_limit
from tests.support.server import OfficeSetup, ServerProcess
from tests.support.services import PrivatePostgres, PrivateRedis

WORKERS = 4
DISPLAYS = int(os.environ.get("QMS_BENCH_DISPLAYS", "10000"))
SOCKETS_PER_CLIENT_PROC = 2500
CALLS = 5
CALL_EVERY_S = 2.0
RATE = 200
ISSUING_OFFICES = int(os.environ.get("QMS_BENCH_OFFICES", "20"))
SECONDS = int(os.environ.get("QMS_BENCH_SECONDS", "30"))
GRACE_S = 30
IDLE_S = 5.0
BOUND_SHARE = 0.85  # a process above this share of one core, or a machine above it of all cores, is CPU-bound


def machine_busy_s() -> float:
    """CPU seconds all cores spent not idle, from /proc/stat."""
    cpu = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(cpu) - cpu[3] - cpu[4]) * TICK_S


def worker_rss_mb(master_pid: int) -> list[float]:
    out = []
    for pid in descendants(master_pid)[1:]:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                out.append(int(line.split()[1]) / 1024)
    return sorted(out)


class Roles:
    """Which process plays which part: the server's master and workers, PostgreSQL, Redis, the bench."""

    def __init__(self, master: int, database: str, redis_port: int, displays: list[int]) -> None:
        self.master, self.database, self.redis_port, self.displays = master, database, redis_port, set(displays)

    def of(self, pid: int, parent: int, name: str, server: set[int]) -> str | None:
        if pid == self.master:
            return "server master"
        if pid in server:
            return f"worker {pid}" if parent == self.master else "server master"
        if pid == os.getpid():
            return "bench issuing client"
        if pid in self.displays:
            return "bench display clients"
        if name in ("postgres", "redis-server"):
            try:
                title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                return None
            if name == "redis-server":
                return "redis" if f":{self.redis_port}" in title else None
            return "postgres backends (this database)" if f" {self.database} " in title else "postgres (other)"
        return None

    def snapshot(self) -> dict[int, tuple[str, float]]:
        """pid -> (role, CPU seconds so far) for every process that plays a part."""
        server = set(descendants(self.master))
        out = {}
        for pid, (parent, name) in processes().items():
            role = self.of(pid, parent, name, server)
            if role is None:
                continue
            try:
                out[pid] = (role, process_cpu_s(pid))
            except (OSError, IndexError, ValueError):
                pass
        return out


def cpu_by_process(before: dict[int, tuple[str, float]],
                   after: dict[int, tuple[str, float]]) -> dict[int, tuple[str, float]]:
    """CPU seconds each process used between two snapshots (a process born meanwhile counts from zero)."""
    return {pid: (role, max(0.0, cpu - before.get(pid, (role, 0.0))[1])) for pid, (role, cpu) in after.items()}


def group(role: str) -> str:
    return "server (master + workers)" if role.startswith(("worker", "server")) else role


def by_group(used: dict[int, tuple[str, float]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for role, cpu in used.values():
        out[group(role)] = out.get(group(role), 0.0) + cpu
    return out


def per_process_shares(used: dict[int, tuple[str, float]], seconds: float) -> dict[str, float]:
    """Each process's CPU as a share of one core, named by its role (and pid where a role has several)."""
    count = Counter(role for role, _ in used.values())
    return {(role if count[role] == 1 else f"{role} {pid}"): cpu / seconds for pid, (role, cpu) in used.items()}


def what_limits(shares: dict[str, float], machine_share: float, cores: int) -> str:
    """One line saying what bounds the rate: a process using nearly a whole core (it cannot use more),
    or every core busy (then the biggest consumers share them), or no CPU limit at all.
    `shares`: each process's CPU over the window as a fraction of one core; `machine_share`: of all cores."""
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    top = ", ".join(f"{role} {share * 100:.0f}%" for role, share in ranked[:4])
    bound = [role for role, share in ranked if share >= BOUND_SHARE]
    if bound:
        return f"CPU-bound: {', '.join(bound)} at ≥ {BOUND_SHARE * 100:.0f}% of a core (top: {top})"
    if machine_share >= BOUND_SHARE:
        return (f"the machine's {cores} cores are saturated ({machine_share * 100:.0f}% busy), shared by "
                f"{top} (% of one core)")
    return (f"no CPU limit reached ({machine_share * 100:.0f}% of {cores} cores busy; top: {top}): the limit is "
            f"elsewhere (waiting on the database, locks, the shedding of writes)")


async def issue_at_rate(host: str, port: int, token: str, targets: list[tuple[int, int]], rate: int, seconds: int,
                        max_connections: int = 1000) -> tuple[list[float], list[int], int, float, Counter[str]]:
    """Open loop: request i is sent at i / rate s whatever the earlier ones are doing, on an idle keep-alive
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
            if time.perf_counter() - start > seconds + GRACE_S:
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
    for i in range(rate * seconds):
        at = i / rate
        delay = start + at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, at)))
    await asyncio.gather(*tasks)
    for _, writer in idle:
        writer.close()
    return latencies, statuses, unsent, time.perf_counter() - start, failures


class Caller(threading.Thread):
    """A clerk at the displays' office calling a ticket every CALL_EVERY_S while the issues come in; a call
    the server sheds (503) is pressed again shortly. Records each call's delay to every display."""

    def __init__(self, head: Any, counter: int, fleet: ClientFleet, first_round: int) -> None:
        super().__init__(daemon=True)
        self.head, self.counter, self.fleet, self.round = head, counter, fleet, first_round
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.calls = self.missed = self.shed = self.failed = 0

    def run(self) -> None:
        while not self.stop.wait(CALL_EVERY_S):
            while not self.stop.is_set():
                t0 = time.monotonic()
                try:
                    r = self.head.request("POST", f"/api/v1/counters/{self.counter}/next", json={})
                except Exception:  # noqa: BLE001 - a lost answer is counted, the clerk presses again later
                    self.failed += 1
                    break
                if r.status_code == 503:
                    self.shed += 1
                    time.sleep(0.2)
                    continue
                if r.status_code != 200 or r.json().get("ticket") is None:
                    self.failed += 1
                    break
                got = self.fleet.round(self.round, timeout=30)
                self.round += 1
                self.calls += 1
                if got is None:
                    self.missed += 1
                else:
                    self.latencies += [x - t0 for x in got]
                break


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.scale")
    parser.add_argument("--displays", type=int, default=DISPLAYS)
    parser.add_argument("--seconds", type=int, default=SECONDS)
    parser.add_argument("--rate", type=int, default=RATE)
    parser.add_argument("--offices", type=int, default=ISSUING_OFFICES)
    parser.add_argument("--workers", type=int, default=WORKERS)
    args = parser.parse_args(argv if argv is not None else [])
    pg = redis = None
    pg_url, redis_url = os.environ.get("QMS_TEST_POSTGRES_URL"), os.environ.get("QMS_TEST_REDIS_URL")
    if not pg_url:
        pg = PrivatePostgres().init()
        pg_url = pg.url
    if not redis_url:
        redis = PrivateRedis().start()
        redis_url = redis.url
    os.environ["QMS_TEST_POSTGRES_URL"], os.environ["QMS_TEST_REDIS_URL"] = pg_url, redis_url
    raise_fd_limit(args.displays + 2000)
    server = ServerProcess(workers=args.workers,
                           env={"QMS_REDIS_URL": redis_url, "QMS_PING_INTERVAL_S": "15"}).start()
    fleet = None
    load0 = os.getloadavg()
    cores = os.cpu_count() or 1
    under_load_calls = int(args.seconds / CALL_EVERY_S) + GRACE_S
    try:
        office = OfficeSetup(server)
        services = [office.service(c)["id"] for c in "ABCD"]
        counter = office.counter(1, services)["id"]
        head = office.user("bench_scale", "head")
        display = office.device("display")
        head.ok("POST", f"/api/v1/counters/{counter}/open")
        for _ in range(CALLS + under_load_calls):
            head.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": services[0], "print": False})
        procs = max(2, -(-args.displays // SOCKETS_PER_CLIENT_PROC))
        print(f"{args.workers} workers on PostgreSQL + Redis; {cores} cores shared with the clients; load average "
              f"{load0[0]:.2f}")
        t = time.monotonic()
        fleet = ClientFleet(f"{server.ws_url}?token={display.token}", args.displays,
                            {"type": "hello", "since_seq": None}, processes=procs)
        print(f"{args.displays} display clients ({procs} client processes) connected in {time.monotonic() - t:.1f} s")
        time.sleep(3)
        master = server.proc.pid if server.proc else 0
        rss_before = worker_rss_mb(master)
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
        print(f"idle: call to {args.displays} displays p50 {pct(lat, 50) * 1000:.0f} ms, p99 "
              f"{pct(lat, 99) * 1000:.0f} ms, max {max(lat) * 1000:.0f} ms ({CALLS} calls)")
        print("worker RSS MB: " + ", ".join(f"{m:.0f}" for m in rss_before))

        targets = []
        for _ in range(args.offices):
            branch = OfficeSetup(server)
            targets += [(branch.id, branch.service(c)["id"]) for c in "ABCD"]
        database = urlparse(server.database_url).path.lstrip("/")
        roles = Roles(master, database, int(urlparse(redis_url).port or 6379),
                      [os.getpid(), *(p.pid for p in fleet.procs if p.pid)])
        idle0, idle_t = roles.snapshot(), time.monotonic()
        time.sleep(IDLE_S)
        idle = by_group(cpu_by_process(idle0, roles.snapshot()))
        idle_s = time.monotonic() - idle_t

        caller = Caller(head, counter, fleet, CALLS + 1)
        before, busy0, t0 = roles.snapshot(), machine_busy_s(), time.monotonic()
        caller.start()
        lat, statuses, unsent, wall, failures = asyncio.run(
            issue_at_rate("127.0.0.1", server.port, office.admin.token or "", targets, args.rate, args.seconds))
        caller.stop.set()
        caller.join(40)
        after, busy1, window = roles.snapshot(), machine_busy_s(), time.monotonic() - t0
    finally:
        if fleet is not None:
            fleet.close()
        server.stop()
        if pg:
            pg.stop()
        if redis:
            redis.stop()

    offered = args.rate * args.seconds
    ok = [x for x, st in zip(lat, statuses) if st == 201]
    refused = [x for x, st in zip(lat, statuses) if st == 503]
    others = Counter(st for st in statuses if st not in (201, 503))
    errors = sum(others.values()) + unsent

    def share(k: int) -> str:
        return f"{k} ({k / offered * 100:.1f}%)"

    print(f"\nissues offered at {args.rate}/s for {args.seconds} s over {args.offices} offices: {offered}; "
          f"done in {wall:.1f} s")
    print("| outcome | issues (share of offered) | latency from due time p50 ms | p99 ms |")
    print("|---|---:|---:|---:|")
    print(f"| accepted (201) | {share(len(ok))} | {pct(ok, 50) * 1000:.0f} | {pct(ok, 99) * 1000:.0f} |")
    print(f"| refused (503 busy) | {share(len(refused))} | {pct(refused, 50) * 1000:.0f} | "
          f"{pct(refused, 99) * 1000:.0f} |")
    print(f"| errors (other answers by status {dict(others)}, 0 = no HTTP answer; not sent within {GRACE_S} s "
          f"after the last was due: {unsent}) | "
          f"{share(errors)} | | |")
    if failures:
        print(f"client-side failures: {dict(failures)}")
    print(f"accepted rate {len(ok) / wall:.0f}/s")

    cl = caller.latencies
    print(f"\ncall to {args.displays} displays under that load: p50 {pct(cl, 50) * 1000:.0f} ms, p99 "
          f"{pct(cl, 99) * 1000:.0f} ms, max {(max(cl) if cl else float('nan')) * 1000:.0f} ms over {caller.calls} "
          f"calls (one every {CALL_EVERY_S:g} s; {caller.shed} presses shed with 503 and pressed again, "
          f"{caller.missed} calls not on every display within 30 s, {caller.failed} failed)")

    used = cpu_by_process(before, after)
    merged = by_group(used)
    issued = max(1, len(ok))
    idle_rate = {role: cpu / idle_s for role, cpu in idle.items()}
    print(f"\nCPU over the {window:.1f} s window, per accepted ticket ({len(ok)}); idle = the same processes' "
          f"rate over {IDLE_S:g} s before, with the displays connected:")
    print("| processes | CPU s | ms per ticket | idle ms/s | net ms per ticket | share of one core |")
    print("|---|---:|---:|---:|---:|---:|")
    deployment = deployment_net = 0.0
    for role in sorted(merged, key=lambda r: -merged[r]):
        cpu = merged[role]
        net = max(0.0, cpu - idle_rate.get(role, 0.0) * window)
        if not role.startswith(("bench", "postgres (other)")):
            deployment += cpu
            deployment_net += net
        print(f"| {role} | {cpu:.1f} | {cpu / issued * 1000:.1f} | {idle_rate.get(role, 0.0) * 1000:.0f} | "
              f"{net / issued * 1000:.1f} | {cpu / window * 100:.0f}% |")
    machine = busy1 - busy0
    print(f"| deployment (server + this database's PostgreSQL backends + Redis) | {deployment:.1f} | "
          f"{deployment / issued * 1000:.1f} | | {deployment_net / issued * 1000:.1f} | |")
    print(f"| whole machine | {machine:.1f} | {machine / issued * 1000:.1f} | | | "
          f"{machine / window * 100:.0f}% of {cores * 100}% |")
    shares = per_process_shares(used, window)
    print(f"\nwhat limits it: {what_limits(shares, machine / window / cores, cores)}")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
