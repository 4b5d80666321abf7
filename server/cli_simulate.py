"""`qms simulate`: replay a synthetic office day against a running server through the public API.

Why: to watch the dashboard, the displays and the wait prediction live on a realistic day without
citizens. Arrivals come from the simulator's day types (quiet, normal, no_wait_surge), service times
from the same lognormal world the SimPy simulator uses; the day runs `--speed` times faster than
real time. The replay logs in as a head, sets up the demo services and counters where missing,
opens the day's counters, issues tickets at their times and calls/finishes them as clerks would.
The simulator's "appointments" day is not replayed: booking slots and check-in windows follow the
server's real clock, which a day run `--speed` times faster cannot keep.
"""
from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx

from counters.insight.sim_office import DAY_PLANS, DAY_TYPES, DEMO_SERVICES, SERVICE_BY_CODE, Arrival, arrivals


class ReplayError(RuntimeError):
    pass


# Walk-in days only (see the module's docstring).
REPLAY_DAY_TYPES = tuple(d for d in DAY_TYPES if DAY_PLANS[d].booked_share == 0)


@dataclass
class CounterRun:
    id: int
    number: int
    busy_until: float | None = None  # simulated seconds since opening; None when free
    ticket_id: int | None = None
    absent: bool = False  # the called citizen will not come: closed as no-show


