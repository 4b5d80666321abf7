"""The queue's tables. Every change to them also appends an `Event` (see events.py).

Times are aware UTC datetimes (clock.UTCDateTime). JSON columns hold small settings documents whose
shapes are checked in `settings.py` before they are written.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel, col

from counters.clock import DEFAULT_TIMEZONE, UTCDateTime

DEFAULT_NUMBER_FORMAT = "{code}{n:03d}"
# Circular 01/2018/TT-VPCP art. 19: <agency code>-<YYMMDD>-<NNNN> (DOMAIN.md, "Dossiers")
DEFAULT_DOSSIER_CODE_PATTERN = r"^[0-9A-Z]{2,4}(\.[0-9A-Z]{2,4}){1,4}-[0-9]{6}-[0-9]{4,5}$"


def _json(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSON, nullable=nullable))


def _when(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


class Office(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str
    code: str = Field(index=True, unique=True)
    parent_id: int | None = Field(default=None, foreign_key="office.id", index=True)
    timezone: str = DEFAULT_TIMEZONE
    address: str | None = None
    opening_hours: dict[str, Any] | None = _json()
    extra_sessions: list[dict[str, Any]] | None = _json()
    no_wait_days: list[str] | None = _json()
    no_wait_target_min: int = 15
    priority_policy: str = "strict"
    interleave_every: int = 3
    routing: str = "fifo"
    rating_scale: int = 3
    number_format: str = DEFAULT_NUMBER_FORMAT
    announcement_template: str | None = None
    announcement_repeat: int = 2
    default_printer_id: int | None = None
    feedback_window_min: int = 15
    # the one-stop system (API.md "The one-stop system"): dossier codes, result look-up, trips question
    dossier_code_pattern: str = DEFAULT_DOSSIER_CODE_PATTERN
    dossier_lookup_url: str | None = None
    ask_trips: bool = False
    # appointments (API.md "Appointments"): slot length, how far ahead, the check-in window around a start
    booking_slot_min: int = 15
    booking_days_ahead: int = 14
    checkin_early_min: int = 15
    checkin_late_min: int = 10
    created_at: datetime | None = _when()


class OfficeSeq(SQLModel, table=True):
    """The last event sequence number of an office; its row lock orders the office's commits."""

    office_id: int = Field(primary_key=True, foreign_key="office.id")
    last_seq: int = 0


class ProjectionCheckpoint(SQLModel, table=True):
    """How far a projection has folded an office's log: the last `seq` it applied. A fold advances it in the
    same transaction that writes what it folded, so a crash loses both or neither (projections/checkpoint.py)."""

    __tablename__ = "projection_checkpoint"
    name: str = Field(primary_key=True)
    office_id: int = Field(primary_key=True, foreign_key="office.id")
    seq: int = 0


