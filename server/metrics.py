"""Prometheus text metrics: requests by route and status, latency, WebSocket clients, events fanned out."""
from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)

    def render(self, qms: Any) -> str:
        lines = ["# HELP qms_http_requests_total HTTP requests by route and status",
                 "# TYPE qms_http_requests_total counter"]
        for (method, route, status), n in sorted(self.requests.items()):
            lines.append(f'qms_http_requests_total{{method="{method}",route="{route}",status="{status}"}} {n}')
        lines += ["# HELP qms_http_request_seconds_total Time spent answering, by route",
                  "# TYPE qms_http_request_seconds_total counter"]
        for (method, route), s in sorted(self.seconds.items()):
            lines.append(f'qms_http_request_seconds_total{{method="{method}",route="{route}"}} {s:.6f}')
        lines += ["# HELP qms_websocket_clients Connected WebSocket clients in this worker",
                  "# TYPE qms_websocket_clients gauge", f"qms_websocket_clients {qms.hub.count()}",
                  "# HELP qms_websocket_messages_total Event messages queued to clients",
                  "# TYPE qms_websocket_messages_total counter",
                  f"qms_websocket_messages_total {qms.hub.sent_messages}"]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Counts each HTTP request under its route template (not the raw path, which would explode labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start, status = time.perf_counter(), 500

        async def wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
        try:
            await self.app(scope, receive, wrapped)
        finally:
            route = scope.get("route")
            name = getattr(route, "path", None) or "other"
            self.metrics.requests[(scope["method"], name, status)] += 1
            self.metrics.seconds[(scope["method"], name)] += time.perf_counter() - start
