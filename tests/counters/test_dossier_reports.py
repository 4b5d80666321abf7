"""Dossiers and trips in reports, through the engine with a scripted clock: figures by hand, and the
rollups rebuilt from the event log alone equal the incremental ones (trips included)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from counters.engine import dossiers, feedback
from counters.projections import dossier_reports, facts
from counters.context import Ctx
from counters.errors import InvalidValue, StateConflict
from counters.models import Office, Ticket
from counters.projections.reports import office_tree
from tests.counters.test_reports import DAY, Script, _dump, at

P1, P2 = "Đăng ký khai sinh", "Chứng thực bản sao"


class DossierScript(Script):
    def link(self, name: str, code: str, procedure: str | None, when: Any) -> Any:
        def fn(s: Session, ctx: Ctx, o: Office) -> Any:
            return dossiers.link(s, ctx, o, s.get(Ticket, self.tickets[name]), code=code,  # type: ignore[arg-type]
                                 procedure=procedure).id
        return self.step(when, 1, fn)

    def unlink(self, link_id: int, when: Any) -> None:
        def fn(s: Session, ctx: Ctx, o: Office) -> None:
            dossiers.unlink(s, ctx, o, s.get(dossiers.DossierLink, link_id))  # type: ignore[arg-type]
        self.step(when, 1, fn)

    def rate_trips(self, name: str, counter: int, rating: str, trips: int | None, when: Any) -> None:
        def fn(s: Session, ctx: Ctx, o: Office) -> None:
            feedback.submit_rating(s, ctx, o, s.get(Ticket, self.tickets[name]),  # type: ignore[arg-type]
                                   tablet_counter_id=self.counters[counter], rating=rating, trips=trips)
        self.step(when, counter, fn)

    def rows(self, group_by: str, start: date = DAY, end: date = DAY) -> dict[str, dict[str, Any]]:
        def run(s: Session) -> list[dict[str, Any]]:
            offices = office_tree(s, s.get(Office, self.office_id))  # type: ignore[arg-type]
            if group_by == "procedure":
                return dossier_reports.by_procedure(s, offices, start, end)
            return dossier_reports.by_visit(s, offices, start, end, {})
        return {r["key"]: r for r in self.db.read_sync(run)}


@pytest.fixture(scope="module")
def day() -> DossierScript:
    s = DossierScript()
    s.issue("A1", "A", at(8, 0))
    s.issue("A2", "A", at(8, 1))
    s.issue("A3", "A", at(8, 2))
    s.next(1, at(8, 5))                                           # A1 waited 300 s
    s.link("A1", "000.00.12.H26-231123-0001", P1, at(8, 6))
    s.link("A1", "000.00.12.H26-231123-0002", P1, at(8, 7))     # two dossiers, one procedure: one visit
    s.link("A1", "000.00.12.H26-231123-0003", P2, at(8, 7))
    s.next(1, at(8, 10))                                          # A1 done (service 300 s), A2 waited 540 s
    s.rate_trips("A1", 1, "very_satisfied", 1, at(8, 11))
    wrong = s.link("A2", "000.00.12.H26-231123-0004", P1, at(8, 12))
    s.unlink(wrong, at(8, 13))                                    # a mistake: leaves P1
    s.link("A2", "000.00.12.H26-231123-0005", P2, at(8, 13))
    s.next(1, at(8, 20))                                          # A2 done (service 600 s), A3 waited 1080 s
    s.rate_trips("A2", 1, "unsatisfied", 3, at(8, 21))
    s.act("finish", "A3", at(8, 25))
    s.rate_trips("A3", 1, "satisfied", None, at(8, 26))          # rated, trips not answered
    return s


def test_report_by_procedure_counts_each_visit_once_with_its_rating_and_trips(day: DossierScript) -> None:
    rows = day.rows("procedure")
    assert list(rows) == [P2, P1]  # by name
    p1, p2 = rows[P1], rows[P2]
    assert (p1["issued"], p1["served"], p1["avg_wait_s"], p1["avg_service_s"]) == (1, 1, 300, 300)
    assert (p1["ratings"], p1["satisfaction_pct"], p1["avg_trips"], p1["one_trip_pct"]) == (1, 100.0, 1.0, 100.0)
    assert (p2["issued"], p2["served"], p2["avg_wait_s"], p2["p90_wait_s"]) == (2, 2, 420, 540)
    assert (p2["ratings"], p2["satisfaction_pct"], p2["avg_trips"], p2["one_trip_pct"]) == (2, 50.0, 2.0, 50.0)
    assert day.rows("procedure", DAY + timedelta(days=1), DAY + timedelta(days=1)) == {}


def test_trips_in_the_usual_reports(day: DossierScript) -> None:
    row = day.report("day")[DAY.isoformat()]
    assert (row["ratings"], row["avg_trips"], row["one_trip_pct"]) == (3, 2.0, 50.0)


def test_per_visit_rows_carry_their_dossier_codes(day: DossierScript) -> None:
    rows = day.rows("ticket")
    by_ticket = {r["label"]: r for r in rows.values()}
    assert by_ticket["A001"]["dossiers"] == ["000.00.12.H26-231123-0001", "000.00.12.H26-231123-0002",
                                             "000.00.12.H26-231123-0003"]
    assert by_ticket["A001"]["procedures"] == [P1, P2] and by_ticket["A001"]["trips"] == 1
    assert by_ticket["A002"]["dossiers"] == ["000.00.12.H26-231123-0005"]
    assert by_ticket["A003"]["dossiers"] == [] and by_ticket["A003"]["trips"] is None
    assert all("track_code" not in r for r in rows.values())


def test_rebuild_from_the_event_log_keeps_trips(day: DossierScript) -> None:
    before = day.db.read_sync(_dump)
    day.db.write_sync(lambda s: facts.rebuild(s))
    assert day.db.read_sync(_dump) == before


def test_refusals_change_nothing(day: DossierScript) -> None:
    with pytest.raises(InvalidValue):
        day.link("A1", "HS 2023/0001", None, at(8, 40))
    with pytest.raises(StateConflict) as e:
        day.link("A1", "000.00.12.h26-231123-0001 ", None, at(8, 40))
    assert e.value.code == "already_linked"
    with pytest.raises(InvalidValue):
        day.rate_trips("A1", 1, "satisfied", 4, at(8, 40))
    assert day.rows("procedure")[P1]["issued"] == 1
