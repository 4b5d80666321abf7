"""`qms simulate` replays a short synthetic day against a real server through the public API."""
from __future__ import annotations

import subprocess
import sys

from tests.support.server import ROOT, OfficeSetup, ServerProcess


def test_a_bounded_simulated_day_runs_through_the_api(server: ServerProcess, office: OfficeSetup) -> None:
    office.user(f"head_sim{office.id}", role="head")
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "simulate", "--url", server.base_url, "--username",
         f"head_sim{office.id}", "--password", "password-123", "--day", "normal", "--seed", "3", "--limit", "12",
         "--speed", "4000"], cwd=str(ROOT), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "[" in done.stderr and "100.0%" in done.stderr          # the progress bar reached its end
    assert "12 issued" in done.stdout

    services = office.admin.ok("GET", f"/api/v1/offices/{office.id}/services")["items"]
    assert sorted(s["code"] for s in services) == ["A", "B", "C", "D", "E"]
    counters = office.admin.ok("GET", f"/api/v1/offices/{office.id}/counters")["items"]
    assert len(counters) == 6 and all(c["state"] == "open" for c in counters)
    tickets = office.admin.ok("GET", f"/api/v1/offices/{office.id}/tickets?limit=100")["items"]
    assert len(tickets) == 12
    assert all(t["status"] in ("done", "no_show") for t in tickets)
    assert all(t["called_at"] is not None for t in tickets)
    report = office.admin.ok("GET", f"/api/v1/offices/{office.id}/reports?group_by=day")["items"]
    assert report[0]["issued"] == 12 and report[0]["served"] + report[0]["no_show"] == 12
