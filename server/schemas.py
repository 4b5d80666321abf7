"""Request bodies and response shapes of the public contract (API.md), as pydantic models.

Request models forbid unknown fields, so a typo is a clear 422 instead of a silent no-op.
"""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Out(BaseModel):
    model_config = ConfigDict(extra="allow")


Lang = Literal["vi", "en"]
PriorityName = Literal["elderly", "disabled", "pregnant", "child", "merit", "other"]
DeviceKind = Literal["kiosk", "display", "tablet", "printer"]
Desk = Literal["standard", "do_it_now"]


# ---- auth, users, devices
class LoginBody(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class UserOut(Out):
    id: int
    username: str
    full_name: str
    role: str
    office_id: int | None


class LoginOut(Out):
    token: str
    user: UserOut


class UserCreate(Body):
    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    full_name: str = Field(default="", max_length=120)
    role: Literal["head", "clerk"]
    password: str = Field(min_length=8, max_length=256)


class UserPatch(Body):
    full_name: str | None = Field(default=None, max_length=120)
    role: Literal["head", "clerk"] | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)
    active: bool | None = None


class PairingCreate(Body):
    kind: DeviceKind


class PairingOut(Out):
    pairing_id: str
    code: str
    expires_at: str


class PairingStatus(Out):
    status: Literal["pending", "approved", "expired"]
    device_id: int | None = None
    token: str | None = None


class PairingApprove(Body):
    name: str = Field(min_length=1, max_length=120)
    counter_id: int | None = None
    printer_id: int | None = None


class DeviceOut(Out):
    id: int
    kind: str
    name: str
    counter_id: int | None
    printer_id: int | None
    online: bool
    last_seen: str | None


class DevicePatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=120)
    counter_id: int | None = None
    printer_id: int | None = None


# ---- offices, services, counters
class OfficeCreate(Body):
    name: str = Field(min_length=1, max_length=200)
    code: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.-]+$")
    parent_id: int | None = None
    timezone: str | None = Field(default=None, max_length=64)
    address: str | None = Field(default=None, max_length=300)


class OfficePatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, max_length=300)
    timezone: str | None = Field(default=None, max_length=64)
    parent_id: int | None = None
    opening_hours: dict[str, list[list[str]]] | None = None
    extra_sessions: list[dict[str, Any]] | None = None
    no_wait_days: list[str] | None = None
    no_wait_target_min: int | None = None
    priority_policy: Literal["strict", "interleave"] | None = None
    interleave_every: int | None = None
    routing: Literal["fifo", "ordered"] | None = None
    rating_scale: Literal[3, 4, 5] | None = None
    number_format: str | None = Field(default=None, max_length=40)
    announcement_template: str | None = Field(default=None, max_length=300)
    announcement_repeat: int | None = None
    default_printer_id: int | None = None
    feedback_window_min: int | None = None
    dossier_code_pattern: str | None = Field(default=None, min_length=1, max_length=300)
    dossier_lookup_url: str | None = Field(default=None, max_length=500)
    ask_trips: bool | None = None
    booking_slot_min: int | None = Field(default=None, ge=1, le=240)
    booking_days_ahead: int | None = Field(default=None, ge=0, le=365)
    checkin_early_min: int | None = Field(default=None, ge=0, le=240)
    checkin_late_min: int | None = Field(default=None, ge=0, le=240)


class OfficeOut(Out):
    id: int
    name: str
    code: str
    parent_id: int | None
    timezone: str


class ServiceCreate(Body):
    code: str = Field(min_length=1, max_length=3)
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    desk: Desk = "standard"
    number_start: int = 1
    daily_limit: int | None = None
    target_wait_min: int = 15
    target_total_min: int | None = None
    active: bool = True
    sort_order: int = 0
    bookable: bool = False
    booking_per_slot: int = Field(default=1, ge=1, le=100)


class ServicePatch(Body):
    code: str | None = Field(default=None, min_length=1, max_length=3)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    desk: Desk | None = None
    number_start: int | None = None
    daily_limit: int | None = None
    target_wait_min: int | None = None
    target_total_min: int | None = None
    active: bool | None = None
    sort_order: int | None = None
    bookable: bool | None = None
    booking_per_slot: int | None = Field(default=None, ge=1, le=100)


class ServiceOut(Out):
    id: int
    code: str
    name: str
    name_en: str | None
    desk: str
    number_start: int
    daily_limit: int | None
    target_wait_min: int
    target_total_min: int | None
    active: bool


