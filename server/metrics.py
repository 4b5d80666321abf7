"""Prometheus metrics through prometheus_client: requests by route and status, latency, WebSocket clients,
event messages fanned out.

One worker: the metrics live in the app's own registry. Several workers (`qms serve --workers N`):
prometheus_client's multiprocess mode, where each worker writes its values to files in
`PROMETHEUS_MULTIPROC_DIR` (set by the CLI before the workers start, a fresh folder per start) and a
scrape of any worker reads all of them, so one scrape sees the whole host.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST


def multiprocess_on() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def prepare_multiprocess(data_dir: Path) -> None:
    """Before starting several workers: a fresh folder for their metric files (stale files from an earlier
    run would add old counts to the new ones)."""
    folder = Path(data_dir) / "metrics"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROC_ENV] = str(folder)


class Metrics:
    """The app's metrics; `render` is the text a Prometheus scrape reads."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("qms_http_requests", "HTTP requests by route and status",
                                ("method", "route", "status"), registry=self.registry)
        self.latency = Histogram("qms_http_request_duration_seconds", "Time spent answering, by route",
                                 ("method", "route"), registry=self.registry,
                                 buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
        self.websocket_clients = Gauge("qms_websocket_clients", "Connected WebSocket clients",
                                       registry=self.registry, multiprocess_mode="livesum")
        self.websocket_messages = Counter("qms_websocket_messages", "Event messages handed to WebSocket clients",
                                          registry=self.registry)
        self.ws_snapshot_builds = Counter("qms_ws_snapshot_builds", "Office states built for WebSocket snapshots "
                                          "(one per office and change, shared by the sockets that connect)",
                                          registry=self.registry)

    def render(self) -> bytes:
        if multiprocess_on():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

    @staticmethod
    def worker_stopped() -> None:
        """A worker that stops takes its live gauges with it (multiprocess mode only)."""
        if multiprocess_on():
            multiprocess.mark_process_dead(os.getpid())


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
            self.metrics.requests.labels(scope["method"], name, str(status)).inc()
            self.metrics.latency.labels(scope["method"], name).observe(time.perf_counter() - start)
