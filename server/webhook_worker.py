"""The delivery worker: POSTs each outbox row's event to its webhook, at least once, in `seq` order.

One worker per server process. It wakes when a transaction wrote deliveries (and at least once a
second), finds the webhooks whose oldest pending delivery is due, and drains each webhook in its own
thread: read the head delivery, POST it, record the outcome, next. A webhook is never drained by two
threads of one worker (the `_draining` map), nor by two processes: on PostgreSQL the drain holds a
transaction-level advisory lock on the webhook (`pg_try_advisory_xact_lock`), taken without waiting;
the loser skips that webhook, and a crashed holder's lock goes with its connection. SQLite is one
process, so the map suffices there.

Order: only the lowest pending `event_seq` of a webhook is ever attempted, so a delivery waits while an
earlier one of the same webhook is pending (retrying or waiting for a paused webhook). A failed attempt
schedules the next with `backoff_s` (exponential, capped, jittered) on the row itself, so the schedule
survives restarts; once a failed attempt ends `give_up_s` (24 h) or more after the delivery's first
attempt (or its manual retry), the delivery is `failed`, an alert is raised, and the next delivery of
the webhook goes (its own window opens at its own first attempt). The retry libraries (tenacity,
backoff) retry a call by sleeping in-process, which a restart would forget; here the schedule is data,
so the three-line formula is ours.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import and_, bindparam, func, text, update
from sqlmodel import Session, col, select

from counters.engine import events
from counters.clock import DEFAULT_TIMEZONE
from counters.models import Alert, Event, Office
from counters.types import EventType

from . import __version__
from .db import Database
from .outbox import public_body
from .webhook_models import Webhook, WebhookDelivery

log = logging.getLogger("qms.webhooks")
CLAIM_CLASS = 0x514D5357  # "QMSW": the advisory-lock namespace of webhook drains (the webhook id is the key)
POLL_S = 1.0
BATCH = 500  # deliveries per claim, then the lock is let go and taken again (others get a turn)
FLUSH_EVERY, FLUSH_S = 50, 0.25  # outcomes are written at least this often
ACTOR = "system:webhooks"
MAX_ERROR = 300


@dataclass(frozen=True)
class Policy:
    retry_base_s: float = 10.0
    retry_max_s: float = 3600.0
    give_up_s: float = 86400.0
    timeout_s: float = 10.0
    hosts: frozenset[str] | None = None  # the hosts webhooks may point to (None: any)

    def allows(self, url: str) -> bool:
        return self.hosts is None or (urlsplit(url).hostname or "").lower() in self.hosts

    @staticmethod
    def host_list(raw: str | None) -> frozenset[str] | None:
        hosts = frozenset(h.strip().lower().strip("[]") for h in (raw or "").split(",") if h.strip())
        return hosts or None


@dataclass(frozen=True)
class Job:
    delivery_id: int
    key: str
    webhook_id: int
    url: str
    secret: str
    type: str
    body: bytes


def backoff_s(attempts: int, base_s: float, max_s: float, rand: Callable[[], float] = random.random) -> float:
    """The wait after the `attempts`-th failed try: base·2^(attempts−1) capped at max, half of it random
    ("equal jitter"), so receivers that come back together are not all retried in the same second."""
    full = min(max_s, base_s * 2 ** min(max(attempts - 1, 0), 40))
    return full / 2 + rand() * full / 2


def sign(secret: str, body: bytes) -> str:
    """The X-QMS-Signature header: sha256=<hex HMAC-SHA256 of the raw body, keyed with the secret>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def due_heads(session: Session) -> list[tuple[int, datetime | None]]:
    """(webhook id, due time) of the oldest pending delivery of each active webhook."""
    d = WebhookDelivery
    head = (select(col(d.webhook_id).label("wid"), func.min(d.event_seq).label("seq"))
            .where(d.status == "pending").group_by(col(d.webhook_id)).subquery())
    q = (select(d.webhook_id, d.next_attempt_at)
         .join(head, and_(col(d.webhook_id) == head.c.wid, col(d.event_seq) == head.c.seq))
         .join(Webhook, col(Webhook.id) == col(d.webhook_id))
         .where(col(Webhook.active) == True, col(Webhook.archived) == False))  # noqa: E712
    return [(wid, at) for wid, at in session.exec(q).all()]


