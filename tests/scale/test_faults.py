"""Faults: Redis restarted (fan-out resumes and fills the gap), PostgreSQL restarted (/healthz is 503
meanwhile and the server recovers by itself)."""
from __future__ import annotations

import time
from pathlib import Path

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
        deadline = time.monotonic() + 20  # the report projector lost its lock connection: elected again, it folds
        while sum(r["issued"] for r in office.admin.ok(
                "GET", f"/api/v1/offices/{office.id}/reports?group_by=service")["items"]) != 2:
            assert time.monotonic() < deadline, "the report projector did not come back after the restart"
            time.sleep(0.5)
    finally:
        node.stop()
        pg.stop()


def test_healthz_comes_back_promptly_after_failing_requests_held_the_pool(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """During the outage, bursts of requests fail (reads, writes, health checks, WebSocket connects) and
    leave the pool as failures leave it; once PostgreSQL is back, /healthz is 200 within seconds (it never
    queues behind the pool) and writes work again."""
    import asyncio

    pg = PrivatePostgres().init()
    node = ServerProcess(data_dir=tmp_path / "n", database_url=pg.url).start()
    try:
        office = OfficeSetup(node)
        a = office.service("A")["id"]
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        headers = {"Authorization": f"Bearer {office.admin.token}"}

        async def burst(n: int) -> list[int]:
            async with httpx.AsyncClient(base_url=node.base_url, timeout=60, headers=headers) as http:
                async def one(i: int) -> int:
                    try:
                        if i % 3 == 0:
                            r = await http.post(f"/api/v1/offices/{office.id}/tickets", json={"service_id": a})
                        elif i % 3 == 1:
                            r = await http.get(f"/api/v1/offices/{office.id}/tickets")
                        else:
                            r = await http.get("/healthz")
                        return r.status_code
                    except httpx.HTTPError:
                        return 0
                return list(await asyncio.gather(*(one(i) for i in range(n))))

        pg.stop()
        _wait_health(node, 503)
        codes = run(burst(90))
        assert 500 not in codes and 200 not in codes and 201 not in codes, codes
        pg.start()
        took = _wait_health(node, 200, timeout=60)
        assert took < 5, f"/healthz took {took:.1f} s to come back"
        t = office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        assert t["display_number"] == "A002"
        assert set(run(burst(30))) <= {200, 201}, "every kind of request works again"
    finally:
        node.stop()
        pg.stop()


def _pg_processes(pg: PrivatePostgres) -> list[int]:
    import subprocess
    main = int((pg.dir / "data" / "postmaster.pid").read_text().split()[0])
    children = subprocess.run(["pgrep", "-P", str(main)], capture_output=True, text=True).stdout.split()
    return [main, *map(int, children)]


def test_a_frozen_postgres_is_503_in_seconds_and_a_restart_recovers_promptly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL stops answering without closing its sockets (a hung host: here every process is stopped
    with SIGSTOP). Requests in flight hang on their pooled connections; /healthz must still answer 503
    within seconds rather than queue behind them. Then the database is killed and restarted: /healthz is 200
    again within seconds and requests work."""
    import asyncio
    import os
    import signal

    pg = PrivatePostgres().init()
    node = ServerProcess(data_dir=tmp_path / "n", database_url=pg.url).start()
    try:
        office = OfficeSetup(node)
        a = office.service("A")["id"]
        headers = {"Authorization": f"Bearer {office.admin.token}"}
        frozen = _pg_processes(pg)

        async def hanging_burst() -> list[int]:
            async with httpx.AsyncClient(base_url=node.base_url, timeout=90, headers=headers) as http:
                async def one(i: int) -> int:
                    try:
                        if i % 2:
                            r = await http.post(f"/api/v1/offices/{office.id}/tickets", json={"service_id": a})
                        else:
                            r = await http.get(f"/api/v1/offices/{office.id}/tickets")
                        return r.status_code
                    except httpx.HTTPError:
                        return 0
                return list(await asyncio.gather(*(one(i) for i in range(40))))

        import threading
        result: dict[str, list[int]] = {}
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        burst = threading.Thread(target=lambda: result.setdefault("codes", run(hanging_burst())))
        burst.start()
        time.sleep(2)  # the burst's requests now hold pooled connections that will never answer
        start = time.monotonic()
        r = httpx.get(node.base_url + "/healthz", timeout=30)
        assert r.status_code == 503 and time.monotonic() - start < 8, "health answers without the pool"
        for pid in frozen:  # the host comes back as a restarted database
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        # killed, but a zombie until reaped, which PostgreSQL's lock files would trust
        for lock in (pg.dir / "data" / "postmaster.pid", Path(f"/tmp/.s.PGSQL.{pg.port}.lock")):
            lock.unlink(missing_ok=True)
        pg.start()
        took = _wait_health(node, 200, timeout=60)
        assert took < 8, f"/healthz took {took:.1f} s to come back"
        burst.join(90)
        assert not burst.is_alive() and 500 not in result["codes"], result
        t = office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        assert t["display_number"].startswith("A")
    finally:
        for pid in _pg_processes(pg) if (pg.dir / "data" / "postmaster.pid").exists() else []:
            try:
                os.kill(pid, signal.SIGCONT)
            except OSError:
                pass
        node.stop()
        pg.stop()
