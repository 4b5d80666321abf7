"""Daily ticket numbers: one atomic upsert per issue, so two kiosks never get the same number.

The counter row survives restarts and crashes (it commits with the ticket), and a new office day starts
a new row at the service's `number_start`.
"""
from __future__ import annotations

import string
from datetime import date

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from counters.errors import InvalidValue
from counters.models import DailyNumber, Service

_ALLOWED_FIELDS = {"code", "n"}


def claim_number(session: Session, service: Service, day: date) -> int:
    """Return the next number of `service` on `day`, claimed inside the caller's transaction."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DailyNumber).values(service_id=service.id, office_day=day, last_number=service.number_start)
    upsert = stmt.on_conflict_do_update(
        index_elements=["service_id", "office_day"],
        set_={"last_number": DailyNumber.last_number + 1},
    ).returning(col(DailyNumber.last_number))
    return int(session.execute(upsert).scalar_one())


def validate_number_format(fmt: str) -> str:
    """Refuse a format that names unknown fields or cannot render, with a message naming the fix."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(fmt) if f is not None}
    except ValueError as e:
        raise InvalidValue(f"number_format is not a valid format: {e}", field="number_format") from None
    unknown = {f.split(".")[0].split("[")[0] for f in fields} - _ALLOWED_FIELDS
    if unknown or "n" not in fields:
        raise InvalidValue("number_format may use {code} and must use {n}, e.g. \"{code}{n:03d}\"",
                           field="number_format")
    try:
        sample = fmt.format(code="A", n=7)
    except (ValueError, TypeError, IndexError, KeyError) as e:
        raise InvalidValue(f"number_format cannot render: {e}", field="number_format") from None
    if not sample or len(sample) > 16:
        raise InvalidValue("number_format renders to 1-16 characters", field="number_format")
    return fmt


def format_number(fmt: str, code: str, n: int) -> str:
    return fmt.format(code=code, n=n)
