"""A real QMS server in a subprocess on a free loopback port, and small HTTP/WebSocket clients for it.

The database is a fresh SQLite file, or a fresh PostgreSQL database when QMS_TEST_POSTGRES_URL is set
(CI); Redis fan-out is used when QMS_TEST_REDIS_URL is set.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ADMIN_PASSWORD = "admin-pass-123"
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fresh_database_url(data_dir: Path) -> str:
    """A new empty database for one server: SQLite in its data folder, or a new PostgreSQL database."""
    pg = os.environ.get("QMS_TEST_POSTGRES_URL")
    if not pg:
        return f"sqlite:///{data_dir / 'qms.sqlite3'}"
    import psycopg
    name = f"qms_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = pg.rpartition("/")
    return f"{base}/{name}"


class ServerProcess:
    def __init__(self, data_dir: Path | None = None, database_url: str | None = None, workers: int | None = None,
                 env: dict[str, str] | None = None, demo: bool = False) -> None:
        self.data_dir = data_dir or Path(tempfile.mkdtemp(prefix="qms-test-"))
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url or fresh_database_url(self.data_dir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.workers = workers if workers is not None else int(os.environ.get("QMS_TEST_WORKERS", "1"))
        self.demo = demo
        self.extra_env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "server.log"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def env(self) -> dict[str, str]:
        env = {**os.environ, "QMS_DATA_DIR": str(self.data_dir), "QMS_DATABASE_URL": self.database_url,
               "QMS_ADMIN_PASSWORD": ADMIN_PASSWORD, "QMS_PING_INTERVAL_S": "2", "QMS_LOG_LEVEL": "warning",
               "PYTHONPATH": str(ROOT), "QMS_WEBHOOK_HOSTS": "127.0.0.1,localhost,::1"}  # tests reach loopback only
        if os.environ.get("QMS_TEST_REDIS_URL"):
            env["QMS_REDIS_URL"] = os.environ["QMS_TEST_REDIS_URL"]
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30) -> ServerProcess:
        args = [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers > 1:
            args += ["--workers", str(self.workers)]
        if self.demo:
            args.append("--demo")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(args, env=self.env(), cwd=str(ROOT), stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group: no graceful shutdown, like a power cut to the process."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def client(self, token: str | None = None) -> Api:
        return Api(self.base_url, token)

    def admin(self) -> Api:
        return self.client().login("admin", ADMIN_PASSWORD)


class Api:
    """A thin synchronous HTTP client that keeps the bearer token."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self.http.request(method, path, headers={**self.headers(), **kw.pop("headers", {})}, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, json=json if json is not None else {}, **kw)

    def patch(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return self.request("PATCH", path, json=json or {}, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", path, **kw)

    def ok(self, method: str, path: str, expect: int | tuple[int, ...] = (200, 201), **kw: Any) -> Any:
        r = self.request(method, path, **kw)
        codes = (expect,) if isinstance(expect, int) else expect
        assert r.status_code in codes, f"{method} {path} -> {r.status_code} {r.text}"
        return r.json()

    def login(self, username: str, password: str) -> Api:
        r = self.http.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]
        return self


class OfficeSetup:
    """Builds an office through the public API: services, counters, a head and clerks, devices."""

    def __init__(self, server: ServerProcess, code: str | None = None) -> None:
        self.server = server
        self.admin = server.admin()
        self.office = self.admin.ok("POST", "/api/v1/offices",
                                    json={"name": "Phường Thử", "code": code or f"T{uuid.uuid4().hex[:6]}"})
        self.id = self.office["id"]

    def service(self, code: str, name: str | None = None, **kw: Any) -> dict[str, Any]:
        return self.admin.ok("POST", f"/api/v1/offices/{self.id}/services",
                             json={"code": code, "name": name or f"Dịch vụ {code}", **kw})

    def counter(self, number: int, service_ids: list[int], **kw: Any) -> dict[str, Any]:
        return self.admin.ok("POST", f"/api/v1/offices/{self.id}/counters",
                             json={"number": number, "name": f"Quầy {number}", "service_ids": service_ids, **kw})

    def user(self, username: str, role: str = "clerk") -> Api:
        self.admin.ok("POST", f"/api/v1/offices/{self.id}/users",
                      json={"username": username, "full_name": username.title(), "role": role,
                            "password": "password-123"})
        return self.server.client().login(username, "password-123")

    def device(self, kind: str, name: str | None = None, **kw: Any) -> Api:
        anon = self.server.client()
        p = anon.ok("POST", "/api/v1/pairings", json={"kind": kind})
        self.admin.ok("POST", f"/api/v1/offices/{self.id}/pairings/{p['code']}/approve",
                      json={"name": name or kind, **kw})
        status = anon.ok("GET", f"/api/v1/pairings/{p['pairing_id']}")
        assert status["status"] == "approved" and status["token"]
        return self.server.client(status["token"])


class WsClient:
    """A real WebSocket client (the `websockets` library) that answers pings and collects events."""

    def __init__(self, url: str, token: str | None = None, office_id: int | None = None,
                 track: str | None = None) -> None:
        q = []
        if token:
            q.append(f"token={token}")
        if office_id:
            q.append(f"office_id={office_id}")
        if track:
            q.append(f"track={track}")
        self.url = url + ("?" + "&".join(q) if q else "")
        self.messages: list[dict[str, Any]] = []
        self.ws: Any = None

    async def connect(self, since_seq: int | None = None) -> WsClient:
        import websockets
        self.ws = await websockets.connect(self.url, max_size=2**24)
        await self.ws.send(json.dumps({"type": "hello", "since_seq": since_seq}))
        return self

    async def next_event(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next non-ping message (pings are answered)."""
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
            msg = json.loads(raw)
            if msg.get("type") == "ping":
                await self.ws.send('{"type":"pong"}')
                continue
            self.messages.append(msg)
            return msg

    async def until(self, pred: Any, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no matching message")
            msg = await self.next_event(left)
            if pred(msg):
                return msg

    async def drain(self, quiet: float = 0.5) -> list[dict[str, Any]]:
        out = []
        try:
            while True:
                out.append(await self.next_event(quiet))
        except TimeoutError:
            return out

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


def logged(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events that hold a slot in the office's log: derived frames (queue.updated carries the latest
    seq, takes no slot, is never replayed) are left out, so seqs can be checked for holes and repeats."""
    from server.audience import DERIVED_TYPES
    return [m for m in messages if m.get("type") not in DERIVED_TYPES]


async def post_as_kiosk(client: Any, url: str, **kw: Any) -> Any:
    """POST like the product's own clients: a 503 `busy` (the server shed the write, nothing changed) is
    tried again shortly; anything else is returned as it came."""
    while True:
        r = await client.post(url, **kw)
        if r.status_code != 503 or r.json()["error"]["code"] != "busy":
            return r
        await asyncio.sleep(0.2)
