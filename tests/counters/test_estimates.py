"""Expected waits from the prediction, their cache, and the live view's staffing advice and alerts."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlmodel import Session

from counters.clock import office_day
from counters.insight.estimates import estimate_queue
from counters.projections import live_model
from counters.projections.live import live_state
from counters.models import Event, Office
from tests.counters.test_reports import DAY, Script, at


def _surge() -> Script:
    s = Script()
    for i in range(6):                       # a few services to learn from: about 10 minutes each
        s.issue(f"L{i}", "B", at(7, 30 + i))
    for i in range(6):
        s.next(2, at(7, 40) + timedelta(minutes=10 * i))
    s.next(2, at(8, 40))                    # the sixth finishes at 08:40
    for i in range(20):                      # then a surge: 20 people in 10 minutes, one counter
        s.issue(f"S{i}", "B", at(8, 41) + timedelta(seconds=30 * i))
    return s


def _estimate(s: Script, when: object) -> object:
    def run(session: Session) -> object:
        office = session.get(Office, s.office_id)
        assert office is not None
        return estimate_queue(session, office, office_day(when, office.timezone), when)  # type: ignore[arg-type]
    return s.db.read_sync(run)


def test_every_waiting_ticket_gets_a_position_an_expected_wait_and_a_range() -> None:
    s = _surge()
    now = at(8, 52)
    est = _estimate(s, now)
    ids = [s.tickets[f"S{i}"] for i in range(20)]
    assert [est.positions[t] for t in ids] == list(range(20))  # type: ignore[attr-defined]
    waits = [est.waits[t] for t in ids]  # type: ignore[attr-defined]
    assert all(w is not None for w in waits)
    assert waits == sorted(waits) and waits[-1] > 2 * 3600   # 20 x ~10 minutes at one counter
    for t in ids:
        low, high = est.ranges[t]  # type: ignore[attr-defined]
        assert low <= est.waits[t] <= high  # type: ignore[attr-defined]
    b = next(x for x in est.services if x["code"] == "B")  # type: ignore[attr-defined]
    assert b["waiting"] == 20 and b["estimated_wait_s"] == waits[-1]
    assert b["estimated_wait_range_s"] == list(est.ranges[ids[-1]])  # type: ignore[attr-defined]


def test_an_unchanged_queue_counts_its_prediction_down() -> None:
    s = _surge()
    first = _estimate(s, at(8, 52))
    later = _estimate(s, at(8, 52) + timedelta(seconds=10))
    t = s.tickets["S19"]
    assert later.waits[t] == first.waits[t] - 10  # type: ignore[attr-defined]
    s.issue("S20", "B", at(8, 52) + timedelta(seconds=20))   # the queue changed: a fresh prediction
    fresh = _estimate(s, at(8, 52) + timedelta(seconds=20))
    assert s.tickets["S20"] in fresh.waits  # type: ignore[attr-defined]


def test_events_carry_no_estimate_and_the_log_no_queue_updates() -> None:
    """An action writes its events only: figures are projections (the live model), not part of the log."""
    s = _surge()

    def run(session: Session) -> tuple[list[Event], object]:
        return (list(session.execute(select(Event).where(Event.office_id == s.office_id)
                                     .order_by(Event.seq)).scalars()),
                live_model.load(session, s.office_id, at(8, 52)))
    log, model = s.db.read_sync(run)
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert "queue.updated" not in {e.type for e in log}
    issued = log[-1]
    assert issued.type == "ticket.issued"
    ticket = issued.data["ticket"]  # type: ignore[index]
    assert ticket["position"] is None and ticket["estimated_wait_s"] is None
    f = model.figures(s.tickets["S19"], at(8, 52))  # type: ignore[attr-defined]
    assert f.position == 19 and f.expected_s is not None and f.expected_s > 0 and f.range_s is not None
    assert f.range_s[0] <= f.expected_s <= f.range_s[1]
    (b,) = [x for x in model.summary(at(8, 52)) if x["code"] == "B"]  # type: ignore[attr-defined]
    assert b["waiting"] == 20 and b["estimated_wait_range_s"][1] >= b["estimated_wait_s"]


def test_live_view_alerts_in_a_surge_and_advises_no_more_counters_than_exist() -> None:
    s = _surge()

    def run(session: Session) -> dict:
        office = session.get(Office, s.office_id)
        return live_state(session, office, at(8, 52))  # type: ignore[arg-type]
    live = s.db.read_sync(run)
    standard = next(g for g in live["staffing"]["groups"] if g["group"] == "standard")
    # Erlang C asks for 3 or more, but counter 2 is the only counter that serves B: never advise more
    assert standard["open_counters"] == 1 and standard["suggested_open_counters"] == 1
    assert standard["counters_able"] == 1
    assert live["staffing"]["suggested_open_counters"] <= 2  # the office has two counters
    kinds = {a["kind"] for a in live["alerts"]}
    assert "wait_over_target" in kinds and "staffing" not in kinds
    over = next(a for a in live["alerts"] if a["kind"] == "wait_over_target")
    assert over["code"] == "B" and over["estimated_wait_s"] > over["target_wait_s"] == 900
    assert sum(h["issued"] for h in live["charts"]["hours"]) == 26
    assert sum(b["count"] for b in live["charts"]["wait_buckets"]) == 6
    assert DAY.isoformat() in live["at"]
