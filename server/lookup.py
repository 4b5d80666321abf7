"""Loading a row by id for an actor: 404 when unknown, 403 when it belongs to an office out of reach."""
from __future__ import annotations

from typing import Protocol, TypeVar

from sqlmodel import Session, SQLModel

from counters.models import Counter, Office, Ticket

from .auth import Actor, may_access_office
from .errors import ApiError
from .kept import keep

M = TypeVar("M", bound=SQLModel)


def load(session: Session, model: type[M], id: int, actor: Actor, *, read_only: bool = False,
         what: str | None = None) -> M:
    row = session.get(model, id)
    name = what or model.__name__.lower()
    if row is None or getattr(row, "archived", False):
        raise ApiError(404, "not_found", f"{name.capitalize()} {id} does not exist.")
    office_id = getattr(row, "office_id", None)
    if office_id is not None and not may_access_office(session, actor, office_id, read_only=read_only):
        raise ApiError(403, "forbidden", f"That {name} belongs to another office.")
    return row


class InOffice(Protocol):
    """A row of one office (a ticket, a counter)."""

    @property
    def office_id(self) -> int: ...


def office_of(session: Session, row: InOffice) -> Office:
    office = keep(session, session.get(Office, row.office_id))
    assert office is not None
    return office


def require_counter_actor(session: Session, actor: Actor, counter: Counter) -> None:
    """A counter is worked by its own clerk (or any clerk opening it), or a head/admin of the office."""
    if actor.kind in ("admin", "head"):
        return
    if actor.kind == "clerk":
        if counter.clerk_id not in (None, actor.id) and counter.state != "closed":
            raise ApiError(403, "forbidden", f"Counter {counter.number} is worked by another clerk.",
                           clerk_id=counter.clerk_id)
        return
    raise ApiError(403, "forbidden", "Only staff act on counters.")


def require_ticket_actor(session: Session, actor: Actor, ticket: Ticket) -> None:
    """Ticket actions: the clerk of the ticket's counter, any clerk for a waiting ticket, or a head."""
    if actor.kind in ("admin", "head"):
        return
    if actor.kind == "clerk" and ticket.counter_id is not None and ticket.status in ("called", "serving"):
        counter = session.get(Counter, ticket.counter_id)
        if counter is not None and counter.clerk_id not in (None, actor.id):
            raise ApiError(403, "forbidden", "That ticket is at another clerk's counter.")
