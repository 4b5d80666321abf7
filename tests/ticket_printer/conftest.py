from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ticket_printer.fakeprinter import FakePrinter
from tests.ticket_printer.samples import make_ticket
from ticket_printer.layout import TicketPrint

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


@pytest.fixture
def ticket() -> TicketPrint:
    return make_ticket()


@pytest.fixture
def fake_printer() -> Iterator[FakePrinter]:
    with FakePrinter() as printer:
        yield printer


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
