"""The printer agent as a real subprocess: pairing by code, jobs over the WebSocket, disconnections.

A job issued while the agent is away prints once it is back; a server restart is survived; two
agents racing for the same jobs print each exactly once (the claim is a conditional update).
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from pyzbar.pyzbar import decode as scan_codes

from tests.support.server import ROOT, OfficeSetup, ServerProcess
from tests.ticket_printer.fakeprinter import FakePrinter


class AgentProcess:
    """`python -m ticket_printer.agent` in its own process group; stdout collected in a thread."""

    def __init__(self, server: ServerProcess, printer: FakePrinter, token_file: Path) -> None:
        self.args = [sys.executable, "-m", "ticket_printer.agent", "--server", server.base_url, "--transport",
                     "network", "--address", printer.address, "--token-file", str(token_file), "--log-level", "info"]
        self.lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> AgentProcess:
        self.proc = subprocess.Popen(self.args, cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)},
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip())

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if m := re.search(pattern, line):
                    return m
            time.sleep(0.05)
        raise AssertionError(f"agent said no {pattern!r}: {self.lines[-20:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)


def wait_until(check: Any, timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_agent_prints_jobs_sent_while_disconnected_once_it_is_back_and_never_twice(
        server: ServerProcess, office: OfficeSetup, tmp_path: Path) -> None:
    svc = office.service("A", "Chứng thực")
    token_file = tmp_path / "agent-token"
    with FakePrinter() as printer:
        agent = AgentProcess(server, printer, token_file).start()
        try:
            code = agent.wait_for(r"Pairing code: (\d{6})").group(1)
            device = office.admin.ok("POST", f"/api/v1/offices/{office.id}/pairings/{code}/approve",
                                     json={"name": "Máy in kiosk 1"})
            agent.wait_for(r"Paired as printer agent")
            assert token_file.read_text().strip()
            p = office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                                json={"name": "USB kiosk 1", "transport": "agent", "address": str(device["id"])})
            kiosk = office.device("kiosk", "Kiosk 1", printer_id=p["id"])
            agent_api = server.client(token_file.read_text().strip())
            wait_until(lambda: office.admin.ok("GET", f"/api/v1/offices/{office.id}/devices")["items"][0]["online"],
                       what="agent online")
            tickets: list[dict[str, Any]] = []

            def issue() -> dict[str, Any]:
                t = kiosk.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": svc["id"]})
                tickets.append(t)
                return t

            # 1. connected: the print.job event reaches it
            t1 = issue()
            printer.wait_for_cut(1, timeout=20)
            wait_until(lambda: office.admin.ok("GET", f"/api/v1/print-jobs/{t1['print_job']['id']}")["status"]
                       == "printed", what="job 1 reported printed")

            # 2. agent away: the job waits, queued, and prints when the agent is back
            agent.stop()
            t2 = issue()
            time.sleep(0.5)
            assert len(printer.tickets()) == 1
            assert office.admin.ok("GET", f"/api/v1/print-jobs/{t2['print_job']['id']}")["status"] == "queued"
            agent = AgentProcess(server, printer, token_file).start()
            printer.wait_for_cut(2, timeout=20)
            assert not [line for line in agent.lines if "Pairing code" in line]  # kept its token

            # 3. the server restarts under the agent: it reconnects by itself
            server.restart()
            issue()
            printer.wait_for_cut(3, timeout=30)

            # 4. two agents with the same identity race for every job: each prints exactly once
            second = AgentProcess(server, printer, token_file).start()
            try:
                second.wait_for("connected to")
                for _ in range(4):
                    issue()
                printer.wait_for_cut(7, timeout=30)
                time.sleep(1.0)  # anything printed twice would arrive now
            finally:
                second.stop()
        finally:
            agent.stop()

        papers = printer.tickets()
        assert len(papers) == len(tickets) == 7
        scanned = [scan_codes(paper.convert("L"))[0].data.decode() for paper in papers]
        assert sorted(scanned) == sorted(f"{server.base_url}/t/{t['track_code']}" for t in tickets)
        for t in tickets:
            job = office.admin.ok("GET", f"/api/v1/print-jobs/{t['print_job']['id']}")
            assert job["status"] == "printed" and job["attempts"] == 1, job
        # a claim of a printed job is refused: the API itself never hands a job out twice
        r = agent_api.post(f"/api/v1/print-jobs/{tickets[0]['print_job']['id']}/claim")
        assert r.status_code == 409 and r.json()["error"]["code"] == "already_claimed"
        listed = agent_api.ok("GET", f"/api/v1/printers/{p['id']}/jobs", params={"status": "printed"})
        assert listed["total"] == 7
        status = office.admin.ok("GET", f"/api/v1/printers/{p['id']}")
        assert status["online"] is True and status["paper"] == "ok"
        # another office's staff or a kiosk cannot claim
        assert kiosk.post(f"/api/v1/print-jobs/{tickets[0]['print_job']['id']}/claim").status_code == 403


def test_printer_test_command_prints_a_test_page(server: ServerProcess, office: OfficeSetup) -> None:
    with FakePrinter() as printer:
        office.admin.ok("POST", f"/api/v1/offices/{office.id}/printers",
                        json={"name": f"Lobby {office.id}", "transport": "network", "address": printer.address})
        run = subprocess.run([sys.executable, "-m", "server.cli", "printer", "test", f"Lobby {office.id}"],
                             cwd=str(ROOT), env=server.env(), capture_output=True, text=True, timeout=60, check=False)
        assert run.returncode == 0, run.stdout + run.stderr
        printer.wait_for_cut(1)
        [page] = printer.tickets()
        assert [c.data.decode() for c in scan_codes(page.convert("L"))] == [f"qms printer test Lobby {office.id}"]
        missing = subprocess.run([sys.executable, "-m", "server.cli", "printer", "test", "no such printer"],
                                 cwd=str(ROOT), env=server.env(), capture_output=True, text=True, timeout=60,
                                 check=False)
        assert missing.returncode == 1 and "No printer named" in missing.stdout
