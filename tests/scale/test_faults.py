"""Faults: Redis restarted (fan-out resumes and fills the gap), PostgreSQL restarted (/healthz is 503
meanwhile and the server recovers by itself)."""
from __future__ import annotations

import time

import httpx
import pytest

from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess, WsClient
from tests.support.services import PrivatePostgres, PrivateRedis, have_postgres, have_redis

pytestmark = pytest.mark.skipif(not (have_postgres() and have_redis()), reason="needs postgresql and redis-server")


def _wait_health(node: ServerProcess, status: int, timeout: float = 30) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        try:
            if httpx.get(node.base_url + "/healthz", timeout=3).status_code == status:
                return time.monotonic() - start
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"/healthz never became {status}")


def test_redis_restart_fan_out_resumes_without_missing_a_call(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pg, redis = PrivatePostgres().init(), PrivateRedis().start()
    env = {"QMS_REDIS_URL": redis.url}
    nodes = [ServerProcess(data_dir=tmp_path / "a", database_url=pg.url, env=env).start()]
    nodes.append(ServerProcess(data_dir=tmp_path / "b", database_url=pg.url,
                               env={**env, "QMS_SECRET_KEY": (tmp_path / "a" / "secret.key").read_text()}).start())
    try:
        office = OfficeSetup(nodes[0])
        a = office.service("A")["id"]
        c = office.counter(1, [a])["id"]
        head = office.user("head_redis", "head")
        on_b = nodes[1].client(head.token)
        on_b.ok("POST", f"/api/v1/counters/{c}/open")
        for _ in range(3):
            on_b.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})

        async def scenario() -> list[str]:
            ws = await WsClient(nodes[0].ws_url, head.token, office.id).connect()
            await ws.next_event()
            first = on_b.ok("POST", f"/api/v1/counters/{c}/next")["ticket"]
            await ws.until(lambda m: m["type"] == "ticket.called" and m["data"]["ticket"]["id"] == first["id"])
            redis.stop()
            _wait_health(nodes[0], 503)
            during = on_b.ok("POST", f"/api/v1/counters/{c}/next")["ticket"]  # committed while Redis is down
            redis.start()
            _wait_health(nodes[0], 200)
            got = await ws.until(lambda m: m["type"] == "ticket.called" and m["data"]["ticket"]["id"] == during["id"],
                                 timeout=15)
            after = on_b.ok("POST", f"/api/v1/counters/{c}/next")["ticket"]
            got2 = await ws.until(lambda m: m["type"] == "ticket.called" and m["data"]["ticket"]["id"] == after["id"])
            await ws.close()
            return [got["data"]["ticket"]["display_number"], got2["data"]["ticket"]["display_number"]]

        assert run(scenario()) == ["A002", "A003"]
    finally:
        for n in nodes:
            n.stop()
        redis.stop()
        pg.stop()


def test_postgres_restart_is_503_meanwhile_and_recovers_by_itself(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pg = PrivatePostgres().init()
    node = ServerProcess(data_dir=tmp_path / "n", database_url=pg.url).start()
    try:
        office = OfficeSetup(node)
        a = office.service("A")["id"]
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        pg.stop()
        _wait_health(node, 503)
        r = office.admin.post(f"/api/v1/offices/{office.id}/tickets", json={"service_id": a})
        assert r.status_code == 503 and r.json()["error"]["code"] == "database_unavailable"
        pg.start()
        _wait_health(node, 200)
        t = office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        assert t["display_number"] == "A002", "numbering continues after the database came back"
    finally:
        node.stop()
        pg.stop()
