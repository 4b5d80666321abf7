"""The outbox on the real SQLite writer: deliveries are written in the event's transaction (and not for
an event that rolls back), the office's webhooks cost no query per event, and a webhook change is seen
by the very next transaction. Plus the pure parts: backoff, signature, what a body may carry."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlmodel import Session

from counters.engine import events
from counters.models import Office
from server.db import Database
from server.migrate import upgrade
from server.outbox import public_body, webhook_changed
from server.webhook_models import Webhook, WebhookDelivery
from server.webhook_worker import backoff_s, sign
from tests.support.receiver import verify

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


@pytest.fixture()
def db(tmp_path: Path) -> Any:
    database = Database(f"sqlite:///{tmp_path / 'outbox.sqlite3'}")
    upgrade(database.engine)
    yield database
    database.dispose()


def _webhook_queries(db: Database) -> list[str]:
    seen: list[str] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM webhook " in statement or statement.rstrip().endswith("FROM webhook"):
            seen.append(statement)
    return seen


def _office(db: Database) -> int:
    def run(s: Session) -> int:
        o = Office(name="Phường Một", code="P1")
        s.add(o)
        s.flush()
        return o.id or 0
    return db.write_sync(run)[0]


def _event(db: Database, office_id: int, type: str = "ticket.issued", fail: bool = False) -> None:
    def run(s: Session) -> None:
        events.record(s, office_id, type, NOW, {"ticket": {"id": 1, "track_code": "secret-track"}}, actor="test")
        if fail:
            raise RuntimeError("rolled back")
    db.write_sync(run)


def _add_webhook(db: Database, office_id: int, types: list[str]) -> int:
    def run(s: Session) -> int:
        w = Webhook(office_id=office_id, url="http://127.0.0.1:9/x", events=types, secret="x" * 16, created_at=NOW)
        s.add(w)
        s.flush()
        webhook_changed(s)
        return w.id or 0
    return db.write_sync(run)[0]


def _deliveries(db: Database) -> list[tuple[int, int, str]]:
    return db.read_sync(lambda s: [(d.webhook_id, d.event_seq, d.type) for d in s.exec(
        select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars()])  # type: ignore[call-overload, arg-type]


def test_no_query_per_event_when_an_office_has_no_webhook(db: Database) -> None:
    office_id = _office(db)
    queries = _webhook_queries(db)
    for _ in range(5):
        _event(db, office_id)
    assert len(queries) == 1  # loaded once for the database, then remembered
    _event(db, office_id, "counter.updated")
    assert len(queries) == 1 and _deliveries(db) == []


def test_a_new_webhook_is_seen_by_the_next_transaction_and_rollbacks_leave_nothing(db: Database) -> None:
    office_id = _office(db)
    _event(db, office_id)  # the map is loaded: no webhooks
    queries = _webhook_queries(db)
    wid = _add_webhook(db, office_id, ["ticket.issued"])
    _event(db, office_id)
    _event(db, office_id, "ticket.called")  # not a type this webhook takes
    with pytest.raises(RuntimeError):
        _event(db, office_id, fail=True)
    _event(db, office_id)
    assert len(queries) == 1  # reloaded once after the change, not per event
    assert _deliveries(db) == [(wid, 2, "ticket.issued"), (wid, 4, "ticket.issued")]

    def pause(s: Session) -> None:
        w = s.get(Webhook, wid)
        assert w is not None
        w.active = False
        s.add(w)
        webhook_changed(s)
    db.write_sync(pause)
    _event(db, office_id)
    assert len(_deliveries(db)) == 2  # a paused webhook gets no new deliveries


def test_backoff_grows_is_capped_and_jittered() -> None:
    lows = [backoff_s(n, 10, 3600, rand=lambda: 0.0) for n in range(1, 12)]
    highs = [backoff_s(n, 10, 3600, rand=lambda: 1.0) for n in range(1, 12)]
    assert lows[:4] == [5, 10, 20, 40] and highs[:4] == [10, 20, 40, 80]
    assert max(highs) == 3600 and max(lows) == 1800
    # a receiver down for a day is tried at least every hour (the 24 h window itself is the worker's rule)
    assert all(1800 <= backoff_s(n, 10, 3600) <= 3600 for n in range(10, 500))


def test_signature_is_what_a_receiver_recomputes() -> None:
    body = b'{"type":"ticket.issued","seq":1}'
    header = sign("a-shared-secret-123", body)
    assert header.startswith("sha256=") and len(header) == 7 + 64
    assert verify("a-shared-secret-123", body, header)
    assert not verify("another-secret-4567", body, header)
    assert not verify("a-shared-secret-123", body + b" ", header)


def test_bodies_carry_no_track_codes_tokens_or_id_card_facts() -> None:
    msg = {"type": "ticket.issued", "seq": 3, "at": "2026-12-04T08:00:00+07:00", "office_id": 1,
           "data": {"ticket": {"id": 1, "display_number": "A001", "track_code": "t" * 16, "birth_year": 1950,
                               "id_card_hash": "h", "id_checked": True},
                    "print_job": {"token": "x"}, "list": [{"phone": "0900", "ok": 1}]}}
    body = public_body(msg)
    assert body["data"] == {"ticket": {"id": 1, "display_number": "A001", "id_checked": True}, "print_job": {},
                            "list": [{"ok": 1}]}
    assert msg["data"]["ticket"]["track_code"] == "t" * 16  # the log's own copy is untouched
    booked = public_body({**msg, "type": "appointment.booked",
                          "data": {"appointment": {"id": 4, "code": "K7Q2M9", "manage_code": "m" * 20}}})
    assert booked["data"] == {"appointment": {"id": 4}}


def test_any_listed_type_appended_to_the_log_gets_its_delivery(db: Database) -> None:
    """Other rooms add `dossier.linked` and `appointment.*`: the outbox needs nothing from them."""
    office_id = _office(db)
    types = ["dossier.linked", "appointment.booked", "appointment.checked_in", "appointment.cancelled",
             "feedback.received"]
    wid = _add_webhook(db, office_id, types)
    for t in [*types, "alert.raised", "print.job"]:
        _event(db, office_id, t)
    assert [t for _, _, t in _deliveries(db)] == types and {w for w, _, _ in _deliveries(db)} == {wid}
