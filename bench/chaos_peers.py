"""The peers of a province day under faults: lobby displays on the WebSocket, a webhook receiver, and an
HTTP client that counts every answer. Each records what it saw, for the audit (bench/chaos_audit.py)."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from server.audience import DERIVED_TYPES


@dataclass
class Answers:
    """Every HTTP answer by status and kind; statuses 0 = no answer (a worker killed under the request)."""

    by_status: Counter[int] = field(default_factory=Counter)
    by_kind: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)

    def note(self, kind: str, status: int, detail: str = "") -> None:
        self.by_status[status] += 1
        self.by_kind[(kind, status)] += 1
        if status >= 500 and status != 503:
            self.server_errors.append(f"{kind} {status} {detail[:200]}")


class Http:
    """An HTTP client for one actor; never raises for a failed request, returns (status, json or None)."""

    def __init__(self, base_url: str, answers: Answers, token: str | None = None) -> None:
        self.client = httpx.AsyncClient(base_url=base_url, timeout=15,
                                        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10))
        self.answers, self.token = answers, token

    async def call(self, kind: str, method: str, path: str, body: Any = None, *, raw: bytes | None = None,
                   headers: dict[str, str] | None = None) -> tuple[int, Any]:
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        h.update(headers or {})
        try:
            if raw is not None:
                r = await self.client.request(method, path, content=raw,
                                              headers={**h, "Content-Type": "application/json"})
            else:
                r = await self.client.request(method, path, json=body, headers=h)
        except (httpx.HTTPError, OSError):
            self.answers.note(kind, 0)
            return 0, None
        self.answers.note(kind, r.status_code, r.text if r.status_code >= 500 else "")
        try:
            return r.status_code, r.json()
        except ValueError:
            return r.status_code, None

    async def close(self) -> None:
        await self.client.aclose()


@dataclass
class Seen:
    seq: int
    type: str
    ticket_id: int | None
    at: str
    received: float  # time.time() on receipt


class Display:
    """A lobby display: connects, resumes by since_seq after every drop, records every event it gets."""

    def __init__(self, ws_url: str, token: str, office_id: int) -> None:
        self.url, self.office_id = f"{ws_url}?token={token}", office_id
        self.first_seq: int | None = None  # the snapshot it started from
        self.last_seq: int | None = None
        self.seen: list[Seen] = []
        self.disorder: list[tuple[int, int]] = []  # (previous, got) when a seq did not increase
        self.connects = 0
        self.connected = asyncio.Event()
        self._ws: Any = None
        self._stop = False

    async def run(self) -> None:
        backoff = 0.5
        while not self._stop:
            try:
                async with websockets.connect(self.url, open_timeout=20, ping_interval=None,
                                              max_size=2**22) as ws:
                    self._ws = ws
                    await ws.send(json.dumps({"type": "hello", "since_seq": self.last_seq}))
                    self.connects += 1
                    self.connected.set()
                    backoff = 0.5
                    async for raw in ws:
                        self._take(json.loads(raw))
            except (TimeoutError, OSError, websockets.WebSocketException, ValueError):
                pass
            finally:
                self._ws = None
                self.connected.clear()
            if self._stop:
                return
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 4)

    def _take(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "ping":
            if self._ws is not None:
                asyncio.ensure_future(self._ws.send('{"type":"pong"}'))
            return
        seq = msg.get("seq")
        if kind == "snapshot":
            self.connected.set()
            if self.first_seq is None:
                self.first_seq = seq or 0
            if self.last_seq is None or (seq or 0) > self.last_seq:
                self.last_seq = seq or 0
            return
        self.connected.set()
        if kind in DERIVED_TYPES:  # a derived frame: the latest seq again, no slot of its own (not disorder)
            return
        if not isinstance(seq, int) or not seq:
            return
        if self.last_seq is not None and seq <= self.last_seq:
            self.disorder.append((self.last_seq, seq))
            return
        self.last_seq = seq
        ticket = (msg.get("data") or {}).get("ticket") or {}
        self.seen.append(Seen(seq, str(kind), ticket.get("id"), str(msg.get("at")), time.time()))

    async def drop(self) -> None:
        """Close the socket (a reconnect burst); the run loop reconnects by itself."""
        ws = self._ws
        if ws is not None:
            try:
                await ws.close()
            except (OSError, websockets.WebSocketException):
                pass

    async def stop(self) -> None:
        self._stop = True
        await self.drop()


class WebhookReceiver:
    """The province's endpoint on loopback: verifies each signature, dedupes by X-QMS-Delivery, and can be
    taken down (connections refused) and brought back on the same port."""

    def __init__(self, secret: str, port: int) -> None:
        self.secret = secret.encode()
        self.port = port
        self.server: asyncio.base_events.Server | None = None
        self.bodies: dict[str, dict[str, Any]] = {}  # delivery id -> envelope, first receipt
        self.order: dict[int, list[int]] = defaultdict(list)  # office -> seqs in first-receipt order
        self.first_seen: dict[tuple[int, int], float] = {}  # (office, seq) -> time of first receipt
        self.posts = 0
        self.bad_signatures = 0
        self._open: set[asyncio.StreamWriter] = set()  # kept-alive connections, cut when it goes down

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self.server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        """Stop listening and cut the connections the sender keeps alive: closing the listener alone leaves
        them delivering, and the receiver was never really down."""
        if self.server is not None:
            self.server.close()
            for w in list(self._open):
                w.close()
            await self.server.wait_closed()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/qms-events"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                headers: dict[str, str] = {}
                while (h := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = h.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if self.server is None:  # went down while this request was on its way: not received
                    return
                self._take(headers, body)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            return  # a cancelled handler (the receiver going down, the run ending) ends quietly
        finally:
            self._open.discard(writer)
            writer.close()

    def _take(self, headers: dict[str, str], body: bytes) -> None:
        self.posts += 1
        want = "sha256=" + hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(want, headers.get("x-qms-signature", "")):
            self.bad_signatures += 1
            return
        delivery = headers.get("x-qms-delivery", "")
        if delivery in self.bodies:
            return
        envelope = json.loads(body)
        self.bodies[delivery] = envelope
        office, seq = int(envelope["office_id"]), int(envelope["seq"])
        self.order[office].append(seq)
        self.first_seen[(office, seq)] = time.time()
