"""Shared fixtures: a real server on a free port (SQLite, or PostgreSQL/Redis in CI)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.server import OfficeSetup, ServerProcess


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    s = ServerProcess().start()
    yield s
    s.stop()


@pytest.fixture()
def office(server: ServerProcess) -> OfficeSetup:
    return OfficeSetup(server)


@pytest.fixture(scope="module")
def chromium():  # type: ignore[no-untyped-def]
    """Headless Chromium for one test module (Playwright's sync API runs a loop in this thread while it
    lives, so it is closed with the module; tests use tests.support.aio.run for their own coroutines)."""
    from tests.support.browser import browser
    with browser() as b:
        yield b
