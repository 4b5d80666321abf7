"""Tables of outbound events: the office's webhooks and the outbox of their deliveries.

A `WebhookDelivery` row is written in the same transaction as the event it carries (server/outbox.py),
so an event committed is an event that will be delivered, whatever crashes after. The body is not
stored: it is built from the event log at send time (server/webhook_worker.py).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from counters.clock import UTCDateTime


def _when(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Webhook(SQLModel, table=True):
    """Where an office's events of the chosen types are POSTed, signed with `secret` (never returned)."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    url: str
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret: str
    active: bool = True
    archived: bool = False  # deleted: kept so its deliveries stay readable in the audit trail
    created_at: datetime | None = _when()


class WebhookDelivery(SQLModel, table=True):
    """One event to one webhook: pending → delivered | failed (failed → pending again on a manual retry)."""

    __table_args__ = (
        UniqueConstraint("webhook_id", "event_seq", name="uq_webhook_delivery_event"),
        Index("ix_webhook_delivery_pending", "status", "webhook_id", "event_seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    webhook_id: int = Field(foreign_key="webhook.id")
    office_id: int = Field(foreign_key="office.id", index=True)
    event_seq: int
    type: str
    key: str  # X-QMS-Delivery: the same on every attempt, so receivers dedupe by it
    status: str = "pending"  # pending | delivered | failed
    attempts: int = 0
    last_error: str | None = None
    window_start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))  # retried ≥ give-up after this
    next_attempt_at: datetime | None = _when()
    delivered_at: datetime | None = _when()
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
