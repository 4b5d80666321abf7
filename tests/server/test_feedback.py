"""Rating integrity through the HTTP API of an in-process app whose clock the test moves.

Each refusal is asserted with its status and code, and none changes the office's stored figures (the
live view's satisfaction counts and the feedback list).
"""
from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server.app import create_app
from server.settings import Settings
from tests.support.server import ADMIN_PASSWORD, fresh_database_url


@dataclass
class MovableClock:
    """The server's clock for a test: starts at the real now and moves only when told."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


class Client:
    """A TestClient with a bearer token and an `ok` that asserts the status."""

    def __init__(self, http: TestClient, token: str | None = None) -> None:
        self.http, self.token = http, token

    def req(self, method: str, path: str, json: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return self.http.request(method, path, json=json, headers=headers)

    def ok(self, method: str, path: str, json: Any = None) -> Any:
        r = self.req(method, path, json)
        assert r.status_code in (200, 201), f"{method} {path} -> {r.status_code} {r.text}"
        return r.json()


class ClockedOffice:
    """An office built through the API of an in-process app: services, counters, a clerk, devices."""

    def __init__(self, http: TestClient, clock: MovableClock) -> None:
        self.http, self.clock = http, clock
        self.admin = self.login("admin", ADMIN_PASSWORD)
        self.office = self.admin.ok("POST", "/api/v1/offices", json={"name": "Phường Thử", "code":
                                                                     f"C{os.urandom(3).hex()}"})
        self.id = self.office["id"]

    def login(self, username: str, password: str) -> Client:
        r = self.http.post("/api/v1/auth/login", json={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return Client(self.http, r.json()["token"])

    def service(self, code: str, **kw: Any) -> dict[str, Any]:
        return self.admin.ok("POST", f"/api/v1/offices/{self.id}/services",
                             json={"code": code, "name": f"Dịch vụ {code}", **kw})

    def counter(self, number: int, service_ids: list[int], **kw: Any) -> dict[str, Any]:
        return self.admin.ok("POST", f"/api/v1/offices/{self.id}/counters",
                             json={"number": number, "name": f"Quầy {number}", "service_ids": service_ids, **kw})

    def clerk(self, username: str) -> Client:
        self.admin.ok("POST", f"/api/v1/offices/{self.id}/users", json={
            "username": username, "full_name": username.title(), "role": "clerk", "password": "password-123"})
        return self.login(username, "password-123")

    def device(self, kind: str, **kw: Any) -> Client:
        p = self.http.post("/api/v1/pairings", json={"kind": kind}).json()
        self.admin.ok("POST", f"/api/v1/offices/{self.id}/pairings/{p['code']}/approve", json={"name": kind, **kw})
        token = self.http.get(f"/api/v1/pairings/{p['pairing_id']}").json()["token"]
        return Client(self.http, token)

    def issue(self, service_id: int, **kw: Any) -> dict[str, Any]:
        return self.admin.ok("POST", f"/api/v1/offices/{self.id}/tickets",
                             json={"service_id": service_id, "print": False, **kw})

    def live(self) -> dict[str, Any]:
        return self.admin.ok("GET", f"/api/v1/offices/{self.id}/live")  # type: ignore[no-any-return]


@contextmanager
def clocked_app() -> Iterator[tuple[TestClient, MovableClock]]:
    """The real app in-process on a fresh database (SQLite, or PostgreSQL/Redis in CI) with a movable clock."""
    data_dir = Path(tempfile.mkdtemp(prefix="qms-clocked-"))
    settings = Settings(data_dir=data_dir, database_url=fresh_database_url(data_dir),
                        redis_url=os.environ.get("QMS_TEST_REDIS_URL"), admin_password=ADMIN_PASSWORD,
                        voice="off", ping_interval_s=2.0)
    clock = MovableClock()
    with TestClient(create_app(settings, clock=clock)) as http:
        yield http, clock


@pytest.fixture(scope="module")
def clocked() -> Iterator[tuple[TestClient, MovableClock]]:
    with clocked_app() as app:
        yield app


@pytest.fixture()
def desk(clocked: tuple[TestClient, MovableClock]) -> Desk:
    http, clock = clocked
    return Desk(ClockedOffice(http, clock))


class Desk:
    """One office with two counters, a clerk at counter 1 and the tablets of both counters."""

    def __init__(self, o: ClockedOffice) -> None:
        self.o = o
        self.svc = o.service("B")
        self.c1 = o.counter(1, [self.svc["id"]])
        self.c2 = o.counter(2, [self.svc["id"]])
        self.clerk = o.clerk(f"canbo{os.urandom(3).hex()}")
        self.tablet1 = o.device("tablet", counter_id=self.c1["id"])
        self.tablet2 = o.device("tablet", counter_id=self.c2["id"])
        self.clerk.ok("POST", f"/api/v1/counters/{self.c1['id']}/open")

    def served(self) -> dict[str, Any]:
        """A ticket issued, called and finished at counter 1."""
        t = self.o.issue(self.svc["id"])
        called = self.clerk.ok("POST", f"/api/v1/counters/{self.c1['id']}/next")["ticket"]
        assert called["id"] == t["id"]
        return self.clerk.ok("POST", f"/api/v1/tickets/{t['id']}/finish")  # type: ignore[no-any-return]

    def figures(self) -> tuple[dict[str, Any], Any, int]:
        live = self.o.live()
        c1 = next(c for c in live["counters"] if c["id"] == self.c1["id"])
        listed = self.o.admin.ok("GET", f"/api/v1/offices/{self.o.id}/feedback")["total"]
        return live["satisfaction"]["counts"], c1["satisfaction_pct"], listed


def refused(client: Client, body: dict[str, Any], status: int, code: str) -> dict[str, Any]:
    r = client.req("POST", "/api/v1/feedback", body)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["message"]
    return err  # type: ignore[no-any-return]


def test_a_rating_is_stored_once_and_announced(desk: Desk) -> None:
    t = desk.served()
    before = desk.figures()
    assert before == ({}, None, 0)
    fb = desk.tablet1.ok("POST", "/api/v1/feedback", {"ticket_id": t["id"], "rating": "very_satisfied"})
    assert fb["rating"] == "very_satisfied" and fb["counter_id"] == desk.c1["id"] and fb["reasons"] == []
    counts, pct, listed = desk.figures()
    assert counts == {"very_satisfied": 1} and pct == 100.0 and listed == 1
    item = desk.o.admin.ok("GET", f"/api/v1/offices/{desk.o.id}/feedback")["items"][0]
    assert item["display_number"] == t["display_number"] and item["counter_number"] == 1
    assert item["clerk_id"] == t["clerk_id"] and item["clerk_name"]

    err = refused(desk.tablet1, {"ticket_id": t["id"], "rating": "unsatisfied"}, 409, "already_rated")
    assert "rated already" in err["message"]
    assert desk.figures() == (counts, pct, listed)


def test_each_refusal_is_clear_and_changes_nothing(desk: Desk) -> None:
    t = desk.served()
    baseline = desk.figures()
    # another counter's tablet
    refused(desk.tablet2, {"ticket_id": t["id"], "rating": "satisfied"}, 403, "wrong_counter")
    # a level outside the 3-level scale, an unknown reason, a long comment
    err = refused(desk.tablet1, {"ticket_id": t["id"], "rating": "neutral"}, 422, "invalid_rating")
    assert err["details"]["levels"] == ["very_satisfied", "satisfied", "unsatisfied"]
    refused(desk.tablet1, {"ticket_id": t["id"], "rating": "excellent"}, 422, "invalid_rating")
    refused(desk.tablet1, {"ticket_id": t["id"], "rating": "unsatisfied", "reasons": ["price"]}, 422,
            "invalid_reason")
    refused(desk.tablet1, {"ticket_id": t["id"], "rating": "unsatisfied", "comment": "x" * 501}, 422,
            "comment_too_long")
    # a ticket not finished yet (called at the tablet's own counter)
    t2 = desk.o.issue(desk.svc["id"])
    assert desk.clerk.ok("POST", f"/api/v1/counters/{desk.c1['id']}/next")["ticket"]["id"] == t2["id"]
    refused(desk.tablet1, {"ticket_id": t2["id"], "rating": "satisfied"}, 409, "ticket_not_done")
    # staff may not rate, nor may a kiosk
    r = desk.clerk.req("POST", "/api/v1/feedback", {"ticket_id": t["id"], "rating": "satisfied"})
    assert r.status_code == 403
    # an unknown ticket
    refused(desk.tablet1, {"ticket_id": 10**8, "rating": "satisfied"}, 404, "not_found")
    assert desk.figures() == baseline
    desk.clerk.ok("POST", f"/api/v1/tickets/{t2['id']}/finish")


def test_the_window_closes_and_the_scale_follows_the_office(desk: Desk) -> None:
    t = desk.served()
    baseline = desk.figures()
    desk.o.clock.advance(minutes=15, seconds=1)
    err = refused(desk.tablet1, {"ticket_id": t["id"], "rating": "satisfied"}, 409, "rating_window_closed")
    assert err["details"]["closed_at"]
    assert desk.figures() == baseline

    desk.o.admin.ok("PATCH", f"/api/v1/offices/{desk.o.id}", {"rating_scale": 5, "feedback_window_min": 30})
    t2 = desk.served()
    desk.o.clock.advance(minutes=29)
    fb = desk.tablet1.ok("POST", "/api/v1/feedback", {"ticket_id": t2["id"], "rating": "very_unsatisfied",
                                                      "reasons": ["attitude", "procedure", "attitude"],
                                                      "comment": "  Chờ lâu quá  "})
    assert fb["reasons"] == ["attitude", "procedure"] and fb["comment"] == "Chờ lâu quá"
    counts, pct, _ = desk.figures()
    assert counts.get("very_unsatisfied") == 1 and pct == 0.0
