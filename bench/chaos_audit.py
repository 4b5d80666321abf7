"""The audit after a province day under faults: what the outside saw against the event log.

Every line is checked from two sides: what clients were told (201s, calls on displays, paper out of the
printers, webhook bodies) and the office's event log (read as staff by a replay from seq 0). Figures the
server derives (live view, reports, rollups) are compared with a fold of the same log.
"""
from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bench.chaos_peers import Display, WebhookReceiver

CALL = "ticket.called"
TERMINAL = {"done", "no_show", "cancelled"}
# Races, counted apart from queue-order faults. The seq order is the commit order, and PostgreSQL shows a
# pick what was committed when it ran: a call whose transaction ran alongside the one that made a ticket
# wait (a transfer, a priority ticket's issue) cannot see that ticket; and two counters pressing Next at
# once each take a different ticket (FOR UPDATE SKIP LOCKED), the second-in-line committing first. So a
# "pass-over" of a ticket that began to wait, or was itself being called, within this of the call is a race.
RACE_S = 1.0


@dataclass
class Line:
    name: str
    ok: bool
    detail: str


@dataclass
class OfficeDay:
    """What one office's actors did and were told, for the audit."""

    office_id: int
    counter_services: dict[int, set[int]]  # counter id -> the services it calls
    issued_201: dict[int, str] = field(default_factory=dict)  # ticket id -> display number
    reprints: Counter[int] = field(default_factory=Counter)
    webhook_types: frozenset[str] = frozenset()
    log: list[dict[str, Any]] = field(default_factory=list)


def _ticket(e: dict[str, Any]) -> dict[str, Any]:
    return (e.get("data") or {}).get("ticket") or {}


