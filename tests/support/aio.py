"""Run a coroutine to completion on a fresh event loop in its own thread.

Playwright's sync API keeps an event loop running in the test thread, where `asyncio.run` refuses to
start; running test coroutines in a helper thread works whether or not a browser is open.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    result: dict[str, Any] = {}

    def target() -> None:
        try:
            result["value"] = asyncio.run(coro)
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = e
    t = threading.Thread(target=target, name="test-asyncio")
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["value"]  # type: ignore[no-any-return]
