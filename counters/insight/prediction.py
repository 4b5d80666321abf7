"""Wait-time prediction for waiting tickets.

Why a simulation: an office is not one queue. Counters serve different service sets, a do-it-now
desk serves only its quick services, priority tickets jump the line and a transferred ticket waits
for one counter. `predict` replays the office's calling rules forward from the current snapshot many
times (a small event-driven Monte Carlo with service times drawn from a learned lognormal model per
service), which captures all of that at once and gives an honest interval, not only a point.
Appointments still to come join in each run when their citizen checks in (with the probability and at
a time drawn from `BookingBehaviour`), queued at their booked start: ahead of the waiting tickets
queued after that moment.

Pure Python, deterministic for a given seed, no I/O: the core builds the inputs from the database.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import NormalDist
from typing import Literal

from counters.insight.prediction_bookings import PRIOR as BOOKING_PRIOR
from counters.insight.prediction_bookings import BookingBehaviour
from counters.insight.prediction_calibration import IntervalCalibration, interval
from counters.insight.prediction_fitted import FITTED

Desk = Literal["standard", "do_it_now"]
CounterState = Literal["open", "paused"]
PriorityPolicy = Literal["strict", "interleave"]
Routing = Literal["fifo", "ordered"]

_STD_NORMAL = NormalDist()
DEFAULT_SERVICE_S = 600.0
DEFAULT_SIGMA = 0.45


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class ServiceSample:
    """One finished service: how long the counter was busy with it (called -> finished)."""

    service_id: int
    finished_at: datetime
    duration_s: float


@dataclass(frozen=True, slots=True)
class OpenCounter:
    """A counter that is open or paused (closed counters are left out of the snapshot)."""

    id: int
    desk: Desk
    service_ids: tuple[int, ...]  # in the counter's order (matters for routing "ordered")
    serving_service_id: int | None = None  # service of the ticket called/served now, if any
    serving_since: datetime | None = None  # when that ticket was called
    state: CounterState = "open"


@dataclass(frozen=True, slots=True)
class WaitingTicket:
    id: int
    service_id: int
    priority: bool
    queue_at: datetime  # issue time, or the original issue time after a transfer
    target_counter_id: int | None = None  # set when transferred to one counter


@dataclass(frozen=True, slots=True)
class BookedVisit:
    """An appointment booked and not yet checked in: it will join its service's queue as if issued at
    `start` (API.md, "Appointments"), so the tickets behind that moment will wait for it too."""

    service_id: int
    start: datetime


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    now: datetime
    counters: tuple[OpenCounter, ...]
    waiting: tuple[WaitingTicket, ...]
    priority_policy: PriorityPolicy = "strict"
    interleave_every: int = 3
    routing: Routing = "fifo"
    # interleave only: normal tickets called office-wide since the last priority ticket.
    normals_since_priority: int = 0
    # bookings still to come (not checked in, not missed), in start order
    booked: tuple[BookedVisit, ...] = ()


@dataclass(frozen=True, slots=True)
class Prediction:
    """`position`: tickets called before this one by the counters that may serve it (0 = next).

    `expected_s` is the median simulated wait (it minimises the absolute error); `low_s`/`high_s`
    the 80% range: the simulated 10th/90th percentiles, each side rescaled around the median by the
    calibration of prediction_calibration.py. All three are None when no open or paused counter can
    serve the ticket (nobody can say when it will be called).
    """

    position: int
    expected_s: int | None
    low_s: int | None
    high_s: int | None


# --------------------------------------------------------------------------- service times


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """Lognormal service time: log(duration) ~ N(mu, sigma); `mu_se` is the uncertainty of mu."""

    mu: float
    sigma: float
    mu_se: float
    n_eff: float

    @property
    def median_s(self) -> float:
        return math.exp(self.mu)

    @property
    def mean_s(self) -> float:
        return math.exp(self.mu + self.sigma * self.sigma / 2)

    def quantile_s(self, p: float) -> float:
        return math.exp(self.mu + self.sigma * _STD_NORMAL.inv_cdf(p))

    def mean_remaining_s(self, elapsed_s: float) -> float:
        """E[X - e | X > e]: a ticket long in service is likely to end soon, but not at once."""
        if elapsed_s <= 0:
            return self.mean_s
        z = (math.log(elapsed_s) - self.mu) / self.sigma
        tail = 1.0 - _STD_NORMAL.cdf(z)
        if tail < 1e-9:  # far beyond anything seen: assume a short tail
            return self.sigma * elapsed_s / max(z, 1.0)
        partial = self.mean_s * (1.0 - _STD_NORMAL.cdf(z - self.sigma))
        return max(partial / tail - elapsed_s, 1.0)

    def sample_remaining_s(self, elapsed_s: float, u: float, mu_shift: float = 0.0) -> float:
        """Inverse-CDF draw of the remaining time given `elapsed_s` already spent (u in (0,1))."""
        mu = self.mu + mu_shift
        if elapsed_s <= 0:
            return math.exp(mu + self.sigma * _STD_NORMAL.inv_cdf(min(max(u, 1e-9), 1 - 1e-9)))
        p0 = _STD_NORMAL.cdf((math.log(elapsed_s) - mu) / self.sigma)
        q = min(p0 + (1.0 - p0) * u, 1.0 - 1e-12)
        if q >= 1.0 - 1e-12 or p0 > 1.0 - 1e-9:
            return max(self.mean_remaining_s(elapsed_s) * (0.25 + 1.5 * u), 1.0)
        return max(math.exp(mu + self.sigma * _STD_NORMAL.inv_cdf(q)) - elapsed_s, 1.0)


def _weighted_median(pairs: list[tuple[float, float]]) -> float:
    pairs.sort()
    half = sum(w for _, w in pairs) / 2
    acc = 0.0
    for value, weight in pairs:
        acc += weight
        if acc >= half:
            return value
    return pairs[-1][0]


@dataclass(frozen=True)
class ServiceTimeModel:
    """Per-service lognormal service times learned from recent finished services.

    Robust (log-space weighted median and MAD, so one forgotten "finish" does not move it), adapting
    through the day (weights halve every `half_life_s`, floored so earlier days still count a little
    when today has few samples) and shrunk towards a prior per service (`prior_strength` pseudo
    samples at the service's typical time) when data is thin.
    """

    services: Mapping[int, ServiceTime]
    default: ServiceTime
    no_show_share: float = 0.0  # share of called tickets that do not appear
    no_show_cost_s: float = 60.0  # how long a clerk waits for them before moving on

    @classmethod
    def fit(
        cls,
        samples: Iterable[ServiceSample],
        now: datetime,
        priors_s: Mapping[int, float] | None = None,
        *,
        default_s: float = DEFAULT_SERVICE_S,
        prior_sigma: float = DEFAULT_SIGMA,
        prior_strength: float = 2.0,
        half_life_s: float = 3 * 3600.0,
        min_weight: float = 0.2,
        no_show_share: float = 0.0,
        no_show_cost_s: float = 60.0,
    ) -> ServiceTimeModel:
        priors_s = dict(priors_s or {})
        by_service: dict[int, list[tuple[float, float]]] = {}
        for s in samples:
            if s.duration_s <= 0 or s.finished_at > now:
                continue
            age = (now - s.finished_at).total_seconds()
            weight = max(0.5 ** (age / half_life_s), min_weight)
            by_service.setdefault(s.service_id, []).append((math.log(s.duration_s), weight))

        def estimate(service_id: int | None) -> ServiceTime:
            mu0 = math.log(priors_s.get(service_id, default_s) if service_id is not None else default_s)
            pairs = by_service.get(service_id, []) if service_id is not None else []
            if not pairs:
                return ServiceTime(mu0, prior_sigma, prior_sigma / math.sqrt(prior_strength), 0.0)
            w_sum = sum(w for _, w in pairs)
            med = _weighted_median(list(pairs))
            mad = _weighted_median([(abs(x - med), w) for x, w in pairs]) * 1.4826
            k = prior_strength
            mu = (k * mu0 + w_sum * med) / (k + w_sum)
            var = (k * prior_sigma**2 + w_sum * mad**2) / (k + w_sum)
            sigma = min(max(math.sqrt(var), 0.1), 1.5)
            return ServiceTime(mu, sigma, sigma / math.sqrt(k + w_sum), w_sum)

        services = {sid: estimate(sid) for sid in set(by_service) | set(priors_s)}
        return cls(services, estimate(None), no_show_share, no_show_cost_s)

    def for_service(self, service_id: int) -> ServiceTime:
        return self.services.get(service_id, self.default)

    def mean_s(self, service_id: int) -> float:
        """Expected counter time per called ticket, no-shows included."""
        p = self.no_show_share
        return (1 - p) * self.for_service(service_id).mean_s + p * self.no_show_cost_s


# --------------------------------------------------------------------------- calling rules


def may_serve(counter: OpenCounter, ticket: WaitingTicket) -> bool:
    """A transferred ticket waits for its target counter only; others for any counter of its service."""
    if ticket.target_counter_id is not None:
        return ticket.target_counter_id == counter.id
    return ticket.service_id in counter.service_ids


def queue_key(counter: OpenCounter, ticket: WaitingTicket, routing: Routing) -> tuple[int, datetime, int]:
    """Order within one priority class: fifo = oldest first across the counter's services;
    ordered = the counter's first service's queue first, then the next (a ticket transferred to the
    counter for a service it does not list comes last), as counters/engine/queue.py orders them."""
    rank = 0
    if routing == "ordered":
        ids = counter.service_ids
        rank = ids.index(ticket.service_id) if ticket.service_id in ids else len(ids)
    return (rank, ticket.queue_at, ticket.id)


def choose_next(
    counter: OpenCounter,
    waiting: Sequence[WaitingTicket],
    policy: PriorityPolicy,
    interleave_every: int,
    routing: Routing,
    normals_since_priority: int = 0,
) -> WaitingTicket | None:
    """The ticket this counter calls next. strict: priority tickets first; interleave: a priority
    ticket once `interleave_every` normal ones were called office-wide since the last priority one
    (or when no normal ticket waits)."""
    eligible = [t for t in waiting if may_serve(counter, t)]
    prio = [t for t in eligible if t.priority]
    normal = [t for t in eligible if not t.priority]
    if not eligible:
        return None
    first_prio = min(prio, key=lambda t: queue_key(counter, t, routing)) if prio else None
    first_normal = min(normal, key=lambda t: queue_key(counter, t, routing)) if normal else None
    if policy == "strict" or normals_since_priority >= max(interleave_every, 1):
        return first_prio or first_normal
    return first_normal or first_prio


# --------------------------------------------------------------------------- prediction


@dataclass(frozen=True, slots=True)
class ArrivalRates:
    """Tickets issued per hour lately, by service: future arrivals that may overtake a waiting
    ticket (priority ones under either policy; normal ones of a counter's earlier service under
    routing "ordered")."""

    normal_per_h: Mapping[int, float]
    priority_per_h: Mapping[int, float]

    @classmethod
    def from_issues(
        cls, issues: Iterable[tuple[int, bool, datetime]], now: datetime, window_s: float = 3600.0
    ) -> ArrivalRates:
        """From (service_id, priority, issued_at) of today's tickets so far: each service's rate over
        the last `window_s`, split by the day's priority share (steadier than the last hour's few
        priority tickets)."""
        per_service: dict[int, float] = {}
        total = priority = 0
        for service_id, is_priority, issued_at in issues:
            age = (now - issued_at).total_seconds()
            if age < 0:
                continue
            total += 1
            priority += is_priority
            if age <= window_s:
                per_service[service_id] = per_service.get(service_id, 0.0) + 3600.0 / window_s
        share = priority / total if total else 0.0
        return cls(
            {s: r * (1 - share) for s, r in per_service.items()},
            {s: r * share for s, r in per_service.items()},
        )


_Z_POOL_SIZE = 4096
_Z_POOL = [_STD_NORMAL.inv_cdf((k + 0.5) / _Z_POOL_SIZE) for k in range(_Z_POOL_SIZE)]


@dataclass(slots=True)
class _Future:
    service: int  # index into service_params
    priority: bool
    rate_per_s: float
    counters: list[int]
    ranks: list[int]
    until_s: float = math.inf  # later newcomers are behind every waiting ticket: not drawn


@dataclass(slots=True)
class _Booked:
    """A booking still to come: queued at `start_s` (from now) if its citizen checks in."""

    service: int  # index into service_params
    start_s: float
    show_p: float  # P(checks in later | not checked in by now)
    counters: list[int]
    ranks: list[int]
    # Queued after every waiting ticket, routing "fifo": it can delay them only as a priority citizen.
    priority_only: bool


@dataclass(slots=True)
class _Plan:
    """Everything per snapshot that does not change between Monte Carlo runs."""

    counters: list[OpenCounter]
    strict: bool
    every: int
    lists: list[tuple[list[int], list[int]]]  # per counter: (priority order, normal order) + sentinel
    rank: list[list[int]]  # per counter, per ticket: its routing rank there
    since0: int
    ticket_service: list[int]  # index into service_params
    service_params: list[ServiceTime]
    start_offset: list[float]  # paused counters resume later
    busy: list[ServiceTime | None]
    elapsed: list[float]
    eligible_counters: list[list[int]]
    futures: list[_Future]
    qa: list[float]  # per ticket: queue_at in seconds from now (+ sentinel inf)
    ahead_until_s: float  # the latest queue_at of a waiting ticket: newcomers after it are behind all
    booked: list[_Booked]
    booked_priority_share: float
    booking: BookingBehaviour


def _plan(
    snapshot: QueueSnapshot,
    model: ServiceTimeModel,
    paused_resume_s: float,
    rates: ArrivalRates | None,
    booking: BookingBehaviour = BOOKING_PRIOR,
) -> _Plan:
    counters = [c for c in snapshot.counters if c.state in ("open", "paused")]
    tickets = snapshot.waiting
    n = len(tickets)
    service_index: dict[int, int] = {}
    params: list[ServiceTime] = []

    def sidx(service_id: int) -> int:
        if service_id not in service_index:
            service_index[service_id] = len(params)
            params.append(model.for_service(service_id))
        return service_index[service_id]

    ticket_service = [sidx(t.service_id) for t in tickets]
    lists: list[tuple[list[int], list[int]]] = []
    ranks: list[list[int]] = []
    eligible_counters: list[list[int]] = [[] for _ in tickets]
    for ci, c in enumerate(counters):
        keys = {i: queue_key(c, t, snapshot.routing) for i, t in enumerate(tickets) if may_serve(c, t)}
        for i in keys:
            eligible_counters[i].append(ci)
        idx = sorted(keys, key=keys.__getitem__)
        lists.append(
            ([i for i in idx if tickets[i].priority] + [n], [i for i in idx if not tickets[i].priority] + [n])
        )
        rank = [0] * (n + 1)
        for i, key in keys.items():
            rank[i] = key[0]
        ranks.append(rank)
    qa = [(t.queue_at - snapshot.now).total_seconds() for t in tickets] + [math.inf]
    # An appointment checked in early waits queued at its start, in the future: walk-ins coming before
    # then are ahead of it.
    ahead_until_s = max(qa[:n], default=0.0)
    futures: list[_Future] = []
    if rates is not None:
        kinds = [(rates.priority_per_h, True, math.inf)]
        if snapshot.routing == "ordered":
            kinds.append((rates.normal_per_h, False, math.inf))
        elif ahead_until_s > 0:
            kinds.append((rates.normal_per_h, False, ahead_until_s))
        for per_h, priority, until_s in kinds:
            for service_id, rate in sorted(per_h.items()):
                serving = [ci for ci, c in enumerate(counters) if service_id in c.service_ids]
                if rate > 0 and serving:
                    futures.append(
                        _Future(
                            sidx(service_id),
                            priority,
                            rate / 3600.0,
                            serving,
                            [counters[ci].service_ids.index(service_id) if snapshot.routing == "ordered" else 0
                             for ci in serving],
                            until_s,
                        )
                    )
    priority_total = sum(rates.priority_per_h.values()) if rates is not None else 0.0
    all_total = priority_total + (sum(rates.normal_per_h.values()) if rates is not None else 0.0)
    booked_priority_share = priority_total / all_total if all_total > 0 else 0.0
    booked: list[_Booked] = []
    for b in snapshot.booked:
        start_s = (b.start - snapshot.now).total_seconds()
        show_p = booking.show_probability(-start_s)
        serving = [ci for ci, c in enumerate(counters) if b.service_id in c.service_ids]
        priority_only = start_s >= ahead_until_s and snapshot.routing == "fifo"
        if show_p > 0 and serving and not (priority_only and booked_priority_share == 0):
            ranks_b = [counters[ci].service_ids.index(b.service_id) if snapshot.routing == "ordered" else 0
                       for ci in serving]
            booked.append(_Booked(sidx(b.service_id), start_s, show_p, serving, ranks_b, priority_only))
    busy: list[ServiceTime | None] = []
    elapsed: list[float] = []
    for c in counters:
        if c.serving_service_id is not None:
            busy.append(model.for_service(c.serving_service_id))
            since = c.serving_since or snapshot.now
            elapsed.append(max((snapshot.now - since).total_seconds(), 0.0))
        else:
            busy.append(None)
            elapsed.append(0.0)
    return _Plan(
        counters=counters,
        strict=snapshot.priority_policy == "strict",
        every=max(snapshot.interleave_every, 1),
        lists=lists,
        rank=ranks,
        since0=snapshot.normals_since_priority,
        ticket_service=ticket_service,
        service_params=params,
        start_offset=[paused_resume_s if c.state == "paused" else 0.0 for c in counters],
        busy=busy,
        elapsed=elapsed,
        eligible_counters=eligible_counters,
        futures=futures,
        qa=qa,
        ahead_until_s=ahead_until_s,
        booked=booked,
        booked_priority_share=booked_priority_share,
        booking=booking,
    )


_FutureEvent = tuple[float, int, bool, int, float]  # (arrives, index, priority, rank, queue_at), from now


def _draw_futures(
    plan: _Plan, rng: random.Random, horizon_s: float, first_index: int
) -> tuple[list[list[_FutureEvent]], list[int]]:
    """One run's future arrivals: per counter (time, index, priority, rank, queue_at) sorted by time,
    and the service of each new index (from `first_index` on). Walk-ins are queued when they arrive;
    a booking that checks in (with its show probability) is queued at its start."""
    per_counter: list[list[_FutureEvent]] = [[] for _ in plan.counters]
    services: list[int] = []
    k = first_index
    for f in plan.futures:
        t = 0.0
        until = min(horizon_s, f.until_s)
        while True:
            t += -math.log(1.0 - rng.random()) / f.rate_per_s
            if t > until:
                break
            services.append(f.service)
            for ci, rank in zip(f.counters, f.ranks):
                per_counter[ci].append((t, k, f.priority, rank, t))
            k += 1
    share = plan.booked_priority_share
    for b in plan.booked:
        if b.priority_only:  # one draw: comes, and as a priority citizen (else it cannot delay anyone)
            if rng.random() >= b.show_p * share:
                continue
            priority = True
        else:
            if rng.random() >= b.show_p:
                continue
            priority = rng.random() < share
        arrives = max(b.start_s + plan.booking.draw_offset_s(-b.start_s, rng.random()), 0.0)
        if arrives > horizon_s:
            continue
        services.append(b.service)
        for ci, rank in zip(b.counters, b.ranks):
            per_counter[ci].append((arrives, k, priority, rank, b.start_s))
        k += 1
    for lst in per_counter:
        lst.sort()
    return per_counter, services


def _run(
    plan: _Plan,
    start: list[float],
    duration_of: list[float] | None,
    rng: random.Random | None,
    mu_r: list[float],
    no_show_share: float,
    no_show_cost_s: float,
    call: list[float],
    call_counter: list[int] | None = None,
    horizon_s: float = 0.0,
) -> None:
    """One pass of the calling rules; writes each waiting ticket's call time into `call`.

    With `duration_of` set the run is deterministic (mean durations, no future arrivals); otherwise
    durations are drawn with `rng` around the per-run service means `mu_r` and future arrivals up
    to `horizon_s` may overtake. Hot loop: each counter's lists end with a sentinel index `n` (never
    taken), so skipping called tickets needs no bounds checks.
    """
    n = len(plan.ticket_service)
    tsvc = plan.ticket_service
    future: list[list[_FutureEvent]] | None = None
    if duration_of is None and rng is not None and (plan.futures or plan.booked):
        future, extra = _draw_futures(plan, rng, horizon_s, n + 1)
        tsvc = tsvc + [0] + extra
    taken = [False] * len(tsvc) if len(tsvc) > n else [False] * (n + 1)
    ptr_p = [0] * len(plan.counters)
    ptr_n = [0] * len(plan.counters)
    since = plan.since0
    lists, strict, every, ranks, qa = plan.lists, plan.strict, plan.every, plan.rank, plan.qa
    heap = [(start[ci], ci) for ci in range(len(plan.counters)) if len(lists[ci][0]) + len(lists[ci][1]) > 2]
    heapq.heapify(heap)
    left = n
    sigmas = [p.sigma for p in plan.service_params]
    pool, pool_n = _Z_POOL, float(_Z_POOL_SIZE)
    rnd = rng.random if rng is not None else random.random
    exp, heappop, heapreplace = math.exp, heapq.heappop, heapq.heapreplace
    with_no_shows = no_show_share > 0.0
    while heap:
        t, ci = heap[0]
        plist, nlist = lists[ci]
        p = ptr_p[ci]
        i = plist[p]
        while taken[i]:
            p += 1
            i = plist[p]
        ptr_p[ci] = p
        q = ptr_n[ci]
        j = nlist[q]
        while taken[j]:
            q += 1
            j = nlist[q]
        ptr_n[ci] = q
        if i == n and j == n:  # nothing of the current queue left for this counter ...
            nxt = None
            if future is not None:
                nxt = next((e for e in future[ci] if not taken[e[1]]), None)
            if nxt is None:
                heappop(heap)
                continue
            if nxt[0] > t:  # ... but it still takes newcomers that would otherwise overtake elsewhere
                heapreplace(heap, (nxt[0], ci))
                continue
            i = nxt[1]
            j = n if nxt[2] else i  # keeps the interleave count right below
        elif future is not None and future[ci]:
            best_p: _FutureEvent | None = None
            best_n: _FutureEvent | None = None
            for e in future[ci]:
                if e[0] > t:
                    break
                if taken[e[1]]:
                    continue
                if e[2]:
                    if best_p is None or (e[3], e[4]) < (best_p[3], best_p[4]):
                        best_p = e
                elif best_n is None or (e[3], e[4]) < (best_n[3], best_n[4]):
                    best_n = e
            rank = ranks[ci]
            if best_p is not None and (i == n or (best_p[3], best_p[4]) < (rank[i], qa[i])):
                i = best_p[1]
            if best_n is not None and (j == n or (best_n[3], best_n[4]) < (rank[j], qa[j])):
                j = best_n[1]
        if i != n and (strict or j == n or since >= every):
            since = 0
        else:
            i = j
            since += 1
        taken[i] = True
        if i < n:
            call[i] = t
            if call_counter is not None:
                call_counter[i] = ci
            left -= 1
            if not left:
                break
        if duration_of is not None:
            d = duration_of[i]
        elif with_no_shows and rnd() < no_show_share:
            d = no_show_cost_s
        else:
            s = tsvc[i]
            d = exp(mu_r[s] + sigmas[s] * pool[int(rnd() * pool_n)])
        heapreplace(heap, (t + d, ci))


@dataclass(frozen=True, slots=True)
class SimulatedWaits:
    """The raw Monte Carlo output behind a prediction: per waiting ticket (snapshot order) its
    position and its simulated waits, sorted (None when no counter serves it). Kept apart from
    `predict` so the interval can be calibrated against real waits (prediction_calibration.py)."""

    positions: list[int]
    waits: list[list[float] | None]
    runs: int


def simulate_waits(
    snapshot: QueueSnapshot,
    model: ServiceTimeModel,
    *,
    runs: int | None = None,
    seed: int = 0,
    paused_resume_s: float = 600.0,
    arrivals: ArrivalRates | None = None,
    bookings: BookingBehaviour = BOOKING_PRIOR,
) -> SimulatedWaits:
    """Run the calling rules forward: a deterministic pass for positions, then `runs` random ones.
    `arrivals` should count walk-ins only: the bookings in `snapshot.booked` come in by `bookings`."""
    tickets = snapshot.waiting
    if runs is None:
        runs = max(100, min(300, 30_000 // max(len(tickets), 1)))
    if not tickets:
        return SimulatedWaits([], [], runs)
    plan = _plan(snapshot, model, paused_resume_s, arrivals, bookings)
    n = len(tickets)
    p_ns, ns_cost = model.no_show_share, model.no_show_cost_s

    # Deterministic pass with mean times: the calling order, hence positions.
    mean_dur = [
        (1 - p_ns) * plan.service_params[s].mean_s + p_ns * ns_cost for s in plan.ticket_service
    ]
    start = [
        off + (b.mean_remaining_s(e) if b is not None else 0.0)
        for off, b, e in zip(plan.start_offset, plan.busy, plan.elapsed)
    ]
    nan = float("nan")
    det_call = [nan] * n
    det_counter = [-1] * n
    _run(plan, start, mean_dur, None, [], 0.0, 0.0, det_call, det_counter)
    order = sorted((i for i in range(n) if det_counter[i] >= 0), key=lambda i: (det_call[i], i))
    calls_by_counter = [0] * len(plan.counters)
    position = [0] * n
    for i in order:
        position[i] = sum(calls_by_counter[c] for c in plan.eligible_counters[i])
        calls_by_counter[det_counter[i]] += 1

    horizon_s = 1.5 * max((c for c in det_call if not math.isnan(c)), default=0.0) + 1800.0

    # Monte Carlo passes: service times, remaining times, no-shows and the uncertainty of each mean.
    rng = random.Random(seed)
    per_run: list[list[float]] = []
    base_mu = [p.mu for p in plan.service_params]
    for _ in range(runs):
        mu_r = [m + p.mu_se * rng.gauss(0.0, 1.0) for m, p in zip(base_mu, plan.service_params)]
        start = [
            off + (b.sample_remaining_s(e, rng.random()) if b is not None else 0.0)
            for off, b, e in zip(plan.start_offset, plan.busy, plan.elapsed)
        ]
        call = [nan] * n
        _run(plan, start, None, rng, mu_r, p_ns, ns_cost, call, horizon_s=horizon_s)
        per_run.append(call)
    waits: list[list[float] | None] = []
    for i, column in enumerate(zip(*per_run)):
        w = [x for x in column if not math.isnan(x)]  # NaN: never called
        if len(w) < runs:  # no counter serves it: nobody can promise a time
            waits.append(None)
            position[i] = sum(
                1
                for o in tickets
                if o.service_id == tickets[i].service_id
                and o.target_counter_id == tickets[i].target_counter_id
                and (not o.priority, o.queue_at, o.id) < (not tickets[i].priority, tickets[i].queue_at, tickets[i].id)
            )
        else:
            w.sort()
            waits.append(w)
    return SimulatedWaits(position, waits, runs)


def office_load(snapshot: QueueSnapshot) -> float:
    """Waiting tickets per open counter: the regime the interval is calibrated by."""
    open_counters = sum(1 for c in snapshot.counters if c.state == "open")
    return len(snapshot.waiting) / max(open_counters, 1)


def predict(
    snapshot: QueueSnapshot,
    model: ServiceTimeModel,
    *,
    runs: int | None = None,
    seed: int = 0,
    paused_resume_s: float = 600.0,
    arrivals: ArrivalRates | None = None,
    bookings: BookingBehaviour = BOOKING_PRIOR,
    calibration: IntervalCalibration | None = FITTED,
) -> dict[int, Prediction]:
    """Predicted wait from `snapshot.now` until each waiting ticket is called.

    Future arrivals overtake at the recent `arrivals` rates (none if not given); paused counters
    resume after `paused_resume_s`. `runs` defaults to 300 for small queues and fewer for long
    ones (at least 100), which keeps a 300-ticket office well under 100 ms. The bookings still to come
    (`snapshot.booked`) check in as `bookings` says (learnt from the office's past bookings; a prior
    when not given) and delay the tickets queued after their start. The 80% range is the
    simulated spread rescaled by `calibration` (fitted against simulated days' real waits);
    `calibration=None` gives the raw 10th-90th percentiles.
    """
    sim = simulate_waits(snapshot, model, runs=runs, seed=seed, paused_resume_s=paused_resume_s, arrivals=arrivals,
                         bookings=bookings)
    load = office_load(snapshot)
    out: dict[int, Prediction] = {}
    for t, position, w in zip(snapshot.waiting, sim.positions, sim.waits):
        if w is None:
            out[t.id] = Prediction(position, None, None, None)
            continue
        expected, low, high = interval(w, load, calibration)
        out[t.id] = Prediction(position, round(expected), round(low), round(high))
    return out


def naive_predict(snapshot: QueueSnapshot, avg_service_s: float) -> dict[int, int]:
    """The usual kiosk estimate, kept as the baseline: people ahead in the same service's queue
    (issued earlier) x the average service time / open counters that serve the service."""
    out: dict[int, int] = {}
    open_counters = [c for c in snapshot.counters if c.state == "open"]
    for t in snapshot.waiting:
        ahead = sum(1 for o in snapshot.waiting if o.service_id == t.service_id and o.queue_at < t.queue_at)
        serving = sum(1 for c in open_counters if t.service_id in c.service_ids) or 1
        out[t.id] = round(ahead * avg_service_s / serving)
    return out
