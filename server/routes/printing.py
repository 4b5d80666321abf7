"""Printers, print jobs, reprints, the ticket image, the tracking QR code, and the printer agent's calls.

The print worker (ticket_printer.worker.PrintWorker) starts with the server and stops with it.
Heads and admins configure printers; clerks may read them and reprint; a printer agent sees and
claims only the jobs of the printers whose address is its own device id.
"""
from __future__ import annotations

import asyncio
import base64
import io
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import update
from sqlmodel import Session, col, select
from starlette.responses import Response

from counters.models import Office, Ticket
from ticket_printer.jobs import (
    ClaimedJob,
    claim,
    job_details,
    job_view,
    jobs_of_printer,
    record_outcome,
    reprint,
    ticket_print,
)
from ticket_printer.models import Printer, PrintJob
from ticket_printer.printer_state import clear_printer_alerts, printer_view
from ticket_printer.printing import ticket_bytes, ticket_png, validate_printer
from ticket_printer.worker import PrintWorker, printer_for

from ..api import ANYONE, HEADS, STAFF, Call, EndpointGroup, page
from ..auth import Actor, require_office
from ..errors import ApiError
from ..lookup import load, office_of
from ..models import Device
from ..schemas import Body, ListOut, Out

endpoints = EndpointGroup("printing")
STAFF_AND_AGENTS = STAFF | {"printer"}
Transport = Literal["network", "usb", "serial", "file", "agent"]
JOB_STATUSES = ("queued", "printing", "printed", "failed")


class PrinterCreate(Body):
    name: str = Field(min_length=1, max_length=120)
    transport: Transport
    address: str = Field(min_length=1, max_length=300)
    width_px: Literal[576, 384] = 576
    mode: Literal["image", "text"] = "image"
    profile: str | None = Field(default=None, max_length=80)


class PrinterPatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    transport: Transport | None = None
    address: str | None = Field(default=None, min_length=1, max_length=300)
    width_px: Literal[576, 384] | None = None
    mode: Literal["image", "text"] | None = None
    profile: str | None = Field(default=None, max_length=80)


class PrinterOut(Out):
    id: int
    name: str
    transport: str
    address: str
    width_px: int
    mode: str
    profile: str | None
    online: bool
    paper: Literal["ok", "near_end", "out", "unknown"]
    last_error: str | None
    last_seen: str | None


class PrintJobOut(Out):
    id: int
    ticket_id: int
    printer_id: int
    status: Literal["queued", "printing", "printed", "failed"]
    attempts: int
    error: str | None


class ClaimedJobOut(PrintJobOut):
    escpos_b64: str


class ReprintBody(Body):
    printer_id: int | None = None


class JobStatusBody(Body):
    status: Literal["printed", "failed", "retry"]
    error: str | None = Field(default=None, max_length=500)
    paper: Literal["ok", "near_end", "out", "unknown"] | None = None
    permanent: bool = False


# ---- the worker's life cycle
async def on_startup(qms: Any) -> None:
    worker = PrintWorker(qms.write, qms.db.read, qms.now, qms.print_wakeup, hooks=qms.print_hooks,
                         public_url=qms.settings.public_url)
    qms.print_worker = worker
    worker.start()


async def on_shutdown(qms: Any) -> None:
    worker = getattr(qms, "print_worker", None)
    if worker is not None:
        await worker.stop()


# ---- helpers
def _base_url(call: Call) -> str:
    return str(call.qms.settings.public_url or call.request.base_url).rstrip("/")


def _tz(session: Session, office_id: int) -> str:
    office = session.get(Office, office_id)
    return office.timezone if office else "UTC"


def _check_config(session: Session, office_id: int, transport: str, address: str, width_px: int, mode: str,
                  profile: str | None) -> None:
    try:
        validate_printer(transport, address, width_px, mode, profile)
    except ValueError as e:
        raise ApiError(422, "invalid_value", str(e), field="address" if "address" in str(e) else "printer") from None
    if transport == "agent":
        d = session.get(Device, int(address))
        if d is None or d.kind != "printer" or d.revoked or d.office_id != office_id:
            raise ApiError(422, "invalid_value", "address of an agent printer is the device id of a paired printer "
                           "agent of this office", field="address")


def _serves(actor: Actor, printer: Printer) -> bool:
    """A printer agent serves the agent printers whose address is its device id."""
    return actor.kind == "printer" and printer.transport == "agent" and printer.address.strip() == str(actor.id)


