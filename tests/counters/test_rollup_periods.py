"""Quarter and year rollups: written by the production fold, rebuilt from the log, and filled by
migrations 0004/0005 for history rolled up before them; any range reads the same as the fold of its facts."""
from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import delete, select
from sqlmodel import Session

import server.models  # noqa: F401 - all tables
import ticket_printer.models  # noqa: F401
from counters.engine import calling, issuing, serving, setup
from counters.projections import facts
from counters.context import Ctx, Who
from counters.projections.facts import METRICS, ReportRollup, Settings, TicketFact, add_into, next_start
from counters.models import Counter, Office, Service, Ticket
from counters.projections.reports import Piece, cover, office_tree, plan, report, rollup_sums
from server.db import Database
from server.migrate import alembic_config, upgrade

# Office days over five months and two quarters (Q3, Q4 2026); each: 3 tickets, 2 served, 1 no-show.
DAYS = (date(2026, 8, 3), date(2026, 8, 31), date(2026, 9, 15), date(2026, 10, 1), date(2026, 10, 30),
        date(2026, 11, 23), date(2026, 12, 31))
CLERK = Who("user:1", 1, None, "Một")


def at(day: date, hh: int, mm: int) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=timezone(timedelta(hours=7))).astimezone(UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database at revision 0003 (the schema before quarter rows)."""
    if request.param == "sqlite":
        yield f"sqlite:///{Path(tempfile.mkdtemp()) / 'q.db'}"
        return
    pg = os.environ.get("QMS_TEST_POSTGRES_URL")
    if not pg:
        pytest.skip("QMS_TEST_POSTGRES_URL is not set")
    import psycopg
    name = f"qms_test_q_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{pg.rpartition('/')[0]}/{name}"
    finally:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _play_history(db: Database) -> int:
    """Tickets on every day of DAYS through the engine (the production write path); returns the office id."""
    def seed(s: Session) -> tuple[int, int, int]:
        ctx = Ctx(CLERK, at(DAYS[0], 7, 0))
        parent = setup.create_office(s, ctx, "TINH", "Tỉnh")
        o = setup.create_office(s, ctx, "P", "Phường", parent_id=parent.id)
        svc = setup.create_service(s, ctx, o, {"code": "B", "name": "Hộ tịch"})
        c = setup.create_counter(s, ctx, o, {"number": 1, "name": "Quầy 1", "service_ids": [svc.id]})
        calling.set_counter_state(s, ctx, o, c, "open")  # type: ignore[arg-type]
        return o.id or 0, svc.id or 0, c.id or 0
    (office_id, service_id, counter_id), _ = db.write_sync(seed)

    def step(when: datetime, fn: Any) -> Any:
        result = db.write_sync(lambda s: fn(s, Ctx(CLERK, when), s.get(Office, office_id)))[0]
        db.fold_all_reports_sync()  # what the report projector does after each commit
        return result

    for i, day in enumerate(DAYS):
        tickets = [step(at(day, 8, k), lambda s, ctx, o: issuing.issue_ticket(s, ctx, o, s.get(Service, service_id)).id)
                   for k in range(3)]
        for k, tid in enumerate(tickets):
            step(at(day, 8, 10 + 7 * k + i), lambda s, ctx, o: calling.call_next(s, ctx, o, s.get(Counter, counter_id)))
            if k == 1:
                step(at(day, 8, 12 + 7 * k + i), lambda s, ctx, o, t=tid: serving.no_show(s, ctx, o, s.get(Ticket, t)))
        step(at(day, 11, 0), lambda s, ctx, o, t=tickets[-1]: serving.finish(s, ctx, o, s.get(Ticket, t)))
    return office_id


def _rows(s: Session, period: str | None = None) -> dict[tuple[Any, ...], tuple[int, ...]]:
    t = ReportRollup.__table__  # type: ignore[attr-defined]
    q = select(t.c.office_id, t.c.dim, t.c.period, t.c.start, t.c.key, *[t.c[m] for m in METRICS])
    if period:
        q = q.where(t.c.period == period)
    return {tuple(r[:5]): tuple(r[5:]) for r in s.execute(q)}


def test_migrations_fill_quarters_and_years_exactly_as_the_production_fold_writes_them(url: str) -> None:
    """History played at the newest revision, then its quarter and year rows dropped and the database
    stamped at 0003, as an office rolled up before revisions 0004 and 0005 has it (the data those two
    fill; the columns later revisions add stay, since today's engine writes them)."""
    db = Database(url)
    upgrade(db.engine)
    _play_history(db)
    written = db.read_sync(lambda s: _rows(s, "q"))
    assert {(k[0], k[3]) for k in written} == {(o, q) for o in (1, 2) for q in (date(2026, 7, 1), date(2026, 10, 1))}
    assert written[(2, "counter", "q", date(2026, 10, 1), 1)][:4] == (12, 8, 4, 0)  # issued, served, no-shows
    years = db.read_sync(lambda s: _rows(s, "y"))
    assert years[(2, "clerk", "y", date(2026, 1, 1), 1)][:4] == (21, 14, 7, 0)
    everything = db.read_sync(_rows)

    def forget(s: Session) -> None:  # as an office rolled up before revisions 0004 and 0005 has it
        t = ReportRollup.__table__  # type: ignore[attr-defined]
        s.execute(delete(t).where(t.c.period.in_(["q", "y"])))
    db.write_sync(forget)
    assert db.read_sync(lambda s: _rows(s, "q")) == {} == db.read_sync(lambda s: _rows(s, "y"))
    cfg = alembic_config(url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.stamp(cfg, "0003")
        command.upgrade(cfg, "0005")  # the two data migrations, exactly as they run on an upgrade
        command.stamp(cfg, "head")
    assert db.read_sync(lambda s: _rows(s, "q")) == written
    assert db.read_sync(lambda s: _rows(s, "y")) == years
    assert db.read_sync(_rows) == everything
    db.write_sync(lambda s: facts.rebuild(s))  # and the log alone gives the same rows
    assert db.read_sync(_rows) == everything
    db.dispose()


@pytest.fixture(scope="module")
def history() -> Iterator[tuple[Database, int]]:
    """DAYS played through the engine on a database at the newest revision (SQLite)."""
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'h.db'}")
    upgrade(db.engine)
    yield db, _play_history(db)
    db.dispose()


def test_a_range_of_whole_quarters_reads_the_same_as_its_days(history: tuple[Database, int]) -> None:
    db, office_id = history
    clerks = {1: ("canbo1", "Một")}

    def run(start: date, end: date, group_by: str, office: int) -> Any:
        def fn(s: Session) -> Any:
            return report(s, office_tree(s, s.get(Office, office)), start, end, group_by,  # type: ignore[arg-type]
                          clerks=clerks, exact_limit=0)
        return db.read_sync(fn)

    # Each day on its own, summed by hand, against a range holding Q3 and Q4 whole (and days around them).
    by_day = run(DAYS[0], DAYS[-1], "day", office_id)
    assert [r["key"] for r in by_day] == [d.isoformat() for d in DAYS]
    for office in (office_id, 1):
        for group_by in ("hour", "service", "counter", "clerk"):
            wide = run(date(2026, 6, 29), date(2027, 1, 3), group_by, office)
            assert wide == run(date(2026, 7, 1), date(2026, 12, 31), group_by, office)
            assert sum(r["issued"] for r in wide) == 3 * len(DAYS)
            assert sum(r["served"] for r in wide) == sum(r["served"] for r in by_day) == 2 * len(DAYS)
            assert sum(r["no_show"] for r in wide) == len(DAYS)
    late = run(date(2026, 10, 1), date(2026, 12, 31), "clerk", office_id)[0]  # exactly Q4: one row per key
    assert (late["key"], late["issued"], late["served"], late["no_show"]) == ("canbo1", 12, 8, 4)
    assert next_start("q", date(2026, 7, 1)) == date(2026, 10, 1)


def _day_contributions(s: Session) -> dict[tuple[int, str, date, int], list[int]]:
    """(owner, dim, day, key) -> metric sums of the facts, folded by production code (`add_into`)."""
    t = TicketFact.__table__  # type: ignore[attr-defined]
    found = [facts.Fact(**r._asdict()) for r in s.execute(select(*[t.c[n] for n in facts.FACT_FIELDS]))]
    settings = Settings().load(s, {f.office_id for f in found})
    totals: dict[Any, dict[str, int]] = {}
    for f in found:
        add_into(totals, f, +1, settings.owners(f.office_id), settings.service_key(f.service_id))
    return {(owner, dim, day, key): [m.get(name, 0) for name in METRICS]
            for (owner, period, day, dim, key), m in totals.items() if period == "d"}


def _fold(daily: dict[tuple[int, str, date, int], list[int]], office_id: int, start: date, end: date,
          dim: str) -> dict[int, tuple[int, ...]]:
    out: dict[int, list[int]] = {}
    for (owner, d, day, key), vec in daily.items():
        if owner == office_id and d == dim and start <= day <= end:
            acc = out.setdefault(key, [0] * len(METRICS))
            for i, v in enumerate(vec):
                acc[i] += v
    return {k: tuple(v) for k, v in out.items() if any(v)}


def test_rollup_sums_over_any_range_equal_the_fold_of_its_facts(history: tuple[Database, int]) -> None:
    """Ranges ending anywhere around the data: added periods, or a quarter minus the days after the end."""
    db, office_id = history
    edges = sorted({d + timedelta(days=k) for d in DAYS for k in (0, 1)}
                   | {date(2026, 1, 1), date(2026, 7, 1), date(2026, 9, 30), date(2026, 12, 1), date(2027, 1, 1)})
    dims = ("hour", "service", "counter", "clerk")

    def check(s: Session) -> tuple[int, int]:
        daily = _day_contributions(s)
        subtracted = years = straddled = 0
        pairs = [(a, b) for i, a in enumerate(edges) for b in edges[i:]]
        for n, (start, end) in enumerate(pairs):
            plus, minus = plan(start, end, DAYS[-1])
            subtracted += bool(minus)
            years += any(p == "y" for p, _, _ in plus)
            straddled += any(p == "d" and a <= end for p, a, _ in minus)  # a week minus its days outside
            dim = dims[n % len(dims)]
            for office in (office_id, 1):
                got = {k: v for k, v in rollup_sums(s, office, start, end, dim) if any(v)}
                assert got == _fold(daily, office, start, end, dim), (start, end, office, dim)
        return subtracted, years, straddled
    subtracted, years, straddled = db.read_sync(check)
    assert subtracted > 10 and years > 5 and straddled > 5  # every kind of plan was exercised


def _upto(pieces: list[Piece], last: date) -> list[Piece]:
    """The pieces that can hold rows (the rest start after the newest day and cost an index probe)."""
    return [x for x in pieces if x[1] <= last]


def test_a_year_to_yesterday_reads_this_years_row_minus_today() -> None:
    today = date(2026, 11, 22)
    plus, minus = plan(date(2025, 11, 22), today - timedelta(days=1), today)
    assert plus == sorted([("d", date(2025, 11, 22), date(2025, 11, 22)), ("d", date(2025, 11, 23), date(2025, 11, 23)),
                           ("w", date(2025, 11, 24), date(2025, 11, 30)),
                           ("m", date(2025, 12, 1), date(2025, 12, 31)), ("y", date(2026, 1, 1), date(2026, 12, 31))])
    assert _upto(minus, today) == [("d", today, today)]  # and the rest of the year, empty until written
    assert sorted(minus) == sorted([("d", today, today), ("w", date(2026, 11, 23), date(2026, 11, 29)),
                                    ("d", date(2026, 11, 30), date(2026, 11, 30)),
                                    ("m", date(2026, 12, 1), date(2026, 12, 31))])
    plus, minus = plan(date(2025, 11, 22), today - timedelta(days=1), today - timedelta(days=1))
    assert len(plus) == 5 and _upto(minus, today - timedelta(days=1)) == []  # nothing after the end to take away
    plus, minus = plan(date(2026, 10, 22), today - timedelta(days=1), today)  # a month "from the 22nd"
    assert plus == [("d", date(2026, 10, d), date(2026, 10, d)) for d in (22, 23, 24, 25)] + [
        ("m", date(2026, 11, 1), date(2026, 11, 30)), ("w", date(2026, 10, 26), date(2026, 11, 1))]
    assert _upto(minus, today) == [("d", date(2026, 11, 1), date(2026, 11, 1)), ("d", today, today)]
    plus, minus = plan(date(2026, 11, 2), date(2026, 11, 8), today)  # one week: its own row
    assert (plus, minus) == ([("w", date(2026, 11, 2), date(2026, 11, 8))], [])
    plus, minus = plan(date(2026, 1, 1), date(2026, 12, 31), date(2027, 3, 1))  # a calendar year: its row
    assert (plus, minus) == ([("y", date(2026, 1, 1), date(2026, 12, 31))], [])
    assert plan(date(2026, 1, 1), date(2026, 1, 31), None) == ([], [])


def test_rows_written_after_the_plan_was_made_are_still_taken_away(history: tuple[Database, int],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan is chosen knowing the newest day; a day begun meanwhile (midnight) must not leak in."""
    db, office_id = history
    end = DAYS[-2]  # Nov 23: the plan believes Nov 23 is the newest day, but Dec 31 holds rows too
    plus, minus = plan(date(2026, 7, 1), end, end)

    def sums(s: Session) -> dict[int, tuple[int, ...]]:
        return {k: v for k, v in rollup_sums(s, office_id, date(2026, 7, 1), end, "clerk") if any(v)}
    fresh = db.read_sync(sums)
    monkeypatch.setattr("counters.projections.reports._last_day", lambda *a: end)  # as if Dec 31 were written meanwhile
    stale = db.read_sync(sums)
    assert ("q", date(2026, 10, 1), date(2026, 12, 31)) in plus
    assert ("m", date(2026, 12, 1), date(2026, 12, 31)) in minus
    assert stale == fresh and stale[1][0] == 3 * 6  # six office days from July to Nov 23


def test_a_signed_cover_counts_every_day_of_its_range_once_and_no_other_day() -> None:
    first = date(2025, 12, 20)
    window = [first + timedelta(days=k) for k in range(-20, 430)]
    for start, end in [(first, first + timedelta(days=n)) for n in (0, 4, 5, 6, 12, 31, 45, 200, 380)] + [
            (date(2026, 10, 22), date(2026, 11, 21)), (date(2026, 3, 4), date(2026, 3, 9))]:
        for straddle in (True, False):
            pieces = cover(start, end, straddle=straddle)
            for day in window:
                counted = sum(w for (_, a, b), w in pieces.items() if a <= day <= b)
                assert counted == (1 if start <= day <= end else 0), (start, end, day, straddle)
    assert cover(date(2026, 3, 4), date(2026, 3, 9)) == {  # Wed-Sun of a week, then Mon
        ("w", date(2026, 3, 2), date(2026, 3, 8)): 1, ("d", date(2026, 3, 2), date(2026, 3, 2)): -1,
        ("d", date(2026, 3, 3), date(2026, 3, 3)): -1, ("d", date(2026, 3, 9), date(2026, 3, 9)): 1}
