"""Configuring an office: its settings, services and counters, with the queue's rules checked here.

Field types are checked at the edge (server schemas); what depends on the queue's rules is checked
here: unique service codes and counter numbers, do-it-now services only at do-it-now counters,
settings documents (hours, sessions, no-wait days), and archive-instead-of-delete for used rows.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from counters.engine import events
from counters.clock import valid_timezone
from counters.context import Ctx
from counters.errors import InvalidValue, StateConflict
from counters.models import Counter, Office, OfficeSeq, Service, Ticket
from counters.engine.notify import counter_event
from counters.engine.numbering import validate_number_format
from counters.engine.schedule import validate_extra_sessions, validate_no_wait_days, validate_opening_hours
from counters.engine.states import LIVE_STATUSES
from counters.types import RATING_SCALES, CounterState, Desk, EventType, PriorityPolicy, Routing
from counters.views import office_view, service_view

OFFICE_SETTINGS = ("name", "address", "timezone", "parent_id", "opening_hours", "extra_sessions", "no_wait_days",
                   "no_wait_target_min", "priority_policy", "interleave_every", "routing", "rating_scale",
                   "number_format", "announcement_template", "announcement_repeat", "default_printer_id",
                   "feedback_window_min", "dossier_code_pattern", "dossier_lookup_url", "ask_trips",
                   "booking_slot_min", "booking_days_ahead", "checkin_early_min", "checkin_late_min")


NULLABLE_OFFICE = {"address", "parent_id", "opening_hours", "extra_sessions", "no_wait_days",
                   "announcement_template", "default_printer_id", "dossier_lookup_url"}


def validate_dossier_code_pattern(pattern: str) -> None:
    """The office's dossier code shape must be a regular expression Python can compile."""
    try:
        re.compile(pattern)
    except re.error as e:
        raise InvalidValue(f"dossier_code_pattern is not a regular expression: {e}",
                           field="dossier_code_pattern") from None


def validate_lookup_url(url: str) -> None:
    """The result look-up speaks http(s) JSON or reads a file:// CSV (API.md); nothing else."""
    if not url.startswith(("http://", "https://", "file:///")):
        raise InvalidValue("dossier_lookup_url is an http://, https:// or file:/// URL, or null",
                           field="dossier_lookup_url")


def _check_office_fields(session: Session, office: Office | None, fields: dict[str, Any]) -> dict[str, Any]:
    out = dict(fields)
    for name, value in out.items():
        if value is None and name not in NULLABLE_OFFICE:
            raise InvalidValue(f"{name} cannot be null", field=name)
    if "timezone" in out and not valid_timezone(out["timezone"]):
        raise InvalidValue(f"unknown timezone {out['timezone']!r}", field="timezone")
    if "opening_hours" in out:
        out["opening_hours"] = validate_opening_hours(out["opening_hours"])
    if "extra_sessions" in out:
        out["extra_sessions"] = validate_extra_sessions(out["extra_sessions"])
    if "no_wait_days" in out:
        out["no_wait_days"] = validate_no_wait_days(out["no_wait_days"])
    if "priority_policy" in out and out["priority_policy"] not in PriorityPolicy.__members__.values():
        raise InvalidValue("priority_policy is strict or interleave", field="priority_policy")
    if "routing" in out and out["routing"] not in Routing.__members__.values():
        raise InvalidValue("routing is fifo or ordered", field="routing")
    if "rating_scale" in out and out["rating_scale"] not in RATING_SCALES:
        raise InvalidValue("rating_scale is 3, 4 or 5", field="rating_scale")
    if "number_format" in out:
        validate_number_format(out["number_format"])
    if "dossier_code_pattern" in out:
        validate_dossier_code_pattern(out["dossier_code_pattern"])
    if out.get("dossier_lookup_url") is not None:
        validate_lookup_url(out["dossier_lookup_url"])
    for name, lo, hi in (("no_wait_target_min", 1, 600), ("interleave_every", 1, 100),
                         ("announcement_repeat", 1, 5), ("feedback_window_min", 1, 240),
                         ("booking_slot_min", 1, 240), ("booking_days_ahead", 0, 365),
                         ("checkin_early_min", 0, 240), ("checkin_late_min", 0, 240)):
        if name in out and not (lo <= out[name] <= hi):
            raise InvalidValue(f"{name} is between {lo} and {hi}", field=name)
    if out.get("parent_id") is not None:
        parent = session.get(Office, out["parent_id"])
        if parent is None:
            raise InvalidValue("parent_id is not an office", field="parent_id")
        node: Office | None = parent
        while node is not None and office is not None:  # refuse cycles in the office tree
            if node.id == office.id:
                raise InvalidValue("an office cannot be placed under itself", field="parent_id")
            node = session.get(Office, node.parent_id) if node.parent_id else None
    return out


