"""Result look-up (tra cứu kết quả) against a real server and a fake province service on loopback:
found, unknown, refused, HTTP 500, nonsense, too slow (503 within 4 s), the CSV file re-read when it
changes, the office's code pattern, and the per-address throttle that spares staff."""
from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from tests.support.province import FakeProvince
from tests.support.server import OfficeSetup, ServerProcess, free_port

CODE = "000.00.12.H26-250312-0001"


def lookup_url(office: OfficeSetup) -> str:
    return f"/api/v1/offices/{office.id}/dossier-status"


def connect(office: OfficeSetup, url: str | None) -> None:
    office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"dossier_lookup_url": url})


def test_found_unknown_and_the_code_is_normalised(server: ServerProcess, office: OfficeSetup) -> None:
    anon = server.client()
    with FakeProvince() as province:
        province.dossiers[CODE] = {"status_text": "Đã có kết quả, mời nhận tại quầy 3", "ready": True,
                                   "return_date": "2025-03-20"}
        province.dossiers["H26.12-250312-0002"] = {"status_text": "Đang thẩm định", "ready": False}
        connect(office, province.url)
        r = anon.get(lookup_url(office), params={"code": f"  {CODE.lower()} "})
        assert r.status_code == 200, r.text
        assert r.json() == {"code": CODE, "found": True, "status_text": "Đã có kết quả, mời nhận tại quầy 3",
                            "ready": True, "return_date": "2025-03-20"}
        assert province.seen[-1] == CODE, "the province is asked with the trimmed, upper-cased code"
        r = anon.get(lookup_url(office), params={"code": "H26.12-250312-0002"})
        assert r.json()["ready"] is False and r.json()["return_date"] is None
        r = anon.get(lookup_url(office), params={"code": "000.00.12.H26-250312-9999"})
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"

        # a code that does not have the office's shape never reaches the province
        asked = len(province.seen)
        for bad in ("", "HELLO", "000.00.12.H26-2503-0001", "x" * 500):
            r = anon.get(lookup_url(office), params={"code": bad})
            assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_value", bad
            assert r.json()["error"]["details"]["field"] == "code"
        r = anon.get(lookup_url(office))
        assert r.status_code == 422
        assert len(province.seen) == asked

        # an office with its own shape of code
        office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"dossier_code_pattern": r"^HS[0-9]{6}$"})
        province.dossiers["HS000123"] = {"status_text": "Chờ bổ sung", "ready": False, "return_date": ""}
        assert anon.get(lookup_url(office), params={"code": "hs000123"}).json()["status_text"] == "Chờ bổ sung"
        assert anon.get(lookup_url(office), params={"code": CODE}).status_code == 422


def test_lookup_off_and_unknown_office(server: ServerProcess, office: OfficeSetup) -> None:
    anon = server.client()
    r = anon.get(lookup_url(office), params={"code": CODE})
    assert r.status_code == 409 and r.json()["error"]["code"] == "lookup_off"
    r = anon.get("/api/v1/offices/987654/dossier-status", params={"code": CODE})
    assert r.status_code == 404
    r = anon.get(f"/api/v1/offices/{2**70}/dossier-status", params={"code": CODE})
    assert r.status_code == 404


def test_the_province_down_failing_or_slow_is_a_503_within_four_seconds(
        server: ServerProcess, office: OfficeSetup) -> None:
    anon = server.client()
    connect(office, f"http://127.0.0.1:{free_port()}/lookup")  # nothing listens: connection refused
    r = anon.get(lookup_url(office), params={"code": CODE})
    assert r.status_code == 503 and r.json()["error"]["code"] == "lookup_unavailable"
    assert int(r.headers["Retry-After"]) > 0
    with FakeProvince() as province:
        province.dossiers[CODE] = {"status_text": "Đã có kết quả", "ready": True}
        connect(office, province.url)
        for mode in ("error", "garbage"):
            province.mode = mode
            r = anon.get(lookup_url(office), params={"code": CODE})
            assert r.status_code == 503 and r.json()["error"]["code"] == "lookup_unavailable", mode
        province.mode = "slow"
        started = time.monotonic()
        r = anon.get(lookup_url(office), params={"code": CODE})
        took = time.monotonic() - started
        assert r.status_code == 503 and r.json()["error"]["code"] == "lookup_unavailable"
        assert 2.5 < took < 4.0, took
        province.mode, province.delay_s = "slow", 1.0  # slow but within the deadline: answered
        r = anon.get(lookup_url(office), params={"code": CODE})
        assert r.status_code == 200 and r.json()["ready"] is True


