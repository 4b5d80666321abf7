"""Every endpoint of the OpenAPI document × every actor: 401 without a token, 403 for actors that may not,
403 across offices, and bad bodies get 400/422 in the contract's error shape and change nothing."""
from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.server import Api, OfficeSetup, ServerProcess

ACTORS = ("admin", "head", "clerk", "kiosk", "display", "tablet", "printer")
SKIP_FOR_ALLOWED = {("post", "/api/v1/auth/logout")}


@pytest.fixture(scope="module")
def world(server: ServerProcess) -> dict[str, Any]:
    home, other = OfficeSetup(server), OfficeSetup(server)
    ids: dict[str, Any] = {}
    for o, tag in ((home, "home"), (other, "other")):
        svc = o.service("A")
        ctr = o.counter(1, [svc["id"]])
        head = o.user(f"head_{tag}", "head")
        clerk = o.user(f"clerk_{tag}", "clerk")
        ticket = head.ok("POST", f"/api/v1/offices/{o.id}/tickets", json={"service_id": svc["id"], "print": False})
        devices = {k: o.device(k, counter_id=ctr["id"]) if k == "tablet" else o.device(k)
                   for k in ("kiosk", "display", "tablet", "printer")}
        users = head.ok("GET", f"/api/v1/offices/{o.id}/users")["items"]
        ids[tag] = {"office_id": o.id, "service_id": svc["id"], "counter_id": ctr["id"], "ticket_id": ticket["id"],
                    "user_id": next(u["id"] for u in users if u["username"] == f"clerk_{tag}"),
                    "track_code": ticket["track_code"], "device_id": None,
                    "actors": {"admin": home.admin, "head": head, "clerk": clerk, **devices}}
        ids[tag]["device_id"] = head.ok("GET", f"/api/v1/offices/{o.id}/devices")["items"][0]["id"]
    openapi = server.client().ok("GET", "/api/v1/openapi.json")
    return {"ids": ids, "openapi": openapi, "server": server}


def _fill(path: str, ids: dict[str, Any]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        return str(ids.get(name, 999999 if name.endswith("_id") else "x"))
    return re.sub(r"\{(\w+)\}", sub, path)


def _operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, op) for path, ops in openapi["paths"].items() for method, op in ops.items()]


def test_every_endpoint_is_covered_by_the_matrix(world: dict[str, Any]) -> None:
    ops = _operations(world["openapi"])
    assert len(ops) >= 35
    for method, path, op in ops:
        assert "security" not in op or op.get("x-allowed-actors"), f"{method} {path} names who may call it"


def test_no_token_is_401_on_every_protected_endpoint(world: dict[str, Any]) -> None:
    anon = world["server"].client()
    for method, path, op in _operations(world["openapi"]):
        if "security" not in op:
            continue
        r = anon.request(method.upper(), _fill(path, world["ids"]["home"]), json={})
        assert r.status_code == 401, f"{method} {path}: {r.status_code}"
        assert r.json()["error"]["code"] == "unauthorized"
        bad = world["server"].client("not-a-real-token")
        assert bad.request(method.upper(), _fill(path, world["ids"]["home"]), json={}).status_code == 401


def test_actors_that_may_not_get_403_and_those_that_may_do_not(world: dict[str, Any]) -> None:
    home = world["ids"]["home"]
    for method, path, op in _operations(world["openapi"]):
        allowed = set(op.get("x-allowed-actors") or [])
        if not allowed:
            continue
        for actor in ACTORS:
            api: Api = home["actors"][actor]
            if actor in allowed and ((method, path) in SKIP_FOR_ALLOWED or method == "delete"):
                continue  # would end this actor's session or remove the fixtures; covered elsewhere
            r = api.request(method.upper(), _fill(path, home), json={})
            assert r.status_code != 500, f"{method} {path} as {actor}: 500"
            if actor not in allowed:
                assert r.status_code == 403, f"{method} {path} as {actor}: {r.status_code} {r.text[:200]}"
                assert r.json()["error"]["code"] == "forbidden"
            else:
                assert r.status_code not in (401,), f"{method} {path} as {actor}: {r.status_code}"
                if r.status_code == 403:  # a scope rule may refuse, never the actor-kind gate
                    assert r.json()["error"]["details"].get("actor") != actor, \
                        f"{method} {path} as allowed {actor}: {r.text[:200]}"


def test_staff_of_one_office_cannot_touch_another(world: dict[str, Any]) -> None:
    home, other = world["ids"]["home"], world["ids"]["other"]
    scoped = re.compile(r"\{(office_id|service_id|counter_id|ticket_id|user_id|device_id)\}")
    for method, path, op in _operations(world["openapi"]):
        allowed = set(op.get("x-allowed-actors") or [])
        if not scoped.search(path) or method == "delete":
            continue
        for actor in ("head", "clerk", "kiosk", "display"):
            if actor not in allowed:
                continue
            r = home["actors"][actor].request(method.upper(), _fill(path, other), json={})
            assert r.status_code == 403, f"{method} {path} as {actor} of another office: {r.status_code} {r.text[:150]}"


