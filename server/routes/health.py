"""Health, Prometheus metrics and the OpenAPI document."""
from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from ..api import ANYONE, Call, EndpointGroup
from ..metrics import CONTENT_TYPE
from ..schemas import Health

endpoints = EndpointGroup("operations")


@endpoints("GET", "/healthz", summary="Database and pub/sub health (503 when not ok)", allow=ANYONE,
           response=Health)
async def healthz(call: Call) -> Any:
    db_ok = await call.qms.db.healthy()  # bounded, never queued behind the pool (server/db.py)
    ps_ok = await call.qms.pubsub.healthy()
    body = {"status": "ok" if db_ok and ps_ok else "error", "db": "ok" if db_ok else "error",
            "pubsub": "ok" if ps_ok else "error"}
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)


@endpoints("GET", "/metrics", summary="Prometheus metrics (text format)", allow=ANYONE, media_type="text/plain")
async def metrics(call: Call) -> Any:
    return Response(call.qms.metrics.render(), media_type=CONTENT_TYPE)


@endpoints("GET", "/api/v1/openapi.json", summary="This document", allow=ANYONE)
async def openapi(call: Call) -> Any:
    return JSONResponse(call.request.app.state.openapi)
