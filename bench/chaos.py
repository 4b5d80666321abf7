"""A province day under faults: nothing lost, nothing called twice, figures equal to the log.

PostgreSQL + Redis (private servers on loopback, so they can be stopped) and 4 uvicorn workers started
here; offices with kiosks (issuing, some printed, some elderly), counters (next, start, no-show,
transfer, recall), a rating tablet, lobby displays on the WebSocket, a fake TCP printer per office and a
webhook receiver. A compressed day runs while faults are injected on a schedule printed at the start:
SIGKILL of one worker, then of all of them (restarted as a service manager would); PostgreSQL stopped
and restarted; Redis restarted; a printer unplugged and back, paper out; the webhook receiver down; a
burst of display reconnects; malformed requests and WebSocket frames all along. Then the audit
(bench/chaos_audit.py); the exit status is 1 when any audit line fails.

    python -m bench.chaos            # 20 offices, 500 displays, about 10 minutes
    python -m bench.chaos --short    # 4 offices, 60 displays, each fault once, about 2 minutes
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import httpx
import websockets

from bench.chaos_audit import (Line, OfficeDay, called_once_and_in_order, displays_saw_every_call, event_time,
                               every_201_exists, live_matches_log, printed_once, reports_match_log, seq_gapless,
                               webhooks_delivered)
from bench.chaos_peers import Answers, Display, Http, WebhookReceiver
from bench.fanout import raise_fd_limit
from bench.cpu import workers_cpu_s
from tests.support.server import Api, OfficeSetup, ServerProcess, free_port
from tests.support.services import PrivatePostgres, PrivateRedis
from tests.ticket_printer.fakeprinter import FakePrinter

WORKERS = 4
WEBHOOK_TYPES = ("ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show", "ticket.cancelled",
                 "ticket.transferred", "feedback.received")


@dataclass(frozen=True)
class Plan:
    offices: int
    displays: int
    seconds: float  # the compressed day
    ticket_every_s: float  # per office
    service_s: tuple[float, float]
    burst: int  # displays dropped at once
    receiver_down_s: float
    pg_down_s: float
    printer_off_s: float
    bound_s: float  # the whole run, set-up and audit included


FULL = Plan(offices=20, displays=500, seconds=600, ticket_every_s=4.0, service_s=(2.0, 7.0), burst=500,
            receiver_down_s=120, pg_down_s=20, printer_off_s=30, bound_s=1500)
SHORT = Plan(offices=4, displays=60, seconds=100, ticket_every_s=2.0, service_s=(1.0, 3.0), burst=60,
             receiver_down_s=12, pg_down_s=8, printer_off_s=8, bound_s=420)


@dataclass
class Fault:
    name: str
    at_s: float  # from the start of the day
    started: float = 0.0
    healed: float | None = None

    worst_delay: float | None = None  # the slowest call-to-display of the calls made meanwhile
    note: str = ""  # how the heal time splits, where the bench can tell

    @property
    def heal_s(self) -> float | None:
        return None if self.healed is None else self.healed - self.started


@dataclass
class Office:
    setup: OfficeSetup
    services: list[int]
    counters: dict[int, list[int]]
    clerks: dict[int, str]  # counter -> token
    head: str
    kiosk: str
    display: str
    tablet: str
    tablet_counter: int
    printer: FakePrinter
    day: OfficeDay
    jobs: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))  # ticket -> print jobs


class Day:
    """The running day: server, peers, actors, faults."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.answers = Answers()
        self.rng = random.Random(20261204)
        self.pg = PrivatePostgres().init()
        self.redis = PrivateRedis().start()
        self.secret = secrets.token_hex(16)
        self.receiver = WebhookReceiver(self.secret, free_port())
        os.environ["QMS_TEST_POSTGRES_URL"] = self.pg.url  # the server's own fresh database is made there
        self.server = ServerProcess(workers=WORKERS, env={
            "QMS_REDIS_URL": self.redis.url, "QMS_PING_INTERVAL_S": "5", "QMS_WEBHOOK_RETRY_BASE_S": "0.5",
            "QMS_WEBHOOK_RETRY_MAX_S": "4"})
        self.offices: list[Office] = []
        self.displays: list[Display] = []
        self.faults: list[Fault] = []
        self.stop_at = 0.0
        self.t0 = 0.0
        self.delay_p50: float | None = None
        self.cpu_before_restart = 0.0  # CPU of the workers killed all at once (their parent is gone after)
        self.delay_p99: float | None = None

    # ---- set-up
    def set_up(self) -> None:
        self.server.start(timeout=60)
        for i in range(self.plan.offices):
            self.offices.append(self._office(i))

    def _office(self, i: int) -> Office:
        s = OfficeSetup(self.server, code=f"chaos{i}")
        services = [s.service(code)["id"] for code in "ABCD"]
        layout = {1: services[0:2], 2: services[1:3], 3: services[2:4]}
        counters, clerks = {}, {}
        for n, sids in layout.items():
            c = s.counter(n, sids)
            counters[c["id"]] = sids
            clerks[c["id"]] = s.user(f"cb{i}_{n}").token or ""
        head = s.user(f"head{i}", role="head").token or ""
        printer = FakePrinter()
        p = s.admin.ok("POST", f"/api/v1/offices/{s.id}/printers", json={
            "name": f"Kiosk {i}", "transport": "network", "address": printer.address, "width_px": 576,
            "mode": "text"})
        s.admin.ok("PATCH", f"/api/v1/offices/{s.id}", json={"default_printer_id": p["id"]})
        first = next(iter(counters))
        tablet = self._pair(s, i, head, "tablet", f"Tablet {i}", counter_id=first)
        s.admin.ok("POST", f"/api/v1/offices/{s.id}/webhooks", json={
            "url": self.receiver.url, "events": list(WEBHOOK_TYPES), "secret": self.secret})
        day = OfficeDay(s.id, {cid: set(sids) for cid, sids in counters.items()},
                        webhook_types=frozenset(WEBHOOK_TYPES))
        return Office(s, services, counters, clerks, head, self._pair(s, i, head, "kiosk"),
                      self._pair(s, i, head, "display"),
                      tablet, first, printer, day)

    def _pair(self, s: OfficeSetup, i: int, head: str, kind: str, name: str | None = None, **kw: Any) -> str:
        """Pair a device from its office's own address (X-Forwarded-For, which uvicorn trusts from loopback),
        approved by the office's head: pairing is limited per address and approvals per approver, and 20
        offices' devices do not all come from one place nor wait for one person."""
        with httpx.Client(base_url=self.server.base_url, timeout=30,
                          headers={"X-Forwarded-For": f"10.20.{i // 250}.{i % 250 + 1}"}) as anon:
            r = anon.post("/api/v1/pairings", json={"kind": kind})
            assert r.status_code == 201, r.text
            p = r.json()
            approver = Api(self.server.base_url, head)
            approver.ok("POST", f"/api/v1/offices/{s.id}/pairings/{p['code']}/approve",
                        json={"name": name or kind, **kw})
            approver.http.close()
            token = anon.get(f"/api/v1/pairings/{p['pairing_id']}").json().get("token")
        assert token, f"pairing a {kind} for office {i} gave no token"
        return str(token)

    # ---- the day
    async def run(self) -> None:
        await self.receiver.start()
        for k in range(self.plan.displays):
            o = self.offices[k % len(self.offices)]
            self.displays.append(Display(self.server.ws_url, o.display, o.setup.id))
        display_tasks = [asyncio.create_task(d.run()) for d in self.displays]
        await asyncio.wait_for(asyncio.gather(*(d.connected.wait() for d in self.displays)), 120)
        self.t0 = time.time()
        self.stop_at = self.t0 + self.plan.seconds
        self.faults = self._schedule()
        print("faults (seconds into the day):")
        for f in self.faults:
            print(f"  {f.at_s:6.0f}  {f.name}")
        actors = [asyncio.create_task(self._kiosk(o)) for o in self.offices]
        actors += [asyncio.create_task(self._clerk(o, cid)) for o in self.offices for cid in o.counters]
        actors.append(asyncio.create_task(self._malformed()))
        await self._faults()
        await asyncio.gather(*actors)
        await self._settle()
        for d in self.displays:
            await d.stop()
        for t in display_tasks:
            t.cancel()

    def _schedule(self) -> list[Fault]:
        d = self.plan.seconds
        return [Fault("SIGKILL of one worker", 0.08 * d), Fault("printer unplugged", 0.16 * d),
                Fault("printer out of paper", 0.26 * d), Fault("webhook receiver down", 0.32 * d),
                Fault("PostgreSQL stopped", 0.44 * d), Fault("Redis restarted", 0.58 * d),
                Fault(f"burst of {min(self.plan.burst, self.plan.displays)} display reconnects", 0.68 * d),
                Fault("SIGKILL of every worker", 0.78 * d)]

    async def _at(self, s: float) -> None:
        await asyncio.sleep(max(0.0, self.t0 + s - time.time()))

    async def _faults(self) -> None:
        kinds: list[Callable[[Fault], Awaitable[None]]] = [
            self._kill_one_worker, lambda f: self._printer_off(f, 0, "unplug"),
            lambda f: self._printer_off(f, 1 % len(self.offices), "paper"), self._receiver_down,
            self._pg_down, self._redis_restart, self._reconnect_burst, self._kill_all]
        for f, inject in zip(self.faults, kinds):
            await self._at(f.at_s)
            f.started = time.time()
            print(f"[{f.started - self.t0:6.1f} s] {f.name}", flush=True)
            await inject(f)
            if f.healed:
                print(f"[{time.time() - self.t0:6.1f} s]   healed in {f.heal_s or 0:.1f} s"
                      + (f" ({f.note})" if f.note else ""), flush=True)
        self.stop_at = max(self.stop_at, time.time() + 10)  # the day goes on a little after the last fault
        await asyncio.sleep(max(0.0, self.stop_at - time.time()))

    async def _healthy_write(self, timeout: float = 90) -> float | None:
        """When the deployment answers /healthz 200 and issues a ticket again (a probe in office 0)."""
        o = self.offices[0]
        kiosk = Http(self.server.base_url, self.answers, o.kiosk)
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                st, _ = await kiosk.call("probe", "GET", "/healthz")
                if st == 200:
                    st, body = await kiosk.call("probe", "POST", f"/api/v1/offices/{o.setup.id}/tickets",
                                                {"service_id": o.services[0], "print": False})
                    if st == 201:
                        o.day.issued_201[body["id"]] = body["display_number"]
                        return time.time()
                await asyncio.sleep(0.25)
            return None
        finally:
            await kiosk.close()

    def _worker_pids(self) -> list[int]:
        """The uvicorn workers (spawned children of the server's process; not its resource tracker), alive."""
        master = self.server.proc.pid if self.server.proc else 0
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    cmdline = (entry / "cmdline").read_bytes()
                except (OSError, IndexError):
                    continue
                if fields[1] == str(master) and fields[0] != "Z" and b"spawn_main" in cmdline \
                        and b"resource_tracker" not in cmdline:
                    out.append(int(entry.name))
        return out

    async def _kill_one_worker(self, f: Fault) -> None:
        before = self._worker_pids()
        os.kill(before[0], signal.SIGKILL)
        deadline = time.time() + 60
        while time.time() < deadline:
            now = set(self._worker_pids())
            if len(now) >= len(before) and before[0] not in now:
                break
            await asyncio.sleep(0.2)
        f.healed = await self._healthy_write()

    async def _kill_all(self, f: Fault) -> None:
        self.cpu_before_restart += workers_cpu_s(self.server.proc.pid if self.server.proc else 0)
        await asyncio.to_thread(self.server.kill)
        await asyncio.to_thread(self.server.start, 60)  # the service manager starts it again
        up = time.time()
        f.healed = await self._healthy_write()
        f.note = f"/healthz 200 after {up - f.started:.1f} s"

    async def _pg_down(self, f: Fault) -> None:
        await asyncio.to_thread(self.pg.stop)
        await asyncio.sleep(self.plan.pg_down_s)
        await asyncio.to_thread(self.pg.start)
        f.started = time.time()  # heal time counts from the database's return
        f.healed = await self._healthy_write()

    async def _redis_restart(self, f: Fault) -> None:
        await asyncio.to_thread(self.redis.stop)
        await asyncio.sleep(1)
        await asyncio.to_thread(self.redis.start)
        f.healed = await self._healthy_write()

    async def _printer_off(self, f: Fault, index: int, how: str) -> None:
        o = self.offices[index]
        if how == "unplug":
            o.printer.refuse_connections()
        else:
            o.printer.paper = "out"
        await asyncio.sleep(self.plan.printer_off_s)
        if how == "unplug":
            o.printer.accept_connections()
        else:
            o.printer.paper = "ok"
        f.started = time.time()  # heal: every job of that office queued meanwhile has printed
        head = Http(self.server.base_url, self.answers, o.head)
        pending = [j for jobs in list(o.jobs.values()) for j in jobs]
        deadline = time.time() + 90
        while time.time() < deadline:
            statuses = [await self._job_status(head, j) for j in pending[-40:]]
            if all(s in ("printed", "failed") for s in statuses):
                f.healed = time.time()
                break
            await asyncio.sleep(0.5)
        await head.close()

    async def _job_status(self, http: Http, job: int) -> str | None:
        st, body = await http.call("print status", "GET", f"/api/v1/print-jobs/{job}")
        return (body or {}).get("status") if st == 200 else None

    async def _receiver_down(self, f: Fault) -> None:
        await self.receiver.down()
        posts = self.receiver.posts
        await asyncio.sleep(self.plan.receiver_down_s)
        f.note = f"{self.receiver.posts - posts} posts received while down"
        await self.receiver.start()
        f.started = time.time()  # healed: when the backlog is out, measured after the day (_delays)

    async def _reconnect_burst(self, f: Fault) -> None:
        burst = self.displays[:min(self.plan.burst, len(self.displays))]
        for d in burst:
            d.connected.clear()
        await asyncio.gather(*(d.drop() for d in burst))
        try:
            await asyncio.wait_for(asyncio.gather(*(d.connected.wait() for d in burst)), 120)
            f.healed = time.time()
        except TimeoutError:
            pass

    # ---- actors
    async def _kiosk(self, o: Office) -> None:
        http = Http(self.server.base_url, self.answers, o.kiosk)
        staff = Http(self.server.base_url, self.answers, o.head)
        rng = random.Random(o.setup.id)
        while time.time() < self.stop_at:
            await asyncio.sleep(rng.expovariate(1 / self.plan.ticket_every_s))
            body = {"service_id": rng.choice(o.services), "print": rng.random() < 0.4}
            if rng.random() < 0.1:
                body["priority"] = "elderly"
            st, t = await http.call("issue", "POST", f"/api/v1/offices/{o.setup.id}/tickets", body)
            if st != 201:
                continue
            o.day.issued_201[t["id"]] = t["display_number"]
            if t.get("print_job"):
                o.jobs[t["id"]].append(t["print_job"]["id"])
                if rng.random() < 0.03:  # a clerk reprints one now and then
                    st, job = await staff.call("reprint", "POST", f"/api/v1/tickets/{t['id']}/reprint")
                    if st in (200, 201) and job and job.get("id"):
                        o.jobs[t["id"]].append(job["id"])
                        o.day.reprints[t["id"]] += 1
        await http.close()
        await staff.close()

    async def _clerk(self, o: Office, cid: int) -> None:
        http = Http(self.server.base_url, self.answers, o.clerks[cid])
        tablet = Http(self.server.base_url, self.answers, o.tablet) if cid == o.tablet_counter else None
        rng = random.Random(cid)
        current: int | None = None
        await self._open(http, cid)
        while time.time() < self.stop_at:
            close = "no_show" if rng.random() < 0.1 else "done"
            st, body = await http.call("next", "POST", f"/api/v1/counters/{cid}/next",
                                       {"close_current": close, "current_ticket_id": current or 0})
            if st == 200:
                closed, current = current, ((body or {}).get("ticket") or {}).get("id")
                if closed and close == "done" and tablet is not None and rng.random() < 0.7:
                    await tablet.call("rate", "POST", "/api/v1/feedback",
                                      {"ticket_id": closed, "rating": rng.choice(["very_satisfied", "satisfied",
                                                                                  "unsatisfied"])})
            else:
                await asyncio.sleep(0.3)
                current = await self._resync(http, cid)
                continue
            if current is None:
                await asyncio.sleep(rng.uniform(0.5, 1.5))
                continue
            roll = rng.random()
            if roll < 0.08:
                other = rng.choice([s for s in o.services if s not in o.counters[cid]] or o.services)
                st, _ = await http.call("transfer", "POST", f"/api/v1/tickets/{current}/transfer",
                                        {"service_id": other})
                current = None if st == 200 else await self._resync(http, cid)
                continue
            if roll < 0.16:
                await http.call("recall", "POST", f"/api/v1/counters/{cid}/recall", {})
            await http.call("start", "POST", f"/api/v1/tickets/{current}/start", {})
            await asyncio.sleep(rng.uniform(*self.plan.service_s))
        if current is not None:  # close the last visit so the day ends clean
            await http.call("finish", "POST", f"/api/v1/tickets/{current}/finish", {})
        await http.close()
        if tablet is not None:
            await tablet.close()

    async def _open(self, http: Http, cid: int) -> None:
        while time.time() < self.stop_at:
            st, _ = await http.call("open", "POST", f"/api/v1/counters/{cid}/open", {})
            if st == 200:
                return
            await asyncio.sleep(0.5)

    async def _resync(self, http: Http, cid: int) -> int | None:
        """After a lost or refused answer: what the counter holds now, from the server (as the app does)."""
        while time.time() < self.stop_at + 30:
            st, c = await http.call("counter", "GET", f"/api/v1/counters/{cid}")
            if st == 200:
                if c.get("state") != "open":
                    await self._open(http, cid)
                return (c.get("current_ticket") or {}).get("id")
            await asyncio.sleep(0.5)
        return None

    async def _malformed(self) -> None:
        """Bad requests and WebSocket frames mixed into the traffic: each must be a 4xx (or no answer while a
        fault has the server down), never a 500."""
        anon = Http(self.server.base_url, self.answers)
        o = self.offices[0]
        kiosk = Http(self.server.base_url, self.answers, o.kiosk)
        deep = ("[" * 1000 + "]" * 1000).encode()
        cases: list[Callable[[], Awaitable[Any]]] = [
            lambda: anon.call("bad json", "POST", "/api/v1/auth/login", raw=b'{"username": '),
            lambda: anon.call("deep json", "POST", "/api/v1/pairings", raw=deep),
            lambda: kiosk.call("bad type", "POST", f"/api/v1/offices/{o.setup.id}/tickets", {"service_id": "A"}),
            lambda: kiosk.call("bad id", "POST", f"/api/v1/offices/{o.setup.id}/tickets", {"service_id": 10**9}),
            lambda: anon.call("no token", "POST", f"/api/v1/counters/{next(iter(o.counters))}/next", {}),
            lambda: kiosk.call("not found", "GET", "/api/v1/tickets/999999999"),
            lambda: self._bad_frame(o.display, '{"type":"hello","since_seq":"x"}{'),
            lambda: self._bad_frame(o.display, "[" * 5000),
        ]
        rng = random.Random(7)
        while time.time() < self.stop_at:
            await rng.choice(cases)()
            await asyncio.sleep(rng.uniform(0.2, 0.8))
        await anon.close()
        await kiosk.close()

    async def _bad_frame(self, token: str, frame: str) -> None:
        try:
            async with websockets.connect(f"{self.server.ws_url}?token={token}", open_timeout=5) as ws:
                await ws.send(frame)
                try:
                    await asyncio.wait_for(ws.recv(), 3)
                except (TimeoutError, websockets.ConnectionClosed):
                    pass
        except (OSError, websockets.WebSocketException, TimeoutError):
            pass
        try:  # the server is still there for everyone else
            async with websockets.connect(f"{self.server.ws_url}?token={token}", open_timeout=5) as ws:
                await ws.send(json.dumps({"type": "hello", "since_seq": None}))
                await asyncio.wait_for(ws.recv(), 5)
        except (OSError, websockets.WebSocketException, TimeoutError) as e:
            self.answers.note("ws after bad frame", 0, str(e))

    async def _settle(self, timeout: float = 120) -> None:
        """After the day: print jobs finish and webhook deliveries catch up before the audit reads."""
        deadline = time.time() + timeout
        for o in self.offices:
            head = Http(self.server.base_url, self.answers, o.head)
            for jobs in o.jobs.values():
                for j in jobs:
                    while time.time() < deadline and await self._job_status(head, j) not in ("printed", "failed"):
                        await asyncio.sleep(0.5)
            await head.close()
        last = -1
        while time.time() < deadline:  # deliveries stop arriving: the backlog is out
            n = len(self.receiver.bodies)
            if n == last:
                break
            last = n
            await asyncio.sleep(5)

    # ---- the audit
    async def audit(self) -> list[Line]:
        lines: list[Line] = []
        worst: dict[int, dict[int, float]] = {}
        for o in self.offices:
            o.day.log = await asyncio.to_thread(office_log, self.server.database_url, o.setup.id)
            head = Http(self.server.base_url, self.answers, o.head)
            status: dict[int, str] = {}
            for jobs in o.jobs.values():
                for j in jobs:
                    status[j] = await self._job_status(head, j) or "unknown"
            _, live = await head.call("live", "GET", f"/api/v1/offices/{o.setup.id}/live")
            _, report = await head.call("report", "GET", f"/api/v1/offices/{o.setup.id}/reports?group_by=service")
            await head.close()
            shown, worst[o.setup.id] = displays_saw_every_call(
                o.day, [d for d in self.displays if d.office_id == o.setup.id])
            lines += [seq_gapless(o.day), every_201_exists(o.day), called_once_and_in_order(o.day), shown,
                      printed_once(o.day, o.printer.received, o.jobs, status),
                      webhooks_delivered(o.day, self.receiver), live_matches_log(o.day, live or {}),
                      reports_match_log(o.day, (report or {}).get("items", []))]
        lines.append(await self._rollups_equal_a_fresh_fold())
        lines.append(Line("no 500 answered", not self.answers.server_errors,
                          f"{len(self.answers.server_errors)}: {self.answers.server_errors[:3]}"))
        lines.append(Line("webhook signatures all valid", self.receiver.bad_signatures == 0,
                          f"{self.receiver.bad_signatures} bad of {self.receiver.posts} posts"))
        self._delays(worst)
        return lines

    async def _rollups_equal_a_fresh_fold(self) -> Line:
        """Reports read from the rollups the day folded, then again after folding the whole log from
        scratch (counters.projections.facts.rebuild): the same rows."""
        def reports() -> list[Any]:
            out = []
            for o in self.offices:
                for g in ("service", "counter", "hour", "clerk"):
                    out.append(o.setup.admin.ok("GET", f"/api/v1/offices/{o.setup.id}/reports?group_by={g}")["items"])
            return out
        before = await asyncio.to_thread(reports)
        await asyncio.to_thread(_rebuild, self.server.database_url)
        after = await asyncio.to_thread(reports)
        diff = [(a, b) for a, b in zip(before, after) if a != b]
        return Line("reports and rollups equal a fold of the log from scratch", not diff,
                    f"{len(before)} reports compared; differing {len(diff)}" + (f": {diff[0]}" if diff else ""))

    def _delays(self, worst: dict[int, dict[int, float]]) -> None:
        """Per fault, the slowest call-to-display of the calls made while it lasted (from its start to its
        heal); the receiver's heal is when every event from before it came back had been delivered."""
        timed = sorted((event_time(e), worst[o.setup.id][e["seq"]]) for o in self.offices for e in o.day.log
                       if e["type"] == "ticket.called" and e["seq"] in worst[o.setup.id])
        for f in self.faults:
            if f.name == "webhook receiver down":
                backlog = [self.receiver.first_seen.get((o.setup.id, e["seq"])) for o in self.offices
                           for e in o.day.log if e["type"] in WEBHOOK_TYPES and event_time(e) <= f.started]
                if backlog and all(t is not None for t in backlog):
                    f.healed = max(f.started, max(t for t in backlog if t is not None))
            begin = f.started - (self.plan.receiver_down_s if f.name == "webhook receiver down" else 0)
            end = f.healed or (f.started + 5)
            f.worst_delay = max((d for t, d in timed if begin <= t <= end), default=None)
        delays = sorted(d for _, d in timed)
        self.delay_p50 = delays[len(delays) // 2] if delays else None
        self.delay_p99 = delays[min(len(delays) - 1, int(len(delays) * 0.99))] if delays else None


def office_log(database_url: str, office_id: int) -> list[dict[str, Any]]:
    """The office's event log, every event, as WebSocket envelopes, read from the database itself."""
    from sqlmodel import Session, col, select

    from counters.engine.events import to_message
    from counters.models import Event, Office
    from server.db import Database
    db = Database(database_url)
    try:
        with Session(db.engine) as session:
            office = session.get(Office, office_id)
            tz = office.timezone if office else "UTC"
            rows = session.exec(select(Event).where(Event.office_id == office_id).order_by(col(Event.seq))).all()
            # the contract's `at` has seconds; the delays and the audit's races want the stored microseconds
            return [{**to_message(e, tz), "at_s": e.at.timestamp()} for e in rows]
    finally:
        db.dispose()


def _rebuild(database_url: str) -> None:
    from sqlmodel import Session

    from counters.projections import facts
    from server.db import Database
    db = Database(database_url)
    with Session(db.engine) as session:
        facts.rebuild(session)
        session.commit()
    db.dispose()


def report(day: Day, lines: list[Line], wall: float, cpu_s: float) -> None:
    a = day.answers
    served = sum(n for st, n in a.by_status.items() if 200 <= st < 300)
    print(f"\nrequests answered 2xx {served}, 4xx {sum(n for s, n in a.by_status.items() if 400 <= s < 500)}, "
          f"503 busy/unavailable (refused, nothing changed) {a.by_status.get(503, 0)}, no answer (while workers were "
          f"down; clients retried) {a.by_status.get(0, 0)}, 500 {len(a.server_errors)}")
    issued = sum(len(o.day.issued_201) for o in day.offices)
    calls = sum(1 for o in day.offices for e in o.day.log if e["type"] == "ticket.called")
    print(f"tickets issued (201) {issued}, calls {calls}, webhook deliveries {len(day.receiver.bodies)}, "
          f"display connects {sum(d.connects for d in day.displays)}; server CPU {cpu_s:.0f} s over {wall:.0f} s")
    if day.delay_p50 is not None:
        print(f"call to display (from the event's time, slowest display per call): p50 {day.delay_p50 * 1000:.0f} ms, "
              f"p99 {day.delay_p99 * 1000:.0f} ms")
    print("\n| fault | heal time | worst call-to-display delay meanwhile |\n|---|---:|---:|")
    for f in day.faults:
        heal = (f"{f.heal_s:.1f} s" if f.heal_s is not None else "not healed") + (f" ({f.note})" if f.note else "")
        w = getattr(f, "worst_delay", None)
        print(f"| {f.name} | {heal} | {'–' if w is None else f'{w * 1000:.0f} ms'} |")
    print("\naudit:")
    for line in lines:
        print(f"  {'PASS' if line.ok else 'FAIL'}  {line.name} — {line.detail}")
    failed = sum(1 for x in lines if not x.ok)
    print(f"\n{len(lines) - failed} audit lines passed, {failed} failed")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.chaos", description=__doc__.split("\n\n")[0])
    ap.add_argument("--short", action="store_true", help="4 offices, each fault once, about 2 minutes")
    args = ap.parse_args(argv if argv is not None else [])
    plan = SHORT if args.short else FULL
    raise_fd_limit(plan.displays * 2 + 2000)
    day = Day(plan)
    started = time.time()
    try:
        day.set_up()
        print(f"{plan.offices} offices, {plan.displays} displays, {WORKERS} workers on PostgreSQL + Redis; "
              f"a day of {plan.seconds:.0f} s; bound {plan.bound_s:.0f} s", flush=True)
        cpu0 = workers_cpu_s(day.server.proc.pid if day.server.proc else 0)

        async def whole() -> list[Line]:
            await day.run()
            return await day.audit()
        lines = asyncio.run(asyncio.wait_for(whole(), plan.bound_s))
        cpu = workers_cpu_s(day.server.proc.pid if day.server.proc else 0) + day.cpu_before_restart - cpu0
        report(day, lines, time.time() - started, cpu)
        return 0 if all(x.ok for x in lines) else 1
    except TimeoutError:
        print(f"the run did not finish within its bound of {plan.bound_s:.0f} s: FAIL")
        return 1
    finally:
        day.server.stop()
        for o in day.offices:
            o.printer.close()
        day.redis.stop()
        day.pg.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