def _event_count(world: dict[str, Any]) -> int:
    home = world["ids"]["home"]
    return len(home["actors"]["admin"].ok("GET", f"/api/v1/offices/{home['office_id']}/tickets?limit=1000")["items"]), \
        home["actors"]["admin"].ok("GET", f"/api/v1/offices/{home['office_id']}")  # type: ignore[return-value]


def test_bad_bodies_get_400_or_422_and_change_nothing(world: dict[str, Any]) -> None:
    home = world["ids"]["home"]
    admin: Api = home["actors"]["admin"]
    before = _event_count(world)
    for method, path, op in _operations(world["openapi"]):
        admin_may = "admin" in (op.get("x-allowed-actors") or [])
        if "requestBody" not in op or path.endswith("/logout") or not admin_may:
            continue
        url = _fill(path, home)
        unknown_row = any(p not in home and p.endswith("_id") for p in re.findall(r"\{(\w+)\}", path))
        for raw in (b"{not json", b"[1, 2]", b"\"text\""):
            r = admin.request(method.upper(), url, content=raw, headers={"Content-Type": "application/json"})
            assert r.status_code == (404 if unknown_row else 400), f"{method} {path} with {raw!r}: {r.status_code}"
            assert set(r.json()["error"]) == {"code", "message", "details"}
        r = admin.request(method.upper(), url, json={"no_such_field": 1, "service_id": "x", "name": 5})
        assert r.status_code in (404, 422), f"{method} {path} with wrong fields: {r.status_code} {r.text[:200]}"
        if r.status_code == 422:
            assert r.json()["error"]["code"] == "invalid_value" and r.json()["error"]["details"]
    assert _event_count(world) == before, "refused requests changed nothing"


def test_invalid_values_are_422_with_a_message(world: dict[str, Any]) -> None:
    home = world["ids"]["home"]
    admin: Api = home["actors"]["admin"]
    cases = [
        ("PATCH", f"/api/v1/offices/{home['office_id']}", {"opening_hours": {"mon": [["11:00", "08:00"]]}}),
        ("PATCH", f"/api/v1/offices/{home['office_id']}", {"timezone": "Mars/Olympus"}),
        ("PATCH", f"/api/v1/offices/{home['office_id']}", {"number_format": "{n:03d}{oops}"}),
        ("PATCH", f"/api/v1/offices/{home['office_id']}", {"announcement_template": "Mời số {numbr}"}),
        ("POST", f"/api/v1/offices/{home['office_id']}/services", {"code": "a1", "name": "x"}),
        ("POST", f"/api/v1/offices/{home['office_id']}/tickets", {"service_id": home["service_id"], "priority": "vip"}),
        ("POST", f"/api/v1/offices/{home['office_id']}/tickets", {"service_id": 999999}),
        ("POST", f"/api/v1/offices/{home['office_id']}/counters", {"number": 0, "name": "x"}),
        ("GET", f"/api/v1/offices/{home['office_id']}/tickets?limit=abc", None),
    ]
    for method, url, body in cases:
        r = admin.request(method, url, json=body) if body is not None else admin.request(method, url)
        assert r.status_code == 422, f"{method} {url} {body}: {r.status_code} {r.text}"
        assert r.json()["error"]["message"]


def test_logout_revokes_the_token(world: dict[str, Any]) -> None:
    server = world["server"]
    api = server.admin()
    assert api.get("/api/v1/auth/me").status_code == 200
    assert api.post("/api/v1/auth/logout").status_code == 200
    assert api.get("/api/v1/auth/me").status_code == 401


def test_counter_presses_are_authorized_in_their_write_as_strictly_as_before(world: dict[str, Any]) -> None:
    """A token that already authorized is checked inside the `next` transaction: a revoked one is refused
    (and the counter is untouched), another office's counter is 403 before a bad body's 422."""
    server, home, other = world["server"], world["ids"]["home"], world["ids"]["other"]
    head: Api = home["actors"]["head"]
    clerk = server.client().login("clerk_home", "password-123")
    nxt = f"/api/v1/counters/{home['counter_id']}/next"
    head.ok("POST", f"/api/v1/counters/{home['counter_id']}/open")
    assert clerk.post(nxt, json={"close_current": "sideways"}).status_code == 422  # first use: checked on a reader
    r = clerk.post(f"/api/v1/counters/{other['counter_id']}/next", json={"close_current": "sideways"})
    assert r.status_code == 403, r.text  # a known token: still 403 across offices, before the body's 422
    r = clerk.post(f"/api/v1/counters/{other['counter_id']}/next", json={})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert clerk.post("/api/v1/counters/999999/next", json={}).status_code == 404
    ticket = head.ok("POST", f"/api/v1/offices/{home['office_id']}/tickets",
                     json={"service_id": home["service_id"], "print": False})
    def state() -> tuple[Any, ...]:
        t = head.ok("GET", f"/api/v1/tickets/{ticket['id']}")
        return t["status"], t["called_at"], t["counter_id"]
    waiting = state()
    assert clerk.post("/api/v1/auth/logout").status_code == 200
    for _ in range(2):
        r = clerk.post(nxt, json={})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert state() == waiting == ("waiting", None, None), "a refused press changed nothing"
    assert head.ok("POST", f"/api/v1/counters/{home['counter_id']}/close")["state"] == "closed"
