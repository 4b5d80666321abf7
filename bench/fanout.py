"""Bench: call-to-display latency with 100, 1,000 and 5,000 connected lobby displays, against the floor.

For each size, N display WebSocket clients (asyncio + websockets, split over two client processes)
connect to a real `qms serve` subprocess with a paired display's token, and another N connect to a bare
Starlette broadcast server (bench/floor_server.py, uvicorn, no per-message compression) that sends the
very same `ticket.called` text. Both fleets stay connected for the whole size and the two servers take
turns, round by round, so machine noise falls on both alike. One round = one trigger: `POST
/counters/{id}/next` for QMS, `POST /broadcast` for the floor. Latency = receipt at a client - the
instant just before the trigger's HTTP request, both read from CLOCK_MONOTONIC on this machine. The
first round of each size is a warm-up and is not counted. Prints p50/p99 per size, the ratio of the
p99s, and the servers' RSS at the largest size.

Targets (issue 16), each printed with PASS/FAIL per size:
- call to display p99 ≤ 1.5x the bare broadcast's p99 at 1,000 displays and more; below that (100) ≤ 1.5x
  (the bare broadcast's p99 + the write floor's latency p99): a durable call cannot be cheaper than a
  durable write. The write floor (bench/write_floor.py) runs beside them; after each of the broadcast's
  rounds it answers WRITES_PER_ROUND writes, whose latencies give its p99 at that size.
- the time to connect every display ≤ 2x the bare broadcast's;
- memory per connected display ≤ 1.5x: (RSS once the fleet has connected, before any call - RSS before it
  connected) / displays.

    python -m bench.fanout [--sizes 100,1000,5000] [--rounds 40]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx

from bench.cpu import pct, ratio, verdict
from bench.write_path import FloorServer

ROOT = Path(__file__).resolve().parents[1]
SIZES = (100, 1000, 5000)
CLIENT_PROCS = 2
CONNECT_BATCH = 100
ROUND_TIMEOUT_S = 20.0
TARGET_RATIO = 1.5
CONNECT_TARGET = 2.0
MEMORY_TARGET = 1.5
WRITE_FLOOR_BELOW = 1000  # under this many displays the latency target adds the write floor's p99
WRITES_PER_ROUND = 3
ROUNDS = 40
CALL_MARK = '"ticket.called"'


# ---------------------------------------------------------------- client processes
def _client_main(conn: Connection, url: str, n: int, hello: str, snapshots: bool) -> None:
    raise_fd_limit(n + 64)  # this process holds n sockets: the soft limit up to the hard one
    asyncio.run(_clients(conn, url, n, hello, snapshots))


async def _clients(conn: Connection, url: str, n: int, hello: str, snapshots: bool) -> None:
    import websockets
    rounds: dict[int, list[float]] = {}
    loop = asyncio.get_running_loop()
    closing = False
    # a QMS hello without since_seq is answered by a snapshot; the floor answers no hello at all
    wants_snapshot = snapshots and json.loads(hello).get("since_seq") is None

    async def reader(ws: Any) -> None:
        seen = 0
        try:
            async for raw in ws:
                if CALL_MARK in raw:
                    at = time.monotonic()
                    seen += 1
                    got = rounds.setdefault(seen, [])
                    got.append(at)
                    if len(got) == len(sockets):
                        conn.send(("round", seen, got))
                elif raw == '{"type":"ping"}':
                    await ws.send('{"type":"pong"}')
        except websockets.ConnectionClosed:
            if not closing:
                conn.send(("lost", 1, []))

    async def connect() -> Any:
        ws = await websockets.connect(url, compression=None, ping_interval=None, open_timeout=120,
                                      close_timeout=1, max_size=2**22)
        await ws.send(hello)
        if wants_snapshot:  # connected = the server has sent the state, so a call is not stuck behind it
            while '"snapshot"' not in await ws.recv():
                pass
        return ws

    sockets: list[Any] = []
    readers: list[asyncio.Task[None]] = []
    for i in range(0, n, CONNECT_BATCH):
        batch = await asyncio.gather(*(connect() for _ in range(min(CONNECT_BATCH, n - i))))
        sockets += batch
        # read (and answer pings) from the start: a server drops clients that stay silent while the rest connect
        readers += [asyncio.create_task(reader(ws)) for ws in batch]
    conn.send(("ready", len(sockets)))
    await loop.run_in_executor(None, conn.recv)  # "close"
    closing = True
    for ws in sockets:
        ws.transport.abort()  # an abrupt close, so thousands of goodbyes do not slow the next size
    for t in readers:
        t.cancel()
    conn.send(("closed", len(sockets)))


class ClientFleet:
    """N connections over a few processes (CLIENT_PROCS unless told); collects each round's receipt times."""

    def __init__(self, url: str, n: int, hello: dict[str, Any], snapshots: bool = True,
                 processes: int = CLIENT_PROCS) -> None:
        ctx = mp.get_context("spawn")
        self.pipes: list[Connection] = []
        self.procs = []
        self.lost = 0  # connections the server closed while the bench still wanted them
        share = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
        for k in share:
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_client_main, args=(child, url, k, json.dumps(hello), snapshots),
                            daemon=True)
            p.start()
            self.pipes.append(parent)
            self.procs.append(p)
        for pipe in self.pipes:
            while (msg := pipe.recv())[0] != "ready":
                self.lost += msg[1]

    def round(self, r: int, timeout: float = ROUND_TIMEOUT_S) -> list[float] | None:
        """Every client's receipt time of the r-th call, or None if some did not get it in time."""
        times: list[float] = []
        deadline = time.monotonic() + timeout
        for pipe in self.pipes:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not pipe.poll(left):
                    return None
                kind, num, got = pipe.recv()
                if kind == "lost":
                    self.lost += num
                elif kind == "round" and num == r:
                    times += got
                    break
        return times

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send("close")
        for pipe, p in zip(self.pipes, self.procs):
            try:
                while pipe.poll(10):
                    if pipe.recv()[0] == "closed":
                        break
            except EOFError:
                pass
            p.join(10)
            if p.is_alive():
                p.kill()


