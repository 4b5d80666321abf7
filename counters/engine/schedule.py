"""When an office issues tickets, and which days are no-wait days.

`opening_hours` is null (always open) or a map weekday -> list of ["HH:MM","HH:MM"] windows; a missing or
empty day is closed. `extra_sessions` adds dated windows (Saturday mornings, evening sessions).
`no_wait_days` mixes weekday names ("fri") and dates ("2026-11-27").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from counters.clock import zone
from counters.errors import InvalidValue

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class Window:
    start: time
    end: time
    label: str | None = None

    def contains(self, t: time) -> bool:
        return self.start <= t < self.end

    def as_pair(self) -> list[str]:
        return [self.start.strftime("%H:%M"), self.end.strftime("%H:%M")]


def _parse_window(pair: Any, where: str) -> Window:
    if isinstance(pair, dict):
        pair = [pair.get("start"), pair.get("end")]
    if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(p, str) for p in pair)):
        raise InvalidValue(f"{where}: a window is [\"HH:MM\", \"HH:MM\"]", field=where)
    if not all(_HHMM.match(p) for p in pair):
        raise InvalidValue(f"{where}: times are HH:MM (00:00-23:59)", field=where)
    start, end = (time.fromisoformat(p) for p in pair)
    if end <= start:
        raise InvalidValue(f"{where}: the window ends before it starts", field=where)
    return Window(start, end)


def validate_opening_hours(value: Any) -> dict[str, list[list[str]]] | None:
    """Normalise opening hours or raise InvalidValue naming the bad day."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidValue("opening_hours is null or an object of weekday -> windows", field="opening_hours")
    out: dict[str, list[list[str]]] = {}
    for day, windows in value.items():
        if day not in WEEKDAYS:
            raise InvalidValue(f"opening_hours: unknown weekday {day!r}; use {', '.join(WEEKDAYS)}",
                               field="opening_hours")
        if not isinstance(windows, list):
            raise InvalidValue(f"opening_hours.{day} is a list of windows", field="opening_hours")
        out[day] = [_parse_window(w, f"opening_hours.{day}").as_pair() for w in windows]
    return out


def validate_extra_sessions(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidValue("extra_sessions is a list of {date, start, end, label?}", field="extra_sessions")
    out = []
    for i, s in enumerate(value):
        where = f"extra_sessions[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("date"), str):
            raise InvalidValue(f"{where} needs a date YYYY-MM-DD", field="extra_sessions")
        try:
            d = date.fromisoformat(s["date"])
        except ValueError:
            raise InvalidValue(f"{where}.date is not a date YYYY-MM-DD", field="extra_sessions") from None
        w = _parse_window([s.get("start"), s.get("end")], where)
        label = s.get("label")
        if label is not None and not isinstance(label, str):
            raise InvalidValue(f"{where}.label is text", field="extra_sessions")
        out.append({"date": d.isoformat(), "start": w.as_pair()[0], "end": w.as_pair()[1], "label": label})
    return out


def validate_no_wait_days(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidValue("no_wait_days is a list of weekdays (\"fri\") and dates (\"2026-11-27\")",
                           field="no_wait_days")
    out = []
    for v in value:
        if isinstance(v, str) and v.lower() in WEEKDAYS:
            out.append(v.lower())
            continue
        try:
            out.append(date.fromisoformat(v).isoformat())
        except (TypeError, ValueError):
            raise InvalidValue(f"no_wait_days: {v!r} is neither a weekday nor a date YYYY-MM-DD",
                               field="no_wait_days") from None
    return out


def windows_on(day: date, opening_hours: dict[str, Any] | None,
               extra_sessions: list[dict[str, Any]] | None) -> list[Window] | None:
    """The issuing windows of a day, or None when the office is always open."""
    if opening_hours is None:
        return None
    weekly = [_parse_window(w, "opening_hours") for w in opening_hours.get(WEEKDAYS[day.weekday()], [])]
    extra = [Window(time.fromisoformat(s["start"]), time.fromisoformat(s["end"]), s.get("label"))
             for s in (extra_sessions or []) if s["date"] == day.isoformat()]
    return sorted(weekly + extra, key=lambda w: w.start)


def is_issuing_open(at: datetime, tz: str, opening_hours: dict[str, Any] | None,
                    extra_sessions: list[dict[str, Any]] | None) -> tuple[bool, list[Window] | None]:
    """Whether tickets may be issued at `at`, with the day's windows to show a citizen."""
    t = at.astimezone(zone(tz))
    windows = windows_on(t.date(), opening_hours, extra_sessions)
    if windows is None:
        return True, None
    return any(w.contains(t.time()) for w in windows), windows


def is_no_wait_day(day: date, no_wait_days: list[str] | None) -> bool:
    days = no_wait_days or []
    return WEEKDAYS[day.weekday()] in days or day.isoformat() in days
