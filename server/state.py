"""Everything one worker holds: settings, database, pub/sub, hub, voice, throttles; publish-after-commit.

`Qms.write` runs a transaction, then publishes its events; the pub/sub backend hands them to the hub of
every worker (this one included), which orders and fans them out.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.requests import Request

from counters.engine import events
from counters.clock import Clock, utcnow
from counters.context import AnnouncementText
from counters.models import Counter, Event, Office, OfficeSeq, Service, Ticket
from counters.engine.id_card import keyed_hash
from counters.types import EventType
from counters.views import counter_brief

from .api import KnownTokens
from .auth import Actor, actor_from_token
from .metrics import Metrics
from .db import Database
from .dossier_lookup import LookupRegistry
from .errors import ApiError
from .estimator import Estimator
from .hub import Hub
from .live_projector import LiveProjector
from .models import Device
from .private import private_dir, private_file, write_private
from .print_hooks import hooks_for
from .pubsub.base import pubsub_from_url
from .report_projector import ReportProjector
from .settings import Settings
from .throttle import Throttle

T = TypeVar("T")
log = logging.getLogger("qms")
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
REPLAY_WINDOW = timedelta(hours=36)
REPLAYABLE_TTL = timedelta(seconds=60)  # how long an office's oldest replayable seq is reused
NOTHING_REPLAYABLE = 1 << 62


def deployment_namespace(database_url: str) -> str:
    """One deployment = one database: its Redis channels and keys are named after it (password left out)."""
    from sqlalchemy.engine import make_url
    safe = make_url(database_url).render_as_string(hide_password=True)
    return "qms:" + hashlib.sha256(safe.encode()).hexdigest()[:12]


class Qms:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock
        private_dir(settings.data_dir)  # before anything is written into it
        self.db = Database(settings.database_url)
        self.namespace = deployment_namespace(self.db.url)
        self.pubsub = pubsub_from_url(settings.redis_url, self.namespace)
        self.metrics = Metrics()
        self.hub = Hub(self.fetch_events, self.last_seq, self.metrics)
        self.known_tokens = KnownTokens()
        self.pubsub.on_message = self._on_pubsub
        self.pubsub.on_reconnect = self.hub.resync
        self.login_throttle = Throttle(5, 300, "failed logins")
        # password spraying: one address trying a few passwords on each of many usernames
        self.login_address_throttle = Throttle(20, 300, "failed logins from this address")
        self.pairing_throttle = Throttle(20, 60, "pairing requests")
        self.issue_throttle = Throttle(60, 60, "tickets from this device")
        self.lookup_throttle = Throttle(60, 60, "result look-ups from this address")
        self.dossier_lookups = LookupRegistry()
        self.print_wakeup = asyncio.Event()
        self._pinged: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._replayable: dict[int, tuple[datetime, asyncio.Future[int]]] = {}
        self._secret = self._load_secret()
        self._voice: Any = None
        self.live = LiveProjector(self.db.read, self.now, self.publish)
        self.print_hooks = hooks_for(self.live)
        self.estimator = Estimator(self)
        self.reports = ReportProjector(self.db, max(1, settings.report_fold_batch), settings.report_fold_pause_s)

    # ---- life cycle
    async def start(self) -> None:
        await self.pubsub.connect()
        self.reports.start()  # catches up from its checkpoint by itself (after a crash too)
        if self.settings.redis_url:
            import redis.asyncio as aioredis  # shared counters across workers
            # a stuck Redis must not hold a request: throttles count in memory when it does not answer
            shared = aioredis.from_url(self.settings.redis_url, socket_connect_timeout=3, socket_timeout=2)
            for t in (self.login_throttle, self.login_address_throttle, self.pairing_throttle, self.issue_throttle,
                      self.lookup_throttle):
                t.redis, t.namespace = shared, self.namespace
        self._tasks.append(asyncio.create_task(self._flush_pings(), name="qms-device-pings"))
        self._tasks.append(asyncio.create_task(self.hub.keep_alive(self.settings.ping_interval_s), name="qms-ws-pings"))

    async def stop(self) -> None:
        self.estimator.stop()
        for t in self._tasks:
            t.cancel()
        await self.hub.close_where(lambda c: True, 1001, "server shutting down")
        self.metrics.worker_stopped()
        await self.pubsub.disconnect()
        await self.dossier_lookups.aclose()
        await self.reports.stop()  # what it has not folded, the next start folds from the checkpoint
        self.db.dispose()

    def now(self) -> datetime:
        return self.clock() if self.clock else utcnow()

    def _load_secret(self) -> bytes:
        if self.settings.secret_key:
            return self.settings.secret_key.encode()
        path = Path(self.settings.data_dir) / "secret.key"
        if not path.exists():
            write_private(path, secrets.token_hex(32))
        private_file(path)  # one written by an older release may be world-readable
        return path.read_text().strip().encode()

    def id_card_hash(self, number: str) -> str:
        """The keyed hash under which a chip ID card's number is kept (the number itself never is)."""
        return keyed_hash(self._secret, number)

    # ---- writing and publishing
    async def write(self, fn: Any) -> Any:
        result, messages = await self.db.write(fn)
        if messages:
            await self.published(messages)
        return result

    async def published(self, messages: list[dict[str, Any]]) -> None:
        """After a commit: publish its events, then bring the live model up to date (its `queue.updated`
        frame follows the events) and let the refiner know."""
        await self.publish(messages)
        try:
            await self.live.committed(messages)
        except Exception:  # figures are advisory; the committed action stands
            log.exception("updating the live model after a write failed")
        self.estimator.touch(messages)

    async def publish(self, messages: list[dict[str, Any]]) -> None:
        try:
            await self.pubsub.publish(self.pubsub.events, json.dumps(messages, ensure_ascii=False))
        except Exception as e:  # noqa: BLE001 - committed already; the hubs fill the gap from the log
            log.error("publishing %d events failed (%s); clients catch up from the event log", len(messages), e)

    async def _on_pubsub(self, channel: str, message: str) -> None:
        if channel == self.pubsub.events:
            messages = json.loads(message)
            self.live.apply(messages)  # every worker's model follows every worker's writes
            await self.hub.on_events(messages)
        elif channel == self.pubsub.control:
            op = json.loads(message)
            await self._close_local(op)

    # ---- reading the log
    async def fetch_events(self, office_id: int, after: int, upto: int | None) -> list[dict[str, Any]]:
        def run(session: Session) -> list[dict[str, Any]]:
            office = session.get(Office, office_id)
            tz = office.timezone if office else "UTC"
            q = select(Event).where(Event.office_id == office_id, Event.seq > after)
            if upto is not None:
                q = q.where(Event.seq <= upto)
            return [events.to_message(e, tz) for e in session.exec(q.order_by(col(Event.seq)))]
        return await self.db.read(run)

    async def last_seq(self, office_id: int) -> int:
        def run(session: Session) -> int:
            row = session.get(OfficeSeq, office_id)
            return row.last_seq if row else 0
        return await self.db.read(run)

    async def replayable_from(self, office_id: int) -> int:
        """The oldest seq a client may resume from (at least the whole current office day is kept).

        Read once a minute per office, not per connecting client: after a restart every display of an
        office resumes at once. Events are never deleted, so an answer up to REPLAYABLE_TTL old only
        lets a client resume from a little further back than the window, from events that are there.
        """
        now = self.now()
        hit = self._replayable.get(office_id)
        if hit is not None and timedelta(0) <= now - hit[0] < REPLAYABLE_TTL:
            return await asyncio.shield(hit[1])
        since = now - REPLAY_WINDOW

        def run(session: Session) -> int:
            first = session.exec(select(func.min(Event.seq)).where(Event.office_id == office_id,
                                                                   Event.at >= since)).one()
            return int(first) if first is not None else NOTHING_REPLAYABLE

        def forget(read: asyncio.Future[int]) -> None:
            # a failed read is not reused, nor "nothing yet": the next event starts the window
            useless = read.cancelled() or read.exception() is not None or read.result() == NOTHING_REPLAYABLE
            if useless and self._replayable.get(office_id, (now, None))[1] is read:
                del self._replayable[office_id]
        read = asyncio.ensure_future(self.db.read(run))
        read.add_done_callback(forget)
        self._replayable[office_id] = (now, read)
        return await asyncio.shield(read)

    # ---- auth
    def csrf_token(self, token: str) -> str:
        return hmac.new(self._secret, token.encode(), hashlib.sha256).hexdigest()[:32]

    def request_token(self, request: Request) -> str:
        """The bearer or cookie token of a request (401 without one; 403 for a cookie change without CSRF)."""
        header = request.headers.get("authorization", "")
        token, from_cookie = None, False
        if header.lower().startswith("bearer "):
            token = header[7:].strip()
        elif request.cookies.get("qms_token"):
            token, from_cookie = request.cookies["qms_token"], True
        if not token:
            raise ApiError(401, "unauthorized", "Log in or pair the device: Authorization: Bearer <token>.")
        if from_cookie and request.method in UNSAFE:
            sent = request.headers.get("x-csrf-token", "")
            if not hmac.compare_digest(sent, self.csrf_token(token)):
                raise ApiError(403, "csrf_failed", "Cookie sessions need the X-CSRF-Token header (the qms_csrf "
                               "cookie's value) on changes.")
        return token

    def token_actor(self, session: Session, token: str) -> Actor:
        """The actor behind a token, inside the caller's read (401 when unknown, expired or revoked)."""
        actor = actor_from_token(session, token, self.now())
        if actor is None:
            raise ApiError(401, "unauthorized", "The token is unknown, expired or revoked.")
        return actor

    # ---- devices and closing sockets
    async def device_seen(self, actor: Actor, online: bool) -> None:
        now = self.now()

        def run(session: Session) -> None:
            d = session.get(Device, actor.id)
            if d is None or d.revoked:
                return
            changed = d.online != online
            d.online, d.last_seen = online, now
            session.add(d)
            if changed:
                from .routes.devices import device_view
                office = session.get(Office, d.office_id)
                events.record(session, d.office_id, EventType.DEVICE_STATUS, now,
                              {"device": device_view(d, office.timezone if office else "UTC",
                                                     self.settings.ping_interval_s, now)},
                              actor=actor.label)
        try:
            await self.write(run)
        except Exception:  # presence is best effort; never break a socket over it
            log.exception("recording device presence failed")

    def device_ping(self, actor: Actor) -> None:
        self._pinged.add(actor.id)

    async def _flush_pings(self) -> None:
        """Write the last-seen time of devices that answered pings, once per interval, in one transaction."""
        while True:
            await asyncio.sleep(self.settings.ping_interval_s)
            ids, self._pinged = self._pinged, set()
            if not ids:
                continue
            now = self.now()

            def run(session: Session, ids: set[int] = ids, now: datetime = now) -> None:
                for d in session.exec(select(Device).where(col(Device.id).in_(ids))):
                    d.last_seen, d.online = now, True
                    session.add(d)
            try:
                await self.db.write(run)
            except Exception:
                log.exception("recording pings failed")

    async def close_actor(self, kind: str, ident: int, code: int = 4001, reason: str = "revoked") -> None:
        await self._control({"op": "close", "kind": kind, "id": ident, "code": code, "reason": reason})

    async def close_token(self, token_id: int | None) -> None:
        if token_id is not None:
            await self._control({"op": "close", "kind": "token", "id": token_id, "code": 4001,
                                 "reason": "logged out"})

    async def _control(self, op: dict[str, Any]) -> None:
        """Tell every worker to close some sockets. Called after the commit (a revoke, a logout): when Redis
        is down this worker closes its own and the answer stands; the others' sockets stay until they drop."""
        try:
            await self.pubsub.publish(self.pubsub.control, json.dumps(op))
        except Exception as e:  # noqa: BLE001 - committed already; never turn that into an error answer
            log.error("publishing a close (%s) failed (%s); closing this worker's sockets only", op.get("op"), e)
            await self._close_local(op)

    async def _close_local(self, op: dict[str, Any]) -> None:
        kind, ident = op.get("kind"), op.get("id")
        devices = {"kiosk", "display", "tablet", "printer"}

        def match(c: Any) -> bool:
            if kind == "token":
                return bool(c.token_id == ident)
            if kind == "device":
                return bool(c.kind in devices and c.actor_id == ident)
            return bool(c.kind in {"admin", "head", "clerk"} and c.actor_id == ident)
        await self.hub.close_where(match, int(op.get("code", 4001)), str(op.get("reason", "revoked")))

    # ---- voice and tracking
    @property
    def voice(self) -> Any:
        """The audio cache, built on first use (speech engines are optional)."""
        if self._voice is None:
            from displays import AudioCache, default_backend_name, get_backend
            name = self.settings.voice or default_backend_name()
            self._voice = AudioCache(Path(self.settings.data_dir) / "audio",
                                     get_backend(name, self.settings.clips_dir))
        return self._voice

    def announcer(self, office: Office, ticket: Ticket, counter: Counter) -> AnnouncementText:
        from displays import compose
        a = compose(ticket.display_number, counter.number, office.announcement_template)
        return AnnouncementText(a.text, a.speech, a.lang)

    @staticmethod
    def validate_template(template: str) -> None:
        from displays import validate_template
        validate_template(template)

    def wake_printers(self) -> None:
        self.print_wakeup.set()

    def track_state(self, session: Session, ticket_id: int, now: datetime) -> dict[str, Any]:
        t = session.get(Ticket, ticket_id)
        assert t is not None
        office = session.get(Office, t.office_id)
        service = session.get(Service, t.service_id)
        counter = session.get(Counter, t.counter_id) if t.counter_id else None
        assert office is not None
        f = self.live.figures_now(session, t, now)
        return {"ticket_id": t.id, "display_number": t.display_number, "status": t.status,
                "service": {"id": service.id, "name": service.name} if service else None,
                "position": f.position, "estimated_wait_s": f.expected_s,
                "estimated_wait_range_s": list(f.range_s) if f.range_s else None, "serving_now": f.serving_now,
                "counter": counter_brief(counter) if counter and t.status in ("called", "serving") else None}
