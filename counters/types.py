"""Shared vocabulary of the queue: enums and aliases used by every room.

Values are the lower-case snake_case strings of the public contract (API.md), so an enum member can be
written to JSON or the database as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class WaitFigures:
    """What a ticket may be told about its wait: plain data for views, pages and the printed ticket.

    `serving_now` is False while no open counter can serve the ticket (closed or paused ones do not
    count): then no time is promised (`expected_s` and `range_s` are None), only the place in the queue.
    """

    position: int | None
    expected_s: int | None
    range_s: tuple[int, int] | None
    serving_now: bool = True


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class CounterState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    PAUSED = "paused"


class Desk(StrEnum):
    STANDARD = "standard"
    DO_IT_NOW = "do_it_now"


class Priority(StrEnum):
    ELDERLY = "elderly"
    DISABLED = "disabled"
    PREGNANT = "pregnant"
    CHILD = "child"
    MERIT = "merit"
    OTHER = "other"


class Channel(StrEnum):
    KIOSK = "kiosk"
    STAFF = "staff"
    APPOINTMENT = "appointment"
    ONLINE = "online"


class PriorityPolicy(StrEnum):
    STRICT = "strict"
    INTERLEAVE = "interleave"


class Routing(StrEnum):
    FIFO = "fifo"
    ORDERED = "ordered"


class Rating(StrEnum):
    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    UNSATISFIED = "unsatisfied"
    VERY_UNSATISFIED = "very_unsatisfied"


RATING_SCALES: dict[int, tuple[Rating, ...]] = {
    3: (Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.UNSATISFIED),
    4: (Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.NEUTRAL, Rating.UNSATISFIED),
    5: (Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.NEUTRAL, Rating.UNSATISFIED, Rating.VERY_UNSATISFIED),
}
SATISFIED_RATINGS = frozenset({Rating.VERY_SATISFIED, Rating.SATISFIED})


class EventType(StrEnum):
    TICKET_ISSUED = "ticket.issued"
    TICKET_CALLED = "ticket.called"
    TICKET_RECALLED = "ticket.recalled"
    TICKET_STARTED = "ticket.started"
    TICKET_FINISHED = "ticket.finished"
    TICKET_NO_SHOW = "ticket.no_show"
    TICKET_CANCELLED = "ticket.cancelled"
    TICKET_TRANSFERRED = "ticket.transferred"
    COUNTER_UPDATED = "counter.updated"
    QUEUE_UPDATED = "queue.updated"
    FEEDBACK_REQUEST = "feedback.request"
    FEEDBACK_RECEIVED = "feedback.received"
    ALERT_RAISED = "alert.raised"
    ALERT_CLEARED = "alert.cleared"
    DEVICE_STATUS = "device.status"
    PRINT_JOB = "print.job"
    OFFICE_UPDATED = "office.updated"
