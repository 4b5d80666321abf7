"""The rating rules in counters.engine.feedback on an in-memory database with an injected clock."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine
from sqlmodel import Session, SQLModel, select

from counters.engine import events
from counters.context import Ctx, Who
from counters.errors import Forbidden, InvalidValue, StateConflict
from counters.engine.feedback import REASONS, check_values, submit_rating
from counters.models import Counter, Event, Feedback, Office, OfficeSeq, Service, Ticket

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
TABLET = Who("device:7", device_id=7)


@pytest.fixture()
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        office = Office(id=1, name="Phường Thử", code="T1")
        s.add_all([office, OfficeSeq(office_id=1), Service(id=1, office_id=1, code="B", name="Hộ tịch"),
                   Counter(id=1, office_id=1, number=1, name="Quầy 1"),
                   Counter(id=2, office_id=1, number=2, name="Quầy 2")])
        s.commit()
        yield s


def _ticket(s: Session, n: int, status: str = "done", counter_id: int | None = 1,
            finished: datetime | None = NOW) -> Ticket:
    t = Ticket(office_id=1, service_id=1, issued_service_id=1, office_day=date(2026, 11, 23), number=n,
               display_number=f"B{n:03d}", status=status, issued_at=NOW - timedelta(minutes=20),
               queue_at=NOW - timedelta(minutes=20), counter_id=counter_id, clerk_id=3,
               finished_at=finished if status == "done" else None, track_code=f"code{n:012d}")
    s.add(t)
    s.commit()
    return t


def _rate(s: Session, t: Ticket, rating: str = "satisfied", at: datetime = NOW, counter: int | None = 1,
          **kw: object) -> Feedback:
    office = s.get(Office, 1)
    assert office is not None
    return submit_rating(s, Ctx(TABLET, at), office, t, tablet_counter_id=counter, rating=rating, **kw)  # type: ignore[arg-type]


def test_a_rating_records_who_and_emits_feedback_received(session: Session) -> None:
    t = _ticket(session, 1)
    fb = _rate(session, t, "unsatisfied", at=NOW + timedelta(minutes=15), reasons=["guidance"], comment=" ok ")
    messages = events.seal(session)
    session.commit()
    assert (fb.counter_id, fb.clerk_id, fb.device_id, fb.reasons, fb.comment) == (1, 3, 7, ["guidance"], "ok")
    assert [m["type"] for m in messages] == ["feedback.received"]
    assert messages[0]["data"]["counter"]["id"] == 1 and messages[0]["data"]["feedback"]["rating"] == "unsatisfied"


@pytest.mark.parametrize("case, error, code", [
    ("other_counter", Forbidden, "wrong_counter"),
    ("unbound_tablet", Forbidden, "wrong_counter"),
    ("not_done", StateConflict, "ticket_not_done"),
    ("late", StateConflict, "rating_window_closed"),
    ("off_scale", InvalidValue, "invalid_rating"),
    ("second", StateConflict, "already_rated"),
])
def test_refusals_write_nothing(session: Session, case: str, error: type[Exception], code: str) -> None:
    t = _ticket(session, 2, status="serving" if case == "not_done" else "done")
    if case == "second":
        _rate(session, t)
        events.seal(session)
        session.commit()
    before = (len(session.exec(select(Feedback)).all()), len(session.exec(select(Event)).all()))
    kw: dict = {"other_counter": {"counter": 2}, "unbound_tablet": {"counter": None},
                "late": {"at": NOW + timedelta(minutes=15, seconds=1)},
                "off_scale": {"rating": "neutral"}}.get(case, {})
    with pytest.raises(error) as info:
        _rate(session, t, **kw)
    assert info.value.code == code  # type: ignore[attr-defined]
    assert not events.pending(session)
    session.rollback()
    assert (len(session.exec(select(Feedback)).all()), len(session.exec(select(Event)).all())) == before


def test_values_follow_the_office_scale_and_the_fixed_reasons() -> None:
    office = Office(name="x", code="x", rating_scale=5)
    assert check_values(office, "neutral", None, None) == ([], None)
    assert check_values(office, "very_unsatisfied", list(REASONS) + ["attitude"], "") == (list(REASONS), None)
    with pytest.raises(InvalidValue) as info:
        check_values(office, "very_unsatisfied", ["price"], None)
    assert info.value.code == "invalid_reason"
    with pytest.raises(InvalidValue) as info:
        check_values(office, "satisfied", None, "x" * 501)
    assert info.value.code == "comment_too_long"
    office.rating_scale = 3
    for level in ("neutral", "very_unsatisfied", "SATISFIED", ""):
        with pytest.raises(InvalidValue):
            check_values(office, level, None, None)
