"""A real webhook receiver on loopback: records every POST (headers, raw body, the answer it gave),
answers with a chosen status after a chosen delay, and notes when one delivery id is in flight twice."""
from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.support.server import free_port


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    at: float

    @property
    def key(self) -> str:
        return self.headers.get("x-qms-delivery", "")

    @property
    def json(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute the HMAC of the raw body and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header)


class Receiver:
    def __init__(self, port: int | None = None, status: int = 200, delay_s: float = 0.0) -> None:
        self.port = port or free_port()
        self.status, self.delay_s = status, delay_s
        self.received: list[Received] = []
        self.overlaps: list[str] = []  # delivery ids seen in flight twice at once
        self._inflight: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server's name for it
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                key = headers.get("x-qms-delivery", "")
                with receiver._lock:
                    receiver._inflight[key] = receiver._inflight.get(key, 0) + 1
                    if receiver._inflight[key] > 1:
                        receiver.overlaps.append(key)
                    status, delay = receiver.status, receiver.delay_s
                try:
                    if delay:
                        time.sleep(delay)
                    with receiver._lock:
                        receiver.received.append(Received(headers, body, status, time.monotonic()))
                    self.send_response(status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                finally:
                    with receiver._lock:
                        receiver._inflight[key] -= 1

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def delivered(self) -> list[Received]:
        """Answered 2xx, deduplicated by X-QMS-Delivery, in the order they first arrived."""
        seen: set[str] = set()
        out = []
        with self._lock:
            for r in self.received:
                if 200 <= r.status < 300 and r.key not in seen:
                    seen.add(r.key)
                    out.append(r)
        return out

    def wait_for(self, n: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.delivered()
            if len(got) >= n:
                return got
            time.sleep(0.05)
        raise TimeoutError(f"{len(self.delivered())} of {n} deliveries arrived")