def next_jobs(session: Session, webhook_id: int, now: datetime, limit: int = 50) -> list[Job]:
    """The webhook's oldest pending deliveries, in seq order, up to the first that is not due yet, with
    their bodies built from the event log (one read for a run of deliveries)."""
    w = session.get(Webhook, webhook_id)
    if w is None or not w.active or w.archived:
        return []
    rows = session.exec(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id,
                                                      WebhookDelivery.status == "pending")
                        .order_by(col(WebhookDelivery.event_seq)).limit(limit)).all()
    due: list[WebhookDelivery] = []
    for d in rows:
        if d.next_attempt_at is not None and d.next_attempt_at > now:
            break
        due.append(d)
    if not due:
        return []
    office = session.get(Office, w.office_id)
    tz = office.timezone if office else DEFAULT_TIMEZONE
    logged = {e.seq: e for e in session.exec(select(Event).where(
        Event.office_id == w.office_id, col(Event.seq).in_([d.event_seq for d in due])))}
    jobs = []
    for d in due:
        e = logged.get(d.event_seq)
        message = events.to_message(e, tz) if e is not None else {  # cannot happen: written with its event
            "type": d.type, "seq": d.event_seq, "at": None, "office_id": d.office_id, "data": {}}
        body = json.dumps(public_body(message), ensure_ascii=False, separators=(",", ":")).encode()
        jobs.append(Job(d.id or 0, d.key, webhook_id, w.url, w.secret, d.type, body))
    return jobs


@dataclass(frozen=True)
class Outcome:
    job: Job
    ok: bool
    error: str | None
    at: datetime


_DELIVERED = (update(WebhookDelivery)
              .where(col(WebhookDelivery.id) == bindparam("did"), col(WebhookDelivery.status) == "pending")
              .values(status="delivered", delivered_at=bindparam("at"), attempts=col(WebhookDelivery.attempts) + 1,
                      last_error=None, next_attempt_at=None))


def record_all(session: Session, outcomes: list[Outcome], policy: Policy) -> None:
    """Write a run of outcomes (one transaction): the successes in one statement (a row no longer pending,
    because its webhook was deleted meanwhile, is left as it is), a failure as `record` says; a success
    clears the webhook's alert once none of its deliveries is failed."""
    good = [o for o in outcomes if o.ok]
    if good:
        session.connection().execute(_DELIVERED, [{"did": o.job.delivery_id, "at": o.at} for o in good])
    for o in outcomes:
        if not o.ok:
            record(session, o.job, o.ok, o.error, o.at, policy)
    if good:
        wid = good[-1].job.webhook_id
        if session.exec(select(Alert.id).where(Alert.key == alert_key(wid), col(Alert.cleared_at).is_(None))).first() \
                and not session.exec(select(WebhookDelivery.id).where(WebhookDelivery.webhook_id == wid,
                                                                      WebhookDelivery.status == "failed")).first():
            clear_alert(session, alert_key(wid), good[-1].at)


def record(session: Session, job: Job, ok: bool, error: str | None, now: datetime, policy: Policy) -> str | None:
    """Write an attempt's outcome; returns the delivery's new status (None if it changed meanwhile)."""
    d = session.get(WebhookDelivery, job.delivery_id, with_for_update=True)
    if d is None or d.status != "pending":  # the webhook was deleted while the POST was in flight
        return None
    if d.attempts == 0:  # the retry window opens at the first attempt, not while it waited behind others
        d.window_start = now
    d.attempts += 1
    if ok:
        d.status, d.delivered_at, d.last_error, d.next_attempt_at = "delivered", now, None, None
        session.add(d)
        return d.status
    d.last_error = (error or "failed")[:MAX_ERROR]
    if (now - d.window_start).total_seconds() >= policy.give_up_s:
        d.status, d.next_attempt_at = "failed", None
        session.add(d)
        w = session.get(Webhook, job.webhook_id)
        raise_alert(session, d.office_id, alert_key(job.webhook_id),
                    f"Webhook «{w.url if w else job.url}» không nhận sự kiện #{d.event_seq} ({d.type}) sau "
                    f"{d.attempts} lần gửi: {d.last_error}",
                    {"webhook_id": job.webhook_id, "url": w.url if w else job.url, "delivery_id": d.id,
                     "event_seq": d.event_seq, "type": d.type, "attempts": d.attempts}, now)
    else:
        d.next_attempt_at = now + timedelta(seconds=backoff_s(d.attempts, policy.retry_base_s, policy.retry_max_s))
        session.add(d)
    return d.status


