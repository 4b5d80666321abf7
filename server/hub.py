"""The WebSocket hub: envelope, per-office order, replay or snapshot on hello, pings, per-audience fan-out.

- Events arrive from pub/sub (this worker's writes and, with Redis, other workers'). Per office they are
  delivered strictly in `seq` order; a hole (a lost pub/sub message, a reconnect) is filled from the
  event log, so a display never misses a call.
- Each event is filtered and serialized once per audience, then put on every client's bounded queue;
  a client too slow to keep up is disconnected (it reconnects and resumes by `since_seq`) instead of
  slowing the others.
- A client is registered before its replay is read, and every client skips seqs it already has, so
  nothing falls between the replay and the live stream.
- A snapshot (a client with no seq, or too old a one) is built once per office and change and shared by
  every socket that asks at that seq (`self.snapshots`, server/snapshots.py): a reconnect storm is one build.
- A derived frame (`queue.updated`) carries the seq of the latest event it reflects and takes no slot:
  it is fanned out once that event has been, queued with no seq of its own so a client's sender never
  takes it for a duplicate, and it is never replayed (snapshots carry the waits). Lobby screens get only
  the service rows whose count or minutes changed (`_news`): most refinements reach no screen at all.
- The last RECENT_EVENTS delivered events of an office stay in memory, so a resuming socket (a restart,
  a network blip: thousands at once) is answered without a read of the log.
- One keep-alive task pings every socket (`keep_alive`), not a task per socket.
- Only public APIs: each client's sender task drains its queue through Starlette's `send_text`. With
  thousands of screens an action with a call is queued in two passes (every screen's call first, then
  the rest of the action), and each sender yields after a call, so every screen's call is written
  before any screen's queue figures.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from .audience import CALL_TYPES, DERIVED_TYPES, filter_batch
from .metrics import Metrics
from .snapshots import Snapshots

log = logging.getLogger("qms.hub")
QUEUE_LIMIT = 2000
PING = (0, '{"type":"ping"}')
RECENT_EVENTS = 1000  # per office: a reconnect storm resumes from memory, not from the log (one read each)
GAP_WAIT_S = 0.3
CALL_PREFIXES = tuple(f'{{"type":"{t}"' for t in sorted(CALL_TYPES))  # a serialized call starts so

Fetch = Callable[[int, int, int | None], Awaitable[list[dict[str, Any]]]]  # office, after seq, up to


@dataclass(eq=False)
class Client:
    ws: WebSocket
    office_id: int
    audience: str
    kind: str  # actor kind, or "track"
    actor_id: int | None
    token_id: int | None
    queue: asyncio.Queue[tuple[int, str] | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    last_seq: int = 0
    last_pong: float = 0.0
    pinged_at: float = 0.0  # monotonic time of the last ping (or of the connection): the next is due an interval on
    closed: bool = False
    sending: bool = False  # the sender is writing an item (a long send is not a silent client)


@dataclass
class OfficeStream:
    delivered: int | None = None  # last seq handed to clients; None until known
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    gap_task: asyncio.Task[None] | None = None
    frames: list[dict[str, Any]] = field(default_factory=list)  # derived frames ahead of the events they reflect
    shown: dict[Any, dict[str, Any]] = field(default_factory=dict)  # service → the last row lobby screens were sent
    recent: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_EVENTS))  # delivered, in order
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)



@dataclass
class _Form:
    """One audience's form of a batch: (seq, text) per event, serialized once; `lead` events go first."""

    out: list[tuple[int, str]]
    lead: int  # how many events go in the first pass (up to and including the first call)

    @classmethod
    def of(cls, shown: list[tuple[int, dict[str, Any]]], derived: bool = False) -> _Form:
        """Derived frames are queued under seq 0: no slot of their own, never taken for a duplicate."""
        out: list[tuple[int, str]] = []
        lead = 0
        for seq, event in shown:
            out.append((0 if derived else seq, json.dumps(event, ensure_ascii=False, separators=(",", ":"))))
            if not lead and event["type"] in CALL_TYPES:
                lead = len(out)
        return cls(out, lead or len(out))


