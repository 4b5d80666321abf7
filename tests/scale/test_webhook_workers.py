"""Two server processes on one PostgreSQL database deliver one webhook's events: never one event twice at
once, never twice at all while the receiver answers, in seq order (the advisory-lock claim per webhook)."""
from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.e2e.test_webhooks import SECRET, check_delivered, listed_seqs
from tests.support.receiver import Receiver
from tests.support.server import OfficeSetup, ServerProcess, fresh_database_url

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("QMS_TEST_POSTGRES_URL"),
                                 reason="needs PostgreSQL (QMS_TEST_POSTGRES_URL)")]


def test_two_workers_never_deliver_one_event_twice(tmp_path: Path) -> None:
    url = fresh_database_url(tmp_path)
    first = ServerProcess(data_dir=tmp_path / "w1", database_url=url, workers=1).start()
    secret = (tmp_path / "w1" / "secret.key").read_text()
    second = ServerProcess(data_dir=tmp_path / "w2", database_url=url, workers=1,
                           env={"QMS_SECRET_KEY": secret}).start()
    receiver = Receiver(delay_s=0.02).start()
    try:
        office = OfficeSetup(first)
        head = office.user("truong_pg", "head")
        a = office.service("A")["id"]
        head.ok("POST", f"/api/v1/offices/{office.id}/webhooks",
                json={"url": receiver.url, "events": ["ticket.issued"], "secret": SECRET})
        clients = [first.client(head.token), second.client(head.token)]  # each worker's outbox wakes its worker

        def issue(client_index: int) -> None:
            for _ in range(30):
                clients[client_index].ok("POST", f"/api/v1/offices/{office.id}/tickets",
                                         json={"service_id": a, "print": False})
        threads = [threading.Thread(target=issue, args=(i,)) for i in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        expected = listed_seqs(first, head.token or "", office.id)
        assert len(expected) == 60
        got = receiver.wait_for(60)
        check_delivered(got, expected, office.id)
        assert receiver.overlaps == []  # no delivery id was ever in flight twice
        assert len(receiver.received) == 60  # and none was sent twice: the receiver always answered 200
    finally:
        receiver.stop()
        second.stop()
        first.stop()