def _load_printer(session: Session, printer_id: int, actor: Actor) -> Printer:
    p = session.get(Printer, printer_id)
    if p is None or p.archived:
        raise ApiError(404, "not_found", f"Printer {printer_id} does not exist.")
    if actor.kind == "printer":
        if not _serves(actor, p):
            raise ApiError(403, "forbidden", "A printer agent sees only its own printers.")
        return p
    return load(session, Printer, printer_id, actor, read_only=True)


def _job_for(session: Session, job_id: int, actor: Actor) -> PrintJob:
    """Staff of the office, the agent that prints it, or the kiosk that issued its ticket."""
    job = session.get(PrintJob, job_id)
    if job is None:
        raise ApiError(404, "not_found", f"Print job {job_id} does not exist.")
    if actor.kind == "printer":
        printer = session.get(Printer, job.printer_id)
        if printer is None or not _serves(actor, printer):
            raise ApiError(403, "forbidden", "That job is for another printer.")
    elif actor.kind == "kiosk":
        ticket = session.get(Ticket, job.ticket_id)
        if ticket is None or ticket.device_id != actor.id:
            raise ApiError(403, "forbidden", "A kiosk sees only the jobs of tickets it issued.")
    else:
        load(session, PrintJob, job_id, actor, read_only=True, what="print job")
    return job


def _ticket_for(session: Session, ticket_id: int, actor: Actor) -> Ticket:
    """Staff of the office, or the kiosk that issued the ticket."""
    t = session.get(Ticket, ticket_id)
    if t is None:
        raise ApiError(404, "not_found", f"Ticket {ticket_id} does not exist.")
    if actor.kind == "kiosk":
        if t.device_id != actor.id:
            raise ApiError(403, "forbidden", "A kiosk sees only the tickets it issued.")
        return t
    return load(session, Ticket, ticket_id, actor, read_only=True)


# ---- printers
@endpoints("GET", "/api/v1/offices/{office_id:int}/printers", summary="Printers of an office with their status "
           "(a printer agent: the printers it serves)", allow=STAFF_AND_AGENTS, response=ListOut)
