"""The print-job life cycle in the database: claims, retries with backoff, failure, stale claims,
agent announcements, printer state and its alerts. Plain sessions on a fresh SQLite file."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select

import counters.models
from counters.engine import events, issuing, setup
from counters.context import Ctx, Who
from counters.models import Alert, Office, Ticket
from server.print_hooks import HOOKS
from ticket_printer import jobs
from ticket_printer.models import Printer, PrintJob
from ticket_printer.printer_state import note_printer_state
from ticket_printer.worker import enqueue

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội, a Monday


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = create_engine(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    SQLModel.metadata.create_all(e)
    yield e
    e.dispose()


def _session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


@pytest.fixture
def office_ticket(engine: Engine) -> tuple[int, int]:
    """An office with an 'agent' and a 'network' printer; returns (office id, ticket id)."""
    ctx = Ctx(Who.system(), NOW)
    with _session(engine) as s, s.begin():
        office = setup.create_office(s, ctx, "P1", "Phường Một")
        service = setup.create_service(s, ctx, office, {"code": "A", "name": "Chứng thực", "desk": "do_it_now"})
        s.add(Printer(office_id=office.id or 0, name="LAN", transport="network", address="127.0.0.1:9"))
        s.add(Printer(office_id=office.id or 0, name="USB agent", transport="agent", address="7"))
        ticket = issuing.issue_ticket(s, ctx, office, service, priority="elderly")
        events.seal(s)
        return office.id or 0, ticket.id or 0


def _printer(s: Session, transport: str) -> Printer:
    p = s.exec(select(Printer).where(Printer.transport == transport)).one()
    return p


def _enqueue(engine: Engine, office_ticket: tuple[int, int], transport: str) -> int:
    office_id, ticket_id = office_ticket
    with _session(engine) as s, s.begin():
        office = s.get(Office, office_id)
        ticket = s.get(Ticket, ticket_id)
        assert office is not None and ticket is not None
        job = enqueue(s, office, ticket, _printer(s, transport).id, base_url="http://10.0.0.2:8000/", hooks=HOOKS)
        assert job is not None
        sent = events.pending(s)
        assert [e.type for e in sent][-1] == "print.job"
        assert (sent[-1].data or {})["device_id"] == (7 if transport == "agent" else None)
        events.seal(s)
        return job.id or 0


def test_a_job_is_claimed_once_and_carries_the_whole_ticket(engine: Engine, office_ticket: tuple[int, int]) -> None:
    job_id = _enqueue(engine, office_ticket, "network")
    with _session(engine) as s, s.begin():
        won = jobs.claim(s, job_id, "worker:a", NOW, None, HOOKS)
    with _session(engine) as s, s.begin():
        lost = jobs.claim(s, job_id, "worker:b", NOW, None, HOOKS)
    assert won is not None and lost is None
    t = won.ticket
    assert (t.display_number, t.service_name, t.desk_label, t.priority_label) == \
        ("A001", "Chứng thực", "Bộ phận làm ngay", "Người cao tuổi")
    assert t.office_name == "Phường Một" and t.people_ahead == 0
    assert t.serving_now is False and t.estimated_wait_s is None  # no counter in this office serves it
    assert t.issued_at.utcoffset() == timedelta(hours=7) and t.issued_at.hour == 9
    with _session(engine) as s:
        track = s.get(Ticket, office_ticket[1]).track_code  # type: ignore[union-attr]
    assert t.track_url == f"http://10.0.0.2:8000/t/{track}"
    with _session(engine) as s, s.begin():
        again = jobs.claim(s, job_id, "worker:a", NOW, "https://qms.example.vn", HOOKS)
    assert again is None  # printing already: not claimable
    with _session(engine) as s, s.begin():
        job = s.get(PrintJob, job_id)
        assert job is not None and (job.status, job.attempts, job.claimed_by) == ("printing", 1, "worker:a")


def test_public_url_wins_over_the_kiosk_address() -> None:
    assert jobs.track_url("http://10.0.0.2:8000/", "https://qms.example.vn/", "abc") == "https://qms.example.vn/t/abc"
    assert jobs.track_url("http://10.0.0.2:8000/", None, "abc") == "http://10.0.0.2:8000/t/abc"


def test_failures_back_off_then_fail_for_good(engine: Engine, office_ticket: tuple[int, int]) -> None:
    job_id = _enqueue(engine, office_ticket, "network")
    at = NOW
    delays = []
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        with _session(engine) as s, s.begin():
            assert jobs.next_due_job(s, _printer(s, "network").id or 0, at) == job_id
            assert jobs.claim(s, job_id, "w", at, None, HOOKS) is not None
            job = jobs.record_outcome(s, job_id, at, printed=False, error="connection refused", online=False,
                                      hooks=HOOKS)
            assert job is not None
            if attempt < jobs.MAX_ATTEMPTS:
                assert job.status == "queued" and job.next_attempt_at is not None
                delays.append((job.next_attempt_at - at).total_seconds())
                assert jobs.next_due_job(s, job.printer_id, at) is None  # not before its time
                at = job.next_attempt_at
            else:
                assert job.status == "failed" and job.error == "connection refused"
            events.seal(s)
    assert delays[:5] == [0.5, 1.0, 2.0, 4.0, 8.0] and max(delays) == jobs.BACKOFF_CAP_S
    with _session(engine) as s:
        open_alerts = s.exec(select(Alert).where(Alert.cleared_at == None)).all()  # noqa: E711
        assert [a.kind for a in open_alerts] == ["printer_offline"]  # raised once, not once per attempt


def test_a_permanent_error_fails_at_once(engine: Engine, office_ticket: tuple[int, int]) -> None:
    job_id = _enqueue(engine, office_ticket, "network")
    with _session(engine) as s, s.begin():
        jobs.claim(s, job_id, "w", NOW, None, HOOKS)
        job = jobs.record_outcome(s, job_id, NOW, printed=False, error="bad profile", permanent=True, online=False,
                                  hooks=HOOKS)
        assert job is not None and job.status == "failed" and job.attempts == 1


def test_a_stale_claim_fails_instead_of_printing_twice(engine: Engine, office_ticket: tuple[int, int]) -> None:
    job_id = _enqueue(engine, office_ticket, "network")
    with _session(engine) as s, s.begin():
        jobs.claim(s, job_id, "w", NOW, None, HOOKS)
    with _session(engine) as s, s.begin():
        assert jobs.fail_stale(s, NOW + timedelta(seconds=30), HOOKS) == 0
        assert jobs.fail_stale(s, NOW + jobs.STALE_AFTER + timedelta(seconds=1), HOOKS) == 1
        job = s.get(PrintJob, job_id)
        assert job is not None and job.status == "failed" and "interrupted" in (job.error or "")
        assert jobs.claim(s, job_id, "w2", NOW, None, HOOKS) is None


def test_agent_jobs_wait_for_the_agent_and_are_announced_again_after_a_retry(
        engine: Engine, office_ticket: tuple[int, int]) -> None:
    job_id = _enqueue(engine, office_ticket, "agent")
    with _session(engine) as s, s.begin():
        due, _ = jobs.due_printers(s, NOW + timedelta(hours=1))
        assert due == []  # the server never prints an agent's job itself
        assert jobs.announce_due_agent_jobs(s, NOW, HOOKS) == 0  # announced at enqueue already
        assert jobs.claim(s, job_id, "device:7", NOW, None, HOOKS) is not None
        jobs.record_outcome(s, job_id, NOW, printed=False, error="paper out", online=True, paper="out", hooks=HOOKS)
        events.discard(s)
    later = NOW + timedelta(seconds=jobs.BACKOFF_BASE_S)
    with _session(engine) as s, s.begin():
        assert jobs.announce_due_agent_jobs(s, later, HOOKS) == 1
        assert [(e.data or {})["job"]["id"] for e in events.pending(s) if e.type == "print.job"] == [job_id]
        assert jobs.announce_due_agent_jobs(s, later, HOOKS) == 0  # once
        events.seal(s)


def test_printer_state_raises_and_clears_alerts(engine: Engine, office_ticket: tuple[int, int]) -> None:
    def open_kinds() -> list[str]:
        with _session(engine) as s:
            return sorted(a.kind for a in s.exec(select(Alert).where(Alert.cleared_at == None)))  # noqa: E711

    def note(**kw: object) -> None:
        with _session(engine) as s, s.begin():
            note_printer_state(s, _printer(s, "network").id or 0, NOW, record=HOOKS.record, **kw)  # type: ignore[arg-type]
            events.seal(s)

    note(online=False, error="refused")
    note(online=False, error="refused")
    assert open_kinds() == ["printer_offline"]
    note(online=True, paper="out")
    assert open_kinds() == ["printer_paper_out"]
    note(online=True, paper="near_end")
    assert open_kinds() == ["printer_paper_low"]
    note(online=True, paper="unknown")
    assert open_kinds() == ["printer_paper_low"]  # the printer did not say: nothing changes
    note(online=True, paper="ok")
    assert open_kinds() == []
    with _session(engine) as s:
        p = _printer(s, "network")
        assert (p.online, p.paper, p.last_error, p.last_seen) == (True, "ok", None, NOW)
        kinds = [e.type for e in s.exec(select(counters.models.Event))]
        assert kinds.count("alert.raised") == 3 and kinds.count("alert.cleared") == 3


def test_old_queued_jobs_expire_instead_of_printing_hours_later(engine: Engine, office_ticket: tuple[int, int]) -> None:
    job_id = _enqueue(engine, office_ticket, "agent")
    with _session(engine) as s, s.begin():
        assert jobs.expire_old(s, NOW + jobs.EXPIRE_AFTER - timedelta(seconds=1), HOOKS) == 0
        assert jobs.expire_old(s, NOW + jobs.EXPIRE_AFTER + timedelta(seconds=1), HOOKS) == 1
        assert jobs.claim(s, job_id, "device:7", NOW, None, HOOKS) is None
        job = s.get(PrintJob, job_id)
        assert job is not None and job.status == "failed" and "expired" in (job.error or "")