class Service(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    code: str
    name: str
    name_en: str | None = None
    desk: str = "standard"
    number_start: int = 1
    daily_limit: int | None = None
    target_wait_min: int = 15
    target_total_min: int | None = None
    active: bool = True
    archived: bool = False
    sort_order: int = 0
    bookable: bool = False
    booking_per_slot: int = 1


class Counter(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    number: int
    name: str
    desk: str = "standard"
    service_ids: list[int] | None = _json()
    state: str = "closed"
    clerk_id: int | None = None
    clerk_name: str | None = None
    current_ticket_id: int | None = None
    archived: bool = False


class DailyNumber(SQLModel, table=True):
    """The last number handed out per service and office day; claimed with one atomic upsert."""

    service_id: int = Field(primary_key=True, foreign_key="service.id")
    office_day: date = Field(primary_key=True)
    last_number: int


class Ticket(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("issued_service_id", "office_day", "number", name="uq_ticket_number_per_day"),
        Index("ix_ticket_queue", "office_id", "status", "queue_at"),
        Index("ix_ticket_office_day", "office_id", "office_day"),
    )
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id")
    service_id: int = Field(foreign_key="service.id", index=True)
    issued_service_id: int = Field(foreign_key="service.id")
    office_day: date
    number: int
    display_number: str
    priority: str | None = None
    channel: str = "kiosk"
    status: str = "waiting"
    lang: str = "vi"
    issued_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    queue_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    called_at: datetime | None = _when()
    last_called_at: datetime | None = _when()
    started_at: datetime | None = _when()
    finished_at: datetime | None = _when()
    counter_id: int | None = Field(default=None, index=True)
    clerk_id: int | None = None
    target_counter_id: int | None = None
    recalls: int = 0
    transfers: int = 0
    note: str | None = None
    track_code: str = Field(index=True, unique=True)
    device_id: int | None = None
    # a chip ID card was scanned at issue: only its keyed hash and the holder's birth year are kept
    id_checked: bool = False
    id_card_hash: str | None = Field(default=None, index=True)
    birth_year: int | None = None
    # the codes of the dossiers linked to this visit (DossierLink rows), kept here so every ticket view has them
    dossiers: list[str] | None = _json()
    appointment_id: int | None = Field(default=None, index=True)


class Appointment(SQLModel, table=True):
    """A booked time at a service (đặt lịch hẹn): booked -> checked_in | cancelled | missed.

    `code` is read out or scanned at the kiosk; `manage_code` (random, >= 96 bits) is the citizen's only key
    to see or cancel it. The ID number is kept only as a keyed hash; the phone only for the office.
    """

    __table_args__ = (Index("ix_appointment_slot", "service_id", "start", "status"),
                      Index("ix_appointment_office_start", "office_id", "start"))
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id")
    service_id: int = Field(foreign_key="service.id")
    start: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    end: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    status: str = "booked"
    code: str = Field(unique=True)
    manage_code: str = Field(unique=True)
    phone: str | None = None
    id_card_hash: str | None = Field(default=None, index=True)
    lang: str = "vi"
    ticket_id: int | None = None
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    changed_at: datetime | None = _when()


class Event(SQLModel, table=True):
    """Append-only log: one row per state change. Statistics and replays are read from here."""

    __table_args__ = (
        UniqueConstraint("office_id", "seq", name="uq_event_office_seq"),
        Index("ix_event_office_at", "office_id", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id")
    seq: int
    type: str
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ticket_id: int | None = Field(default=None, index=True)
    counter_id: int | None = None
    service_id: int | None = None
    actor: str | None = None
    from_status: str | None = None
    to_status: str | None = None
    data: dict[str, Any] | None = _json()


# Reports by procedure read the dossier events of a range: a partial index holds only those, so the
# busy ticket events pay nothing for it (the query repeats this condition literally, see dossiers.py).
DOSSIER_EVENTS_SQL = "type IN ('dossier.linked', 'dossier.unlinked')"
Index("ix_event_dossier", col(Event.office_id), col(Event.at),
      sqlite_where=text(DOSSIER_EVENTS_SQL), postgresql_where=text(DOSSIER_EVENTS_SQL))


class Announcement(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    counter_id: int
    text: str
    speech: str
    lang: str = "vi"
    created_at: datetime | None = _when()


class Feedback(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", unique=True)
    counter_id: int
    clerk_id: int | None = None
    device_id: int | None = None
    rating: str
    reasons: list[str] | None = _json()
    comment: str | None = None
    trips: int | None = None  # 1, 2 or 3 (= three or more), when the office asks (ask_trips)
    created_at: datetime | None = _when()


class Alert(SQLModel, table=True):
    """A condition a head must see (waits over target, offline device, paper out) while it lasts."""

    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    kind: str
    key: str = Field(index=True)
    message: str
    data: dict[str, Any] | None = _json()
    since: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    cleared_at: datetime | None = _when()



class DossierLink(SQLModel, table=True):
    """A dossier (hồ sơ) of the province's one-stop system handled in a visit: who linked it, where, when.

    Unlinking a mistake deletes the row; both moves are events (`dossier.linked`, `dossier.unlinked`),
    and reports by procedure are folded from those events, not from this table.
    """

    __tablename__ = "dossier_link"
    __table_args__ = (
        UniqueConstraint("ticket_id", "code", name="uq_dossier_link_ticket_code"),
        Index("ix_dossier_link_office_code", "office_id", "code"),
    )
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id")
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    code: str
    procedure: str | None = None
    counter_id: int | None = None
    clerk_id: int | None = None
    linked_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
