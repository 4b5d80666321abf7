"""Reports of a scripted day: every figure computed by hand from the script's own clock."""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlmodel import Session, SQLModel

import server.models  # noqa: F401 - all tables
import ticket_printer.models  # noqa: F401
from counters.engine import calling, feedback, issuing, serving, setup
from counters.projections import facts
from counters.context import Ctx, Who
from counters.projections.facts import ReportRollup, TicketFact
from counters.models import Counter, Office, Service, Ticket
from counters.projections.facts import next_start
from counters.projections.reports import histogram_rank, nearest_rank, office_tree, report, split_periods
from server.db import Database

DAY = date(2026, 11, 23)  # a Monday
CLERKS = {1: ("canbo1", "Nguyễn Văn Một"), 2: ("canbo2", "Trần Thị Hai")}


def at(hh: int, mm: int, day: date = DAY) -> datetime:
    """Office-local (UTC+7) wall time of the script as an aware UTC instant."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=timezone(timedelta(hours=7))).astimezone(UTC)


class Script:
    """Drives the engine with explicit times, one transaction per step, as the server would."""

    def __init__(self) -> None:
        self.db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'r.db'}")
        SQLModel.metadata.create_all(self.db.engine)
        clerk1, clerk2 = Who("user:1", 1, None, "Một"), Who("user:2", 2, None, "Hai")
        self.who = {1: clerk1, 2: clerk2}

        def seed(s: Session) -> tuple[int, dict[str, int], dict[int, int]]:
            ctx = Ctx(clerk1, at(7, 0))
            parent = setup.create_office(s, ctx, "TINH", "Trung tâm tỉnh")
            o = setup.create_office(s, ctx, "P", "Phường Một", no_wait_days=["2026-11-24"], no_wait_target_min=10,
                                    parent_id=parent.id)
            self.parent_id = parent.id or 0
            a = setup.create_service(s, ctx, o, {"code": "A", "name": "Chứng thực", "desk": "do_it_now"})
            b = setup.create_service(s, ctx, o, {"code": "B", "name": "Hộ tịch", "target_wait_min": 15,
                                                 "sort_order": 1})
            c1 = setup.create_counter(s, ctx, o, {"number": 1, "name": "Quầy 1", "desk": "do_it_now",
                                                  "service_ids": [a.id]})
            c2 = setup.create_counter(s, ctx, o, {"number": 2, "name": "Quầy 2", "service_ids": [b.id]})
            calling.set_counter_state(s, ctx, o, c1, "open")  # type: ignore[arg-type]
            calling.set_counter_state(s, Ctx(clerk2, at(7, 0)), o, c2, "open")  # type: ignore[arg-type]
            return o.id or 0, {"A": a.id or 0, "B": b.id or 0}, {1: c1.id or 0, 2: c2.id or 0}
        (self.office_id, self.services, self.counters), _ = self.db.write_sync(seed)
        self.tickets: dict[str, int] = {}

    def step(self, when: datetime, clerk: int, fn: Callable[[Session, Ctx, Office], Any]) -> Any:
        def run(s: Session) -> Any:
            return fn(s, Ctx(self.who[clerk], when), s.get(Office, self.office_id))  # type: ignore[arg-type]
        result = self.db.write_sync(run)[0]
        # what the report projector does after each commit, in small batches (a step's events span several)
        self.db.fold_all_reports_sync(limit=3)
        return result

    def issue(self, name: str, code: str, when: datetime) -> None:
        def fn(s: Session, ctx: Ctx, o: Office) -> int:
            return issuing.issue_ticket(s, ctx, o, s.get(Service, self.services[code])).id  # type: ignore[arg-type,return-value]
        self.tickets[name] = self.step(when, 1, fn)

    def next(self, counter: int, when: datetime, close: str = "done") -> None:
        def fn(s: Session, ctx: Ctx, o: Office) -> None:
            calling.call_next(s, ctx, o, s.get(Counter, self.counters[counter]), close_current=close)  # type: ignore[arg-type]
        self.step(when, counter, fn)

    def act(self, action: str, name: str, when: datetime, clerk: int = 1) -> None:
        def fn(s: Session, ctx: Ctx, o: Office) -> None:
            getattr(serving, action)(s, ctx, o, s.get(Ticket, self.tickets[name]))
        self.step(when, clerk, fn)

    def rate(self, name: str, counter: int, rating: str, when: datetime) -> None:
        def fn(s: Session, ctx: Ctx, o: Office) -> None:
            feedback.submit_rating(s, ctx, o, s.get(Ticket, self.tickets[name]),  # type: ignore[arg-type]
                                   tablet_counter_id=self.counters[counter], rating=rating)
        self.step(when, counter, fn)

    def report(self, group_by: str, start: date = DAY, end: date = DAY, office_id: int | None = None,
               **kw: Any) -> dict[str, dict[str, Any]]:
        def run(s: Session) -> list[dict[str, Any]]:
            office = s.get(Office, office_id or self.office_id)
            return report(s, office_tree(s, office), start, end, group_by, clerks=CLERKS, **kw)  # type: ignore[arg-type]
        return {r["key"]: r for r in self.db.read_sync(run)}


@pytest.fixture(scope="module")
def day() -> Script:
    return play_day(Script())


def play_day(s: Script) -> Script:
    """Two days of one office: served with and without a start, rated, no-show, cancelled, a no-wait day."""
    s.issue("A1", "A", at(8, 0))
    s.issue("B1", "B", at(8, 1))
    s.issue("B2", "B", at(8, 2))
    s.next(1, at(8, 5))                     # A1 called: waited 300 s
    s.act("start", "A1", at(8, 6))
    s.act("finish", "A1", at(8, 10))        # service 240 s, issue-to-finish 600 s (= do-it-now target)
    s.rate("A1", 1, "very_satisfied", at(8, 11))
    s.next(2, at(8, 20))                    # B1 called: waited 1140 s (> 15 min)
    s.act("start", "B1", at(8, 21), clerk=2)
    s.next(2, at(8, 31))                    # B1 done (service 600 s); B2 called: waited 1740 s
    s.rate("B1", 2, "unsatisfied", at(8, 32))
    s.act("no_show", "B2", at(8, 33), clerk=2)
    s.issue("B3", "B", at(9, 0))
    s.act("cancel", "B3", at(9, 5))
    s.issue("A2", "A", at(9, 10))
    s.next(1, at(9, 11))                    # A2 called: waited 60 s
    s.act("finish", "A2", at(9, 21))        # no start: service from the call, 600 s; total 660 s
    s.rate("A2", 1, "satisfied", at(9, 22))
    # The next day is a no-wait day (target 10 min): one ticket within it, one over.
    s.issue("C1", "B", at(8, 0, DAY + timedelta(days=1)))
    s.issue("C2", "B", at(8, 0, DAY + timedelta(days=1)))
    s.next(2, at(8, 9, DAY + timedelta(days=1)))
    s.next(2, at(8, 20, DAY + timedelta(days=1)))
    return s


def test_by_service(day: Script) -> None:
    rows = day.report("service")
    assert list(rows) == ["A", "B"]
    a, b = rows["A"], rows["B"]
    assert a["label"] == "Chứng thực"
    assert (a["issued"], a["served"], a["no_show"], a["cancelled"]) == (2, 2, 0, 0)
    assert (a["avg_wait_s"], a["p90_wait_s"], a["avg_service_s"], a["p90_service_s"]) == (180, 300, 420, 600)
    assert a["within_target_pct"] == 100.0
    assert (a["ratings"], a["satisfaction_pct"]) == (2, 100.0)
    assert (a["do_it_now_served"], a["do_it_now_within_target_pct"]) == (2, 50.0)
    assert (b["issued"], b["served"], b["no_show"], b["cancelled"]) == (3, 1, 1, 1)
    assert (b["avg_wait_s"], b["p90_wait_s"], b["avg_service_s"], b["p90_service_s"]) == (1440, 1740, 600, 600)
    assert b["within_target_pct"] == 0.0
    assert (b["ratings"], b["satisfaction_pct"]) == (1, 0.0)
    assert b["do_it_now_served"] == 0 and b["do_it_now_within_target_pct"] is None
    assert b["no_wait_waited"] == 0


def test_by_day_hour_counter_clerk(day: Script) -> None:
    d = day.report("day")[DAY.isoformat()]
    assert (d["issued"], d["served"], d["no_show"], d["cancelled"]) == (5, 3, 1, 1)
    assert (d["avg_wait_s"], d["p90_wait_s"]) == (810, 1740)      # waits 60, 300, 1140, 1740
    assert (d["avg_service_s"], d["p90_service_s"]) == (480, 600)  # services 240, 600, 600
    assert d["within_target_pct"] == 50.0 and d["satisfaction_pct"] == 66.7 and d["label"] == "23/11/2026"
    hours = day.report("hour")
    assert {k: r["issued"] for k, r in hours.items()} == {"08": 3, "09": 2}
    assert hours["08"]["label"] == "08:00–09:00"
    counters = day.report("counter")
    assert {k: (r["issued"], r["served"], r["no_show"]) for k, r in counters.items()} == {"1": (2, 2, 0),
                                                                                           "2": (2, 1, 1)}
    assert counters["2"]["label"] == "Quầy 2"
    clerks = day.report("clerk")
    assert {k: (r["label"], r["served"], r["avg_service_s"]) for k, r in clerks.items()} == {
        "canbo1": ("Nguyễn Văn Một", 2, 420), "canbo2": ("Trần Thị Hai", 1, 600)}


def test_no_wait_day_service_level_and_ranges(day: Script) -> None:
    nxt = DAY + timedelta(days=1)
    d = day.report("day", DAY, nxt)
    assert list(d) == [DAY.isoformat(), nxt.isoformat()]
    second = d[nxt.isoformat()]
    assert (second["no_wait_waited"], second["no_wait_within_target_pct"]) == (2, 50.0)  # 540 s, 1200 s vs 600 s
    assert second["within_target_pct"] == 50.0
    both = day.report("service", DAY, nxt)["B"]
    assert both["issued"] == 5 and both["avg_wait_s"] == round((1140 + 1740 + 540 + 1200) / 4)
    assert day.report("service", nxt + timedelta(days=1), nxt + timedelta(days=3)) == {}


def test_large_selections_read_percentiles_from_histograms(day: Script) -> None:
    d = day.report("day", exact_limit=0)[DAY.isoformat()]
    assert d["p90_wait_s"] == 1800      # 1740 s lies in the 1500-1800 s bucket, the only value there
    assert d["avg_wait_s"] == 810       # sums stay exact
    assert histogram_rank([0, 2, 0]) == 120
    assert nearest_rank([5, 1, 9, 3]) == 9 and nearest_rank([]) is None


def test_years_quarters_months_weeks_and_days_cover_a_range_exactly_once() -> None:
    start = date(2025, 11, 20)
    for length in (0, 3, 9, 40, 100, 200, 365, 400, 731):
        end = start + timedelta(days=length)
        coarse, days = split_periods(start, end)
        covered = [d for period, starts in coarse.items() for s in starts
                   for d in _days(s, next_start(period, s))]
        covered += [d for a, b in days for d in _days(a, b + timedelta(days=1))]
        assert sorted(covered) == _days(start, end + timedelta(days=1))
        assert all(w.weekday() == 0 for w in coarse["w"])
        assert all(m.day == 1 for m in coarse["m"])
        assert all(q.day == 1 and q.month in (1, 4, 7, 10) for q in coarse["q"])
        assert all(y.day == 1 and y.month == 1 for y in coarse["y"])


def _days(a: date, b: date) -> list[date]:
    return [a + timedelta(days=k) for k in range((b - a).days)]


def test_a_rolling_year_is_quarters_and_a_few_months_weeks_and_days_a_calendar_year_one_row() -> None:
    coarse, days = split_periods(date(2025, 11, 22), date(2026, 11, 21))
    assert coarse["y"] == []
    assert coarse["q"] == [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1)]
    assert coarse["m"] == [date(2025, 12, 1), date(2026, 10, 1)]
    assert coarse["w"] == [date(2025, 11, 24), date(2026, 11, 2), date(2026, 11, 9)]
    assert days == [(date(2025, 11, 22), date(2025, 11, 23)), (date(2026, 11, 1), date(2026, 11, 1)),
                    (date(2026, 11, 16), date(2026, 11, 21))]
    coarse, days = split_periods(date(2026, 1, 1), date(2027, 3, 31))  # a calendar year and a quarter
    assert coarse == {"y": [date(2026, 1, 1)], "q": [date(2027, 1, 1)], "m": [], "w": []} and days == []
    assert split_periods(date(2026, 2, 3), date(2026, 2, 4)) == ({"y": [], "q": [], "m": [], "w": []},
                                                                 [(date(2026, 2, 3), date(2026, 2, 4))])
    assert next_start("m", date(2026, 12, 1)) == date(2027, 1, 1)
    assert next_start("q", date(2026, 10, 1)) == date(2027, 1, 1)
    assert next_start("y", date(2026, 1, 1)) == date(2027, 1, 1)


def _dump(s: Session) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    f = TicketFact.__table__  # type: ignore[attr-defined]
    r = ReportRollup.__table__  # type: ignore[attr-defined]
    fact_rows = [tuple(x) for x in s.execute(select(f).order_by(f.c.ticket_id))]
    cols = [c for c in r.columns if c.name != "id"]
    roll_rows = sorted(tuple(x) for x in s.execute(select(*cols)) if any(x[5:]))
    return fact_rows, roll_rows


def test_rebuild_from_the_event_log_equals_the_incremental_rollups(day: Script) -> None:
    before = day.db.read_sync(_dump)
    assert len(before[0]) == 7
    day.db.write_sync(lambda s: facts.rebuild(s))
    after = day.db.read_sync(_dump)
    assert after == before


def test_a_parent_office_reads_its_own_rollup_rows_holding_its_branch(day: Script) -> None:
    for group_by in ("day", "hour", "service", "clerk"):
        assert day.report(group_by, office_id=day.parent_id) == day.report(group_by)
    counters = day.report("counter", office_id=day.parent_id)
    assert sorted(counters) == ["P:1", "P:2"] and counters["P:2"]["label"] == "Phường Một – Quầy 2"
    assert counters["P:2"]["p90_wait_s"] == day.report("counter")["2"]["p90_wait_s"]


def test_a_range_of_weeks_and_months_reads_the_same_as_its_days(day: Script) -> None:
    wide = day.report("service", DAY - timedelta(days=40), DAY + timedelta(days=40))
    assert wide["A"]["issued"] == 2 and wide["B"]["issued"] == 5
    assert wide["B"]["avg_wait_s"] == day.report("service", DAY, DAY + timedelta(days=1))["B"]["avg_wait_s"]
