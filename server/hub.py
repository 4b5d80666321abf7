"""The WebSocket hub: envelope, per-office order, replay or snapshot on hello, pings, per-audience fan-out.

- Events arrive from pub/sub (this worker's writes and, with Redis, other workers'). Per office they are
  delivered strictly in `seq` order; a hole (a lost pub/sub message, a reconnect) is filled from the
  event log, so a display never misses a call.
- Each event is filtered and serialized once per audience, then put on every client's bounded queue;
  a client too slow to keep up is disconnected (it reconnects and resumes by `since_seq`) instead of
  slowing the others.
- A client is registered before its replay is read, and every client skips seqs it already has, so
  nothing falls between the replay and the live stream.
- Fast path (`RawSocket`): under uvicorn the frame of an event is built once per audience and
  written straight to each idle client's transport, instead of one ASGI send per client. A client whose
  queue is not empty, whose sender is busy, or whose socket is not writable takes the queue as before,
  so order, bounded queues and the slow-client policy are unchanged. With thousands of screens, an
  action with a call goes out in two passes: every screen gets the call first, then the rest.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from .audience import CALL_TYPES, filter_batch

log = logging.getLogger("qms.hub")
QUEUE_LIMIT = 2000
GAP_WAIT_S = 0.3

Fetch = Callable[[int, int, int | None], Awaitable[list[dict[str, Any]]]]  # office, after seq, up to


def text_frame(text: str) -> bytes:
    """A whole unmasked, unfragmented WebSocket text frame (RFC 6455 5.2), as a server sends it."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 1 << 16:
        head = bytes((0x81, 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x81, 127)) + n.to_bytes(8, "big")
    return head + payload


class RawSocket:
    """Writes ready-made frames to a uvicorn WebSocket connection's transport, skipping the per-client ASGI
    send (which re-encodes and re-frames the same text for every client: most of a fan-out's cost).

    Only for uvicorn's websockets-sansio protocol without compression (`ws_per_message_deflate=False`):
    every frame is written whole in one call on the event loop thread, so it never interleaves with the
    library's own frames. `write` refuses (the caller then queues) when the connection is not open or
    its transport is paused by flow control, so slow clients still go through the bounded queue.
    """

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol

    @classmethod
    def of(cls, ws: WebSocket) -> RawSocket | None:
        send: Any = getattr(ws, "_send", None)
        for _ in range(8):  # Starlette wraps the server's send in closures named `send`
            owner = getattr(send, "__self__", None)
            if owner is not None:
                return cls(owner) if cls._supported(owner) else None
            code, cells = getattr(send, "__code__", None), getattr(send, "__closure__", None)
            if code is None or not cells or "send" not in code.co_freevars:
                return None
            send = cells[code.co_freevars.index("send")].cell_contents
        return None

    @staticmethod
    def _supported(protocol: Any) -> bool:
        if type(protocol).__name__ != "WebSocketsSansIOProtocol":
            return False
        conn = getattr(protocol, "conn", None)
        extensions = getattr(conn, "extensions", None)
        return (extensions == [] and hasattr(protocol, "transport") and hasattr(protocol, "writable")
                and hasattr(protocol, "close_sent"))

    def write(self, frame: bytes) -> bool:
        p = self.protocol
        try:
            if (p.close_sent or not p.handshake_complete or p.transport.is_closing()
                    or not p.writable.is_set() or p.conn.state.name != "OPEN"):
                return False
            p.transport.write(frame)
            return True
        except (AttributeError, RuntimeError, OSError):
            return False


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
    closed: bool = False
    raw: RawSocket | None = None  # direct frame writes, when the server allows them
    direct: bool = False  # set once the catch-up is queued: from then on live events may skip the queue
    sending: bool = False  # the sender holds an item not yet written


@dataclass
class OfficeStream:
    delivered: int | None = None  # last seq handed to clients; None until known
    pending: dict[int, dict[str, Any]] = field(default_factory=dict)
    gap_task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


TWO_PASS_FROM = 2000  # sockets of one office in this worker from which a call goes out ahead of the rest


@dataclass
class _Form:
    """One audience's form of a batch: (seq, text, frame) per event, split after the first call."""

    out: list[tuple[int, str, bytes]]
    lead: int  # how many events go in the first pass
    lead_bytes: bytes
    rest_bytes: bytes
    all_bytes: bytes

    @classmethod
    def of(cls, shown: list[tuple[int, dict[str, Any]]]) -> _Form:
        out, lead = [], 0
        for seq, event in shown:
            text = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
            out.append((seq, text, text_frame(text)))
            if not lead and event["type"] in CALL_TYPES:
                lead = len(out)
        lead = lead or len(out)
        head, rest = b"".join(f for _, _, f in out[:lead]), b"".join(f for _, _, f in out[lead:])
        return cls(out, lead, head, rest, head + rest)


