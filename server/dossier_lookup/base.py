"""The narrow interface every result look-up adapter offers (one method), and what it answers.

Each province runs its own one-stop information system, so the queue never speaks to one directly:
`registry.py` picks an adapter by the URL an office configured (`http(s)://` JSON, `file:///…csv`), in
the manner of encode/broadcaster's backends. An adapter answers a status, None for an unknown code, or
raises LookupUnavailable when the other side fails; the caller bounds the time it may take.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol


class LookupUnavailable(Exception):
    """The province's service failed, answered nonsense or could not be reached (a retry may help)."""


@dataclass(frozen=True)
class DossierStatus:
    """A dossier's result as the province reports it."""

    code: str
    status_text: str
    ready: bool
    return_date: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "found": True, "status_text": self.status_text, "ready": self.ready,
                "return_date": self.return_date.isoformat() if self.return_date else None}


class ResultLookup(Protocol):
    """One province's look-up service."""

    async def find(self, code: str) -> DossierStatus | None:
        """The status of dossier `code` (already normalised), None when the province does not know it."""
        ...

    async def aclose(self) -> None:
        """Release connections or files."""
        ...


def parse_return_date(value: Any) -> date | None:
    """`YYYY-MM-DD`, empty or null; anything else is the province's mistake (ValueError)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("return_date is not a string")
    return date.fromisoformat(value.strip()[:10])
