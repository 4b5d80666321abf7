"""The live model: applying a day's events gives the model a load from the tables gives, idempotently."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from counters.engine import calling, events, issuing, serving
from counters.context import Ctx
from counters.models import Counter, Event, Office, Service, Ticket
from counters.projections import live_model
from counters.projections.live_model import Applied, OfficeLive
from tests.counters.test_reports import Script, at


def _messages(s: Script, after: int) -> list[dict[str, Any]]:
    def run(session: Session) -> list[dict[str, Any]]:
        office = session.get(Office, s.office_id)
        assert office is not None
        return [events.to_message(e, office.timezone) for e in session.exec(
            select(Event).where(Event.office_id == s.office_id, col(Event.seq) > after).order_by(col(Event.seq)))]
    return s.db.read_sync(run)


def _load(s: Script, now: Any) -> OfficeLive:
    model = s.db.read_sync(lambda session: live_model.load(session, s.office_id, now))
    assert model is not None
    return model


def _day(s: Script) -> None:
    """A morning with every move the queue knows: priority, calls, a recall, a transfer to a service and
    to a counter, a no-show, a cancel, a pause, finishes."""
    for i in range(4):
        s.issue(f"B{i}", "B", at(8, i))
    s.issue("A0", "A", at(8, 5))

    def elderly(session: Session, ctx: Ctx, o: Office) -> int:
        t = issuing.issue_ticket(session, ctx, o, session.get(Service, s.services["B"]),  # type: ignore[arg-type]
                                 priority="elderly")
        return t.id or 0
    s.tickets["P0"] = s.step(at(8, 6), 1, elderly)
    s.next(2, at(8, 10))                       # P0 (priority first)
    s.step(at(8, 11), 2, lambda ses, ctx, o: calling.recall(ses, ctx, o, ses.get(Counter, s.counters[2])))
    s.next(2, at(8, 20))                       # P0 done (a 9-minute service), B0 called
    s.step(at(8, 21), 2, lambda ses, ctx, o: serving.transfer(ses, ctx, o, ses.get(Ticket, s.tickets["B0"]),
                                                            service=ses.get(Service, s.services["A"])))
    s.next(2, at(8, 22))                       # B1
    s.step(at(8, 23), 2, lambda ses, ctx, o: serving.no_show(ses, ctx, o, ses.get(Ticket, s.tickets["B1"])))
    s.act("cancel", "B3", at(8, 24))
    s.step(at(8, 25), 1, lambda ses, ctx, o: serving.transfer(ses, ctx, o, ses.get(Ticket, s.tickets["B2"]),
                                                               counter=ses.get(Counter, s.counters[1])))
    s.next(1, at(8, 26))                       # A0 or B0 (service A), at the do-it-now counter
    s.next(1, at(8, 40))
    s.step(at(8, 41), 1, lambda ses, ctx, o: calling.set_counter_state(ses, ctx, o, ses.get(Counter, s.counters[1]),
                                                                        "paused"))
    s.issue("B4", "B", at(8, 42))


def test_a_days_events_applied_equal_a_load_from_the_tables() -> None:
    s = Script()
    start = _load(s, at(7, 30))
    _day(s)
    msgs = _messages(s, start.seq)
    assert [m["seq"] for m in msgs] == list(range(start.seq + 1, start.seq + 1 + len(msgs)))
    assert "queue.updated" not in {m["type"] for m in msgs}, "the log holds actions only"
    for m in msgs:
        assert start.apply(m) in (Applied.APPLIED, Applied.OLD)
    loaded = _load(s, at(8, 45))
    assert start.state() == loaded.state()
    assert loaded.waiting, "the comparison covers a queue"
    assert loaded.samples, "and a service time learned (P0's, after its recall)"
    now = at(8, 45)
    for tid in loaded.waiting:
        assert start.figures(tid, now) == loaded.figures(tid, now)
    assert start.summary(now) == loaded.summary(now)


def test_apply_is_idempotent_by_seq_and_says_when_it_missed_an_event() -> None:
    s = Script()
    model = _load(s, at(7, 30))
    s.issue("B0", "B", at(8, 0))
    s.issue("B1", "B", at(8, 1))
    first, second = _messages(s, model.seq)
    assert model.apply(second) is Applied.GAP and model.seq == first["seq"] - 1, "nothing applied past a hole"
    assert model.apply(first) is Applied.APPLIED
    assert model.apply(first) is Applied.OLD
    assert model.apply(second) is Applied.APPLIED and model.apply(second) is Applied.OLD
    assert list(model.waiting) == [s.tickets["B0"], s.tickets["B1"]]


def test_figures_follow_priority_queue_time_and_open_counters() -> None:
    s = Script()
    for i in range(3):
        s.issue(f"B{i}", "B", at(8, i))
    model = _load(s, at(8, 5))
    now = at(8, 5)
    places = [model.figures(s.tickets[f"B{i}"], now) for i in range(3)]
    assert [f.position for f in places] == [0, 1, 2]
    assert [f.expected_s for f in places] == [300, 600, 900]  # nothing learned yet: 5 minutes a place
    (b,) = [r for r in model.summary(now) if r["code"] == "B"]
    assert b["waiting"] == 3 and b["estimated_wait_s"] == places[-1].expected_s
    assert b["longest_wait_s"] == 5 * 60
    s.step(now, 2, lambda ses, ctx, o: calling.set_counter_state(ses, ctx, o, ses.get(Counter, s.counters[2]),
                                                                  "paused"))
    for m in _messages(s, model.seq):
        model.apply(m)
    f = model.figures(s.tickets["B2"], now + timedelta(seconds=1))
    assert f.position == 2 and f.expected_s is None and not f.serving_now, "no open counter: no time promised"


def test_a_refined_frame_teaches_every_model_its_waits_per_place() -> None:
    s = Script()
    for i in range(4):
        s.issue(f"B{i}", "B", at(8, i))
    model = _load(s, at(8, 5))
    b = s.services["B"]
    model.learn_frame([{"id": b, "waiting": 4, "estimated_wait_s": 1200, "estimated_wait_range_s": [600, 2000]}],
                      at(8, 5))
    f = model.figures(s.tickets["B1"], at(8, 6))
    assert f.position == 1 and f.expected_s == 600 and f.range_s == (300, 1000)
    stale = model.figures(s.tickets["B1"], at(8, 5) + live_model.RATES_MAX_AGE + timedelta(seconds=1))
    assert stale.expected_s == 600 and stale.range_s == (300, 960), "an old prediction gives way to the default"
