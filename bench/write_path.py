"""Bench: server CPU per issue and per call of `qms serve` against the write floor, side by side.

Starts the write floor (bench/write_floor.py: token check, day-counter upsert, one row and one event,
durable commit, JSON answer) and a real `qms serve` (SQLite, one process) with an office like the demo's
(three services, six counters, kiosks, a head). Then, taking turns batch by batch so machine noise falls
on both alike, it sends the floor its write, QMS a kiosk's issue (`POST /offices/{id}/tickets`) and a
clerk's call (`POST /counters/{id}/next`, round-robin over the open counters). A `next` is counted as
the counter app presses it: it closes the counter's current ticket as done (the API's default) and calls
the next one, one request, so the queue keeps flowing with no separate finish. With `--finish` a call is
counted alone: the office gets one counter per call of a batch, and the called tickets are finished
(`POST /tickets/{id}/finish`) between the batches, outside the counted windows. Issues run before calls
in every other round and a buffer of waiting tickets is issued first, so a call always finds someone.

CPU per request: the server process's utime + stime from /proc/<pid>/stat, from just before a batch
until the process has settled after it (the work it does after answering: folds, checkpoints, refined
estimates), less the process's idle rate over that window (bench/cpu.py), over the batch's requests.
Latency: from sending a request to its answer, one request at a time over a keep-alive connection.

    python -m bench.write_path [--requests 300] [--batch 50] [--counters 6] [--finish]   (qms bench --only write)
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.cpu import QUIET_S, CpuMeter, idle_rate, pct, process_cpu_s, ratio, verdict  # noqa: E402

TARGET_RATIO = 3.0
REQUESTS = 300
BATCH = 50
COUNTERS = 6
WARMUP = 20


class FloorServer:
    """The write floor in its own process, on a free loopback port, with a fresh database."""

    def __init__(self) -> None:
        from tests.support.server import free_port
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="qms-floor-"))
        self.token = secrets.token_urlsafe(32)
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.write_floor", "--port", str(self.port),
                                      "--db", str(self.dir / "floor.sqlite3"), "--token", self.token],
                                     cwd=str(ROOT), start_new_session=True)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30,
                                 headers={"Authorization": f"Bearer {self.token}"})
        deadline = time.monotonic() + 20
        while True:
            try:
                self.write()
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def write(self) -> None:
        r = self.http.post("/tickets", json={"service_id": 1})
        if r.status_code != 201:
            raise httpx.HTTPStatusError(f"floor answered {r.status_code}", request=r.request, response=r)

    def stop(self) -> None:
        self.http.close()
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class QmsServer:
    """`qms serve` on SQLite, one process, with an office like the demo's."""

    def __init__(self, counters: int, requests: int) -> None:
        from tests.support.server import OfficeSetup, ServerProcess
        hidden = {k: os.environ.pop(k) for k in ("QMS_TEST_POSTGRES_URL", "QMS_TEST_REDIS_URL") if k in os.environ}
        try:  # this bench is about SQLite in one process, whatever the shell has set for the scale-out tests
            self.server = ServerProcess(workers=1, env={"QMS_PING_INTERVAL_S": "60", "QMS_LOG_LEVEL": "warning"})
            self.server.start()
        finally:
            os.environ.update(hidden)
        office = OfficeSetup(self.server, code="BENCH")
        self.services = [office.service(code, name)["id"]
                         for code, name in (("A", "Chứng thực"), ("B", "Hộ tịch"), ("C", "Đất đai"))]
        self.counters = [office.counter(n, self.services)["id"] for n in range(1, counters + 1)]
        head = office.user("bench_head", role="head")
        # a device may issue 60 tickets a minute (server/state.py): the bench's kiosks take turns
        kiosks = [office.device("kiosk", f"Bench kiosk {k}") for k in range(1, max(2, -(-requests // 40)) + 1)]
        base = self.server.base_url
        self.kiosks = [httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {k.token}"})
                       for k in kiosks]
        self.clerk = httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {head.token}"})
        for cid in self.counters:
            self.clerk.post(f"/api/v1/counters/{cid}/open").raise_for_status()
        self.office_id = office.id
        self.issued = self.called = 0
        self.current: list[int] = []  # tickets called and not finished yet

    @property
    def pid(self) -> int:
        assert self.server.proc is not None
        return self.server.proc.pid

    def issue(self) -> None:
        r = self.kiosks[self.issued % len(self.kiosks)].post(f"/api/v1/offices/{self.office_id}/tickets",
                            json={"service_id": self.services[self.issued % len(self.services)], "print": False})
        assert r.status_code == 201, r.text
        self.issued += 1

    def next(self) -> None:
        r = self.clerk.post(f"/api/v1/counters/{self.counters[self.called % len(self.counters)]}/next", json={})
        assert r.status_code == 200 and r.json()["ticket"] is not None, f"no ticket to call: {r.text}"
        self.current.append(r.json()["ticket"]["id"])
        self.called += 1

    def finish_all(self) -> None:
        """Finish every ticket called so far, leaving each counter idle for its next call."""
        for ticket_id in self.current:
            r = self.clerk.post(f"/api/v1/tickets/{ticket_id}/finish", json={})
            assert r.status_code in (200, 409), r.text  # 409: a later next on its counter already closed it
        self.current.clear()

    def stop(self) -> None:
        for k in self.kiosks:
            k.close()
        self.clerk.close()
        self.server.stop()


class Side:
    """One kind of request against one server: its CPU and latencies over every batch."""

    def __init__(self, name: str, send: Callable[[], None], meter: CpuMeter) -> None:
        self.name, self.send, self.meter = name, send, meter
        self.cpu_s = 0.0
        self.count = 0
        self.latencies: list[float] = []

    def batch(self, n: int) -> None:
        self.meter.start()
        for _ in range(n):
            t0 = time.perf_counter()
            self.send()
            self.latencies.append((time.perf_counter() - t0) * 1000)
        self.cpu_s += self.meter.settle()
        self.count += n

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / self.count * 1000 if self.count else float("nan")


def finish_batch(qms: QmsServer, meter: CpuMeter) -> None:
    """Finish the called tickets and let the server settle, so none of it falls in a counted window."""
    meter.start()
    qms.finish_all()
    meter.settle()


def run(requests: int, batch: int, counters: int, finish: bool = False) -> int:
    """finish: each call is a call alone, on an idle counter (one counter per call of a batch); the
    tickets are finished between the batches, outside the counted windows."""
    if finish:
        counters = max(counters, batch)
    os.chdir(ROOT)
    load0 = os.getloadavg()
    floor = FloorServer()
    qms = None
    try:
        qms = QmsServer(counters, requests + WARMUP + batch)
        for _ in range(WARMUP + batch):  # warm both up; leaves a buffer of waiting tickets for the calls
            floor.write()
            qms.issue()
        for _ in range(WARMUP):
            qms.next()
        floor_pid, qms_pid = floor.pid, qms.pid
        floor_idle = idle_rate(lambda: process_cpu_s(floor_pid))
        qms_idle = idle_rate(lambda: process_cpu_s(qms_pid))
        floor_meter = CpuMeter(lambda: process_cpu_s(floor_pid), floor_idle)
        qms_meter = CpuMeter(lambda: process_cpu_s(qms_pid), qms_idle)
        floor_side = Side("floor write", floor.write, floor_meter)
        issue = Side("qms issue", qms.issue, qms_meter)
        call = Side("qms next (call only)" if finish else "qms next (closes current, calls)", qms.next, qms_meter)
        if finish:
            finish_batch(qms, qms_meter)
        rounds = max(1, requests // batch)
        for r in range(rounds):
            # the floor sits beside each of QMS's batches; every other round the order is reversed
            order = [floor_side, issue, floor_side, call]
            for side in order if r % 2 == 0 else reversed(order):
                side.batch(batch)
                if finish and side is call:
                    finish_batch(qms, qms_meter)
        timed_out = floor_meter.timed_out + qms_meter.timed_out
    finally:
        floor.stop()
        if qms is not None:
            qms.stop()
    load1 = os.getloadavg()

    print(f"SQLite, one server process each; {rounds} rounds of {batch} requests per kind taking turns "
          f"({floor_side.count} floor writes, {issue.count} issues, {call.count} calls over {counters} counters); "
          f"{os.cpu_count()} CPUs; load average {load0[0]:.2f} before, {load1[0]:.2f} after")
    print(f"CPU from /proc/<pid>/stat until the process is quiet for {QUIET_S} s after each batch, less its idle "
          f"rate (floor {floor_idle * 1000:.1f} ms/s, qms {qms_idle * 1000:.1f} ms/s)"
          + (f"; {timed_out} batches never settled" if timed_out else ""))
    print("| request | CPU ms/request | × floor | target | verdict | p50 ms | p99 ms |")
    print("|---|---:|---:|:---:|:---:|---:|---:|")
    floor_ms = floor_side.cpu_ms
    print(f"| floor write | {floor_ms:.2f} | 1.00 | | | {pct(floor_side.latencies, 50):.2f} | "
          f"{pct(floor_side.latencies, 99):.2f} |")
    for side in (issue, call):
        x = ratio(side.cpu_ms, floor_ms)
        print(f"| {side.name} | {side.cpu_ms:.2f} | {x:.2f} | ≤ {TARGET_RATIO:g}× | {verdict(x, TARGET_RATIO)} | "
              f"{pct(side.latencies, 50):.2f} | {pct(side.latencies, 99):.2f} |")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.write_path")
    parser.add_argument("--requests", type=int, default=REQUESTS, help="per kind of request")
    parser.add_argument("--batch", type=int, default=BATCH)
    parser.add_argument("--counters", type=int, default=COUNTERS)
    parser.add_argument("--finish", action="store_true",
                        help="count a call alone: one counter per call of a batch, finished between batches")
    args = parser.parse_args(argv if argv is not None else [])
    return run(args.requests, min(args.batch, args.requests), args.counters, args.finish)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
