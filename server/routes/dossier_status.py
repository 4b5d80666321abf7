"""Result look-up for citizens (tra cứu kết quả): a dossier's status from the province's service.

Public (the kiosk and anyone in the lobby), so it is throttled per address; staff tokens are not. The
province's service gets 3 s (server/dossier_lookup/registry.py); its failure is a 503 the kiosk can
put into words, never a hang.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session

from counters.engine.dossier_codes import normalize_dossier_code
from counters.errors import InvalidValue
from counters.models import Office

from ..api import ANYONE, MAX_ID, STAFF, Call, EndpointGroup
from ..auth import actor_from_token
from ..dossier_lookup import LookupUnavailable
from ..errors import ApiError
from ..schemas import Out

endpoints = EndpointGroup("dossiers")
log = logging.getLogger("qms.dossier_lookup")


class DossierStatusOut(Out):
    code: str
    found: bool
    status_text: str
    ready: bool
    return_date: str | None


def _bearer(call: Call) -> str | None:
    header = call.request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return call.request.cookies.get("qms_token") or None


@endpoints("GET", "/api/v1/offices/{office_id:int}/dossier-status", summary="A dossier's result from the "
           "province's look-up service (anyone; throttled per address, staff are not)", allow=ANYONE,
           query={"code": "the dossier code as printed on the receipt"}, response=DossierStatusOut)
async def dossier_status(call: Call) -> Any:
    qms = call.qms
    office_id: int = call.param("office_id")
    token = _bearer(call)
    raw_code = call.query("code")

    def run(session: Session) -> tuple[bool, ApiError | InvalidValue | None, str, str]:
        """Who asks (staff are not throttled), and the office's look-up URL and the normalised code."""
        actor = actor_from_token(session, token, call.now()) if token else None
        staff = actor is not None and actor.kind in STAFF
        office = session.get(Office, office_id) if 0 <= office_id < MAX_ID else None
        if office is None or getattr(office, "archived", False):
            return staff, ApiError(404, "not_found", f"Office {office_id} does not exist."), "", ""
        url = office.dossier_lookup_url
        if not url:
            return staff, ApiError(409, "lookup_off", "Văn phòng chưa kết nối tra cứu kết quả / this office "
                                   "has no result look-up (set dossier_lookup_url)."), "", ""
        try:
            return staff, None, url, normalize_dossier_code(office, raw_code)
        except InvalidValue as e:
            return staff, e, url, ""

    if token is None:  # an anonymous flood is turned away before it reaches the database
        await qms.lookup_throttle.check(_address(call))
    staff, refusal, url, code = await qms.db.read(run)
    if not staff:  # every look-up counts, refused ones too
        await qms.lookup_throttle.hit(_address(call))
    if refusal is not None:
        raise refusal
    try:
        status = await qms.dossier_lookups.find(url, code)
    except LookupUnavailable as e:
        log.warning("result look-up for office %s failed: %s", office_id, e)
        raise ApiError(503, "lookup_unavailable", "Hệ thống tra cứu của tỉnh đang không trả lời / the province's "
                       "look-up service is not answering; try again later.", retry_after_s=30) from None
    if status is None:
        raise ApiError(404, "not_found", "Không tìm thấy hồ sơ / no dossier with this code.", dossier_code=code)
    return status.as_dict()


def _address(call: Call) -> str:
    return f"addr:{call.request.client.host if call.request.client else '?'}"
