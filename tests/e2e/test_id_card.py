"""The chip ID card at issue: the rules (elderly on the office's today, a chosen priority kept, a bad QR
refused with nothing issued), and privacy — after tickets issued with a card and a result look-up, the
holder's name, address, card number and old ID number are in no HTTP answer, WebSocket event, server log
line, report export (CSV, XLSX) or database value; only a keyed hash and the birth year are kept."""
from __future__ import annotations

import io
import sqlite3
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from counters.engine.id_card import keyed_hash
from tests.support.aio import run
from tests.support.province import FakeProvince
from tests.support.server import OfficeSetup, ServerProcess, WsClient

SECRET_KEY = "test-secret-key-for-id-cards-0123456789abcdef"
NUMBER, OLD_ID = "079158004321", "271234567"
NAME, ADDRESS = "Phạm Thị Quyên Hoà", "Tổ 7 khu phố Kiểm Thử, phường Mẫu, TP Thử Nghiệm"
SECRETS = [NUMBER, OLD_ID, NAME, "Quyên Hoà", ADDRESS, "Kiểm Thử", "Thử Nghiệm"]


def qr(born: date, number: str = NUMBER, sex: str = "Nữ") -> str:
    return f"{number}|{OLD_ID}|{NAME}|{born:%d%m%Y}|{sex}|{ADDRESS}|01072021"


def office_today() -> date:
    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def years_before(day: date, n: int) -> date:
    return day.replace(year=day.year - n) if (day.month, day.day) != (2, 29) else date(day.year - n, 3, 1)


@pytest.fixture(scope="module")
def debug_server() -> Iterator[ServerProcess]:
    s = ServerProcess(env={"QMS_LOG_LEVEL": "debug", "QMS_SECRET_KEY": SECRET_KEY}).start()
    yield s
    s.stop()


def table_rows(server: ServerProcess) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the server's database (SQLite file, or PostgreSQL in CI)."""
    if server.database_url.startswith("sqlite"):
        db = sqlite3.connect(server.data_dir / "qms.sqlite3")
        try:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {n: db.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}
        finally:
            db.close()
    import psycopg
    with psycopg.connect(server.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {n: conn.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}


def ticket_columns(server: ServerProcess) -> list[str]:
    if server.database_url.startswith("sqlite"):
        db = sqlite3.connect(server.data_dir / "qms.sqlite3")
        try:
            return [r[1] for r in db.execute("PRAGMA table_info(ticket)")]
        finally:
            db.close()
    import psycopg
    with psycopg.connect(server.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return [r[0] for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE "
                                           "table_name = 'ticket' ORDER BY ordinal_position")]


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} found in {where}"


def test_card_rules_at_issue(debug_server: ServerProcess) -> None:
    office = OfficeSetup(debug_server)
    svc = office.service("A", "Chứng thực")
    kiosk = office.device("kiosk", "Kiosk")
    url = f"/api/v1/offices/{office.id}/tickets"
    today = office_today()

    sixty_today = kiosk.ok("POST", url, json={"service_id": svc["id"], "id_card_qr": qr(years_before(today, 60))})
    assert sixty_today["priority"] == "elderly" and sixty_today["id_checked"] is True
    sixty_tomorrow = kiosk.ok("POST", url, json={"service_id": svc["id"],
                                                  "id_card_qr": qr(years_before(today, 60) + timedelta(days=1))})
    assert sixty_tomorrow["priority"] is None and sixty_tomorrow["id_checked"] is True
    chosen = kiosk.ok("POST", url, json={"service_id": svc["id"], "priority": "disabled",
                                         "id_card_qr": qr(years_before(today, 80))})
    assert chosen["priority"] == "disabled", "a priority the citizen chose is kept"
    plain = kiosk.ok("POST", url, json={"service_id": svc["id"]})
    assert plain["id_checked"] is False and plain["priority"] is None

    before = office.admin.ok("GET", url)["total"]
    for bad in ("not a card", qr(years_before(today, 70)).replace("|", "/"),
                f"12345|{OLD_ID}|{NAME}|01011950|Nam|x|01012020",
                qr(years_before(today, 70)) + "|extra", "x" * 5000, ""):
        r = kiosk.post(url, json={"service_id": svc["id"], "id_card_qr": bad})
        assert r.status_code == 422, (bad[:40], r.text)
        err = r.json()["error"]
        assert err["code"] == "invalid_value" and err["details"]["field"] == "id_card_qr"
        assert_clean(r.text, "the 422 answer")
    for wrong_type in (12345, ["a"], {"name": NAME}):
        r = kiosk.post(url, json={"service_id": svc["id"], "id_card_qr": wrong_type})
        assert r.status_code == 422
        assert_clean(r.text, "the 422 answer for a wrong type")
    r = kiosk.post(url, json={"service_id": svc["id"], "id_card_qr": qr(today), "name": NAME, "address": ADDRESS})
    assert r.status_code == 422 and "name" in r.text
    assert_clean(r.text, "the 422 answer for extra fields")
    assert office.admin.ok("GET", url)["total"] == before, "a refused card issues nothing"

    # the same card gives the same keyed hash (to find its appointment, count repeat visits), never the number
    tickets = table_rows(debug_server)["ticket"]
    columns = ticket_columns(debug_server)
    by_id = {r[columns.index("id")]: tuple(r[columns.index(c)] for c in ("id_checked", "id_card_hash", "birth_year"))
             for r in tickets if r[columns.index("office_id")] == office.id}
    expected = keyed_hash(SECRET_KEY, NUMBER)
    assert by_id[sixty_today["id"]] == (True, expected, today.year - 60)
    assert by_id[chosen["id"]] == (True, expected, today.year - 80)
    assert by_id[plain["id"]] == (False, None, None)