def create_office(session: Session, ctx: Ctx, code: str, name: str, **fields: Any) -> Office:
    fields = _check_office_fields(session, None, fields)
    if session.execute(select(col(Office.id)).where(col(Office.code) == code)).first():
        raise StateConflict(f"An office with code {code!r} exists already.", code="duplicate_code", field="code")
    office = Office(code=code, name=name, created_at=ctx.now, **fields)
    session.add(office)
    session.flush()
    session.add(OfficeSeq(office_id=office.id or 0, last_seq=0))
    session.flush()
    _office_event(session, ctx, office)
    return office


def update_office(session: Session, ctx: Ctx, office: Office, changes: dict[str, Any]) -> Office:
    unknown = set(changes) - set(OFFICE_SETTINGS)
    if unknown:
        raise InvalidValue(f"unknown office settings: {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
    for k, v in _check_office_fields(session, office, changes).items():
        setattr(office, k, v)
    session.add(office)
    _office_event(session, ctx, office)
    return office


def _office_event(session: Session, ctx: Ctx, office: Office) -> None:
    events.record(session, office.id or 0, EventType.OFFICE_UPDATED, ctx.now, {"office": office_view(office)},
                  actor=ctx.who.actor)


def _service_event(session: Session, ctx: Ctx, service: Service) -> None:
    events.record(session, service.office_id, "service.updated", ctx.now, {"service": service_view(service)},
                  actor=ctx.who.actor, service_id=service.id)


SERVICE_FIELDS = ("code", "name", "name_en", "desk", "number_start", "daily_limit", "target_wait_min",
                  "target_total_min", "active", "sort_order", "bookable", "booking_per_slot")


def _check_service(session: Session, office: Office, service: Service | None, f: dict[str, Any]) -> dict[str, Any]:
    out = dict(f)
    if "code" in out:
        code = out["code"]
        if not (isinstance(code, str) and 1 <= len(code) <= 3 and code.isalpha() and code.isupper()):
            raise InvalidValue("code is 1-3 capital letters, e.g. \"A\"", field="code")
        clash = session.execute(select(col(Service.id)).where(
            col(Service.office_id) == office.id, col(Service.code) == code, col(Service.archived) == False)).first()  # noqa: E712
        if clash and (service is None or clash[0] != service.id):
            raise StateConflict(f"Service code {code} is in use in this office.", code="duplicate_code",
                                field="code")
    if "desk" in out and out["desk"] not in Desk.__members__.values():
        raise InvalidValue("desk is standard or do_it_now", field="desk")
    for name, lo, hi in (("number_start", 0, 9000), ("daily_limit", 1, 100000), ("target_wait_min", 1, 600),
                         ("target_total_min", 1, 1440), ("booking_per_slot", 1, 100)):
        if out.get(name) is not None and not (lo <= out[name] <= hi):
            raise InvalidValue(f"{name} is between {lo} and {hi}", field=name)
    desk = out.get("desk", service.desk if service else Desk.STANDARD)
    if desk == Desk.DO_IT_NOW and out.get("target_total_min") is None and (service is None
                                                                            or service.target_total_min is None):
        out["target_total_min"] = 10
    if service is not None and desk == Desk.DO_IT_NOW and service.desk != Desk.DO_IT_NOW:
        standard = [c for c in _counters(session, office) if c.desk != Desk.DO_IT_NOW
                    and service.id in (c.service_ids or [])]
        if standard:
            raise InvalidValue("standard counters list this service; remove it from them before making it "
                               "a do-it-now service", field="desk", counters=[c.number for c in standard])
    return out


def create_service(session: Session, ctx: Ctx, office: Office, fields: dict[str, Any]) -> Service:
    f = _check_service(session, office, None, fields)
    service = Service(office_id=office.id or 0, **f)
    session.add(service)
    session.flush()
    _service_event(session, ctx, service)
    return service


def update_service(session: Session, ctx: Ctx, office: Office, service: Service, changes: dict[str, Any]) -> Service:
    for k, v in _check_service(session, office, service, changes).items():
        setattr(service, k, v)
    session.add(service)
    _service_event(session, ctx, service)
    return service


def delete_service(session: Session, ctx: Ctx, office: Office, service: Service) -> Service:
    """Archive a service; one with tickets still waiting or in service is only deactivated (409 if asked)."""
    live = session.execute(select(func.count()).select_from(Ticket).where(
        col(Ticket.service_id) == service.id, col(Ticket.status).in_(list(LIVE_STATUSES)))).scalar_one()
    service.active = False
    if live:
        session.add(service)
        _service_event(session, ctx, service)
        raise StateConflict(f"Service {service.code} has {live} live tickets: it was deactivated, not deleted.",
                            code="service_in_use", live_tickets=live, deactivated=True)
    service.archived = True
    session.add(service)
    for c in _counters(session, office):
        if service.id in (c.service_ids or []):
            c.service_ids = [s for s in (c.service_ids or []) if s != service.id]
            session.add(c)
    _service_event(session, ctx, service)
    return service


def _counters(session: Session, office: Office) -> list[Counter]:
    return list(session.execute(select(Counter).where(col(Counter.office_id) == office.id,
                                                      col(Counter.archived) == False)).scalars())  # noqa: E712


COUNTER_FIELDS = ("number", "name", "desk", "service_ids")


def _check_counter(session: Session, office: Office, counter: Counter | None, f: dict[str, Any]) -> dict[str, Any]:
    out = dict(f)
    if "number" in out:
        if not 1 <= out["number"] <= 999:
            raise InvalidValue("number is between 1 and 999", field="number")
        clash = [c for c in _counters(session, office) if c.number == out["number"]
                 and (counter is None or c.id != counter.id)]
        if clash:
            raise StateConflict(f"Counter number {out['number']} is in use.", code="duplicate_number",
                                field="number")
    if "desk" in out and out["desk"] not in Desk.__members__.values():
        raise InvalidValue("desk is standard or do_it_now", field="desk")
    desk = out.get("desk", counter.desk if counter else Desk.STANDARD)
    ids = out.get("service_ids", counter.service_ids if counter else [])
    services = {s.id: s for s in session.execute(select(Service).where(
        col(Service.office_id) == office.id, col(Service.archived) == False)).scalars()}  # noqa: E712
    if len(set(ids or [])) != len(ids or []):
        raise InvalidValue("service_ids lists a service twice", field="service_ids")
    for sid in ids or []:
        if sid not in services:
            raise InvalidValue(f"service {sid} is not a service of this office", field="service_ids")
        if services[sid].desk == Desk.DO_IT_NOW and desk != Desk.DO_IT_NOW:
            raise InvalidValue(f"service {services[sid].code} is a do-it-now service: only do-it-now counters "
                               "may list it", field="service_ids", code="do_it_now_only")
    if "service_ids" in out:
        out["service_ids"] = list(ids or [])
    return out


def create_counter(session: Session, ctx: Ctx, office: Office, fields: dict[str, Any]) -> Counter:
    f = _check_counter(session, office, None, fields)
    f.setdefault("service_ids", [])
    counter = Counter(office_id=office.id or 0, state=CounterState.CLOSED, **f)
    session.add(counter)
    session.flush()
    counter_event(session, ctx, office, counter)
    return counter


def update_counter(session: Session, ctx: Ctx, office: Office, counter: Counter, changes: dict[str, Any]) -> Counter:
    for k, v in _check_counter(session, office, counter, changes).items():
        setattr(counter, k, v)
    session.add(counter)
    counter_event(session, ctx, office, counter)
    return counter


def delete_counter(session: Session, ctx: Ctx, office: Office, counter: Counter) -> Counter:
    if counter.current_ticket_id is not None and counter.state != CounterState.CLOSED:
        raise StateConflict(f"Counter {counter.number} is serving; close it first.", code="counter_busy")
    counter.archived, counter.state = True, CounterState.CLOSED
    session.add(counter)
    counter_event(session, ctx, office, counter)
    return counter
