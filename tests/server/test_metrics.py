"""/metrics through prometheus_client: requests by route template and status, WebSocket clients; with
several workers (the scale-out pass) one scrape adds up every worker's counts (multiprocess mode)."""
from __future__ import annotations

import re

from prometheus_client.parser import text_string_to_metric_families

from tests.support.aio import run
from tests.support.server import OfficeSetup, ServerProcess, WsClient


def _samples(server: ServerProcess) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = server.client().get("/metrics").text
    out: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, tuple(sorted(s.labels.items())))
            out[key] = out.get(key, 0.0) + s.value
    return out


def _count(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, lab), v in samples.items() if n == name and want <= set(lab))


def test_requests_are_counted_by_route_template_across_workers(server: ServerProcess, office: OfficeSetup) -> None:
    before = _count(_samples(server), "qms_http_requests_total", route="/api/v1/offices/{office_id:int}",
                    status="200")
    for _ in range(12):  # with several workers these land on all of them
        office.admin.ok("GET", f"/api/v1/offices/{office.id}")
    office.admin.get("/api/v1/offices/999999")
    after = _samples(server)
    assert _count(after, "qms_http_requests_total", route="/api/v1/offices/{office_id:int}",
                  status="200") - before == 12
    assert _count(after, "qms_http_requests_total", route="/api/v1/offices/{office_id:int}", status="404") >= 1
    assert _count(after, "qms_http_request_duration_seconds_count") >= 13
    assert not any(re.search(r"/offices/\d", dict(lab).get("route", "")) for (_, lab) in after), \
        "raw paths never become labels"


def test_websocket_clients_are_a_live_gauge(server: ServerProcess, office: OfficeSetup) -> None:
    display = office.device("display", "Màn hình đo")

    async def go() -> tuple[float, float]:
        ws = await WsClient(server.ws_url, display.token).connect()
        await ws.next_event()
        during = _count(_samples(server), "qms_websocket_clients")
        await ws.close()
        return during, 0.0
    base = _count(_samples(server), "qms_websocket_clients")
    during, _ = run(go())
    assert during >= base + 1
