"""The printer agent: runs on a kiosk PC with a USB (or serial, or LAN) printer the server cannot reach.

    python -m ticket_printer.agent --server http://192.168.1.10:8000 --transport usb --address usb:04b8:0202

It pairs by code the first time (a head approves the code in the admin page; the token is kept in a
file), then listens on the WebSocket for `print.job` events meant for it. Each job is claimed through
the API before printing (a conditional update on the server: a job is never printed twice, even by
two agents at once), printed locally, and its outcome and the paper state reported back. After any
disconnection (server restart, network) it reconnects with backoff and fetches its still-queued jobs,
so a ticket issued meanwhile prints as soon as it is back.
"""
from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .transports import TransportError, open_transport, parse_address

log = logging.getLogger("qms.printer_agent")
DEFAULT_TOKEN_FILE = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "qms-printer-agent" / "token"
POLL_PAIRING_S = 2.0
SAFETY_POLL_S = 30.0
MAX_BACKOFF_S = 5.0


class Unauthorized(Exception):
    """The token was refused or revoked: pair again."""


@dataclass
class AgentConfig:
    server: str
    transport: str
    address: str
    token_file: Path = DEFAULT_TOKEN_FILE
    paper_check: bool = True


@dataclass
class PrinterAgent:
    config: AgentConfig
    token: str | None = None
    device_id: int | None = None
    office_id: int | None = None
    seq: int | None = None
    printed: int = 0
    _queue: asyncio.Queue[int] = field(default_factory=asyncio.Queue)
    _pending: set[int] = field(default_factory=set)
    _unreported: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        parse_address(self.config.transport, self.config.address)  # fail fast on a wrong address
        self.base = self.config.server.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base, timeout=15)

    # ---- token and pairing
    def load_token(self) -> str | None:
        path = self.config.token_file
        if path.is_file():
            text = path.read_text().strip()
            return text or None
        return None

    def save_token(self, token: str) -> None:
        path = self.config.token_file
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(token)
        tmp.chmod(0o600)
        tmp.replace(path)

    async def pair(self) -> str:
        """Show a pairing code until a head approves it; returns the device token."""
        while True:
            r = await self.http.post("/api/v1/pairings", json={"kind": "printer"})
            if r.status_code != 201:
                await asyncio.sleep(5)
                continue
            p = r.json()
            print(f"Pairing code: {p['code']} (approve it in the admin page; valid until {p['expires_at']})",
                  flush=True)
            while True:
                await asyncio.sleep(POLL_PAIRING_S)
                try:
                    s = (await self.http.get(f"/api/v1/pairings/{p['pairing_id']}")).json()
                except (httpx.HTTPError, ValueError):
                    continue
                if s.get("status") == "approved" and s.get("token"):
                    self.save_token(s["token"])
                    print(f"Paired as printer agent device {s.get('device_id')}", flush=True)
                    return str(s["token"])
                if s.get("status") == "expired":
                    break

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def _api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        r = await self.http.request(method, path, headers=self._headers(), **kw)
        if r.status_code == 401:
            raise Unauthorized(r.text)
        return r

    # ---- main loop
    async def run(self) -> None:
        backoff = 0.5
        worker = asyncio.create_task(self._print_loop())
        try:
            while True:
                if self.token is None:
                    self.token = self.load_token() or await self.pair()
                try:
                    await self._session()
                    backoff = 0.5
                except Unauthorized:
                    log.warning("the server refused the token; pairing again")
                    self.config.token_file.unlink(missing_ok=True)
                    self.token, self.seq = None, None
                    continue
                except (TimeoutError, OSError, httpx.HTTPError, ConnectionError) as e:
                    log.info("disconnected from %s: %s", self.base, e)
                except Exception as e:
                    if type(e).__module__.startswith("websockets"):
                        log.info("connection closed: %s", e)
                    else:
                        raise
                await asyncio.sleep(backoff + random.random() * 0.3)
                backoff = min(backoff * 2, MAX_BACKOFF_S)
        finally:
            worker.cancel()
            await self.http.aclose()

    async def _session(self) -> None:
        import websockets
        me = (await self._api("GET", "/api/v1/auth/me")).json()
        self.device_id, self.office_id = me["id"], me["office_id"]
        ws_base = "ws" + self.base[4:] if self.base.startswith("http") else self.base
        async with websockets.connect(f"{ws_base}/ws?token={self.token}", max_size=2**24,
                                      open_timeout=10) as ws:
            await ws.send(json.dumps({"type": "hello", "since_seq": self.seq}))
            log.info("connected to %s as device %s", self.base, self.device_id)
            await self._flush_reports()
            await self.fetch_queued()  # after hello: anything issued while away, nothing falls in between
            while True:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=SAFETY_POLL_S)
                except TimeoutError:
                    await self.fetch_queued()
                    continue
                msg = json.loads(raw)
                kind = msg.get("type")
                if kind == "ping":
                    await ws.send('{"type":"pong"}')
                    continue
                if kind == "error":
                    if msg.get("data", {}).get("code") == "unauthorized":
                        raise Unauthorized(msg["data"].get("message", ""))
                    continue
                if isinstance(msg.get("seq"), int) and msg["seq"]:
                    self.seq = msg["seq"]
                if kind == "print.job":
                    job = (msg.get("data") or {}).get("job") or {}
                    if job.get("status") == "queued" and msg["data"].get("device_id") == self.device_id:
                        self.submit(int(job["id"]))

    def submit(self, job_id: int) -> None:
        if job_id not in self._pending:
            self._pending.add(job_id)
            self._queue.put_nowait(job_id)

    async def fetch_queued(self) -> None:
        """The queued jobs of every printer this agent serves (oldest first)."""
        printers = (await self._api("GET", f"/api/v1/offices/{self.office_id}/printers")).json().get("items", [])
        for p in printers:
            r = await self._api("GET", f"/api/v1/printers/{p['id']}/jobs", params={"status": "queued"})
            for job in r.json().get("items", []):
                self.submit(int(job["id"]))

    # ---- printing
    async def _print_loop(self) -> None:
        while True:
            job_id = await self._queue.get()
            try:
                await self.print_job(job_id)
            except Unauthorized:
                pass  # the session loop notices too and pairs again
            except (OSError, httpx.HTTPError) as e:
                log.warning("job %s: server unreachable (%s); it stays queued for the next connection", job_id, e)
            finally:
                self._pending.discard(job_id)

    async def print_job(self, job_id: int) -> bool:
        """Claim, print, report. False when another agent has the job (or it is done already)."""
        r = await self._api("POST", f"/api/v1/print-jobs/{job_id}/claim")
        if r.status_code != 200:
            log.info("job %s not taken: %s", job_id, r.json().get("error", {}).get("message"))
            return False
        data = base64.b64decode(r.json()["escpos_b64"])
        report: dict[str, Any]
        try:
            paper = await asyncio.to_thread(self._paper)
            if paper == "out":
                raise TransportError("the printer is out of paper", permanent=False)
            target = open_transport(self.config.transport, self.config.address)
            await asyncio.to_thread(target.send, data)
            report = {"status": "printed", "paper": paper}
            self.printed += 1
            log.info("job %s printed (%d bytes)", job_id, len(data))
        except TransportError as e:
            log.warning("job %s: %s", job_id, e.message)
            report = {"status": "failed" if e.permanent else "retry", "error": e.message,
                      "paper": "out" if "paper" in e.message else None}
        await self._report(job_id, report)
        return report["status"] == "printed"

    def _paper(self) -> str:
        if not self.config.paper_check:
            return "unknown"
        try:
            return str(open_transport(self.config.transport, self.config.address).paper_status())
        except ValueError as e:
            raise TransportError(str(e), permanent=True) from e

    async def _report(self, job_id: int, report: dict[str, Any]) -> None:
        body = {k: v for k, v in report.items() if v is not None}
        try:
            r = await self._api("POST", f"/api/v1/print-jobs/{job_id}/status", json=body)
            if r.status_code >= 500:
                raise httpx.HTTPError(f"status report got {r.status_code}")
        except (OSError, httpx.HTTPError):
            self._unreported.append((job_id, body))  # sent again once the server is back

    async def _flush_reports(self) -> None:
        waiting, self._unreported = self._unreported, []
        for job_id, body in waiting:
            await self._report(job_id, body)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", default=os.environ.get("QMS_SERVER", "http://127.0.0.1:8000"),
                   help="the QMS server's base URL (env QMS_SERVER)")
    p.add_argument("--transport", choices=["usb", "serial", "network", "file"], default="usb",
                   help="how this PC reaches its printer")
    p.add_argument("--address", required=True,
                   help='usb "usb:04b8:0202", serial "/dev/ttyUSB0", network "192.168.1.50:9100", or a file path')
    p.add_argument("--token-file", type=Path, default=DEFAULT_TOKEN_FILE,
                   help=f"where the device token is kept (default {DEFAULT_TOKEN_FILE})")
    p.add_argument("--no-paper-check", action="store_true", help="do not ask the printer for its paper state")
    p.add_argument("--test-page", action="store_true", help="print a test page on the local printer and exit")
    p.add_argument("--width", type=int, choices=[576, 384], default=576, help="paper width in dots for --test-page")
    p.add_argument("--log-level", default="info")


def run_agent(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for noisy in ("httpx", "httpcore", "websockets"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.test_page:
        from .printing import print_test_page
        try:
            print_test_page(f"agent {args.transport} {args.address}", transport=args.transport,
                            address=args.address, width_px=args.width)
        except TransportError as e:
            print(f"test page failed: {e.message}", file=sys.stderr)
            return 1
        print("Test page sent.")
        return 0
    try:
        agent = PrinterAgent(AgentConfig(args.server, args.transport, args.address, args.token_file,
                                         not args.no_paper_check))
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        asyncio.run(agent.run())
    except KeyboardInterrupt:
        pass
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ticket_printer.agent", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    return run_agent(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
