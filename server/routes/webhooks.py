"""Outbound events (webhooks): an office's heads choose where its events are POSTed, see each delivery's
fate and send a failed one again. The outbox is written with the events (server/outbox.py); the
delivery worker (server/webhook_worker.py) starts and stops with the server.
"""
from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from counters.clock import iso
from counters.models import Office

from ..api import HEADS, Call, EndpointGroup, page
from ..auth import require_office
from ..errors import ApiError
from ..lookup import load
from ..outbox import ENQUEUED, LISTED, WEBHOOK_EVENTS, webhook_changed
from ..schemas import Body, ListOut, Out
from ..webhook_models import Webhook, WebhookDelivery
from ..webhook_worker import Policy, WebhookWorker, alert_key, clear_alert

endpoints = EndpointGroup("webhooks")
STATUSES = ("pending", "delivered", "failed")
EVENTS_HELP = "event types to send: " + ", ".join(WEBHOOK_EVENTS)


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in url):
        raise ValueError("url must be an http:// or https:// address with a host")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError("url has an invalid port") from None
    return url


def _check_events(types: list[str]) -> list[str]:
    unknown = [t for t in types if t not in LISTED]
    if unknown:
        raise ValueError(f"unknown event type {unknown[0]!r}; one of: {', '.join(WEBHOOK_EVENTS)}")
    return list(dict.fromkeys(types))  # duplicates once, order kept


class WebhookCreate(Body):
    url: str = Field(min_length=8, max_length=500, description="http:// or https:// address of the receiver")
    events: list[str] = Field(min_length=1, max_length=50, description=EVENTS_HELP)
    secret: str = Field(min_length=16, max_length=256, description="16–256 characters; signs every body "
                        "(X-QMS-Signature); never returned")
    active: bool = True

    _url = field_validator("url")(_check_url)
    _events = field_validator("events")(_check_events)


