"""An overloaded server sheds new writes with 503 `busy` at once instead of queueing them for minutes."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from server import db as dbmod
from server.errors import ApiError


def test_writes_are_shed_while_the_queue_is_deep_and_accepted_again_once_it_drains(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    monkeypatch.setattr(dbmod, "QUEUE_LIMIT_S", 0.05)
    database = dbmod.Database(url)
    first, second = threading.Event(), threading.Event()

    def hold(gate: threading.Event) -> Any:
        return lambda _session: gate.wait(10)

    async def scenario() -> list[str]:
        seen = []
        w1 = asyncio.ensure_future(database.write_admitted(hold(first)))   # holds the single SQLite writer
        await asyncio.sleep(0.02)
        w2 = asyncio.ensure_future(database.write_admitted(hold(second)))  # waits behind it...
        await asyncio.sleep(0.15)                                        # ...longer than the limit
        first.set()
        await w1
        await asyncio.sleep(0.05)                                        # w2 is running: it waited 0.15 s
        try:
            await database.write_admitted(lambda _s: "w3")
            seen.append("w3 accepted")
        except ApiError as e:
            seen.append(f"w3 {e.status} {e.code} retry_after={e.details.get('retry_after_s')}")
        second.set()
        await w2
        result, _ = await database.write_admitted(lambda _s: "w4")     # the queue drained: accepted
        seen.append(f"w4 {result}")
        return seen

    try:
        assert asyncio.run(scenario()) == ["w3 503 busy retry_after=1", "w4 w4"]
    finally:
        first.set()
        second.set()
        database.dispose()
