"""Who is calling: staff users and paired devices, from a bearer token, a cookie or `?token=`.

Roles: admin (everything), head (own office and its branches), clerk (own office's counters).
Devices: kiosk, display, tablet (bound to a counter), printer (a printer agent).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, select

from counters.context import Who
from counters.models import Office
from counters.tables import table_of

from .errors import ApiError
from .kept import keep
from .models import AuthToken, Device, User
from .passwords import new_token, token_hash

STAFF = frozenset({"admin", "head", "clerk"})
DEVICES = frozenset({"kiosk", "display", "tablet", "printer"})
HEADS = frozenset({"admin", "head"})


@dataclass(frozen=True)
class Actor:
    kind: str  # admin | head | clerk | kiosk | display | tablet | printer
    id: int  # user id or device id
    office_id: int | None
    name: str
    token_id: int | None = None
    counter_id: int | None = None
    printer_id: int | None = None

    @property
    def is_user(self) -> bool:
        return self.kind in STAFF

    @property
    def is_device(self) -> bool:
        return self.kind in DEVICES

    @property
    def who(self) -> Who:
        if self.is_user:
            return Who(f"user:{self.id}", user_id=self.id, full_name=self.name)
        return Who(f"device:{self.id}", device_id=self.id)

    @property
    def label(self) -> str:
        return f"{'user' if self.is_user else 'device'}:{self.id}"


def issue_token(session: Session, *, now: datetime, user_id: int | None = None, device_id: int | None = None,
                ttl: timedelta | None = None) -> str:
    token = new_token()
    session.add(AuthToken(token_hash=token_hash(token), user_id=user_id, device_id=device_id, created_at=now,
                          expires_at=now + ttl if ttl else None))
    return token


_TOKEN, _USER, _DEVICE = (table_of(m) for m in (AuthToken, User, Device))
# every request asks this: one statement over the tables (no ORM objects), compiled once; SQLAlchemy's own
# select, whose types take 16 columns (SQLModel's take up to 4)
_ACTOR_OF_TOKEN = (
    core_select(_TOKEN.c.id, _TOKEN.c.revoked, _TOKEN.c.expires_at, _TOKEN.c.user_id,
                _USER.c.role, _USER.c.office_id, _USER.c.full_name, _USER.c.username, _USER.c.active,
                _DEVICE.c.id.label("device_id"), _DEVICE.c.kind, _DEVICE.c.office_id.label("device_office_id"),
                _DEVICE.c.name, _DEVICE.c.revoked.label("device_revoked"), _DEVICE.c.counter_id, _DEVICE.c.printer_id)
    .select_from(_TOKEN.outerjoin(_USER, _USER.c.id == _TOKEN.c.user_id)
                 .outerjoin(_DEVICE, _DEVICE.c.id == _TOKEN.c.device_id))
    .where(_TOKEN.c.token_hash == bindparam("hash")))


def actor_from_token(session: Session, token: str, now: datetime) -> Actor | None:
    """The actor behind a token, or None when it is unknown, expired or revoked."""
    row = session.connection().execute(_ACTOR_OF_TOKEN, {"hash": token_hash(token)}).first()
    if row is None or row.revoked or (row.expires_at is not None and row.expires_at <= now):
        return None
    if row.user_id is not None:
        if row.role is None or not row.active:
            return None
        return Actor(row.role, row.user_id, row.office_id, row.full_name or row.username, row.id)
    if row.device_id is None or row.device_revoked:
        return None
    return Actor(row.kind, row.device_id, row.device_office_id, row.name, row.id,
                 counter_id=row.counter_id, printer_id=row.printer_id)


def revoke_tokens(session: Session, *, user_id: int | None = None, device_id: int | None = None,
                  token_id: int | None = None, keep_token_id: int | None = None) -> None:
    """Revoke tokens; `keep_token_id` spares the caller's own session (a password change logs out the rest)."""
    q = select(AuthToken).where(AuthToken.revoked == False)  # noqa: E712
    if keep_token_id is not None:
        q = q.where(AuthToken.id != keep_token_id)
    if token_id is not None:
        q = q.where(AuthToken.id == token_id)
    elif user_id is not None:
        q = q.where(AuthToken.user_id == user_id)
    elif device_id is not None:
        q = q.where(AuthToken.device_id == device_id)
    else:
        return
    for t in session.exec(q):
        t.revoked = True
        session.add(t)


def office_lineage(session: Session, office_id: int) -> list[int]:
    """The office and its ancestors, nearest first."""
    out, node = [], session.get(Office, office_id)
    while node is not None and node.id not in out:
        out.append(node.id or 0)
        node = session.get(Office, node.parent_id) if node.parent_id else None
    return out


def may_access_office(session: Session, actor: Actor, office_id: int, *, read_only: bool = False) -> bool:
    """Admins everywhere; everyone else in their own office; heads also read their branches."""
    if actor.kind == "admin":
        return True
    if actor.office_id == office_id:
        return True
    return read_only and actor.kind == "head" and actor.office_id in office_lineage(session, office_id)


def require_office(session: Session, actor: Actor, office_id: int, *, read_only: bool = False) -> Office:
    """404 for an unknown office, 403 for one outside the actor's reach."""
    office = keep(session, session.get(Office, office_id))
    if office is None:
        if actor.kind != "admin" and actor.office_id != office_id:
            raise ApiError(403, "forbidden", "You may not act on that office.")
        raise ApiError(404, "not_found", f"Office {office_id} does not exist.")
    if not may_access_office(session, actor, office_id, read_only=read_only):
        raise ApiError(403, "forbidden", "You may not act on that office.")
    return office
