"""Several server processes share one job queue: every ticket prints exactly once (PostgreSQL + Redis)."""
from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.server import OfficeSetup, ServerProcess
from tests.ticket_printer.fakeprinter import FakePrinter

pytestmark = pytest.mark.skipif(not os.environ.get("QMS_TEST_POSTGRES_URL"),
                                reason="several workers need PostgreSQL and Redis")


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    s = ServerProcess(workers=3).start()
    yield s
    s.stop()


def test_three_workers_print_each_ticket_once(server: ServerProcess, office: OfficeSetup) -> None:
    svc = office.service("A", "Chứng thực")
    with FakePrinter() as printer:
        p = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                            json={"name": "Sảnh", "transport": "network", "address": printer.address})
        office.admin.ok("PATCH", f"/api/v1/offices/{office.id}", json={"default_printer_id": p["id"]})
        clerks = [office.user(f"clerk{i}_{office.id}") for i in range(4)]

        def issue(i: int) -> dict:  # type: ignore[type-arg]
            return clerks[i % 4].ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"]})
        with ThreadPoolExecutor(8) as pool:
            tickets = list(pool.map(issue, range(24)))
        assert all(t["print_job"] for t in tickets)
        printer.wait_for_cut(24, timeout=30)
        deadline = time.monotonic() + 10
        while True:  # the last cut may land just before its job is recorded as printed
            jobs = office.admin.ok("GET", f"/api/v1/printers/{p['id']}/jobs", params={"limit": 100})["items"]
            if all(j["status"] == "printed" for j in jobs) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(jobs) == 24
        assert {(j["status"], j["attempts"]) for j in jobs} == {("printed", 1)}
        assert len(printer.tickets()) == 24