def test_csv_file_is_read_again_when_it_changes(server: ServerProcess, office: OfficeSetup, tmp_path: Path) -> None:
    anon = server.client()
    path = tmp_path / "ket qua.csv"
    path.write_text("code,status_text,ready,return_date\n"
                    f"{CODE},Đang xử lý,false,2025-03-20\n"
                    "H26.12-250312-0002,Đã có kết quả,true,\n"
                    "BROKEN-LINE,???,maybe,\n", encoding="utf-8")
    connect(office, path.as_uri())
    r = anon.get(lookup_url(office), params={"code": CODE})
    assert r.status_code == 200, r.text
    assert r.json() == {"code": CODE, "found": True, "status_text": "Đang xử lý", "ready": False,
                        "return_date": "2025-03-20"}
    assert anon.get(lookup_url(office), params={"code": "H26.12-250312-0002"}).json()["ready"] is True
    assert anon.get(lookup_url(office), params={"code": "H26.12-250312-0003"}).status_code == 404

    stamp = path.stat().st_mtime
    path.write_text("\ufeffcode,status_text,ready,return_date\n"
                    f"{CODE},Đã có kết quả – mời nhận tại quầy số 2,true,2025-03-21\n", encoding="utf-8")
    os.utime(path, (stamp + 5, stamp + 5))
    r = anon.get(lookup_url(office), params={"code": CODE})
    assert r.json()["status_text"] == "Đã có kết quả – mời nhận tại quầy số 2" and r.json()["ready"] is True
    assert r.json()["return_date"] == "2025-03-21"
    assert anon.get(lookup_url(office), params={"code": "H26.12-250312-0002"}).status_code == 404

    path.unlink()
    r = anon.get(lookup_url(office), params={"code": CODE})
    assert r.status_code == 503 and r.json()["error"]["code"] == "lookup_unavailable"


def test_lookups_are_throttled_per_address_but_not_for_staff() -> None:
    own = ServerProcess().start()  # the limit is per address, and every test comes from 127.0.0.1
    try:
        office = OfficeSetup(own)
        head = office.user("truong", "head")
        kiosk = office.device("kiosk", "Kiosk sảnh")
        with FakeProvince() as province:
            province.dossiers[CODE] = {"status_text": "Đã có kết quả", "ready": True}
            connect(office, province.url)
            anon = own.client()
            # a new connection for each: with several workers they land on different ones, and share one allowance
            codes = [httpx.get(own.base_url + lookup_url(office), params={"code": CODE}).status_code for _ in range(61)]
            assert codes[:60] == [200] * 60, codes
            assert codes[60] == 429
            r = anon.get(lookup_url(office), params={"code": CODE})
            assert r.json()["error"]["code"] == "rate_limited" and int(r.headers["Retry-After"]) > 0
            # a device token counts as the address it comes from; an office's staff are not throttled
            assert kiosk.get(lookup_url(office), params={"code": CODE}).status_code == 429
            assert [head.get(lookup_url(office), params={"code": CODE}).status_code
                    for _ in range(30)] == [200] * 30
            assert office.admin.get(lookup_url(office), params={"code": CODE}).status_code == 200
            bogus = own.client("not-a-token")
            assert bogus.get(lookup_url(office), params={"code": CODE}).status_code == 429
    finally:
        own.stop()
