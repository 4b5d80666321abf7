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


@pytest.fixture(scope="session")
def chromium():  # type: ignore[no-untyped-def]
    """One headless Chromium for the session (Playwright async/sync API: sync here)."""
    from tests.support.browser import browser
    with browser() as b:
        yield b