async def list_printers(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        rows = session.exec(select(Printer).where(Printer.office_id == office.id, Printer.archived == False)  # noqa: E712
                            .order_by(col(Printer.id))).all()
        if call.actor.kind == "printer":
            rows = [p for p in rows if _serves(call.actor, p)]
        items = [printer_view(p, office.timezone) for p in rows]
        return page(items, len(items))
    return await call.read(run)


@endpoints("POST", "/api/v1/offices/{office_id:int}/printers", summary="Add a printer (checked: transport, address, "
           "width, mode and profile must work together)", allow=HEADS, body=PrinterCreate, response=PrinterOut,
           status=201)
async def create_printer(call: Call) -> Any:
    body: PrinterCreate = call.body

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"))
        _check_config(session, office.id or 0, body.transport, body.address, body.width_px, body.mode, body.profile)
        p = Printer(office_id=office.id or 0, **body.model_dump())
        session.add(p)
        session.flush()
        return printer_view(p, office.timezone)
    result = await call.write(run)
    call.qms.wake_printers()
    return result


@endpoints("GET", "/api/v1/printers/{printer_id:int}", summary="A printer and its status", allow=STAFF_AND_AGENTS,
           response=PrinterOut)
async def get_printer(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        p = _load_printer(session, call.param("printer_id"), call.actor)
        return printer_view(p, _tz(session, p.office_id))
    return await call.read(run)


@endpoints("PATCH", "/api/v1/printers/{printer_id:int}", summary="Change a printer", allow=HEADS, body=PrinterPatch,
           response=PrinterOut)
async def patch_printer(call: Call) -> Any:
    changes = call.body.model_dump(exclude_unset=True)

    def run(session: Session) -> dict[str, Any]:
        p = load(session, Printer, call.param("printer_id"), call.actor)
        merged = {k: changes.get(k, getattr(p, k)) for k in ("transport", "address", "width_px", "mode", "profile")}
        if any(merged[k] is None for k in ("transport", "address", "width_px", "mode")):
            raise ApiError(422, "invalid_value", "transport, address, width_px and mode cannot be null")
        _check_config(session, p.office_id, **merged)
        for k, v in changes.items():
            if v is not None or k == "profile":
                setattr(p, k, v)
        if {"transport", "address"} & changes.keys():
            p.online, p.paper, p.last_error = False, "unknown", None
        session.add(p)
        return printer_view(p, _tz(session, p.office_id))
    result = await call.write(run)
    call.qms.wake_printers()
    return result


@endpoints("DELETE", "/api/v1/printers/{printer_id:int}", summary="Remove a printer; its queued jobs fail",
           allow=HEADS, response=PrinterOut)
async def delete_printer(call: Call) -> Any:
    now = call.now()

    def run(session: Session) -> dict[str, Any]:
        p = load(session, Printer, call.param("printer_id"), call.actor)
        p.archived = True
        session.add(p)
        office = session.get(Office, p.office_id)
        if office is not None and office.default_printer_id == p.id:
            office.default_printer_id = None
            session.add(office)
        session.execute(update(PrintJob).where(col(PrintJob.printer_id) == p.id,
                                               col(PrintJob.status) == "queued")
                        .values(status="failed", error="printer removed"))
        clear_printer_alerts(session, p.id or 0, now, call.qms.print_hooks.record)
        return printer_view(p, _tz(session, p.office_id))
    return await call.write(run)


@endpoints("GET", "/api/v1/printers/{printer_id:int}/jobs", summary="A printer's jobs, oldest first (its agent "
           "fetches the queued ones after reconnecting)", allow=STAFF_AND_AGENTS, response=ListOut,
           query={"status": "queued|printing|printed|failed", "limit": "int"})
async def printer_jobs(call: Call) -> Any:
    status = call.query("status")
    if status is not None and status not in JOB_STATUSES:
        raise ApiError(422, "invalid_value", f"status is one of {', '.join(JOB_STATUSES)}", field="status")
    limit = call.query_int("limit", 100, 1, 1000)

    def run(session: Session) -> dict[str, Any]:
        p = _load_printer(session, call.param("printer_id"), call.actor)
        items = [job_details(j) for j in jobs_of_printer(session, p.id or 0, status, limit)]
        return page(items, len(items))
    return await call.read(run)


# ---- jobs
@endpoints("GET", "/api/v1/print-jobs/{job_id:int}", summary="A print job (staff, its agent, or the kiosk that "
           "issued the ticket)", allow=STAFF | {"kiosk", "printer"}, response=PrintJobOut)
async def get_job(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        job = _job_for(session, call.param("job_id"), call.actor)
        printer = session.get(Printer, job.printer_id)
        out = job_details(job)
        if printer is not None:
            out["printer"] = {"id": printer.id, "name": printer.name, "online": printer.online,
                              "paper": printer.paper, "last_error": printer.last_error}
        return out
    return await call.read(run)


@endpoints("POST", "/api/v1/print-jobs/{job_id:int}/claim", summary="A printer agent takes a queued job before "
           "printing it (409 when it is taken already: never printed twice); returns the ESC/POS bytes",
           allow=frozenset({"printer"}), response=ClaimedJobOut)
async def claim_job(call: Call) -> Any:
    now, who = call.now(), f"device:{call.actor.id}"
    public_url = call.qms.settings.public_url

    def run(session: Session) -> ClaimedJob | dict[str, Any]:
        job = _job_for(session, call.param("job_id"), call.actor)
        won = claim(session, job.id or 0, who, now, public_url, call.qms.print_hooks)
        if won is None:
            session.refresh(job)
            return job_view(job)
        return won
    won = await call.write(run)
    if isinstance(won, dict):
        raise ApiError(409, "already_claimed", f"Print job {won['id']} is {won['status']} already.",
                       job_status=won["status"])
    p = won.printer
    try:
        data = await asyncio.get_running_loop().run_in_executor(None, lambda: ticket_bytes(
            won.ticket, width_px=p.width_px, mode=p.mode, profile=p.profile))
    except ValueError as e:
        problem, at = str(e), call.now()
        await call.write(lambda s: record_outcome(s, won.job_id, at, printed=False, error=problem,
                                                  permanent=True, online=False, hooks=call.qms.print_hooks))
        raise ApiError(409, "printer_misconfigured", problem) from None
    return {"id": won.job_id, "ticket_id": won.ticket_id, "printer_id": p.id, "status": "printing",
            "attempts": won.attempts, "error": None, "escpos_b64": base64.b64encode(data).decode()}


@endpoints("POST", "/api/v1/print-jobs/{job_id:int}/status", summary="A printer agent reports how a claimed job "
           "went (printed, retry later, failed) and the paper state", allow=frozenset({"printer"}),
           body=JobStatusBody, response=PrintJobOut)
async def job_status(call: Call) -> Any:
    body: JobStatusBody = call.body
    now = call.now()

    def run(session: Session) -> dict[str, Any]:
        job = _job_for(session, call.param("job_id"), call.actor)
        if job.claimed_by != f"device:{call.actor.id}":
            raise ApiError(409, "not_claimed", "Claim the job before reporting on it.", job_status=job.status)
        printed = body.status == "printed"
        out = record_outcome(session, job.id or 0, now, printed=printed, error=body.error or
                             (None if printed else "printing failed"), permanent=body.status == "failed"
                             or body.permanent, online=printed or body.paper == "out", paper=body.paper,
                             hooks=call.qms.print_hooks)
        assert out is not None
        return job_view(out)
    result = await call.write(run)
    if result["status"] == "queued":
        call.qms.wake_printers()
    return result


@endpoints("POST", "/api/v1/tickets/{ticket_id:int}/reprint", summary="Print a ticket again (on a chosen printer, "
           "else its last printer, else the office default)", allow=STAFF | {"kiosk"}, body=ReprintBody,
           response=PrintJobOut, status=201)
async def reprint_ticket(call: Call) -> Any:
    body: ReprintBody = call.body
    base, now = _base_url(call), call.now()

    def run(session: Session) -> dict[str, Any]:
        t = _ticket_for(session, call.param("ticket_id"), call.actor)
        office = office_of(session, t)
        if body.printer_id is not None:
            printer = session.get(Printer, body.printer_id)
            if printer is None or printer.archived or printer.office_id != office.id:
                raise ApiError(422, "invalid_value", "printer_id is not a printer of this office", field="printer_id")
        else:
            last = session.exec(select(PrintJob).where(PrintJob.ticket_id == t.id)
                                .order_by(col(PrintJob.id).desc())).first()
            printer = session.get(Printer, last.printer_id) if last else None
            if printer is None or printer.archived:
                printer = printer_for(session, office, call.actor.printer_id if call.actor.kind == "kiosk" else None)
        if printer is None:
            raise ApiError(409, "no_printer", "This office has no printer for that ticket; add one or give printer_id.")
        return job_view(reprint(session, t, printer, base, now, call.qms.print_hooks))
    result = await call.write(run)
    call.qms.wake_printers()
    return result


@endpoints("GET", "/api/v1/tickets/{ticket_id:int}/ticket.png", summary="The exact ticket image a printer gets "
           "(staff, or the kiosk that issued it)", allow=STAFF | {"kiosk"}, media_type="image/png",
           query={"width": "576|384 (default: the ticket's printer, else 576)"})
async def ticket_image(call: Call) -> Any:
    width_arg = call.query_int("width", 0, 0, 576)
    if width_arg not in (0, 576, 384):
        raise ApiError(422, "invalid_value", "width is 576 or 384", field="width")
    base, now, public_url = _base_url(call), call.now(), call.qms.settings.public_url

    def run(session: Session) -> tuple[Any, int]:
        t = _ticket_for(session, call.param("ticket_id"), call.actor)
        last = session.exec(select(PrintJob).where(PrintJob.ticket_id == t.id)
                            .order_by(col(PrintJob.id).desc())).first()
        printer = session.get(Printer, last.printer_id) if last else None
        width = width_arg or (printer.width_px if printer else 576)
        return ticket_print(session, t, base, public_url, call.qms.print_hooks.figures(session, t, now)), width
    tp, width = await call.read(run)
    png = await asyncio.get_running_loop().run_in_executor(None, ticket_png, tp, width)
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@endpoints("GET", "/api/v1/track/{track_code}/qr.svg", summary="The QR code of a ticket's tracking page (public: "
           "the code is the key)", allow=ANYONE, media_type="image/svg+xml")
async def track_qr(call: Call) -> Any:
    code = call.param("track_code")
    if not (8 <= len(code) <= 64):
        raise ApiError(404, "not_found", "Unknown ticket.")
    found = await call.read(lambda s: s.exec(select(Ticket.id).where(Ticket.track_code == code)).first())
    if found is None:
        raise ApiError(404, "not_found", "Unknown ticket.")
    return Response(qr_svg(f"{_base_url(call)}/t/{code}"), media_type="image/svg+xml",
                    headers={"Cache-Control": "private, max-age=3600"})


def qr_svg(text: str) -> bytes:
    """A crisp, self-contained SVG QR code (no scripts, no external references)."""
    import qrcode
    import qrcode.constants
    import qrcode.image.svg
    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathFillImage, box_size=10, border=2,
                      error_correction=qrcode.constants.ERROR_CORRECT_M)
    out = io.BytesIO()
    img.save(out)
    return out.getvalue()