# ---- the alert a head sees (the dashboard lists open alerts of any kind)
def alert_key(webhook_id: int) -> str:
    return f"webhook:{webhook_id}:failed"


def _alert_view(a: Alert, tz: str) -> dict[str, Any]:
    from counters.clock import iso
    return {"id": a.id, "office_id": a.office_id, "kind": a.kind, "key": a.key, "message": a.message,
            "since": iso(a.since, tz), "cleared_at": iso(a.cleared_at, tz), **(a.data or {})}


def _tz(session: Session, office_id: int) -> str:
    office = session.get(Office, office_id)
    return office.timezone if office else DEFAULT_TIMEZONE


def raise_alert(session: Session, office_id: int, key: str, message: str, data: dict[str, Any],
                now: datetime) -> None:
    """Open the `webhook_failed` alert unless it is open already; records `alert.raised`."""
    if session.exec(select(Alert).where(Alert.key == key, col(Alert.cleared_at).is_(None))).first():
        return
    alert = Alert(office_id=office_id, kind="webhook_failed", key=key, message=message, data=data, since=now)
    session.add(alert)
    session.flush()
    events.record(session, office_id, EventType.ALERT_RAISED, now,
                  {"alert": _alert_view(alert, _tz(session, office_id))}, actor=ACTOR)


def clear_alert(session: Session, key: str, now: datetime) -> None:
    for alert in session.exec(select(Alert).where(Alert.key == key, col(Alert.cleared_at).is_(None))):
        alert.cleared_at = now
        session.add(alert)
        events.record(session, alert.office_id, EventType.ALERT_CLEARED, now,
                      {"alert": _alert_view(alert, _tz(session, alert.office_id))}, actor=ACTOR)


