"""Offices (a tree), their services and counters: thin handlers over counters.engine.setup."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from counters.engine import setup
from counters.models import Counter, Office, Service, Ticket
from counters.views import counter_view, office_view, service_view, ticket_view
from ticket_printer.models import Printer

from ..api import ADMIN, ALL_ACTORS, HEADS, STAFF, Call, EndpointGroup, page
from ..auth import office_lineage, require_office
from ..errors import ApiError
from ..lookup import load
from ..schemas import (CounterCreate, CounterOut, CounterPatch, ListOut, OfficeCreate, OfficeOut, OfficePatch,
                       ServiceCreate, ServiceOut, ServicePatch)

endpoints = EndpointGroup("offices")


def _check_template(call: Call, changes: dict[str, Any]) -> None:
    template = changes.get("announcement_template")
    if template is not None:
        try:
            call.qms.validate_template(template)
        except ValueError as e:
            raise ApiError(422, "invalid_value", str(e), field="announcement_template") from None


def _check_default_printer(session: Session, office: Office, printer_id: int | None) -> None:
    """A default printer must be one of this office's printers: otherwise kiosk tickets print nowhere."""
    if printer_id is None:
        return
    printer = session.get(Printer, printer_id)
    if printer is None or printer.office_id != office.id or printer.archived:
        raise ApiError(422, "invalid_value", "default_printer_id is not a printer of this office",
                       field="default_printer_id")


