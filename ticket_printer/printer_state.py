"""What the office knows about a printer (online, paper, last error) and the alerts a head sees about it.

A printer's state changes only here, under a row lock on the printer, so two workers that learn the
same thing at once raise one alert, not two. Alerts last until the condition ends, then are cleared.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from counters.clock import iso
from counters.models import Alert, Office
from counters.types import EventType

from .hooks import RecordEvent
from .models import Printer

ACTOR = "system:printing"
PAPER_STATES = ("ok", "near_end", "out", "unknown")


def printer_view(p: Printer, tz: str) -> dict[str, Any]:
    return {"id": p.id, "office_id": p.office_id, "name": p.name, "transport": p.transport, "address": p.address,
            "width_px": p.width_px, "mode": p.mode, "profile": p.profile, "online": p.online, "paper": p.paper,
            "last_error": p.last_error, "last_seen": iso(p.last_seen, tz)}


def alert_key(printer_id: int, what: str) -> str:
    return f"printer:{printer_id}:{what}"


def alert_view(a: Alert, tz: str) -> dict[str, Any]:
    return {"id": a.id, "office_id": a.office_id, "kind": a.kind, "key": a.key, "message": a.message,
            "since": iso(a.since, tz), "cleared_at": iso(a.cleared_at, tz), **(a.data or {})}


def _tz(session: Session, office_id: int) -> str:
    office = session.get(Office, office_id)
    return office.timezone if office else "UTC"


def raise_alert(session: Session, office_id: int, kind: str, key: str, message: str, data: dict[str, Any],
                now: datetime, record: RecordEvent) -> Alert | None:
    """Open an alert unless one with this key is open already; records `alert.raised`."""
    if session.exec(select(Alert).where(Alert.key == key, Alert.cleared_at == None)).first():  # noqa: E711
        return None
    alert = Alert(office_id=office_id, kind=kind, key=key, message=message, data=data, since=now)
    session.add(alert)
    session.flush()
    record(session, office_id, EventType.ALERT_RAISED, now,
           {"alert": alert_view(alert, _tz(session, office_id))}, actor=ACTOR)
    return alert


def clear_alert(session: Session, key: str, now: datetime, record: RecordEvent) -> int:
    """Close the open alerts with this key; records `alert.cleared` for each."""
    n = 0
    for alert in session.exec(select(Alert).where(Alert.key == key, Alert.cleared_at == None)):  # noqa: E711
        alert.cleared_at = now
        session.add(alert)
        record(session, alert.office_id, EventType.ALERT_CLEARED, now,
               {"alert": alert_view(alert, _tz(session, alert.office_id))}, actor=ACTOR)
        n += 1
    return n


def note_printer_state(session: Session, printer_id: int, now: datetime, *, online: bool,
                       paper: str | None = None, error: str | None = None,
                       record: RecordEvent) -> Printer | None:
    """Record what a print attempt or a status request learned, and raise or clear the alerts.

    `paper` None or "unknown" leaves the paper alerts as they are (the printer did not say).
    """
    p = session.get(Printer, printer_id, with_for_update=True)
    if p is None:
        return None
    p.online = online
    p.last_error = error
    if online:
        p.last_seen = now
    if online and paper in ("ok", "near_end", "out"):
        p.paper = paper
    session.add(p)
    data = {"printer_id": p.id, "printer_name": p.name}
    if online:
        clear_alert(session, alert_key(printer_id, "offline"), now, record)
    elif not p.archived:
        raise_alert(session, p.office_id, "printer_offline", alert_key(printer_id, "offline"),
                    f"Máy in «{p.name}» không kết nối được: {error or 'không rõ lỗi'}", data, now, record)
    if online and paper == "out":
        raise_alert(session, p.office_id, "printer_paper_out", alert_key(printer_id, "paper_out"),
                    f"Máy in «{p.name}» hết giấy", data, now, record)
        clear_alert(session, alert_key(printer_id, "paper_low"), now, record)
    elif online and paper == "near_end":
        clear_alert(session, alert_key(printer_id, "paper_out"), now, record)
        raise_alert(session, p.office_id, "printer_paper_low", alert_key(printer_id, "paper_low"),
                    f"Máy in «{p.name}» sắp hết giấy", data, now, record)
    elif online and paper == "ok":
        clear_alert(session, alert_key(printer_id, "paper_out"), now, record)
        clear_alert(session, alert_key(printer_id, "paper_low"), now, record)
    return p


def clear_printer_alerts(session: Session, printer_id: int, now: datetime, record: RecordEvent) -> None:
    """A removed printer needs no more attention."""
    for what in ("offline", "paper_out", "paper_low"):
        clear_alert(session, alert_key(printer_id, what), now, record)
