"""Pairing kiosks, displays, tablets and printer agents by a 6-digit code; listing and revoking them."""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from counters.engine import events
from counters.clock import iso
from counters.models import Counter, Office
from counters.types import EventType
from ticket_printer.models import Printer

from ..api import ANYONE, HEADS, Call, EndpointGroup, page
from ..auth import issue_token, require_office, revoke_tokens
from ..errors import ApiError
from ..lookup import load
from ..models import Device, Pairing
from ..schemas import DeviceOut, DevicePatch, ListOut, PairingApprove, PairingCreate, PairingOut, PairingStatus

endpoints = EndpointGroup("devices")
ONLINE_GRACE_S = 2.5  # pings missed before a device shows offline


def device_view(d: Device, tz: str, ping_interval_s: float, now: Any) -> dict[str, Any]:
    fresh = d.last_seen is not None and (now - d.last_seen).total_seconds() < ping_interval_s * ONLINE_GRACE_S
    return {"id": d.id, "office_id": d.office_id, "kind": d.kind, "name": d.name, "counter_id": d.counter_id,
            "printer_id": d.printer_id, "online": bool(d.online and fresh), "last_seen": iso(d.last_seen, tz)}


def _check_links(session: Session, office: Office, kind: str, counter_id: int | None,
                 printer_id: int | None) -> None:
    if kind == "tablet" and counter_id is None:
        raise ApiError(422, "invalid_value", "A tablet is bound to one counter: give counter_id.",
                       field="counter_id")
    if counter_id is not None:
        c = session.get(Counter, counter_id)
        if c is None or c.office_id != office.id or c.archived:
            raise ApiError(422, "invalid_value", "counter_id is not a counter of this office", field="counter_id")
    if printer_id is not None:
        p = session.get(Printer, printer_id)
        if p is None or p.office_id != office.id or p.archived:
            raise ApiError(422, "invalid_value", "printer_id is not a printer of this office", field="printer_id")


@endpoints("POST", "/api/v1/pairings", summary="A device without a token asks for a pairing code",
           allow=ANYONE, body=PairingCreate, response=PairingOut, status=201)
async def create_pairing(call: Call) -> Any:
    client = call.request.client.host if call.request.client else "?"
    await call.qms.pairing_throttle.hit(client)
    now = call.now()
    expires = now + timedelta(seconds=call.qms.settings.pairing_ttl_s)

    def run(session: Session) -> dict[str, Any]:
        live = {p.code for p in session.exec(select(Pairing).where(Pairing.status == "pending",
                                                                   Pairing.expires_at > now))}
        code = f"{secrets.randbelow(10**6):06d}"
        while code in live:
            code = f"{secrets.randbelow(10**6):06d}"
        p = Pairing(public_id=secrets.token_urlsafe(16), kind=call.body.kind, code=code, expires_at=expires,
                    created_at=now)
        session.add(p)
        return {"pairing_id": p.public_id, "code": code, "expires_at": iso(expires)}
    return await call.write(run)


@endpoints("GET", "/api/v1/pairings/{pairing_id}", summary="The device polls its pairing; the token is "
           "handed out once", allow=ANYONE, response=PairingStatus)
async def poll_pairing(call: Call) -> Any:
    now = call.now()

    def run(session: Session) -> dict[str, Any]:
        p = session.exec(select(Pairing).where(Pairing.public_id == call.param("pairing_id"))).first()
        if p is None:
            raise ApiError(404, "not_found", "Unknown pairing.")
        if p.status == "pending":
            if p.expires_at <= now:
                p.status = "expired"
                session.add(p)
                return {"status": "expired"}
            return {"status": "pending"}
        if p.status == "approved":
            token, p.token, p.status = p.token, None, "claimed"
            session.add(p)
            return {"status": "approved", "device_id": p.device_id, "token": token}
        if p.status == "claimed":
            return {"status": "approved", "device_id": p.device_id}
        return {"status": "expired"}
    return await call.write(run)


