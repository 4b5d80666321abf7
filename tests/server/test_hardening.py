"""Hardening found by an outside probe: hostile bodies (deep JSON, oversized), password spraying, private
data files, quiet logs for sockets that leave early, and no tracking codes in the access log."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
from collections.abc import Iterator

import pytest

from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess

DEEP = ("[" * 1000 + "]" * 1000).encode()


@pytest.fixture(scope="module")
def info_server() -> Iterator[ServerProcess]:
    s = ServerProcess(env={"QMS_LOG_LEVEL": "info"}).start()
    yield s
    s.stop()


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 response read off a raw socket (Content-Length framed, as this server answers)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before a response: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed in the middle of a body")
        rest += chunk
    return status, headers, rest[:length]


def _request(path: str, body: bytes, port: int) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/pairings"])
def test_deeply_nested_json_is_a_400_and_the_connection_stays_usable(info_server: ServerProcess,
                                                                       path: str) -> None:
    with socket.create_connection(("127.0.0.1", info_server.port), timeout=10) as sock:
        for body in (DEEP, b'{"username":' + DEEP + b',"password":"x"}'):
            sock.sendall(_request(path, body, info_server.port))
            status, _, raw = _read_response(sock)
            assert status == 400, raw
            error = json.loads(raw)["error"]
            assert error["code"] == "malformed_json" and error["message"] and "details" in error
        # the same keep-alive connection answers the next request
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{info_server.port}\r\n\r\n".encode())
        status, _, raw = _read_response(sock)
        assert status == 200 and json.loads(raw)["status"] == "ok"
    assert "Traceback" not in info_server.log_path.read_text(errors="replace")


def test_deeply_nested_json_as_a_websocket_hello_is_refused_cleanly(info_server: ServerProcess) -> None:
    office = OfficeSetup(info_server)
    display = office.device("display")

    async def scenario() -> tuple[dict[str, object], int | None]:
        import websockets
        async with websockets.connect(f"{info_server.ws_url}?token={display.token}") as ws:
            await ws.send(DEEP.decode())
            reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
            try:
                await asyncio.wait_for(ws.recv(), 5)
            except websockets.ConnectionClosed:
                pass
            return reply, ws.close_code
    reply, code = run(scenario())
    assert reply["type"] == "error" and reply["data"]["code"] == "hello_expected"  # type: ignore[index]
    assert code == 4400
    assert "Traceback" not in info_server.log_path.read_text(errors="replace")


def test_oversized_bodies_are_refused_with_413_before_being_parsed(info_server: ServerProcess) -> None:
    from server.limits import MAX_BODY_BYTES
    anon = info_server.client()
    big = b'{"username":"' + b"a" * (10 * 1024 * 1024) + b'","password":"x"}'
    r = anon.post("/api/v1/auth/login", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    error = r.json()["error"]
    assert error["code"] == "body_too_large" and error["details"]["limit_bytes"] == MAX_BODY_BYTES

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds on what actually arrives
        yield b'{"kind":"display","x":"'
        for _ in range(20):
            yield b"b" * (128 * 1024)
        yield b'"}'
    r = anon.post("/api/v1/pairings", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"
    # a body just under the limit is read and judged as usual
    fits = b'{"username":"' + b"a" * (MAX_BODY_BYTES - 100) + b'","password":"x"}'
    r = info_server.client().post("/api/v1/auth/login", content=fits, headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert info_server.client().get("/healthz").status_code == 200


def test_a_socket_closed_before_its_hello_leaves_no_traceback_and_track_codes_stay_out_of_the_log(
        info_server: ServerProcess) -> None:
    office = OfficeSetup(info_server)
    a = office.service("A")["id"]
    kiosk = office.device("kiosk")
    ticket = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
    track = ticket["track_code"]

    async def leave_early() -> None:
        import websockets
        for url in (f"{info_server.ws_url}?token={kiosk.token}", f"{info_server.ws_url}?track={track}"):
            for _ in range(3):
                ws = await websockets.connect(url)
                await ws.close()
            ws = await websockets.connect(url)  # and once without a close handshake at all
            ws.transport.abort()
        await asyncio.sleep(0.5)
    run(leave_early())
    log = info_server.log_path.read_text(errors="replace")
    assert "WebSocket /ws?" in log, "the access lines are there (the redaction is what is tested)"
    assert "Traceback" not in log
    assert track not in log, "a tracking code reached the log"


def test_password_spraying_from_one_address_is_throttled() -> None:
    own = ServerProcess().start()  # the limit is per address, and every test comes from 127.0.0.1
    try:
        office = OfficeSetup(own)
        for i in range(7):
            office.user(f"nv{i}")
        anon = own.client()
        codes = [anon.post("/api/v1/auth/login", json={"username": f"nv{i % 7}", "password": f"sai-{n}"})
                 for n, i in enumerate(range(28))]
        statuses = [r.status_code for r in codes]
        assert set(statuses[:20]) == {401} and set(statuses[20:]) == {429}, statuses
        refused = codes[-1]
        assert refused.json()["error"]["code"] == "rate_limited" and int(refused.headers["Retry-After"]) > 0
        r = anon.post("/api/v1/auth/login", json={"username": "nv1", "password": "password-123"})
        assert r.status_code == 429, "the right password waits too, or spraying would still find it"
    finally:
        own.stop()


def _mode(path: os.PathLike[str] | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_data_folder_is_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    s = ServerProcess(data_dir=data, env={"QMS_VOICE": "off"}).start()
    try:
        office = OfficeSetup(s)
        a = office.service("A")["id"]
        c = office.counter(1, [a])["id"]
        office.admin.ok("POST", f"/api/v1/counters/{c}/open")
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        called = office.admin.ok("POST", f"/api/v1/counters/{c}/next")
        announcement = called.get("announcement") or {}
        url = announcement.get("audio_url") or f"/api/v1/announcements/{announcement.get('id', 1)}.wav"
        assert office.admin.get(url).status_code == 200
        assert _mode(data) == 0o700
        db = data / "qms.sqlite3"
        if not s.database_url.startswith("sqlite"):
            pytest.skip("the database is PostgreSQL here")
        for f in (db, data / "qms.sqlite3-wal", data / "qms.sqlite3-shm", data / "secret.key"):
            assert f.exists() and _mode(f) == 0o600, f"{f.name} is {oct(_mode(f))}"
        audio = data / "audio"
        assert _mode(audio) == 0o700
        files = [p for p in audio.iterdir()]
        assert files and all(_mode(p) == 0o600 for p in files), [(p.name, oct(_mode(p))) for p in files]
    finally:
        s.stop()
