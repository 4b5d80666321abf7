"""ticket_printer: what is printed on a ticket and how it reaches paper."""

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
