"""Printers and print jobs. A job is claimed by a worker with a conditional update (never printed twice)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from counters.clock import UTCDateTime


def _when(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class Printer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    name: str
    transport: str  # network | usb | serial | file | agent
    address: str
    width_px: int = 576
    mode: str = "image"  # image | text
    profile: str | None = None
    online: bool = False
    paper: str = "unknown"  # ok | near_end | out | unknown
    last_error: str | None = None
    last_seen: datetime | None = _when()
    archived: bool = False


class PrintJob(SQLModel, table=True):
    __table_args__ = (Index("ix_print_job_queue", "status", "next_attempt_at"),)
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    printer_id: int = Field(foreign_key="printer.id", index=True)
    status: str = "queued"  # queued | printing | printed | failed
    attempts: int = 0
    error: str | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    next_attempt_at: datetime | None = _when()
    claimed_by: str | None = None
    claimed_at: datetime | None = _when()
    printed_at: datetime | None = _when()
    base_url: str | None = None  # where the kiosk reached the server; QMS_PUBLIC_URL wins over it