@dataclass
class Progress:
    """A plain-text progress bar: redrawn in place on a terminal, a line per tenth otherwise."""

    out: TextIO
    total: int
    width: int = 30
    _last_tenth: int = -1
    started: float = field(default_factory=time.monotonic)

    def show(self, done: int, issued: int, served: int, waiting: int, sim_s: float) -> None:
        frac = min(1.0, done / self.total) if self.total else 1.0
        hh, mm = divmod(int(7.5 * 60 + sim_s // 60), 60)
        bar = "#" * int(frac * self.width) + "." * (self.width - int(frac * self.width))
        line = (f"[{bar}] {frac * 100:5.1f}%  {hh:02d}:{mm:02d}  issued {issued}  served {served}  "
                f"waiting {waiting}  ({time.monotonic() - self.started:.0f} s)")
        if self.out.isatty():
            self.out.write("\r" + line)
        elif int(frac * 10) != self._last_tenth:
            self._last_tenth = int(frac * 10)
            self.out.write(line + "\n")
        self.out.flush()

    def end(self) -> None:
        if self.out.isatty():
            self.out.write("\n")
        self.out.flush()


class Replay:
    """One simulated day against `base_url`, as a head of `office_id` (or the head's own office)."""

    def __init__(self, base_url: str, username: str, password: str, *, day_type: str = "normal", seed: int = 1,
                 speed: float = 60.0, limit: int | None = None, office_id: int | None = None,
                 out: TextIO = sys.stderr) -> None:
        if day_type not in REPLAY_DAY_TYPES:
            raise ReplayError(f"cannot replay day type {day_type}; use one of {', '.join(REPLAY_DAY_TYPES)}")
        if speed <= 0:
            raise ReplayError("speed must be positive")
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=30)
        self.username, self.password = username, password
        self.plan = DAY_PLANS[day_type]
        self.arrivals: list[Arrival] = arrivals(day_type, seed)[:limit] if limit else arrivals(day_type, seed)
        self.rng = random.Random(f"replay:{day_type}:{seed}")
        self.speed = speed
        self.office_id = office_id
        self.out = out
        self.services: dict[str, int] = {}
        self.counters: list[CounterRun] = []
        self.issued = self.served = self.no_show = 0

    # ------------------------------------------------------------------ API helpers

    def call(self, method: str, path: str, json: Any = None, ok: tuple[int, ...] = (200, 201)) -> Any:
        r = self.http.request(method, path, json=json)
        if r.status_code not in ok:
            raise ReplayError(f"{method} {path}: {r.status_code} {r.text[:300]}")
        return r.json() if r.content else None

    def login(self) -> None:
        r = self.http.post("/api/v1/auth/login", json={"username": self.username, "password": self.password})
        if r.status_code != 200:
            raise ReplayError(f"login as {self.username} failed: {r.status_code} {r.text[:200]}")
        body = r.json()
        self.http.headers["Authorization"] = f"Bearer {body['token']}"
        self.office_id = self.office_id or body["user"].get("office_id")
        if not self.office_id:
            raise ReplayError("this user has no office; pass --office-id")

    def setup_office(self) -> None:
        """The demo services (by code) and the day's counters (by number), created where missing."""
        have = {s["code"]: s for s in self.call("GET", f"/api/v1/offices/{self.office_id}/services")["items"]}
        for spec in DEMO_SERVICES:
            s = have.get(spec.code)
            if s is None:
                s = self.call("POST", f"/api/v1/offices/{self.office_id}/services",
                              json={"code": spec.code, "name": spec.name, "desk": spec.desk})
            self.services[spec.code] = s["id"]
        by_sim_id = {spec.id: self.services[spec.code] for spec in DEMO_SERVICES}
        existing = {c["number"]: c for c in self.call("GET", f"/api/v1/offices/{self.office_id}/counters")["items"]}
        for counter_spec in self.plan.counters:
            c = existing.get(counter_spec.number)
            if c is None:
                c = self.call("POST", f"/api/v1/offices/{self.office_id}/counters",
                              json={"number": counter_spec.number, "name": f"Quầy {counter_spec.number}",
                                    "desk": counter_spec.desk,
                                    "service_ids": [by_sim_id[i] for i in counter_spec.service_ids]})
            if c.get("state") != "open":
                self.call("POST", f"/api/v1/counters/{c['id']}/open")
            self.counters.append(CounterRun(c["id"], counter_spec.number))

    # ------------------------------------------------------------------ the day

    def service_time(self, code: str) -> float:
        spec = SERVICE_BY_CODE[code]
        return math.exp(math.log(spec.median_s) + spec.sigma * self.rng.gauss(0.0, 1.0))

    def issue(self, a: Arrival) -> None:
        self.call("POST", f"/api/v1/offices/{self.office_id}/tickets",
                  json={"service_id": self.services[a.service_code], "print": False,
                        "priority": "elderly" if a.priority else None, "channel": "staff"})
        self.issued += 1

    def next(self, c: CounterRun, now: float) -> None:
        close = "no_show" if c.absent else "done"
        ticket = self.call("POST", f"/api/v1/counters/{c.id}/next", json={"close_current": close})["ticket"]
        if c.ticket_id is not None:
            self.served += close == "done"
            self.no_show += close == "no_show"
        if ticket is None:
            c.ticket_id, c.busy_until, c.absent = None, None, False
            return
        c.ticket_id = ticket["id"]
        c.absent = self.rng.random() < self.plan.no_show_share
        code = ticket["display_number"][0]
        c.busy_until = now + (self.plan.no_show_wait_s if c.absent else
                              self.service_time(code if code in SERVICE_BY_CODE else "B"))

    def finish_all(self) -> None:
        for c in self.counters:
            if c.ticket_id is not None:
                self.call("POST", f"/api/v1/tickets/{c.ticket_id}/finish", ok=(200, 409))
                self.served += 1
                c.ticket_id = None

    def waiting(self) -> int:
        return self.issued - self.served - self.no_show - sum(1 for c in self.counters if c.ticket_id is not None)

    def run(self) -> dict[str, int]:
        self.login()
        self.setup_office()
        progress = Progress(self.out, len(self.arrivals))
        pending = sorted(self.arrivals, key=lambda a: a.at_offset_s)
        start = time.monotonic()
        i = 0
        while True:
            sim = (time.monotonic() - start) * self.speed
            while i < len(pending) and pending[i].at_offset_s <= sim:
                self.issue(pending[i])
                i += 1
            for c in self.counters:
                if c.busy_until is None or c.busy_until <= sim:
                    self.next(c, sim)
            progress.show(i, self.issued, self.served, self.waiting(), sim)
            if i >= len(pending) and all(c.ticket_id is None for c in self.counters):
                break
            upcoming = [pending[i].at_offset_s] if i < len(pending) else []
            upcoming += [c.busy_until for c in self.counters if c.busy_until is not None]
            wake = min(upcoming, default=sim + self.speed)
            time.sleep(min(1.0, max(0.0, (wake - sim) / self.speed)))
        self.finish_all()
        progress.show(len(pending), self.issued, self.served, 0, (time.monotonic() - start) * self.speed)
        progress.end()
        return {"issued": self.issued, "served": self.served, "no_show": self.no_show}


def cmd_simulate(args: argparse.Namespace) -> int:
    try:
        summary = Replay(args.url, args.username, args.password, day_type=args.day, seed=args.seed, speed=args.speed,
                         limit=args.limit, office_id=args.office_id).run()
    except (ReplayError, httpx.HTTPError) as e:
        print(f"simulate: {e}", file=sys.stderr)
        return 1
    print(f"simulated {args.day} day: {summary['issued']} issued, {summary['served']} served, "
          f"{summary['no_show']} absent")
    return 0


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("simulate", help="replay a synthetic office day against a running server")
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the server's base URL")
    p.add_argument("--username", default="truongphong", help="an office head (or admin with --office-id)")
    p.add_argument("--password", default="demo1234")
    p.add_argument("--office-id", type=int)
    p.add_argument("--day", choices=list(REPLAY_DAY_TYPES), default="normal")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    p.add_argument("--limit", type=int, help="replay only the first N arrivals")
    p.set_defaults(fn=cmd_simulate)