def _when(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def event_time(e: dict[str, Any]) -> float:
    """The event's time to the microsecond when the log was read with it (`at_s`), else from its `at`
    (the contract's seconds)."""
    return float(e["at_s"]) if "at_s" in e else _when(e["at"])


def final_tickets(log: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each ticket as the last event that carried it left it."""
    out: dict[int, dict[str, Any]] = {}
    for e in log:
        t = _ticket(e)
        if e["type"].startswith("ticket.") and t.get("id") is not None:
            out[t["id"]] = {**out.get(t["id"], {}), **t}
    return out


def seq_gapless(day: OfficeDay) -> Line:
    seqs = [e["seq"] for e in day.log]
    ok = seqs == list(range(1, len(seqs) + 1)) if seqs else True
    return Line(f"office {day.office_id}: its log is numbered 1..n without holes", ok,
                f"{len(seqs)} events" + ("" if ok else f", first hole after {_first_hole(seqs)}"))


def _first_hole(seqs: list[int]) -> int:
    for a, b in zip(seqs, seqs[1:]):
        if b != a + 1:
            return a
    return seqs[-1] if seqs else 0


def every_201_exists(day: OfficeDay) -> Line:
    logged = {_ticket(e).get("id") for e in day.log if e["type"] == "ticket.issued"}
    missing = sorted(set(day.issued_201) - logged)
    return Line(f"office {day.office_id}: every ticket answered 201 is in the log", not missing,
                f"{len(day.issued_201)} answered 201, {len(logged)} issued in the log, missing {missing[:5]}")


def called_once_and_in_order(day: OfficeDay) -> Line:
    """No ticket called twice without a transfer in between; no call passed over a ticket ahead of it
    (priority first, then the original issue time) among the services of the calling counter."""
    state: dict[int, dict[str, Any]] = {}
    twice, skipped, raced = [], [], []
    held: dict[int, int] = {}  # ticket -> counter holding it
    waiting_since: dict[int, float] = {}  # ticket -> when the event that made it wait was written
    called_at: dict[int, list[tuple[int, float]]] = defaultdict(list)  # ticket -> its calls' (seq, time)
    for e in day.log:
        if e["type"] == CALL and _ticket(e).get("id") is not None:
            called_at[_ticket(e)["id"]].append((e["seq"], event_time(e)))
    for e in day.log:
        t = _ticket(e)
        tid = t.get("id")
        if tid is None or not e["type"].startswith("ticket."):
            continue
        if e["type"] == CALL:
            counter = ((e.get("data") or {}).get("counter") or {}).get("id")
            if tid in held:
                twice.append((tid, e["seq"]))
            services = day.counter_services.get(counter, set())
            me = _rank(t)
            for other_id, o in state.items():
                if other_id != tid and o.get("status") == "waiting" and o.get("service_id") in services \
                        and _rank(o) < me:
                    now = event_time(e)
                    race = now - waiting_since.get(other_id, float("-inf")) < RACE_S or any(
                        seq > e["seq"] and abs(at - now) < RACE_S for seq, at in called_at[other_id])
                    (raced if race else skipped).append((_brief(o), _brief(t), e["seq"]))
            held[tid] = counter
        elif e["type"] in ("ticket.transferred", "ticket.finished", "ticket.no_show", "ticket.cancelled"):
            held.pop(tid, None)
        if t.get("status") == "waiting" and state.get(tid, {}).get("status") != "waiting":
            waiting_since[tid] = event_time(e)
        state[tid] = {**state.get(tid, {}), **t}
    return Line(f"office {day.office_id}: no ticket called twice or passed over", not twice and not skipped,
                f"called twice {twice[:3]}, passed over (ticket, called instead, seq) {skipped[:3]}; "
                f"races (a concurrent call or return to the queue, under {RACE_S:.0f} s) {len(raced)} {raced[:2]}")


def _brief(t: dict[str, Any]) -> str:
    return (f"{t.get('display_number')}(#{t.get('id')} service {t.get('service_id')} {t.get('priority') or ''} "
            f"{t.get('issued_at')})")


def _rank(t: dict[str, Any]) -> tuple[int, float, int]:
    return (0 if t.get("priority") else 1, _when(t["issued_at"]), int(t["id"]))


def displays_saw_every_call(day: OfficeDay, displays: Iterable[Display]) -> tuple[Line, dict[int, float]]:
    """Every display got every call of its office after the snapshot it started from, in seq order; and
    per call the latest receipt (seconds after the call's own time), for the delays."""
    calls = {e["seq"]: e for e in day.log if e["type"] == CALL}
    missing, disorder, n = 0, 0, 0
    worst: dict[int, float] = {}
    for d in displays:
        n += 1
        got = {s.seq: s for s in d.seen}
        disorder += len(d.disorder)
        start = d.first_seq or 0
        for seq, e in calls.items():
            if seq <= start:
                continue
            s = got.get(seq)
            if s is None:
                missing += 1
                continue
            worst[seq] = max(worst.get(seq, 0.0), s.received - event_time(e))
    ok = missing == 0 and disorder == 0
    return Line(f"office {day.office_id}: {n} displays saw every call in seq order", ok,
                f"{len(calls)} calls; missed receipts {missing}; out of order {disorder}"), worst


TICKET_NUMBER = re.compile(rb"\b([A-Z]\d{3})\b")


def printed_once(day: OfficeDay, printer_bytes: bytes, jobs: dict[int, list[int]],
                 job_status: dict[int, str]) -> Line:
    """No ticket on paper more often than it was asked for (the first job and each reprint); every job
    that ended `printed` is on paper; every job ended `printed` or `failed`. A job can be on paper and
    still `failed`: the worker died between the printer's last byte and recording it, and the job is not
    printed again (a second paper would be worse than a missing status)."""
    from tests.ticket_printer.fakeprinter import iter_commands
    on_paper: Counter[str] = Counter()
    current: set[str] = set()
    for c in iter_commands(printer_bytes):
        if c.kind == "text":
            current |= {m.decode() for m in TICKET_NUMBER.findall(c.raw)}
        elif c.kind == "cut":
            on_paper.update(current)
            current = set()
    twice, lost, unfinished = [], [], []
    printed = failed = failed_on_paper = 0
    for tid, ids in jobs.items():
        number = day.issued_201.get(tid, "?")
        done = sum(1 for j in ids if job_status.get(j) == "printed")
        gave_up = sum(1 for j in ids if job_status.get(j) == "failed")
        printed, failed = printed + done, failed + gave_up
        n = on_paper.get(number, 0)
        if n > len(ids):
            twice.append((number, n, len(ids)))
        if n < done:
            lost.append((number, n, done))
        failed_on_paper += max(0, n - done) if gave_up else 0
        unfinished += [(number, job_status.get(j)) for j in ids if job_status.get(j) not in ("printed", "failed")]
    return Line(f"office {day.office_id}: every printed ticket printed once", not twice and not lost and not unfinished,
                f"{sum(len(v) for v in jobs.values())} jobs ({sum(day.reprints.values())} reprints): {printed} "
                f"printed, {failed} failed ({failed_on_paper} of them on paper: the worker died before recording); "
                f"more prints than jobs {twice[:3]}; printed but not on paper {lost[:3]}; unfinished {unfinished[:3]}")


def webhooks_delivered(day: OfficeDay, receiver: WebhookReceiver) -> Line:
    want = [e["seq"] for e in day.log if e["type"] in day.webhook_types]
    got = receiver.order.get(day.office_id, [])
    in_order = got == sorted(got)
    missing = sorted(set(want) - set(got))
    ok = in_order and not missing and len(got) == len(set(got))
    return Line(f"office {day.office_id}: every webhook event delivered once after dedupe, in order", ok,
                f"{len(want)} events, {len(got)} delivered, missing {missing[:5]}, in order {in_order}")


def live_matches_log(day: OfficeDay, live: dict[str, Any]) -> Line:
    tickets = final_tickets(day.log)
    waiting: Counter[int] = Counter(t["service_id"] for t in tickets.values() if t.get("status") == "waiting")
    served: Counter[int] = Counter()
    for e in day.log:
        if e["type"] == "ticket.finished":
            served[_ticket(e).get("counter_id")] += 1
    diffs = []
    for s in live.get("services", []):
        if s.get("waiting") != waiting.get(s["id"], 0):
            diffs.append(("service", s["id"], "waiting", s.get("waiting"), waiting.get(s["id"], 0)))
    for c in live.get("counters", []):
        if c.get("served_today") != served.get(c["id"], 0):
            diffs.append(("counter", c["id"], "served_today", c.get("served_today"), served.get(c["id"], 0)))
    return Line(f"office {day.office_id}: live view equals the log's fold", not diffs, f"differences {diffs[:4]}")


def reports_match_log(day: OfficeDay, rows: list[dict[str, Any]]) -> Line:
    tickets = final_tickets(day.log)
    issued = sum(1 for e in day.log if e["type"] == "ticket.issued")
    status = Counter(t.get("status") for t in tickets.values())
    got = {k: sum(r.get(k) or 0 for r in rows) for k in ("issued", "no_show", "cancelled")}
    want = {"issued": issued, "no_show": status.get("no_show", 0), "cancelled": status.get("cancelled", 0)}
    return Line(f"office {day.office_id}: report totals equal the log's fold", got == want,
                f"report {got}, log {want}")


def summary_by(lines: list[Line]) -> tuple[int, int]:
    passed = sum(1 for x in lines if x.ok)
    return passed, len(lines) - passed


def group(lines: list[Line]) -> dict[str, list[Line]]:
    out: dict[str, list[Line]] = defaultdict(list)
    for x in lines:
        out[x.name.split(": ", 1)[-1]].append(x)
    return out