class WebhookWorker:
    """Delivers the outbox of this server's database; `write` is the server's write-then-publish."""

    def __init__(self, db: Database, write: Callable[[Callable[[Session], Any]], Coroutine[Any, Any, Any]],
                 now: Callable[[], datetime], policy: Policy, threads: int = 4) -> None:
        self.db, self.write, self.now, self.policy = db, write, now, policy
        self.wakeup = asyncio.Event()
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="qms-webhooks")
        self._http = httpx.Client(timeout=policy.timeout_s, follow_redirects=False, trust_env=False,
                                  headers={"User-Agent": f"qms-motcua/{__version__}"})
        self._draining: dict[int, asyncio.Future[bool]] = {}
        self._again: set[int] = set()  # woken while draining
        self._stopping = threading.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        loop = self._loop = asyncio.get_running_loop()

        def wake(webhooks: set[int]) -> None:  # from a writer thread or the loop, after a commit
            loop.call_soon_threadsafe(self._start_drains, webhooks)
        self.db.outbox.on_enqueue = wake
        self._task = asyncio.create_task(self.run(), name="qms-webhook-worker")

    async def stop(self) -> None:
        self._stopping.set()
        self.db.outbox.on_enqueue = None
        if self._task is not None:
            self._task.cancel()
        # a POST in flight ends within the timeout; its outcome is written, or the row stays pending
        pending = [f for f in self._draining.values() if not f.done()]
        if pending:
            await asyncio.wait(pending, timeout=self.policy.timeout_s + 2)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()

    async def run(self) -> None:
        while not self._stopping.is_set():
            self.wakeup.clear()
            try:
                delay = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook worker tick failed")
                delay = POLL_S
            try:
                await asyncio.wait_for(self.wakeup.wait(), timeout=max(0.01, delay))
            except TimeoutError:
                pass

    async def tick(self) -> float:
        """Start a drain for every webhook whose head delivery is due; the seconds until the next one is."""
        heads = await self.db.read(due_heads)
        now, wait = self.now(), POLL_S
        due = set()
        for wid, at in heads:
            if at is not None and at > now:
                wait = min(wait, (at - now).total_seconds())
            else:
                due.add(wid)
        self._start_drains(due)
        return wait

    def _start_drains(self, webhooks: set[int]) -> None:
        """A drain per webhook not being drained; one being drained looks again when it ends (`_again`)."""
        if self._stopping.is_set():
            return
        loop = asyncio.get_running_loop()
        for wid in webhooks:
            if wid in self._draining:
                self._again.add(wid)
                continue
            fut = loop.run_in_executor(self._pool, self._drain, wid)
            self._draining[wid] = fut

            def done(f: asyncio.Future[bool], wid: int = wid) -> None:
                self._draining.pop(wid, None)
                if not f.cancelled() and f.exception() is not None:
                    log.error("delivering webhook %s failed: %s", wid, f.exception())
                    self.wakeup.set()
                elif not f.cancelled() and f.result():  # an attempt failed: its retry time is new to the loop
                    self.wakeup.set()
                if wid in self._again:  # work arrived while it drained: drain again (a no-op if none is due)
                    self._again.discard(wid)
                    self._start_drains({wid})
            fut.add_done_callback(done)

    # ---- one webhook, in a worker thread
    @contextmanager
    def _claim(self, webhook_id: int) -> Iterator[bool]:
        """Exclusive right to deliver this webhook's events (PostgreSQL: an advisory lock, no waiting)."""
        if self.db.is_sqlite:
            yield True
            return
        with self.db.engine.connect() as conn, conn.begin():
            won = conn.execute(text("SELECT pg_try_advisory_xact_lock(:k, :w)"),
                               {"k": CLAIM_CLASS, "w": webhook_id}).scalar()
            yield bool(won)

    def _drain(self, webhook_id: int) -> bool:
        """Send the webhook's due deliveries in order until one fails or none is due; True if one failed.

        Outcomes are written in batches (every FLUSH_EVERY deliveries or FLUSH_S seconds, at once on a
        failure, and before the next read): the next delivery is sent as soon as the previous one was
        answered 2xx, without waiting for a commit. A crash before a batch is written sends its deliveries
        again after the restart: at least once, and receivers dedupe by X-QMS-Delivery.
        """
        with self._claim(webhook_id) as won:
            if not won:
                return False
            done: list[Outcome] = []
            flushed = time.monotonic()
            try:
                for _ in range(BATCH // 50):
                    jobs = self.db.read_sync(partial(next_jobs, webhook_id=webhook_id, now=self.now()))
                    if not jobs:
                        return False
                    for job in jobs:
                        if self._stopping.is_set():
                            return False
                        ok, error = self.post(job)
                        done.append(Outcome(job, ok, error, self.now()))
                        if not ok:
                            log.warning("webhook %s delivery %s failed: %s", webhook_id, job.delivery_id, error)
                            return True
                        if len(done) >= FLUSH_EVERY or time.monotonic() - flushed >= FLUSH_S:
                            self._record(done)
                            done, flushed = [], time.monotonic()
                    self._record(done)  # before reading again: what was sent is no longer pending
                    done, flushed = [], time.monotonic()
            finally:
                self._record(done)  # stopping waits for this; a crash leaves the rows pending
            self._again.add(webhook_id)  # a full batch: let others have the claim, then go on
            return False

    def _record(self, outcomes: list[Outcome]) -> None:
        if outcomes and self._loop is not None:
            write = partial(record_all, outcomes=outcomes, policy=self.policy)
            asyncio.run_coroutine_threadsafe(self.write(write), self._loop).result()

    def post(self, job: Job) -> tuple[bool, str | None]:
        if not self.policy.allows(job.url):
            return False, "the URL's host is not in QMS_WEBHOOK_HOSTS"
        headers = {"Content-Type": "application/json", "X-QMS-Event": job.type, "X-QMS-Delivery": job.key,
                   "X-QMS-Signature": sign(job.secret, job.body)}
        try:
            r = self._http.post(job.url, content=job.body, headers=headers)
        except httpx.TimeoutException:
            return False, f"no answer within {self.policy.timeout_s:g} s"
        except httpx.HTTPError as e:
            return False, f"{type(e).__name__}: {e}"[:MAX_ERROR]
        if 200 <= r.status_code < 300:
            return True, None
        return False, f"HTTP {r.status_code}"
