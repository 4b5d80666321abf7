"""`create_app(settings)`: the one ASGI application behind every entry point (CLI, tests, workers)."""
from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import WebSocketRoute

from counters.clock import Clock

from . import __version__
from .api import Endpoint, make_route
from .bootstrap import ensure_admin
from .errors import http_exception, unhandled
from .limits import BodyLimit
from .logs import install_redaction
from .metrics import MetricsMiddleware
from .migrate import upgrade
from .openapi import build_openapi
from .pages import SecurityHeaders, page_routes
from .routes import GROUPS
from .settings import Settings
from .state import Qms
from .ws import websocket_endpoint
from .ws_unavailable import closed_while_unavailable

log = logging.getLogger("qms")
def all_endpoints() -> list[Endpoint]:
    return [ep for group in GROUPS for ep in group.endpoints.items]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None, migrate: bool = True) -> Starlette:
    settings = settings or Settings.load()
    qms = Qms(settings, clock)
    endpoints = all_endpoints()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        install_redaction()
        if migrate:
            upgrade(qms.db.engine)
        ensure_admin(qms.db, settings.admin_password)
        await qms.start()
        for group in GROUPS:
            if hasattr(group, "on_startup"):
                await group.on_startup(qms)
        try:
            yield
        finally:
            for group in reversed(GROUPS):
                if hasattr(group, "on_shutdown"):
                    await group.on_shutdown(qms)
            await qms.stop()

    ws = WebSocketRoute("/ws", closed_while_unavailable(websocket_endpoint))
    routes = [make_route(ep) for ep in endpoints] + [ws] + page_routes()
    app = Starlette(routes=routes, lifespan=lifespan,
                    middleware=[Middleware(SecurityHeaders), Middleware(MetricsMiddleware, metrics=qms.metrics),
                                Middleware(BodyLimit)],
                    exception_handlers={HTTPException: http_exception, Exception: unhandled})
    app.state.qms = qms
    app.state.settings = settings
    app.state.openapi = build_openapi(endpoints, __version__)
    return app
