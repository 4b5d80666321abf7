"""The report endpoint of a real server: JSON, CSV and XLSX hold the same rows; parents see branches."""
from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook

from tests.support.server import OfficeSetup, ServerProcess

FIELDS = ["key", "label", "issued", "served", "no_show", "cancelled", "avg_wait_s", "p90_wait_s", "avg_service_s",
          "p90_service_s", "within_target_pct", "ratings", "satisfaction_pct"]


def _serve_a_few(office: OfficeSetup, n_done: int = 3) -> tuple[Any, dict[str, Any]]:
    a = office.service("A", "Chứng thực")
    b = office.service("B", "Hộ tịch")
    c1 = office.counter(1, [a["id"], b["id"]])
    clerk = office.user(f"cb{office.id}")
    for sid in [a["id"], b["id"], a["id"], b["id"], b["id"]]:
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": sid, "print": False})
    clerk.ok("POST", f"/api/v1/counters/{c1['id']}/open")
    for _ in range(n_done):
        clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next")
    clerk.ok("POST", f"/api/v1/counters/{c1['id']}/next", json={"close_current": "no_show"})
    return clerk, c1


def _typed(v: str) -> Any:
    if v == "":
        return None
    for kind in (int, float):
        try:
            return kind(v)
        except ValueError:
            pass
    return v


def test_json_csv_and_xlsx_hold_the_same_rows(server: ServerProcess, office: OfficeSetup) -> None:
    clerk, _ = _serve_a_few(office)
    head = office.user(f"head{office.id}", role="head")
    base = f"/api/v1/offices/{office.id}/reports"
    for group_by in ("day", "hour", "service", "counter", "clerk"):
        body = head.ok("GET", f"{base}?group_by={group_by}")
        rows = body["items"]
        assert rows and all(list(r)[:len(FIELDS)] == FIELDS for r in rows)
        assert sum(r["issued"] for r in rows) == (5 if group_by in ("day", "hour", "service") else 4)

        r = head.get(f"{base}?group_by={group_by}&format=csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert r.content.startswith(b"\xef\xbb\xbf")
        parsed = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
        assert parsed[0] == body["fields"] and parsed[0][:len(FIELDS)] == FIELDS
        assert [line[:2] + [_typed(v) for v in line[2:]] for line in parsed[1:]] == \
            [[row[f] for f in body["fields"]] for row in rows]

        x = head.get(f"{base}?group_by={group_by}&format=xlsx")
        assert x.status_code == 200 and "spreadsheetml" in x.headers["content-type"]
        sheet = load_workbook(io.BytesIO(x.content)).active
        values = [list(line) for line in sheet.iter_rows(values_only=True)]
        assert values[0] == body["fields"]
        assert values[1:] == [[row[f] for f in body["fields"]] for row in rows]

    by_service = {r["key"]: r for r in head.ok("GET", f"{base}?group_by=service")["items"]}
    assert by_service["A"]["label"] == "Chứng thực" and by_service["A"]["issued"] == 2
    assert by_service["A"]["served"] + by_service["B"]["served"] == 2  # the third call was closed as absent
    assert by_service["A"]["no_show"] + by_service["B"]["no_show"] == 1
    by_clerk = head.ok("GET", f"{base}?group_by=clerk")["items"]
    assert [r["key"] for r in by_clerk] == [f"cb{office.id}"]


def test_bad_parameters_are_422_and_clerks_get_403(server: ServerProcess, office: OfficeSetup) -> None:
    clerk = office.user(f"cbx{office.id}")
    base = f"/api/v1/offices/{office.id}/reports"
    for q in ("group_by=week", "format=pdf", "from=2026-13-01", "from=2026-11-10&to=2026-11-01",
              "from=2020-01-01&to=2026-01-01"):
        r = office.admin.get(f"{base}?{q}")
        assert r.status_code == 422, (q, r.text)
        assert r.json()["error"]["code"] == "invalid_value"
    assert clerk.get(base).status_code == 403


def test_a_parent_office_aggregates_its_branches(server: ServerProcess) -> None:
    admin = server.admin()
    parent = admin.ok("POST", "/api/v1/offices", json={"name": "Trung tâm Tỉnh", "code": "TINH"})
    branches = []
    for code in ("XA", "XB"):
        o = OfficeSetup(server, code)
        admin.ok("PATCH", f"/api/v1/offices/{o.id}", json={"parent_id": parent["id"]})
        _serve_a_few(o, n_done=2)
        branches.append(o)
    rows = admin.ok("GET", f"/api/v1/offices/{parent['id']}/reports?group_by=service")["items"]
    assert {r["key"]: r["issued"] for r in rows} == {"A": 4, "B": 6}
    counters = admin.ok("GET", f"/api/v1/offices/{parent['id']}/reports?group_by=counter")["items"]
    assert sorted(r["key"] for r in counters) == ["XA:1", "XB:1"]


def test_files_for_people_have_vietnamese_headers_and_minutes(server: ServerProcess, office: OfficeSetup) -> None:
    _serve_a_few(office)
    head = office.user(f"headp{office.id}", role="head")
    base = f"/api/v1/offices/{office.id}/reports"
    rows = head.ok("GET", f"{base}?group_by=day")["items"]

    r = head.get(f"{base}?group_by=day&format=csv&columns=people")
    parsed = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    header = parsed[0]
    assert header[0] == "Ngày" and "label" not in header and "key" not in header, "one date column, not two"
    assert "Chờ trung bình (phút)" in header and "Lấy số" in header and "avg_wait_s" not in header
    line = dict(zip(header, parsed[1]))
    assert line["Ngày"] == rows[0]["label"]  # dd/mm/yyyy
    wait_s = rows[0]["avg_wait_s"]
    assert wait_s is not None and float(line["Chờ trung bình (phút)"]) == round(wait_s / 60, 1)

    x = head.get(f"{base}?group_by=service&format=xlsx&columns=people&lang=en")
    values = [list(v) for v in load_workbook(io.BytesIO(x.content)).active.iter_rows(values_only=True)]
    assert values[0][:3] == ["Service code", "Service", "Issued"]
    assert "Average wait (min)" in values[0]

    bad = head.get(f"{base}?format=csv&columns=pretty")
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "columns"
