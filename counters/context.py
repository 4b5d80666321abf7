"""Who acts and what the actions need from outside the queue (the clock, the announcement composer)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from counters.clock import utcnow
from counters.models import Counter, Office, Ticket


@dataclass(frozen=True)
class AnnouncementText:
    text: str
    speech: str
    lang: str = "vi"


class Announcer(Protocol):
    """Composes what a lobby shows and says for a call; `displays` provides it, `counters` stays text-free."""

    def __call__(self, office: Office, ticket: Ticket, counter: Counter) -> AnnouncementText: ...


def plain_announcer(office: Office, ticket: Ticket, counter: Counter) -> AnnouncementText:
    text = f"Xin mời công dân có số {ticket.display_number} đến quầy số {counter.number}"
    return AnnouncementText(text, text)


@dataclass(frozen=True)
class Who:
    """The actor written into events: `user:3`, `device:7` or `system`."""

    actor: str
    user_id: int | None = None
    device_id: int | None = None
    full_name: str | None = None

    @classmethod
    def system(cls) -> Who:
        return cls("system")


@dataclass(frozen=True)
class Ctx:
    who: Who
    now: datetime = field(default_factory=utcnow)
    announcer: Announcer = plain_announcer