class WebhookPatch(Body):
    url: str | None = Field(default=None, min_length=8, max_length=500)
    events: list[str] | None = Field(default=None, min_length=1, max_length=50, description=EVENTS_HELP)
    secret: str | None = Field(default=None, min_length=16, max_length=256)
    active: bool | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else _check_url(v)

    @field_validator("events")
    @classmethod
    def _events(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else _check_events(v)


class WebhookOut(Out):
    id: int
    office_id: int
    url: str
    events: list[str]
    active: bool
    created_at: str | None


class DeliveryOut(Out):
    id: int
    webhook_id: int
    event_seq: int
    type: str
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    last_error: str | None
    next_attempt_at: str | None
    delivered_at: str | None


# ---- the worker's life cycle
async def on_startup(qms: Any) -> None:
    s = qms.settings
    worker = WebhookWorker(qms.db, qms.write, qms.now, Policy(s.webhook_retry_base_s, s.webhook_retry_max_s,
                                                              s.webhook_give_up_s, s.webhook_timeout_s))
    qms.webhook_worker = worker
    worker.start()


async def on_shutdown(qms: Any) -> None:
    worker = getattr(qms, "webhook_worker", None)
    if worker is not None:
        await worker.stop()


# ---- views
def webhook_view(w: Webhook, tz: str) -> dict[str, Any]:
    """Never the secret."""
    return {"id": w.id, "office_id": w.office_id, "url": w.url, "events": list(w.events or []),
            "active": w.active and not w.archived, "created_at": iso(w.created_at, tz)}


def delivery_view(d: WebhookDelivery, tz: str) -> dict[str, Any]:
    return {"id": d.id, "webhook_id": d.webhook_id, "event_seq": d.event_seq, "type": d.type, "status": d.status,
            "attempts": d.attempts, "last_error": d.last_error, "next_attempt_at": iso(d.next_attempt_at, tz),
            "delivered_at": iso(d.delivered_at, tz)}


def _tz(session: Session, office_id: int) -> str:
    office = session.get(Office, office_id)
    return office.timezone if office else "UTC"


# ---- webhooks
@endpoints("GET", "/api/v1/offices/{office_id:int}/webhooks", summary="An office's webhooks (the secret is never "
           "returned)", allow=HEADS, response=ListOut, query={"limit": "int", "offset": "int"})
async def list_webhooks(call: Call) -> Any:
    limit, offset = call.query_int("limit", 100, 1, 500), call.query_int("offset", 0)

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        where = (Webhook.office_id == office.id, col(Webhook.archived) == False)  # noqa: E712
        total = session.exec(select(func.count()).select_from(Webhook).where(*where)).one()
        rows = session.exec(select(Webhook).where(*where).order_by(col(Webhook.id)).limit(limit).offset(offset))
        return page([webhook_view(w, office.timezone) for w in rows], int(total))
    return await call.read(run)


@endpoints("POST", "/api/v1/offices/{office_id:int}/webhooks", summary="Send the office's events of these types "
           "to a URL, signed with the secret (422 for a URL that is not http(s), an unknown type, a secret "
           "shorter than 16 characters)", allow=HEADS, body=WebhookCreate, response=WebhookOut, status=201)
async def create_webhook(call: Call) -> Any:
    body: WebhookCreate = call.body
    now = call.now()

    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"))
        w = Webhook(office_id=office.id or 0, url=body.url, events=body.events, secret=body.secret,
                    active=body.active, created_at=now)
        session.add(w)
        session.flush()
        webhook_changed(session)
        return webhook_view(w, office.timezone)
    return await call.write(run)


@endpoints("GET", "/api/v1/webhooks/{webhook_id:int}", summary="A webhook", allow=HEADS, response=WebhookOut)
async def get_webhook(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        w = load(session, Webhook, call.param("webhook_id"), call.actor, read_only=True)
        return webhook_view(w, _tz(session, w.office_id))
    return await call.read(run)


@endpoints("PATCH", "/api/v1/webhooks/{webhook_id:int}", summary="Change a webhook's URL, events or secret, or "
           "pause it (`active`: false: its events are not recorded for it meanwhile; pending ones wait)",
           allow=HEADS, body=WebhookPatch, response=WebhookOut)
async def patch_webhook(call: Call) -> Any:
    changes = call.body.model_dump(exclude_unset=True)

    def run(session: Session) -> dict[str, Any]:
        w = load(session, Webhook, call.param("webhook_id"), call.actor)
        for k, v in changes.items():
            if v is None:
                raise ApiError(422, "invalid_value", f"{k} cannot be null", field=k)
            setattr(w, k, v)
        session.add(w)
        webhook_changed(session)
        if w.active:
            session.info[ENQUEUED] = True  # resumed: wake the worker for what waited
        return webhook_view(w, _tz(session, w.office_id))
    return await call.write(run)


@endpoints("DELETE", "/api/v1/webhooks/{webhook_id:int}", summary="Remove a webhook; its pending deliveries fail "
           "and are not sent", allow=HEADS, response=WebhookOut)
async def delete_webhook(call: Call) -> Any:
    now = call.now()

    def run(session: Session) -> dict[str, Any]:
        w = load(session, Webhook, call.param("webhook_id"), call.actor)
        w.archived, w.active = True, False
        session.add(w)
        session.execute(update(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == w.id,
                                                      col(WebhookDelivery.status) == "pending")
                        .values(status="failed", last_error="webhook deleted", next_attempt_at=None))
        clear_alert(session, alert_key(w.id or 0), now)
        webhook_changed(session)
        return webhook_view(w, _tz(session, w.office_id))
    return await call.write(run)


# ---- deliveries
@endpoints("GET", "/api/v1/webhooks/{webhook_id:int}/deliveries", summary="A webhook's deliveries, newest "
           "first, with their status, attempts and last error", allow=HEADS, response=ListOut,
           query={"status": "pending|delivered|failed", "limit": "int", "offset": "int"})
async def list_deliveries(call: Call) -> Any:
    status = call.query("status") or None
    if status is not None and status not in STATUSES:
        raise ApiError(422, "invalid_value", f"status is one of {', '.join(STATUSES)}", field="status")
    limit, offset = call.query_int("limit", 50, 1, 500), call.query_int("offset", 0)

    def run(session: Session) -> dict[str, Any]:
        w = load(session, Webhook, call.param("webhook_id"), call.actor, read_only=True)
        where: list[Any] = [WebhookDelivery.webhook_id == w.id]
        if status:
            where.append(WebhookDelivery.status == status)
        total = session.exec(select(func.count()).select_from(WebhookDelivery).where(*where)).one()
        rows = session.exec(select(WebhookDelivery).where(*where).order_by(col(WebhookDelivery.id).desc())
                            .limit(limit).offset(offset))
        tz = _tz(session, w.office_id)
        return page([delivery_view(d, tz) for d in rows], int(total))
    return await call.read(run)


@endpoints("POST", "/api/v1/webhooks/{webhook_id:int}/deliveries/{delivery_id:int}/retry", summary="Send a "
           "delivery again now (a failed one gets another 24 h of retries); it keeps its X-QMS-Delivery id",
           allow=HEADS, response=DeliveryOut)
async def retry_delivery(call: Call) -> Any:
    now = call.now()

    def run(session: Session) -> dict[str, Any]:
        w = load(session, Webhook, call.param("webhook_id"), call.actor)
        d = session.get(WebhookDelivery, call.param("delivery_id"))
        if d is None or d.webhook_id != w.id:
            raise ApiError(404, "not_found", f"Delivery {call.param('delivery_id')} of webhook {w.id} does not exist.")
        d.status, d.next_attempt_at, d.window_start, d.delivered_at = "pending", now, now, None
        session.add(d)
        session.info[ENQUEUED] = True  # wake the worker once committed
        return delivery_view(d, _tz(session, w.office_id))
    return await call.write(run)
