"""The API's endpoint groups, in the order they appear in the OpenAPI document.

Each module defines `endpoints` (an EndpointGroup) and may define `async def on_startup(qms)` and
`async def on_shutdown(qms)` for background work (the print worker, alert checks). Modules listed here
that do not exist yet are skipped, so rooms can be added without editing this file.
"""
from __future__ import annotations

import importlib
from types import ModuleType

MODULES = ("health", "auth_routes", "devices", "offices", "tickets", "counter_actions", "live", "printing",
           "feedback", "reports", "alerts", "webhooks")


def _load() -> list[ModuleType]:
    out = []
    for name in MODULES:
        try:
            out.append(importlib.import_module(f"{__name__}.{name}"))
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
    return out


GROUPS = _load()
