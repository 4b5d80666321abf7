"""Outbound events: how fast one webhook's backlog is delivered, and what one webhook adds to the
server's CPU per ticket.

A real `qms serve` subprocess (SQLite, one process) and a receiver on loopback (answers 200 at once).
- CPU per ticket: N tickets issued one at a time with no webhook, then N with one webhook taking every
  listed type (so each ticket causes one delivery); the server process's CPU time (utime + stime of all
  its threads, from /proc/<pid>/stat) is read before and after each run, once every delivery arrived.
- Delivery rate: the receiver answers 503 while N tickets are issued (the head delivery waits for its
  retry and everything after it queues: a backlog), then 200; the rate is N over the time from the
  first to the last delivery of the drain, for one webhook and for two webhooks draining side by side.

    python -m bench.webhooks [--tickets 300]
"""
from __future__ import annotations

import argparse
import time

from bench.cpu import process_cpu_s
from tests.support.receiver import Receiver
from tests.support.server import Api, OfficeSetup, ServerProcess

SECRET = "bench-secret-0123456789"
LISTED = ["ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show", "ticket.cancelled",
          "ticket.transferred", "dossier.linked", "feedback.received"]
TIME_LIMIT_S = 60.0


def issue(head: Api, office_id: int, service_id: int, n: int) -> None:
    deadline = time.monotonic() + TIME_LIMIT_S
    for _ in range(n):
        head.ok("POST", f"/api/v1/offices/{office_id}/tickets", json={"service_id": service_id, "print": False})
        if time.monotonic() > deadline:
            raise TimeoutError("issuing took longer than the bench allows")


def settle(pid: int, quiet_s: float = 0.6) -> float:
    """CPU time once the server has gone quiet (the fold and checkpoint after the last write are done)."""
    last = process_cpu_s(pid)
    while True:
        time.sleep(quiet_s)
        now = process_cpu_s(pid)
        if now - last < 0.02:
            return now
        last = now


def cpu_per_ticket(server: ServerProcess, office: OfficeSetup, head: Api, n: int, receivers: list[Receiver]) -> float:
    assert server.proc is not None
    pid = server.proc.pid
    service = office.service("CB" if receivers else "CA", "Bench CPU")["id"]
    warm = [len(r.delivered()) + 20 for r in receivers]
    issue(head, office.id, service, 20)  # warm up
    for r, want in zip(receivers, warm):
        r.wait_for(want, TIME_LIMIT_S)
    before = settle(pid)
    expected = [len(r.delivered()) + n for r in receivers]
    issue(head, office.id, service, n)
    for r, want in zip(receivers, expected):
        r.wait_for(want, TIME_LIMIT_S)
    return (settle(pid) - before) / n


def drain_rate(office: OfficeSetup, head: Api, n: int, hooks: int) -> list[float]:
    receivers = [Receiver(status=503).start() for _ in range(hooks)]
    try:
        for r in receivers:
            head.ok("POST", f"/api/v1/offices/{office.id}/webhooks",
                    json={"url": r.url, "events": ["ticket.issued"], "secret": SECRET})
        service = office.service("DA" if hooks == 1 else "DB", "Bench drain")["id"]
        issue(head, office.id, service, n)
        for r in receivers:
            r.status = 200
        rates = []
        for r in receivers:
            got = r.wait_for(n, TIME_LIMIT_S)
            span = got[-1].at - got[0].at
            rates.append((n - 1) / span if span > 0 else float("inf"))
            again = len([x for x in r.received if x.status == 200]) - len(got)
            if again:
                print(f"  (the receiver got {again} deliveries a second time)", flush=True)
        return rates
    finally:
        for r in receivers:
            r.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=300)
    args = parser.parse_args(argv if argv is not None else [])
    n = max(10, min(args.tickets, 2000))
    server = ServerProcess(env={"QMS_WEBHOOK_RETRY_BASE_S": "0.3", "QMS_WEBHOOK_RETRY_MAX_S": "0.3"},
                           workers=1).start()
    receiver = Receiver().start()
    try:
        office = OfficeSetup(server)
        head = office.user("bench_webhooks", "head")
        off = cpu_per_ticket(server, office, head, n, [])
        hook = head.ok("POST", f"/api/v1/offices/{office.id}/webhooks",
                       json={"url": receiver.url, "events": LISTED, "secret": SECRET})
        on = cpu_per_ticket(server, office, head, n, [receiver])
        head.ok("DELETE", f"/api/v1/webhooks/{hook['id']}")
        print(f"server CPU per ticket, no webhook          {off * 1000:7.2f} ms   (n={n})", flush=True)
        print(f"server CPU per ticket, one webhook         {on * 1000:7.2f} ms   (each ticket → one delivery)",
              flush=True)
        print(f"added by one webhook                       {(on - off) * 1000:7.2f} ms per ticket "
              f"({(on - off) / off * 100 if off else 0:+.0f} %)", flush=True)
        one = drain_rate(office, head, n, 1)
        print(f"delivery rate, one webhook's backlog       {one[0]:7.0f} deliveries/s", flush=True)
        two = drain_rate(office, head, n, 2)
        print(f"delivery rate, two webhooks side by side   {two[0]:7.0f} and {two[1]:.0f} deliveries/s per webhook",
              flush=True)
        return 0
    finally:
        receiver.stop()
        server.stop()


if __name__ == "__main__":
    import sys
    raise SystemExit(main(sys.argv[1:]))
