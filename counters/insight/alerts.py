"""What a head must decide now: waits over target, idle counters while people wait, staffing advice.

Derived alerts are recomputed from the queue on every live view (pure: the queue, the prediction and
`now`); device and printer alerts are raised by other rooms into the `Alert` table and read here.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from counters.clock import iso
from counters.models import Alert, Counter, Office, Service, Ticket
from counters.insight.prediction import QueueSnapshot, ServiceTimeModel
from counters.engine.queue import servable_service_ids
from counters.insight.staffing import advise_staffing
from counters.types import CounterState, Desk

IDLE_GRACE_S = 120  # a counter free this long while someone it may serve has waited this long


@dataclass(frozen=True)
class Staffing:
    open_counters: int
    suggested_open_counters: int | None
    groups: list[dict[str, Any]]

    def view(self) -> dict[str, Any]:
        return {"open_counters": self.open_counters, "suggested_open_counters": self.suggested_open_counters,
                "groups": self.groups}


def target_wait_s(office: Office, service: Service, no_wait_day: bool) -> int:
    return (office.no_wait_target_min if no_wait_day else service.target_wait_min) * 60


def staffing(office: Office, services: dict[int, Service], snap: QueueSnapshot | None, model: ServiceTimeModel | None,
             issues: Sequence[tuple[int, datetime]], no_wait_day: bool, open_counters: int,
             counters: Sequence[Counter]) -> Staffing:
    """Erlang C advice per desk kind (do-it-now desks and standard desks are not interchangeable),
    never more than the office's counters (open or not, not archived) that can serve that work."""
    if snap is None or model is None:
        return Staffing(open_counters, None, [])
    live = {sid: s for sid, s in services.items() if not s.archived and s.active}
    groups = {"do_it_now": sorted(sid for sid, s in live.items() if s.desk == Desk.DO_IT_NOW),
              "standard": sorted(sid for sid, s in live.items() if s.desk != Desk.DO_IT_NOW)}
    able = {name: {c.id for c in counters if not c.archived
                   and set(servable_service_ids(c, services)).intersection(ids)} for name, ids in groups.items()}
    out: list[dict[str, Any]] = []
    for name, ids in groups.items():
        if not ids:
            continue
        target = min(target_wait_s(office, live[sid], no_wait_day) for sid in ids)
        for advice in advise_staffing(snap, issues, model, target, groups={name: ids},
                                      capacity={name: len(able[name])}):
            if advice.arrival_rate_per_h <= 0 and advice.open_counters == 0:
                continue
            out.append({"group": name, "open_counters": advice.open_counters,
                        "suggested_open_counters": advice.suggested_counters,
                        "counters_able": len(able[name]),
                        "arrival_rate_per_h": round(advice.arrival_rate_per_h, 1),
                        "mean_service_s": round(advice.mean_service_s), "target_wait_s": target})
    # a counter that serves both kinds is one counter: the total never exceeds the counters that exist
    every = set().union(*able.values()) if able else set()
    suggested = min(sum(g["suggested_open_counters"] for g in out), len(every)) if out else 0
    return Staffing(open_counters, suggested, out)


def derived_alerts(office: Office, services: Iterable[dict[str, Any]], counters: Iterable[Counter],
                   waiting: Sequence[Ticket], service_rows: dict[int, Service], advice: Staffing,
                   now: datetime) -> list[dict[str, Any]]:
    """Alerts computed from the queue now: over-target waits (seen or expected), idle counters, too few open."""
    tz = office.timezone
    out: list[dict[str, Any]] = []
    for row in services:
        if not row.get("waiting"):
            continue
        target = row["target_wait_s"]
        longest, expected = row.get("longest_wait_s") or 0, row.get("estimated_wait_s")
        if longest > target or (expected is not None and expected > target):
            oldest = min((t.issued_at for t in waiting if t.service_id == row["id"]), default=now)
            out.append({"kind": "wait_over_target", "key": f"wait:{row['id']}", "service_id": row["id"],
                        "code": row["code"], "longest_wait_s": longest, "estimated_wait_s": expected,
                        "target_wait_s": target, "waiting": row["waiting"], "since": iso(oldest, tz),
                        "message": f"Dịch vụ {row['code']}: {row['waiting']} người chờ, chờ lâu nhất "
                                   f"{longest // 60} phút, dự kiến {(expected or 0) // 60} phút "
                                   f"(mục tiêu {target // 60} phút)"})
    for c in counters:
        if c.state != CounterState.OPEN or c.current_ticket_id is not None:
            continue
        mine = set(servable_service_ids(c, service_rows))
        waited = [t for t in waiting if (t.target_counter_id == c.id)
                  or (t.target_counter_id is None and t.service_id in mine)]
        if waited and (now - min(t.issued_at for t in waited)).total_seconds() >= IDLE_GRACE_S:
            out.append({"kind": "counter_idle", "key": f"idle:{c.id}", "counter_id": c.id, "number": c.number,
                        "waiting": len(waited), "since": iso(min(t.issued_at for t in waited), tz),
                        "message": f"Quầy {c.number} đang mở nhưng không gọi số, {len(waited)} người đang chờ"})
    if advice.suggested_open_counters is not None:
        for g in advice.groups:
            if g["suggested_open_counters"] > g["open_counters"]:
                out.append({"kind": "staffing", "key": f"staffing:{g['group']}", "group": g["group"],
                            "open_counters": g["open_counters"],
                            "suggested_open_counters": g["suggested_open_counters"],
                            "since": iso(now, tz),
                            "message": f"Nên mở {g['suggested_open_counters']} quầy "
                                       f"({'một cửa làm ngay' if g['group'] == 'do_it_now' else 'thường'}), "
                                       f"đang mở {g['open_counters']}"})
    return out


def stored_alerts(alerts: Iterable[Alert], tz: str) -> list[dict[str, Any]]:
    """Device, printer and paper alerts other rooms raised and have not cleared."""
    return [{**(a.data or {}), "kind": a.kind, "key": a.key, "message": a.message, "since": iso(a.since, tz)}
            for a in alerts]