@endpoints("POST", "/api/v1/offices/{office_id:int}/pairings/{code}/approve", summary="A head approves a "
           "device's code, naming it (and binding a tablet to its counter)", allow=HEADS, body=PairingApprove,
           response=DeviceOut, status=201)
async def approve_pairing(call: Call) -> Any:
    body: PairingApprove = call.body
    office_id, now = call.param("office_id"), call.now()
    await call.qms.pairing_throttle.hit(f"approve:{call.actor.id}")

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, office_id)
        p = session.exec(select(Pairing).where(Pairing.code == call.param("code"), Pairing.status == "pending",
                                               Pairing.expires_at > now)).first()
        if p is None:
            raise ApiError(404, "not_found", "No device is waiting with that code (it may have expired).")
        _check_links(session, office, p.kind, body.counter_id, body.printer_id)
        device = Device(office_id=office_id, kind=p.kind, name=body.name, counter_id=body.counter_id,
                        printer_id=body.printer_id, created_at=now)
        session.add(device)
        session.flush()
        p.token = issue_token(session, now=now, device_id=device.id)
        p.status, p.office_id, p.device_id = "approved", office_id, device.id
        session.add(p)
        view = device_view(device, office.timezone, call.qms.settings.ping_interval_s, now)
        events.record(session, office_id, EventType.DEVICE_STATUS, now, {"device": view}, actor=call.actor.label)
        return view
    return await call.write(run)


@endpoints("GET", "/api/v1/offices/{office_id:int}/devices", summary="Paired devices with online state",
           allow=HEADS, response=ListOut)
async def list_devices(call: Call) -> Any:
    office_id, now = call.param("office_id"), call.now()

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, office_id, read_only=True)
        rows = session.exec(select(Device).where(Device.office_id == office_id, Device.revoked == False)  # noqa: E712
                            .order_by(col(Device.id))).all()
        items = [device_view(d, office.timezone, call.qms.settings.ping_interval_s, now) for d in rows]
        return page(items, len(items))
    return await call.read(run)


@endpoints("PATCH", "/api/v1/devices/{device_id:int}", summary="Rename a device or change its counter/printer",
           allow=HEADS, body=DevicePatch, response=DeviceOut)
async def patch_device(call: Call) -> Any:
    body: DevicePatch = call.body
    now = call.now()

    def run(session: Session) -> dict[str, Any]:
        d = load(session, Device, call.param("device_id"), call.actor)
        if d.revoked:
            raise ApiError(404, "not_found", "That device was revoked.")
        office = session.get(Office, d.office_id)
        assert office is not None
        changes = body.model_dump(exclude_unset=True)
        _check_links(session, office, d.kind, changes.get("counter_id", d.counter_id),
                     changes.get("printer_id", d.printer_id))
        for k, v in changes.items():
            if k == "name" and v is None:
                continue
            setattr(d, k, v)
        session.add(d)
        view = device_view(d, office.timezone, call.qms.settings.ping_interval_s, now)
        events.record(session, d.office_id, EventType.DEVICE_STATUS, now, {"device": view}, actor=call.actor.label)
        return view
    result = await call.write(run)
    await call.qms.close_actor("device", result["id"], code=4000, reason="device settings changed")
    return result


@endpoints("DELETE", "/api/v1/devices/{device_id:int}", summary="Revoke a device at once: its token is refused "
           "and its WebSocket closed", allow=HEADS, response=DeviceOut)
async def delete_device(call: Call) -> Any:
    now = call.now()

    def run(session: Session) -> dict[str, Any]:
        d = load(session, Device, call.param("device_id"), call.actor)
        d.revoked, d.online = True, False
        revoke_tokens(session, device_id=d.id)
        session.add(d)
        office = session.get(Office, d.office_id)
        view = device_view(d, office.timezone if office else "UTC", call.qms.settings.ping_interval_s, now)
        events.record(session, d.office_id, EventType.DEVICE_STATUS, now, {"device": {**view, "revoked": True}},
                      actor=call.actor.label)
        return view
    result = await call.write(run)
    await call.qms.close_actor("device", result["id"], code=4001, reason="revoked")
    return result
