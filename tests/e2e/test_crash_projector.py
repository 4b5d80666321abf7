"""SIGKILL while the report projector is in the middle of a batch: restarted, it catches up from its
checkpoint by itself, its reports equal a fold of the same log from scratch, and every acknowledged ticket
is in them. On PostgreSQL: two processes on one database, exactly one folds (the advisory lock), and when
it is killed the other takes over."""
from __future__ import annotations

import os
import threading
import time
from typing import Any

import pytest
from sqlalchemy import text

from counters.projections import checkpoint
from server.db import Database
from server.report_projector import LOCK_APPLICATION, LOCK_KEY
from tests.counters.test_reports import _dump
from tests.support.load import hammer
from tests.support.projections import scratch
from tests.support.server import OfficeSetup, ServerProcess

SLOW_BATCHES = {"QMS_REPORT_FOLD_PAUSE_S": "0.3", "QMS_REPORT_FOLD_BATCH": "5"}


def _load(server: ServerProcess, office: OfficeSetup, token: str, service_id: int, counters: list[int],
          seconds: float, kill: bool = False) -> list[dict[str, Any]]:
    """Issue and call for `seconds`; with `kill`, SIGKILL the server while the requests are still going."""
    stop, accepted = threading.Event(), []  # type: ignore[var-annotated]
    threads = [threading.Thread(target=hammer, args=(server.base_url, token, office.id, service_id, None, stop,
                                                      accepted), daemon=True) for _ in range(2)]
    threads += [threading.Thread(target=hammer, args=(server.base_url, token, office.id, service_id, cid, stop,
                                                       accepted), daemon=True) for cid in counters]
    for t in threads:
        t.start()
    try:
        time.sleep(seconds)
        if kill:
            server.kill()
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    return accepted


def _caught_up(db: Database, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while db.read_sync(lambda s: checkpoint.behind(s)):
        assert time.monotonic() < deadline, "the projector did not catch up"
        time.sleep(0.1)


def _office(server: ServerProcess) -> tuple[OfficeSetup, str, int, list[int]]:
    office = OfficeSetup(server)
    a = office.service("A")["id"]
    counters = [office.counter(n, [a])["id"] for n in (1, 2)]
    head = office.user(f"truong_{office.id}", "head")
    for cid in counters:
        head.ok("POST", f"/api/v1/counters/{cid}/open")
    return office, head.token or "", a, counters


def test_sigkill_during_a_projector_batch_loses_no_fold_and_the_rebuilt_reports_equal_a_fold_from_scratch() -> None:
    server = ServerProcess(env=dict(SLOW_BATCHES))  # each batch holds its transaction 0.3 s: a kill lands in one
    server.start()
    db = Database(server.database_url)
    try:
        office, token, a, counters = _office(server)
        accepted = _load(server, office, token, a, counters, 3.0, kill=True)
        assert len(accepted) > 5, "the load really ran before the kill"
        lag = db.read_sync(lambda s: checkpoint.behind(s))
        assert office.id in lag, "killed with committed events not folded yet (a batch was in flight)"

        server.extra_env = {}  # restarted as usual: nothing tells it to catch up, the checkpoint does
        server.start()
        admin = server.admin()
        _caught_up(db)
        assert scratch(db) == db.read_sync(_dump)  # what the batches built equals a fold from scratch
        today = admin.ok("GET", f"/api/v1/offices/{office.id}/reports?group_by=service")["items"]
        issued = sum(r["issued"] for r in today)
        tickets = admin.ok("GET", f"/api/v1/offices/{office.id}/tickets?limit=1000")["items"]
        assert issued == len(tickets) >= len(accepted)  # every acknowledged ticket is in the report
        assert {t["id"] for t in accepted} <= {t["id"] for t in tickets}
        # and the restarted projector keeps folding: a report read right after a write includes it
        admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a, "print": False})
        again = admin.ok("GET", f"/api/v1/offices/{office.id}/reports?group_by=service")["items"]
        assert sum(r["issued"] for r in again) == issued + 1
    finally:
        server.stop()
        db.dispose()


def _folders(db: Database) -> list[str]:
    """application_name of the connections holding the report projector's advisory lock."""
    with db.engine.connect() as c:
        return [r[0] for r in c.execute(text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.database = "
            "(SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"), {"k": LOCK_KEY})]


@pytest.mark.skipif(not os.environ.get("QMS_TEST_POSTGRES_URL"), reason="PostgreSQL only (QMS_TEST_POSTGRES_URL)")
def test_two_processes_one_folds_and_the_other_takes_over_when_it_is_killed() -> None:
    first = ServerProcess(workers=1).start()
    second = ServerProcess(data_dir=None, database_url=first.database_url, workers=1).start()
    db = Database(first.database_url)
    try:
        deadline = time.monotonic() + 15
        while not (holders := _folders(db)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(holders) == 1 and holders[0].startswith(LOCK_APPLICATION), holders
        pids = {first.proc.pid: first, second.proc.pid: second}  # type: ignore[union-attr]
        leader = pids[int(holders[0].rsplit(":", 1)[1])]
        survivor = second if leader is first else first
        time.sleep(4)  # the other has tried the election again meanwhile, and lost it
        assert len(_folders(db)) == 1

        office, token, a, counters = _office(survivor)
        _load(survivor, office, token, a, counters, 1.0)
        _caught_up(db, 10)  # folded by the leader, from the other process's commits
        leader.kill()
        deadline = time.monotonic() + 20
        while _folders(db) != [f"{LOCK_APPLICATION}:{survivor.proc.pid}"]:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, f"no takeover: {_folders(db)}"
            time.sleep(0.2)
        accepted = _load(survivor, office, token, a, counters, 1.0)
        assert accepted
        _caught_up(db, 10)
        assert scratch(db) == db.read_sync(_dump)
        admin = survivor.admin()
        rows = admin.ok("GET", f"/api/v1/offices/{office.id}/reports?group_by=service")["items"]
        tickets = admin.ok("GET", f"/api/v1/offices/{office.id}/tickets?limit=1000")["items"]
        assert sum(r["issued"] for r in rows) == len(tickets)
    finally:
        first.stop()
        second.stop()
        db.dispose()
