"""What a fold of the whole log from scratch gives, to compare a projector's work against."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from counters.projections import facts
from server.db import Database
from tests.counters.test_reports import _dump


def scratch(db: Database) -> Any:
    """The facts and rollups `facts.rebuild` gives (in a transaction rolled back, so nothing changes)."""
    with Session(db.engine) as s, s.begin():
        facts.rebuild(s)
        built = _dump(s)
        s.rollback()
    return built
