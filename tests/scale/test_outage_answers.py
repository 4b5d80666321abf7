"""What clients get while a service is down under a real server, never a 500.

Redis stopped under a real server (PostgreSQL + Redis, two workers): the API keeps answering from the
database. Tickets are issued (the per-kiosk limit counts in the worker's memory meanwhile), logins and
logouts work (the close every worker should hear is published after the commit, so its failure must not
become the answer), WebSockets connect; nothing answers 500. The chaos soak found the 500: the ticket
limit asked Redis before the ticket was written and the redis ConnectionError escaped.

PostgreSQL stopped: a WebSocket is closed 1013 (try again later) with the `database_unavailable` frame,
not 1011 with a traceback in the log."""
from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess
from tests.support.services import PrivatePostgres, PrivateRedis, have_postgres, have_redis

pytestmark = pytest.mark.skipif(not (have_postgres() and have_redis()), reason="needs postgresql and redis-server")


def _wait_pubsub(node: ServerProcess, ok: bool, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (httpx.get(node.base_url + "/healthz", timeout=3).json().get("pubsub") == "ok") == ok:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"/healthz pubsub never became {'ok' if ok else 'not ok'}")


def test_with_redis_down_tickets_logins_and_sockets_still_work(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pg, redis = PrivatePostgres().init(), PrivateRedis().start()
    node = ServerProcess(data_dir=tmp_path / "n", database_url=pg.url, workers=2,
                         env={"QMS_REDIS_URL": redis.url}).start()
    try:
        office = OfficeSetup(node)
        a = office.service("A")["id"]
        kiosk = office.device("kiosk")
        display = office.device("display")
        office.user("clerk_r", "clerk")
        kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})

        redis.stop()
        _wait_pubsub(node, ok=False)
        codes, issued = [], []
        for _ in range(12):  # fresh connections: both workers answer some
            with httpx.Client(base_url=node.base_url, headers={"Authorization": f"Bearer {kiosk.token}"},
                              timeout=30) as http:
                r = http.post(f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
            codes.append(r.status_code)
            if r.status_code == 201:
                issued.append(r.json()["id"])
        assert codes == [201] * 12, codes
        for tid in issued:
            assert office.admin.ok("GET", f"/api/v1/tickets/{tid}")["status"] == "waiting"

        anon = node.client()
        assert anon.post("/api/v1/auth/login", json={"username": "clerk_r", "password": "wrong-one"}).status_code == 401
        clerk = node.client().login("clerk_r", "password-123")
        r = clerk.post("/api/v1/auth/logout")
        assert r.status_code < 300, r.text  # committed before the close is published: the answer stands
        assert clerk.get(f"/api/v1/offices/{office.id}/tickets").status_code == 401, "the token is revoked"

        async def socket_opens() -> str:
            import websockets
            async with websockets.connect(f"{node.ws_url}?token={display.token}") as ws:
                await ws.send(json.dumps({"type": "hello", "since_seq": None}))
                while True:
                    msg = json.loads(await ws.recv())
                    if msg.get("type") != "ping":
                        return str(msg.get("type"))
        assert run(socket_opens()) == "snapshot"

        redis.start()
        _wait_pubsub(node, ok=True)
        t = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        assert t["display_number"] == "A014", "nothing issued meanwhile was lost or numbered twice"
        assert "unhandled error" not in node.log_path.read_text()
    finally:
        node.stop()
        redis.stop()
        pg.stop()


def test_with_postgres_down_a_socket_is_told_to_try_again_later(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pg = PrivatePostgres().init()
    node = ServerProcess(data_dir=tmp_path / "n", database_url=pg.url).start()
    try:
        office = OfficeSetup(node)
        display = office.device("display")
        pg.stop()

        async def connect() -> tuple[dict[str, object], int | None]:
            import websockets
            async with websockets.connect(f"{node.ws_url}?token={display.token}") as ws:
                frame = json.loads(await ws.recv())
                try:
                    await ws.recv()
                except websockets.ConnectionClosed:
                    pass
                return frame, ws.close_code
        frame, code = run(connect())
        assert code == 1013 and frame["type"] == "error", (code, frame)
        assert frame["data"]["code"] == "database_unavailable"  # type: ignore[index]
        assert "Exception in ASGI application" not in node.log_path.read_text()
    finally:
        node.stop()
        pg.stop()