class CounterCreate(Body):
    number: int
    name: str = Field(min_length=1, max_length=120)
    desk: Desk = "standard"
    service_ids: list[int] = Field(default_factory=list, max_length=100)


class CounterPatch(Body):
    number: int | None = None
    name: str | None = Field(default=None, min_length=1, max_length=120)
    desk: Desk | None = None
    service_ids: list[int] | None = Field(default=None, max_length=100)


class TicketOut(Out):
    id: int
    office_id: int
    service_id: int
    number: int
    display_number: str
    priority: str | None
    channel: str
    status: str
    issued_at: str
    called_at: str | None
    started_at: str | None
    finished_at: str | None
    counter_id: int | None
    clerk_id: int | None
    recalls: int
    transfers: int
    position: int | None
    estimated_wait_s: int | None
    estimated_wait_range_s: list[int] | None = None
    serving_now: bool = Field(default=True, description="False while no open counter can serve this waiting "
                              "ticket: its wait figures are then null (no time is promised)")
    track_code: str
    dossiers: list[str] = Field(default_factory=list, description="codes of the dossiers linked to this visit")
    id_checked: bool = False


class CounterOut(Out):
    id: int
    number: int
    name: str
    desk: str
    service_ids: list[int]
    state: str
    clerk_id: int | None
    current_ticket: TicketOut | None


# ---- tickets and counter actions
class TicketCreate(Body):
    service_id: int
    priority: PriorityName | None = None
    channel: Literal["kiosk", "staff", "appointment", "online"] | None = None
    lang: Lang = "vi"
    print: bool = True
    id_card_qr: str | None = Field(default=None, repr=False, description=(
        "The chip ID card's QR as the scanner typed it: parsed, then dropped; only a keyed hash of the "
        "card number and the birth year are kept (a holder aged 60+ gets the elderly priority)"))


class PrintJobBrief(Out):
    id: int
    status: str


class IssuedTicketOut(TicketOut):
    print_job: PrintJobBrief | None = None


class NextBody(Body):
    close_current: Literal["done", "no_show"] = "done"
    current_ticket_id: int | None = Field(default=None, description=(
        "The ticket the clerk's screen shows as current (0 = none); a mismatch is 409 counter_changed, "
        "so a double press or a second tab never calls twice."))


class CallBody(Body):
    ticket_id: int
    close_current: Literal["done", "no_show"] = "done"


class TransferBody(Body):
    service_id: int | None = None
    counter_id: int | None = None
    note: str | None = Field(default=None, max_length=500)


class AnnouncementOut(Out):
    id: int
    ticket_id: int
    counter_id: int
    text: str
    lang: str
    audio_url: str


class CallResult(Out):
    ticket: TicketOut | None


class RecallResult(Out):
    ticket: TicketOut
    announcement: AnnouncementOut


class TrackOut(Out):
    display_number: str
    service: dict[str, Any]
    status: str
    position: int | None
    estimated_wait_s: int | None
    estimated_wait_range_s: list[int] | None = None
    serving_now: bool = True
    counter: dict[str, Any] | None


class ListOut(Out):
    items: list[Any]
    total: int


class Health(Out):
    status: str
    db: str
    pubsub: str


class LiveOut(Out):
    at: str
    programs: dict[str, Any]
    services: list[Any]
    counters: list[Any]
    totals: dict[str, Any]


class Empty(Body):
    pass


class OkOut(Out):
    ok: bool


# ---- appointments (API.md "Appointments (lịch hẹn) and walk-ins in one queue")
class AppointmentCreate(Body):
    service_id: int
    start: str = Field(min_length=10, max_length=40, description="A slot's start, ISO 8601 with offset")
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+?[0-9 .-]{6,20}$")
    id_number: str | None = Field(default=None, pattern=r"^[0-9]{9}$|^[0-9]{12}$",
                                  description="CCCD (12 digits) or old ID (9): stored only as a keyed hash")
    lang: Lang = "vi"


class AppointmentOut(Out):
    id: int
    code: str
    service_id: int
    start: str
    end: str
    status: Literal["booked", "checked_in", "cancelled", "missed"]


class BookedOut(AppointmentOut):
    manage_code: str


class CheckInBody(Body):
    code: str | None = Field(default=None, min_length=4, max_length=16)
    id_card_qr: str | None = Field(default=None, min_length=1, max_length=600)
    print: bool = True


class SlotOut(Out):
    start: str
    end: str
    free: int


class SlotsOut(Out):
    items: list[SlotOut]


class BookingInfoOut(Out):
    office: dict[str, Any]
    services: list[dict[str, Any]]
    days: list[str]