class Hub:
    def __init__(self, fetch_events: Fetch, last_seq: Callable[[int], Awaitable[int]],
                 metrics: Metrics | None = None) -> None:
        self.fetch_events = fetch_events
        self.last_seq = last_seq
        self.clients: dict[int, set[Client]] = defaultdict(set)
        self.streams: dict[int, OfficeStream] = defaultdict(OfficeStream)
        self.metrics = metrics
        self.device_links: dict[int, int] = defaultdict(int)  # device id -> open sockets in this worker
        # the snapshot a connecting socket gets, built once per office and change (server/snapshots.py)
        self.snapshots = Snapshots(metrics.ws_snapshot_builds if metrics else None)

    def link_device(self, device_id: int) -> bool:
        """Count a device's socket; True for its first one (only then is presence worth a database write)."""
        self.device_links[device_id] += 1
        return self.device_links[device_id] == 1

    def unlink_device(self, device_id: int) -> bool:
        """True when the device's last socket in this worker closed."""
        left = self.device_links[device_id] = max(0, self.device_links[device_id] - 1)
        if not left:
            del self.device_links[device_id]
        return not left

    # ---- clients
    async def register(self, client: Client) -> None:
        stream = self.streams[client.office_id]
        if stream.delivered is None:
            async with stream.lock:
                if stream.delivered is None:
                    stream.delivered = await self.last_seq(client.office_id)
        self.clients[client.office_id].add(client)
        if self.metrics:
            self.metrics.websocket_clients.inc()

    def delivered(self, office_id: int) -> int:
        """The last seq this worker handed to the office's clients. A client registered now gets every
        later event live, so a catch-up reads the log up to here and no further (no database hop)."""
        return self.streams[office_id].delivered or 0

    def recent(self, office_id: int, after: int, upto: int) -> list[dict[str, Any]] | None:
        """The events (after, upto] as this worker delivered them, or None when they are not all in memory
        (the caller reads the log). Delivered events are consecutive, so the range is whole or absent."""
        recent = self.streams[office_id].recent
        if not recent or recent[0]["seq"] > after + 1 or recent[-1]["seq"] < upto:
            return None
        first = recent[0]["seq"]
        return [recent[i] for i in range(after + 1 - first, upto + 1 - first)]

    def unregister(self, client: Client) -> None:
        if client in self.clients[client.office_id] and self.metrics:
            self.metrics.websocket_clients.dec()
        client.closed = True
        self.clients[client.office_id].discard(client)
        try:
            client.queue.put_nowait(None)
        except asyncio.QueueFull:
            pass

    async def sender(self, client: Client) -> None:
        """Drain one client's queue; a failed send ends the connection. After a call it lets the other
        senders run, so every screen gets its call before any screen gets the figures that follow."""
        try:
            while True:
                item = await client.queue.get()
                if item is None:
                    return
                seq, text = item
                if seq and seq <= client.last_seq:
                    continue
                client.sending = True
                await client.ws.send_text(text)
                client.sending = False
                if seq:
                    client.last_seq = seq
                if text.startswith(CALL_PREFIXES):
                    await asyncio.sleep(0)
        except (WebSocketDisconnect, RuntimeError, OSError):
            client.closed = True

    def send_now(self, client: Client, item: tuple[int, str]) -> None:
        """Queue (seq, text) for the client's sender; seq 0 is never taken for a duplicate."""
        if client.closed:
            return
        try:
            client.queue.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("client of office %s too slow (%d queued): disconnecting it", client.office_id, QUEUE_LIMIT)
            self.unregister(client)
            asyncio.create_task(self._close(client, 4008, "too slow; reconnect with since_seq"))

    async def _close(self, client: Client, code: int, reason: str) -> None:
        try:
            if client.ws.application_state == WebSocketState.CONNECTED:
                await client.ws.close(code=code, reason=reason)
        except (RuntimeError, OSError):
            pass

    # ---- events
    async def on_events(self, messages: list[dict[str, Any]]) -> None:
        by_office: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for m in messages:
            by_office[m["office_id"]].append(m)
        for office_id, msgs in by_office.items():
            await self._accept(office_id, msgs)

    async def _accept(self, office_id: int, msgs: list[dict[str, Any]]) -> None:
        stream = self.streams[office_id]
        events = [m for m in msgs if m["type"] not in DERIVED_TYPES]
        if stream.delivered is None:
            if not self.clients.get(office_id) or not events:
                return  # nobody listens to this office here; replay serves late comers
            stream.delivered = events[0]["seq"] - 1
        for m in events:
            if m["seq"] > stream.delivered:
                stream.pending[m["seq"]] = m
        stream.frames.extend(m for m in msgs if m["type"] in DERIVED_TYPES)
        self._drain(office_id, stream)
        if stream.pending and stream.gap_task is None:
            stream.gap_task = asyncio.create_task(self._fill_gap(office_id, stream))

    def _drain(self, office_id: int, stream: OfficeStream) -> None:
        assert stream.delivered is not None
        ready = []
        while stream.delivered + 1 in stream.pending:
            m = stream.pending.pop(stream.delivered + 1)
            stream.delivered = m["seq"]
            if stream.recent and stream.recent[-1]["seq"] != m["seq"] - 1:
                stream.recent.clear()  # a skipped hole: keep the memory consecutive
            stream.recent.append(m)
            ready.append(m)
        if ready:
            self._fan_out(office_id, ready)
        if stream.frames:
            due = [f for f in stream.frames if f["seq"] <= stream.delivered]
            stream.frames = [f for f in stream.frames if f["seq"] > stream.delivered]
            if due:
                self._fan_out(office_id, due, derived=True)

    async def _fill_gap(self, office_id: int, stream: OfficeStream) -> None:
        """Wait briefly for late messages, then read what is still missing from the event log."""
        try:
            await asyncio.sleep(GAP_WAIT_S)
            if stream.pending and stream.delivered is not None:
                upto = max(stream.pending)
                missing = await self.fetch_events(office_id, stream.delivered, upto)
                for m in missing:
                    if m["seq"] > stream.delivered:
                        stream.pending.setdefault(m["seq"], m)
                self._drain(office_id, stream)
                if stream.pending:  # the log has a hole that will never fill (should not happen): skip it
                    log.error("office %s: events %s missing from the log; skipping ahead", office_id,
                              sorted(stream.pending)[:5])
                    stream.delivered = min(stream.pending) - 1
                    self._drain(office_id, stream)
        finally:
            stream.gap_task = None

    async def resync(self) -> None:
        """After a pub/sub reconnect: deliver whatever the log holds beyond what was delivered."""
        for office_id, stream in list(self.streams.items()):
            if stream.delivered is None or not self.clients.get(office_id):
                continue
            for m in await self.fetch_events(office_id, stream.delivered, None):
                stream.pending.setdefault(m["seq"], m)
            self._drain(office_id, stream)

    def _fan_out(self, office_id: int, msgs: list[dict[str, Any]], derived: bool = False) -> None:
        """Queue consecutive events to every client, filtered and serialized once per audience.

        Every client's events up to the first call are queued before anyone's rest of the action, so the
        call reaches the last screen as soon as it can. Each client still receives its events in `seq`
        order.
        """
        clients = self.clients.get(office_id)
        if not clients:
            self.streams[office_id].shown.clear()  # nobody was sent anything: the next frame goes out whole
            return
        forms: dict[str, _Form] = {}
        later: list[tuple[Client, list[tuple[int, str]]]] = []
        sent = 0
        for client in list(clients):
            form = forms.get(client.audience)
            if form is None:
                shown = filter_batch(client.audience, msgs)
                form = forms[client.audience] = _Form.of(self._news(office_id, shown)
                                                         if derived and client.audience == "public" else shown,
                                                         derived)
            if not form.out:
                continue
            sent += len(form.out)
            for item in form.out[:form.lead]:  # one (seq, text) shared by every socket, not one each
                self.send_now(client, item)
            if form.lead < len(form.out):
                later.append((client, form.out[form.lead:]))
        for client, rest in later:
            for item in rest:
                self.send_now(client, item)
        if self.metrics and sent:
            self.metrics.websocket_messages.inc(sent)
        if derived and sent:
            self.snapshots.stale(office_id)

    def _news(self, office_id: int, frames: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, dict[str, Any]]]:
        """Derived frames for the lobby screens and kiosks (the thousands), cut to the service rows they have
        not been sent as they are: a refined wait that still reads the same minutes goes to none of them.
        A screen that connects later gets a snapshot built after the last frame (`Snapshots.stale`)."""
        last = self.streams[office_id].shown
        out = []
        for seq, frame in frames:
            data = frame.get("data") or {}
            changed = [row for row in data.get("services") or [] if last.get(row.get("id")) != row]
            for row in changed:
                last[row.get("id")] = row
            if changed:
                out.append((seq, {**frame, "data": {**data, "services": changed}}))
        return out

    # ---- keep-alive
    async def keep_alive(self, interval: float) -> None:
        """Ping every socket `interval` after its last ping; close one whose pong is 2.5 intervals late.

        One task for all sockets (not one per socket): thousands of screens are thousands fewer tasks and
        timers to create on connect and to hold. A socket still working through a backlog (a long replay)
        is not judged: our ping waits in that queue, and the bounded queue handles a really stuck one.
        """
        tick = min(1.0, interval / 4)
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            for clients in list(self.clients.values()):
                for client in list(clients):
                    if client.closed or now - client.pinged_at < interval:
                        continue
                    client.pinged_at = now
                    if not client.queue.empty() or client.sending:
                        client.last_pong = max(client.last_pong, now - interval)
                    elif now - client.last_pong > interval * 2.5:
                        self.unregister(client)
                        asyncio.create_task(self._close(client, 4002, "no pong"))
                        continue
                    self.send_now(client, PING)

    # ---- control
    async def close_where(self, match: Callable[[Client], bool], code: int, reason: str) -> int:
        n = 0
        for clients in list(self.clients.values()):
            for c in list(clients):
                if match(c):
                    self.unregister(c)
                    await self._close(c, code, reason)
                    n += 1
        return n

    def count(self) -> int:
        return sum(len(c) for c in self.clients.values())
