"""Tables of the network edge: staff users, paired devices, pairing codes and access tokens."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlmodel import Field, SQLModel

from counters.clock import UTCDateTime


def _when(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable))


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(index=True, unique=True)
    full_name: str = ""
    role: str  # admin | head | clerk
    office_id: int | None = Field(default=None, foreign_key="office.id", index=True)
    password_hash: str
    active: bool = True
    created_at: datetime | None = _when()


class Device(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    office_id: int = Field(foreign_key="office.id", index=True)
    kind: str  # kiosk | display | tablet | printer
    name: str
    counter_id: int | None = None
    printer_id: int | None = None
    online: bool = False
    last_seen: datetime | None = _when()
    revoked: bool = False
    created_at: datetime | None = _when()


class Pairing(SQLModel, table=True):
    """A device waiting for a head to approve its code; the token is handed out once, then forgotten."""

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(index=True, unique=True)
    kind: str
    code: str = Field(index=True)
    status: str = "pending"  # pending | approved | claimed | expired
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    office_id: int | None = None
    device_id: int | None = None
    token: str | None = None
    created_at: datetime | None = _when()


class AuthToken(SQLModel, table=True):
    """Only a hash of each token is stored, so a leaked database does not leak sessions."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(index=True, unique=True)
    user_id: int | None = Field(default=None, index=True)
    device_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    expires_at: datetime | None = _when()
    revoked: bool = False