@endpoints("GET", "/api/v1/offices", summary="Offices the caller may see", allow=ALL_ACTORS, response=ListOut)
async def list_offices(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        rows = session.exec(select(Office).order_by(col(Office.id))).all()
        a = call.actor
        if a.kind != "admin":
            rows = [o for o in rows if o.id == a.office_id
                    or (a.kind == "head" and a.office_id in office_lineage(session, o.id or 0))]
        return page([office_view(o) for o in rows], len(rows))
    return await call.read(run)


@endpoints("POST", "/api/v1/offices", summary="Create an office (admin)", allow=ADMIN, body=OfficeCreate,
           response=OfficeOut, status=201)
async def create_office(call: Call) -> Any:
    fields = call.body.model_dump(exclude_none=True)

    def run(session: Session) -> dict[str, Any]:
        office = setup.create_office(session, call.ctx(), fields.pop("code"), fields.pop("name"), **fields)
        return office_view(office)
    return await call.write(run)


@endpoints("GET", "/api/v1/offices/{office_id:int}", summary="An office and its settings", allow=ALL_ACTORS,
           response=OfficeOut)
async def get_office(call: Call) -> Any:
    return await call.read(lambda s: office_view(require_office(s, call.actor, call.param("office_id"),
                                                                read_only=True)))


@endpoints("PATCH", "/api/v1/offices/{office_id:int}", summary="Change an office's settings (hours, "
           "programmes, policies, rating scale, number format, announcement)", allow=HEADS, body=OfficePatch,
           response=OfficeOut)
async def patch_office(call: Call) -> Any:
    changes = call.body.model_dump(exclude_unset=True)
    _check_template(call, changes)

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"))
        if "parent_id" in changes and call.actor.kind != "admin":
            raise ApiError(403, "forbidden", "Only an admin moves offices in the tree.")
        _check_default_printer(session, office, changes.get("default_printer_id"))
        return office_view(setup.update_office(session, call.ctx(), office, changes))
    return await call.write(run)


# ---- services
@endpoints("GET", "/api/v1/offices/{office_id:int}/services", summary="Services of an office",
           allow=ALL_ACTORS, response=ListOut)
async def list_services(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        require_office(session, call.actor, call.param("office_id"), read_only=True)
        rows = session.exec(select(Service).where(Service.office_id == call.param("office_id"),
                                                  Service.archived == False)  # noqa: E712
                            .order_by(col(Service.sort_order), col(Service.code))).all()
        return page([service_view(s) for s in rows], len(rows))
    return await call.read(run)


@endpoints("POST", "/api/v1/offices/{office_id:int}/services", summary="Add a service", allow=HEADS,
           body=ServiceCreate, response=ServiceOut, status=201)
async def create_service(call: Call) -> Any:
    fields = call.body.model_dump()

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"))
        return service_view(setup.create_service(session, call.ctx(), office, fields))
    return await call.write(run)


@endpoints("PATCH", "/api/v1/services/{service_id:int}", summary="Change a service", allow=HEADS,
           body=ServicePatch, response=ServiceOut)
async def patch_service(call: Call) -> Any:
    changes = {k: v for k, v in call.body.model_dump(exclude_unset=True).items()
               if v is not None or k in ("daily_limit", "target_total_min", "name_en")}

    def run(session: Session) -> dict[str, Any]:
        service = load(session, Service, call.param("service_id"), call.actor)
        office = session.get(Office, service.office_id)
        assert office is not None
        return service_view(setup.update_service(session, call.ctx(), office, service, changes))
    return await call.write(run)


@endpoints("DELETE", "/api/v1/services/{service_id:int}", summary="Delete a service (one with live tickets is "
           "deactivated instead: 409 service_in_use)", allow=HEADS, response=ServiceOut)
async def delete_service(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        service = load(session, Service, call.param("service_id"), call.actor)
        office = session.get(Office, service.office_id)
        assert office is not None
        return service_view(setup.delete_service(session, call.ctx(), office, service))
    return await call.write(run)


# ---- counters
def counter_out(session: Session, office: Office, c: Counter) -> dict[str, Any]:
    current = session.get(Ticket, c.current_ticket_id) if c.current_ticket_id else None
    return counter_view(c, ticket_view(current, office.timezone) if current else None)


@endpoints("GET", "/api/v1/offices/{office_id:int}/counters", summary="Counters of an office with their state",
           allow=ALL_ACTORS, response=ListOut)
async def list_counters(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        rows = session.exec(select(Counter).where(Counter.office_id == office.id, Counter.archived == False)  # noqa: E712
                            .order_by(col(Counter.number))).all()
        items = [counter_out(session, office, c) for c in rows]
        if call.actor.kind not in STAFF:
            for item in items:
                item.pop("clerk_id", None)
                if item.get("current_ticket"):
                    item["current_ticket"] = {k: item["current_ticket"][k] for k in
                                              ("id", "display_number", "service_id", "status")}
        return page(items, len(items))
    return await call.read(run)


@endpoints("POST", "/api/v1/offices/{office_id:int}/counters", summary="Add a counter", allow=HEADS,
           body=CounterCreate, response=CounterOut, status=201)
async def create_counter(call: Call) -> Any:
    fields = call.body.model_dump()

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"))
        return counter_out(session, office, setup.create_counter(session, call.ctx(), office, fields))
    return await call.write(run)


@endpoints("GET", "/api/v1/counters/{counter_id:int}", summary="A counter", allow=STAFF, response=CounterOut)
async def get_counter(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        c = load(session, Counter, call.param("counter_id"), call.actor, read_only=True)
        office = session.get(Office, c.office_id)
        assert office is not None
        return counter_out(session, office, c)
    return await call.read(run)


@endpoints("PATCH", "/api/v1/counters/{counter_id:int}", summary="Change a counter (number, name, desk, "
           "services in calling order)", allow=HEADS, body=CounterPatch, response=CounterOut)
async def patch_counter(call: Call) -> Any:
    changes = {k: v for k, v in call.body.model_dump(exclude_unset=True).items() if v is not None}

    def run(session: Session) -> dict[str, Any]:
        c = load(session, Counter, call.param("counter_id"), call.actor)
        office = session.get(Office, c.office_id)
        assert office is not None
        return counter_out(session, office, setup.update_counter(session, call.ctx(), office, c, changes))
    return await call.write(run)


@endpoints("DELETE", "/api/v1/counters/{counter_id:int}", summary="Remove a closed counter", allow=HEADS,
           response=CounterOut)
async def delete_counter(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        c = load(session, Counter, call.param("counter_id"), call.actor)
        office = session.get(Office, c.office_id)
        assert office is not None
        return counter_out(session, office, setup.delete_counter(session, call.ctx(), office, c))
    return await call.write(run)