# ---------------------------------------------------------------- the two servers
def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, in MB (from /proc)."""
    total = 0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class QmsTarget:
    name = "qms"
    # after a call QMS folds its report facts (0.1 s) and refines the waits once the office has been still
    # for 0.5 s (server/estimator.py): that bookkeeping is done before the floor's next round
    rest_s = 1.0

    def __init__(self) -> None:
        sys.path.insert(0, str(ROOT))
        from tests.support.server import OfficeSetup, ServerProcess
        self.server = ServerProcess(env={"QMS_PING_INTERVAL_S": "60", "QMS_LOG_LEVEL": "warning"}).start()
        office = OfficeSetup(self.server, code="BENCH")
        svc = office.service("A", "Chứng thực")
        counter = office.counter(1, [svc["id"]])
        self.head = office.user("bench_head", role="head")
        self.display_token = office.device("display", "Bench display").token
        self.office_id = office.id
        self.counter_id = counter["id"]
        self.http = httpx.Client(base_url=self.server.base_url, timeout=120,
                                 headers={"Authorization": f"Bearer {self.head.token}"})
        self.http.post(f"/api/v1/counters/{self.counter_id}/open").raise_for_status()
        self.service_id = svc["id"]
        self.sample = ""

    def ensure_tickets(self, n: int) -> None:
        for _ in range(n):
            self.http.post(f"/api/v1/offices/{self.office_id}/tickets",
                           json={"service_id": self.service_id, "print": False}).raise_for_status()

    @property
    def pid(self) -> int:
        assert self.server.proc is not None
        return self.server.proc.pid

    def url_and_hello(self) -> tuple[str, dict[str, Any]]:
        last = self.last_seq()
        return f"{self.server.ws_url}?token={self.display_token}", {"type": "hello", "since_seq": last}

    def last_seq(self) -> int:
        async def get() -> int:
            import websockets
            async with websockets.connect(f"{self.server.ws_url}?token={self.display_token}",
                                          compression=None) as ws:
                await ws.send(json.dumps({"type": "hello", "since_seq": None}))
                while True:
                    msg = json.loads(await ws.recv())
                    if msg["type"] == "snapshot":
                        return int(msg["seq"])
        return asyncio.run(get())

    def trigger(self) -> None:
        r = self.http.post(f"/api/v1/counters/{self.counter_id}/next")
        r.raise_for_status()
        assert r.json()["ticket"] is not None, "ran out of tickets"

    def capture_call_text(self) -> str:
        """The exact `ticket.called` text a display receives (the floor broadcasts the same bytes)."""
        async def get() -> str:
            import websockets
            async with websockets.connect(f"{self.server.ws_url}?token={self.display_token}",
                                          compression=None) as ws:
                await ws.send(json.dumps({"type": "hello", "since_seq": None}))
                await ws.recv()
                await asyncio.get_running_loop().run_in_executor(None, self.trigger)
                while True:
                    raw = await ws.recv()
                    if CALL_MARK in raw:
                        return str(raw)
        self.ensure_tickets(1)
        return asyncio.run(get())

    def connected(self) -> int:
        for line in self.http.get("/metrics").text.splitlines():
            if line.startswith("qms_websocket_clients "):
                return int(float(line.split()[1]))
        return 0

    def stop(self) -> None:
        self.http.close()
        self.server.stop()


class FloorTarget:
    name = "floor"
    rest_s = 0.15

    def __init__(self, message: str) -> None:
        from tests.support.server import free_port
        self.port = free_port()
        self.message = message.encode()
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.floor_server", "--port", str(self.port)],
                                     cwd=str(ROOT), start_new_session=True)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.http.get("/count").raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def url_and_hello(self) -> tuple[str, dict[str, Any]]:
        return f"ws://127.0.0.1:{self.port}/ws", {"type": "hello", "since_seq": None}

    def ensure_tickets(self, n: int) -> None:
        pass

    def trigger(self) -> None:
        self.http.post("/broadcast", content=self.message).raise_for_status()

    def connected(self) -> int:
        return int(self.http.get("/count").text)

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(10)


# ---------------------------------------------------------------- measuring
def _summary(lat: list[float], after_reply: list[float], slowest: list[float], lost: int, connect_s: float,
             rss: float, rss_for_clients: float, n: int) -> dict[str, Any]:
    return {"p50": pct(lat, 50), "p99": pct(lat, 99),
            "max": max(lat) if lat else float("nan"),
            # a call's slowest display, median over calls: the typical call, where p99 is its worst one or two
            "slowest_p50": pct(slowest, 50),
            "reply_p99": pct(after_reply, 99), "samples": len(lat),
            "lost_rounds": lost, "connect_s": connect_s, "rss_mb": rss,
            "kb_per_display": rss_for_clients * 1024 / n if n else float("nan")}


def measure(targets: list[Any], n: int, rounds: int,
            writes: Callable[[], None] | None = None) -> tuple[list[dict[str, Any]], list[float]]:
    """Latencies (ms) of `rounds` triggers of each target seen by its n clients, after one warm-up each,
    and the latencies (ms) of the write floor's requests, WRITES_PER_ROUND after each of the first
    target's rounds (the bare broadcast's, while it rests).

    Every target has its own n clients connected at once and the targets take turns, round by round
    (A B, then B A), so a stretch of machine noise falls on both alike instead of on whichever ran then.
    After each trigger the bench waits until that target has gone quiet (`rest_s`) before the next
    one's round.
    """
    fleets: list[tuple[ClientFleet, float]] = []
    lat: list[list[float]] = [[] for _ in targets]
    after_reply: list[list[float]] = [[] for _ in targets]
    slowest: list[list[float]] = [[] for _ in targets]
    lost = [0 for _ in targets]
    rss = [0.0 for _ in targets]
    write_lat: list[float] = []
    rss_before = [0.0 for _ in targets]
    rss_connected = [0.0 for _ in targets]
    try:
        for k, target in enumerate(targets):
            target.ensure_tickets(rounds + 1)
            url, hello = target.url_and_hello()
            rss_before[k] = _rss_mb(target.pid)
            started = time.monotonic()
            fleets.append((ClientFleet(url, n, hello, target.name == "qms"), time.monotonic() - started))
            rss_connected[k] = _rss_mb(target.pid)  # before any call: what the connections themselves hold
        for r in range(1, rounds + 2):
            order = range(len(targets)) if r % 2 else reversed(range(len(targets)))
            for k in order:
                target, (fleet, _) = targets[k], fleets[k]
                t0 = time.monotonic()
                target.trigger()
                t1 = time.monotonic()
                got = fleet.round(r, ROUND_TIMEOUT_S if r > 1 else 120)  # the warm-up waits for every hello
                if got is None:
                    lost[k] += 1
                elif r > 1:
                    lat[k] += [(t - t0) * 1000 for t in got]
                    after_reply[k] += [(t - t1) * 1000 for t in got]
                    slowest[k].append((max(got) - t0) * 1000)
                if writes is not None and k == 0 and r > 1:
                    for _ in range(WRITES_PER_ROUND):
                        w0 = time.perf_counter()
                        writes()
                        write_lat.append((time.perf_counter() - w0) * 1000)
                time.sleep(target.rest_s)
        rss = [_rss_mb(target.pid) for target in targets]
    finally:
        for fleet, _ in fleets:
            fleet.close()
        for target in targets:
            settle(target)
    return [_summary(lat[k], after_reply[k], slowest[k], lost[k], fleets[k][1], rss[k],
                     rss_connected[k] - rss_before[k], n)
            for k in range(len(targets))], write_lat


def settle(target: Any, timeout: float = 60) -> None:
    """Wait until the server has let go of every client, so one size's teardown never overlaps the next."""
    deadline = time.monotonic() + timeout
    while target.connected() > 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(0.5)


def raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, need)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < need:
        print(f"warning: open-file limit {want} < {need}; raise it (ulimit -n) for the largest size")


def latency_basis(n: int, floor_p99: float, write_p99: float) -> tuple[float, str]:
    """What QMS's call-to-display p99 is held to at n displays: the bare broadcast's p99, plus the write
    floor's p99 below WRITE_FLOOR_BELOW displays (a call is a durable write before it is a broadcast)."""
    if n < WRITE_FLOOR_BELOW:
        return floor_p99 + write_p99, "broadcast + write floor"
    return floor_p99, "broadcast"


def target_rows(n: int, f: dict[str, Any], q: dict[str, Any], write_p99: float) -> list[tuple[str, ...]]:
    """The table's lines for one size: figure, bare value, QMS value, ratio, target, verdict."""
    basis, what = latency_basis(n, f["p99"], write_p99)
    rows: list[tuple[str, ...]] = []
    x = ratio(q["p99"], basis)
    rows.append((f"call→display p99 ms vs {what}",
                 f"{basis:.1f}" + (f" ({f['p99']:.1f} + {write_p99:.1f})" if n < WRITE_FLOOR_BELOW else ""),
                 f"{q['p99']:.1f}" + (f" ({q['lost_rounds']} lost rounds)" if q["lost_rounds"] else ""),
                 f"{x:.2f}", f"≤ {TARGET_RATIO:g}×", verdict(x, TARGET_RATIO) if not q["lost_rounds"] else "FAIL"))
    x = ratio(q["connect_s"], f["connect_s"])
    rows.append(("connect every display s", f"{f['connect_s']:.2f}", f"{q['connect_s']:.2f}", f"{x:.2f}",
                 f"≤ {CONNECT_TARGET:g}×", verdict(x, CONNECT_TARGET)))
    x = ratio(q["kb_per_display"], f["kb_per_display"])
    rows.append(("memory per display kB (RSS delta / displays)", f"{f['kb_per_display']:.1f}",
                 f"{q['kb_per_display']:.1f}", f"{x:.2f}", f"≤ {MEMORY_TARGET:g}×", verdict(x, MEMORY_TARGET)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.fanout")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args(argv if argv is not None else [])
    sizes = [int(s) for s in args.sizes.split(",")]
    raise_fd_limit(max(sizes) + 512)
    os.chdir(ROOT)
    load0 = os.getloadavg()
    qms = QmsTarget()
    floor = None
    writer = FloorServer()
    rows = []
    try:
        sample = qms.capture_call_text()
        floor = FloorTarget(sample)
        print(f"message: ticket.called, {len(sample.encode())} bytes; {CLIENT_PROCS} client processes; "
              f"{args.rounds} calls per size after a warm-up; {os.cpu_count()} CPUs; load average "
              f"{load0[0]:.2f}", flush=True)
        for n in sizes:
            (f, q), writes = measure([floor, qms], n, args.rounds, writer.write)
            write_p99 = pct(writes, 99)
            rows.append((n, f, q, write_p99))
            ratio_ = ratio(q["p99"], f["p99"])
            print(f"  {n:>5} clients  floor p50 {f['p50']:7.1f} ms  p99 {f['p99']:7.1f} ms | "
                  f"qms p50 {q['p50']:7.1f} ms  p99 {q['p99']:7.1f} ms | p99 ratio {ratio_:4.2f} | slowest display "
                  f"per call, median: floor {f['slowest_p50']:.1f} qms {q['slowest_p50']:.1f} ms"
                  f"  (lost rounds {f['lost_rounds']}/{q['lost_rounds']}, "
                  f"connect {f['connect_s']:.1f}/{q['connect_s']:.1f} s, write floor p99 {write_p99:.1f} ms)",
                  flush=True)
    finally:
        qms.stop()
        writer.stop()
        if floor is not None:
            floor.stop()

    print()
    print("Latency from just before the trigger's HTTP request to receipt (for qms that includes the `next`")
    print("transaction); 'after reply' counts from the trigger's HTTP response instead. QMS answers once the")
    print("call's events are on every display's socket or queue, so its figure can be negative: the displays")
    print("had the call before the clerk's screen had the answer. 'slowest' is each call's last display to have")
    print("it, median over the calls: the typical call, where p99 is set by the worst one or two. 'write floor'")
    print(f"is the latency of the bare durable write (bench/write_floor.py), {WRITES_PER_ROUND} per round.")
    print("| clients | floor p50 ms | floor p99 ms | qms p50 ms | qms p99 ms | p99 ratio "
          "| floor p99 after reply | qms p99 after reply | floor slowest | qms slowest | write floor p99 |")
    print("|--------:|-------------:|-------------:|-----------:|-----------:|----------:"
          "|------:|------:|------:|------:|------:|")
    for n, f, q, write_p99 in rows:
        ratio_ = ratio(q["p99"], f["p99"])
        print(f"| {n:>7,} | {f['p50']:12.1f} | {f['p99']:12.1f} | {q['p50']:10.1f} | {q['p99']:10.1f} | "
              f"{ratio_:9.2f} | {f['reply_p99']:.1f} | {q['reply_p99']:.1f} | "
              f"{f['slowest_p50']:.1f} | {q['slowest_p50']:.1f} | {write_p99:.1f} |")
    print()
    print("Targets, measured in this run (bare = the bare broadcast, bench/floor_server.py):")
    print("| displays | figure | bare | qms | ratio | target | verdict |")
    print("|---:|---|---:|---:|---:|:---:|:---:|")
    ok = True
    for n, f, q, write_p99 in rows:
        for line in target_rows(n, f, q, write_p99):
            ok &= line[-1] == "PASS"
            print(f"| {n:,} | " + " | ".join(line) + " |")
    big = rows[-1]
    print(f"\nserver RSS with {big[0]:,} display clients connected: qms {big[2]['rss_mb']:.0f} MB, "
          f"floor {big[1]['rss_mb']:.0f} MB; load average {os.getloadavg()[0]:.2f} at the end")
    print(f"every target met: {'yes' if ok else 'NO'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