class Hub:
    def __init__(self, fetch_events: Fetch, last_seq: Callable[[int], Awaitable[int]]) -> None:
        self.fetch_events = fetch_events
        self.last_seq = last_seq
        self.clients: dict[int, set[Client]] = defaultdict(set)
        self.streams: dict[int, OfficeStream] = defaultdict(OfficeStream)
        self.sent_messages = 0
        self.device_links: dict[int, int] = defaultdict(int)  # device id -> open sockets in this worker

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

    def delivered(self, office_id: int) -> int:
        """The last seq this worker handed to the office's clients. A client registered now gets every
        later event live, so a catch-up reads the log up to here and no further (no database hop)."""
        return self.streams[office_id].delivered or 0

    def unregister(self, client: Client) -> None:
        client.closed = True
        self.clients[client.office_id].discard(client)
        try:
            client.queue.put_nowait(None)
        except asyncio.QueueFull:
            pass

    async def sender(self, client: Client) -> None:
        """Drain one client's queue; a failed send ends the connection."""
        try:
            while True:
                item = await client.queue.get()
                if item is None:
                    return
                client.sending = True
                seq, text = item
                if seq and seq <= client.last_seq:
                    client.sending = False
                    continue
                await client.ws.send_text(text)
                if seq:
                    client.last_seq = seq
                client.sending = False
        except (WebSocketDisconnect, RuntimeError, OSError):
            client.closed = True

    def send_now(self, client: Client, seq: int, text: str, frame: bytes | None = None) -> None:
        if client.closed or self._write_direct(client, seq, seq, frame if frame is not None else text_frame(text)):
            return
        try:
            client.queue.put_nowait((seq, text))
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
        if stream.delivered is None:
            if not self.clients.get(office_id):
                return  # nobody listens to this office here; replay serves late comers
            stream.delivered = msgs[0]["seq"] - 1
        for m in msgs:
            if m["seq"] > stream.delivered:
                stream.pending[m["seq"]] = m
        self._drain(office_id, stream)
        if stream.pending and stream.gap_task is None:
            stream.gap_task = asyncio.create_task(self._fill_gap(office_id, stream))

    def _drain(self, office_id: int, stream: OfficeStream) -> None:
        assert stream.delivered is not None
        ready = []
        while stream.delivered + 1 in stream.pending:
            m = stream.pending.pop(stream.delivered + 1)
            stream.delivered = m["seq"]
            ready.append(m)
        if ready:
            self._fan_out(office_id, ready)

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

    def _fan_out(self, office_id: int, msgs: list[dict[str, Any]]) -> None:
        """Hand consecutive events to every client, serialized and framed once per audience.

        An idle client on the fast path gets them in one write. When they include a call and the office
        has thousands of sockets here (TWO_PASS_FROM), every screen first gets the events up to the call
        and only then, in a second pass, the rest of the action (the queue's new figures): the call then
        reaches the last screen sooner. Below that the second write per socket cost more than it saved
        (measured with bench/fanout.py). Each client still receives its events in `seq` order.
        """
        clients = self.clients.get(office_id)
        if not clients:
            return
        two_pass = len(clients) >= TWO_PASS_FROM
        forms: dict[str, _Form] = {}
        later: list[tuple[Client, list[tuple[int, str, bytes]], bytes]] = []
        for client in list(clients):
            form = forms.get(client.audience)
            if form is None:
                form = forms[client.audience] = _Form.of(filter_batch(client.audience, msgs))
            if not form.out:
                continue
            self.sent_messages += len(form.out)
            if not two_pass:
                if not self._write_direct(client, form.out[0][0], form.out[-1][0], form.all_bytes):
                    for seq, text, frame in form.out:
                        self.send_now(client, seq, text, frame)
                continue
            lead = form.out[:form.lead]
            if self._write_direct(client, lead[0][0], lead[-1][0], form.lead_bytes):
                if form.lead < len(form.out):
                    later.append((client, form.out[form.lead:], form.rest_bytes))
                continue
            for seq, text, frame in form.out:
                self.send_now(client, seq, text, frame)
        for client, rest, frames in later:
            if not self._write_direct(client, rest[0][0], rest[-1][0], frames):
                for seq, text, frame in rest:
                    self.send_now(client, seq, text, frame)

    @staticmethod
    def _write_direct(client: Client, first: int, last: int, frames: bytes) -> bool:
        """Write framed events `first`..`last` (0: not numbered) straight to an idle client's socket, unless
        it has them already; False when the client must take its queue instead."""
        if (client.direct and client.raw is not None and not client.closed and not client.sending
                and client.queue.empty() and not (first and first <= client.last_seq)
                and client.raw.write(frames)):
            if last:
                client.last_seq = last
            return True
        return False

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
