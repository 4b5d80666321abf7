"""Time in the queue: an injectable clock, UTC storage, and the office day.

Everything is stored in UTC; the office's timezone decides what "today" means and how times are shown.
Statistics and tests take `now` as an argument instead of reading the wall clock.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.types import DateTime, TypeDecorator

Clock = Callable[[], datetime]
DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"


def utcnow() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=256)
def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def valid_timezone(name: str) -> bool:
    try:
        zone(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def office_day(at: datetime, tz: str) -> date:
    """The office-local calendar date of an instant: numbering and reports restart on it."""
    return at.astimezone(zone(tz)).date()


def local(at: datetime | None, tz: str) -> datetime | None:
    return at.astimezone(zone(tz)) if at is not None else None


def iso(at: datetime | None, tz: str = DEFAULT_TIMEZONE) -> str | None:
    """ISO 8601 with the office's offset, seconds precision (the contract's timestamp form)."""
    if at is None:
        return None
    return at.astimezone(zone(tz)).isoformat(timespec="seconds")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC (SQLite has no zones) and returns them aware again."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants where an office-local day starts and ends."""
    from datetime import time as _time, timedelta
    start = datetime.combine(day, _time(0), tzinfo=zone(tz))
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)
