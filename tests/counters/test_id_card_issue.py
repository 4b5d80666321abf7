"""Issuing with a chip ID card, in the queue engine with an injected clock: the holder's age counts on the
office's today (not the server's UTC date), a chosen priority is kept, and only the keyed hash and the
birth year reach the ticket and its event."""
from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, SQLModel, select

import server.models  # noqa: F401 - all tables
import ticket_printer.models  # noqa: F401
from counters.engine import id_card, issuing, setup
from counters.context import Ctx, Who
from counters.models import Event
from server.db import Database

# 17:30 UTC on Sunday 22 November is 00:30 on Monday 23 November in Hanoi
NOW = datetime(2026, 11, 22, 17, 30, tzinfo=UTC)
ALL_DAY = {d: [["00:00", "23:59"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
KEY = "k" * 32


def qr(born: str) -> str:
    return f"001066012345|012345678|Nguyễn Văn Bình|{born}|Nam|Số 2 phố Mẫu, Hà Nội|10082021"


def test_age_is_counted_on_the_office_day_and_only_hash_and_year_are_kept() -> None:
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'c.db'}")
    SQLModel.metadata.create_all(db.engine)
    ctx = Ctx(Who("device:1", 1, None, "Kiosk"), NOW)

    def run(s):  # type: ignore[no-untyped-def]
        office = setup.create_office(s, ctx, "H", "Phường", opening_hours=ALL_DAY)
        svc = setup.create_service(s, ctx, office, {"code": "A", "name": "A"})
        out = {}
        for label, born, priority in (("sixty_today_in_hanoi", "23111966", None),
                                      ("sixty_tomorrow", "24111966", None),
                                      ("chosen", "01011940", "pregnant")):
            card = id_card.parse(qr(born))
            t = issuing.issue_ticket(s, ctx, office, svc, priority=priority, id_card=card,
                                     id_card_hash=id_card.keyed_hash(KEY, card.number))
            s.flush()
            out[label] = (t.priority, t.id_checked, t.id_card_hash, t.birth_year)
        plain = issuing.issue_ticket(s, ctx, office, svc)
        out["plain"] = (plain.priority, plain.id_checked, plain.id_card_hash, plain.birth_year)
        return out
    out, messages = db.write_sync(run)
    with Session(db.engine) as s:
        stored = [json.dumps(e.data, ensure_ascii=False) for e in s.exec(select(Event))]
    assert stored
    events = stored + [json.dumps(m, ensure_ascii=False) for m in messages]
    digest = id_card.keyed_hash(KEY, "001066012345")
    assert out["sixty_today_in_hanoi"] == ("elderly", True, digest, 1966)
    assert out["sixty_tomorrow"] == (None, True, digest, 1966)
    assert out["chosen"] == ("pregnant", True, digest, 1940)
    assert out["plain"] == (None, False, None, None)
    joined = "\n".join(events)
    assert '"id_checked": true' in joined
    for secret in ("001066012345", "012345678", "Bình", "phố Mẫu", digest):
        assert secret not in joined