def test_no_card_data_anywhere(debug_server: ServerProcess) -> None:
    office = OfficeSetup(debug_server)
    svc = office.service("B", "Hộ tịch")
    office.counter(1, [svc["id"]])
    clerk = office.user("canbo1", "clerk")
    kiosk = office.device("kiosk", "Kiosk riêng tư")
    seen: list[str] = []

    async def scenario() -> list[dict[str, Any]]:
        ws = await WsClient(debug_server.ws_url, office.admin.token, office.id).connect()
        async with httpx.AsyncClient(base_url=debug_server.base_url, timeout=10) as http:
            def k(r: httpx.Response) -> httpx.Response:
                seen.append(r.text)
                return r
            auth = {"Authorization": f"Bearer {kiosk.token}"}
            issued = []
            for born in (years_before(office_today(), 72), years_before(office_today(), 30)):
                r = k(await http.post(f"/api/v1/offices/{office.id}/tickets", headers=auth,
                                      json={"service_id": svc["id"], "id_card_qr": qr(born)}))
                assert r.status_code == 201, r.text
                issued.append(r.json())
            k(await http.post(f"/api/v1/offices/{office.id}/tickets", headers=auth,
                              json={"service_id": svc["id"],
                                    "id_card_qr": qr(date(1950, 2, 1)).replace("01021950", "30021950")}))
            k(await http.post(f"/api/v1/offices/{office.id}/tickets", headers=auth,
                              json={"service_id": svc["id"], "id_card_qr": 5, "extra": NAME}))
            track = issued[0]["track_code"]
            k(await http.get(f"/api/v1/track/{track}"))
            await ws.drain(1.0)
            return issued
    issued = run(scenario())
    assert issued[0]["priority"] == "elderly"

    # the clerk serves it: called, finished; staff views and lists
    clerk_counter = office.admin.ok("GET", f"/api/v1/offices/{office.id}/counters")["items"][0]
    for path in (f"/api/v1/counters/{clerk_counter['id']}/open", f"/api/v1/counters/{clerk_counter['id']}/next"):
        r = clerk.post(path, json={})
        assert r.status_code in (200, 201), r.text
        seen.append(r.text)
    for path in (f"/api/v1/offices/{office.id}/tickets", f"/api/v1/tickets/{issued[0]['id']}",
                 f"/api/v1/offices/{office.id}/live", f"/api/v1/offices/{office.id}/tickets?status=waiting"):
        seen.append(office.admin.get(path).text)

    # the result look-up too
    with FakeProvince() as province:
        province.dossiers["000.00.12.H26-250312-0001"] = {"status_text": "Đã có kết quả", "ready": True}
        office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"dossier_lookup_url": province.url})
        r = debug_server.client().get(f"/api/v1/offices/{office.id}/dossier-status",
                                      params={"code": "000.00.12.H26-250312-0001"})
        assert r.status_code == 200
        seen.append(r.text)

    # every answer and every event
    for text in seen:
        assert_clean(text, "an HTTP answer")

    async def events() -> list[dict[str, Any]]:
        ws = await WsClient(debug_server.ws_url, office.admin.token, office.id).connect(since_seq=0)
        got = await ws.drain(1.0)
        await ws.close()
        return got
    replay = run(events())
    assert any(m["type"] == "ticket.issued" for m in replay)
    assert_clean(repr(replay), "the WebSocket events")

    # exports
    base = f"/api/v1/offices/{office.id}/reports"
    for group_by in ("day", "service", "hour", "counter", "clerk"):
        csv = office.admin.get(base, params={"group_by": group_by, "format": "csv"})
        assert csv.status_code == 200
        assert_clean(csv.content.decode("utf-8-sig"), f"the {group_by} CSV")
        xlsx = office.admin.get(base, params={"group_by": group_by, "format": "xlsx"})
        assert xlsx.status_code == 200
        with zipfile.ZipFile(io.BytesIO(xlsx.content)) as z:
            for name in z.namelist():
                assert_clean(z.read(name).decode("utf-8", "replace"), f"the {group_by} XLSX ({name})")

    # every text value of every table (and, on SQLite, the raw database files)
    tables = table_rows(debug_server)
    assert "ticket" in tables and "event" in tables
    values = 0
    for table, rows in tables.items():
        for row in rows:
            for v in row:
                if isinstance(v, bytes | memoryview):
                    v = bytes(v).decode("utf-8", "replace")
                if not isinstance(v, str | int | float | type(None) | bool):
                    v = repr(v)  # JSON columns on PostgreSQL come back as dicts and lists
                if isinstance(v, str):
                    values += 1
                    assert_clean(v, f"table {table}")
    assert values > 20
    for path in debug_server.data_dir.glob("qms.sqlite3*"):
        assert_clean(path.read_bytes().decode("utf-8", "replace"), path.name)

    # the server's log, at debug level
    log = debug_server.log_path.read_text("utf-8", "replace")
    assert log.strip(), "the server wrote a debug log"
    assert_clean(log, "the server log")


def test_a_card_qr_echoed_by_any_library_is_redacted_from_log_lines() -> None:
    from server.logs import redact
    line = f"DEBUG something echoed the body: {{'id_card_qr': '{qr(date(1950, 1, 1))}', 'service_id': 3}}"
    cleaned = redact(line)
    assert_clean(cleaned, "a redacted log line")
    assert "[id card redacted]" in cleaned and "service_id" in cleaned
