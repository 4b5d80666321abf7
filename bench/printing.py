"""Printing latency: from the issue request to the last byte (the paper cut) at a fake network printer.

A real `qms serve` subprocess and a fake ESC/POS printer on loopback; tickets are issued one at a time
by a kiosk, and each is timed until its cut command arrives. Also: how long issuing takes while the
printer refuses connections (it must not wait for the printer).

    python -m bench.printing [--tickets 40]
"""
from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

from tests.support.server import OfficeSetup, ServerProcess
from tests.ticket_printer.fakeprinter import FakePrinter, count_cuts


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def _report(label: str, ms: list[float]) -> None:
    print(f"{label:<44} n={len(ms):<4} p50 {statistics.median(ms):7.1f} ms   p99 {_pct(ms, 99):7.1f} ms   "
          f"max {max(ms):7.1f} ms", flush=True)


def _issue_to_cut(office: OfficeSetup, printer: FakePrinter, mode: str, profile: str | None, n: int) -> list[float]:
    svc = office.service(mode[0].upper() if mode == "text" else "I", f"Bench {mode}")
    p = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                        json={"name": f"bench-{mode}", "transport": "network", "address": printer.address,
                              "mode": mode, "profile": profile})
    kiosk = office.device("kiosk", f"bench kiosk {mode}", printer_id=p["id"])
    kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"]})  # warm up
    printer.wait_for_cut(count_cuts(printer.received) or 1, timeout=30)
    out = []
    for _ in range(n):
        cuts = count_cuts(printer.received)
        start = time.perf_counter()
        kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"]})
        printer.wait_for_cut(cuts + 1, timeout=30)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _issue_with_printer_down(office: OfficeSetup, n: int) -> list[float]:
    svc = office.service("X", "Bench printer down")
    with FakePrinter() as printer:
        p = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                            json={"name": "bench-down", "transport": "network", "address": printer.address})
        kiosk = office.device("kiosk", "bench kiosk down", printer_id=p["id"])
        printer.refuse_connections()
        out = []
        for _ in range(n):
            start = time.perf_counter()
            kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"]})
            out.append((time.perf_counter() - start) * 1000)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=40)
    args = parser.parse_args(argv or [])
    server = ServerProcess().start()
    results: dict[str, Any] = {}
    try:
        office = OfficeSetup(server)
        print(f"server {server.base_url} ({'PostgreSQL' if 'postgres' in server.database_url else 'SQLite'})")
        with FakePrinter() as printer:
            results["image"] = _issue_to_cut(office, printer, "image", None, args.tickets)
        _report("issue -> last byte, image mode (576 dots)", results["image"])
        with FakePrinter() as printer:
            results["text"] = _issue_to_cut(office, printer, "text", "TM-T88V", args.tickets)
        _report("issue -> last byte, text mode (CP1258)", results["text"])
        results["down"] = _issue_with_printer_down(office, args.tickets)
        _report("issue response, printer refusing connections", results["down"])
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
