"""ticket_printer: what is printed on a ticket and how it reaches paper.

The names below are imported on first use (PEP 562), not with the package: the ESC/POS and imaging stack
takes most of a second to import, and `qms --help` or the printer agent's argument parsing need none of it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .escpos_output import printer_profiles, ticket_bytes_image, ticket_bytes_text
    from .layout import TicketPrint, render_test_page, render_ticket
    from .printing import (
        paper_status,
        print_test_page,
        print_ticket,
        ticket_bytes,
        ticket_png,
        validate_printer,
    )
    from .transports import Transport, TransportError, open_transport, parse_address

_WHERE = {
    "printer_profiles": "escpos_output", "ticket_bytes_image": "escpos_output", "ticket_bytes_text": "escpos_output",
    "TicketPrint": "layout", "render_test_page": "layout", "render_ticket": "layout",
    "paper_status": "printing", "print_test_page": "printing", "print_ticket": "printing",
    "ticket_bytes": "printing", "ticket_png": "printing", "validate_printer": "printing",
    "Transport": "transports", "TransportError": "transports", "open_transport": "transports",
    "parse_address": "transports",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ticket_printer' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "TicketPrint",
    "Transport",
    "TransportError",
    "open_transport",
    "paper_status",
    "parse_address",
    "print_test_page",
    "print_ticket",
    "printer_profiles",
    "render_test_page",
    "render_ticket",
    "ticket_bytes",
    "ticket_bytes_image",
    "ticket_bytes_text",
    "ticket_png",
    "validate_printer",
]
