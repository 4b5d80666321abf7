"""The one place that turns a ticket into paper: render, encode, send.

The job worker calls :func:`print_ticket` and decides about retries from the
``TransportError.permanent`` flag; the API calls :func:`validate_printer` when a printer is
configured, so a bad configuration is a 422 then rather than a failed job later.
"""

from __future__ import annotations

import io
from typing import Literal

from PIL import Image

from .escpos_output import (
    TEXT_ENCODINGS,
    TextEncoding,
    code_page_number,
    load_profile,
    profile_width_px,
    ticket_bytes_image,
    ticket_bytes_text,
)
from .layout import TICKET_WIDTHS, TicketPrint, render_test_page, render_ticket
from .transports import PaperStatus, TransportError, open_transport, parse_address

PrintMode = Literal["image", "text"]
PRINT_MODES: tuple[PrintMode, ...] = ("image", "text")


def text_columns(width_px: int, profile: str | None) -> int:
    """Characters per line in text mode: 12-dot Font A across the paper, capped by what a
    named profile says its printer fits (TM-T88V: 42)."""
    columns = width_px // 12
    if profile:
        columns = min(columns, load_profile(profile).get_columns("a"))
    return columns


def text_encoding(profile: str | None, encoding: TextEncoding | None = None) -> TextEncoding:
    """The encoding for text mode: the one asked for, else CP1258 when the profile has it,
    else TCVN-3."""
    if encoding is not None:
        if encoding not in TEXT_ENCODINGS:
            raise ValueError(f"encoding must be 'cp1258' or 'tcvn3', not {encoding!r}")
        return encoding
    if code_page_number(profile, "CP1258") is not None:
        return "cp1258"
    if code_page_number(profile, "TCVN-3-1") is not None:
        return "tcvn3"
    raise ValueError(
        f"profile {profile!r} has no Vietnamese code page (CP1258 or TCVN-3): use image mode"
    )


def validate_printer(
    transport: str, address: str, width_px: int, mode: str, profile: str | None = None
) -> None:
    """Raise ValueError, with a message for the user, if this printer cannot work as configured."""
    parse_address(transport, address)
    if width_px not in TICKET_WIDTHS:
        raise ValueError(f"width_px must be 576 (80 mm) or 384 (58 mm), not {width_px!r}")
    if mode not in PRINT_MODES:
        raise ValueError(f"mode must be 'image' or 'text', not {mode!r}")
    load_profile(profile)
    if mode == "image":
        max_width = profile_width_px(profile)
        if max_width is not None and width_px > max_width:
            raise ValueError(
                f"profile {profile!r} prints at most {max_width} dots: use width 384 or text mode"
            )
    else:
        text_encoding(profile)


def ticket_bytes(
    t: TicketPrint,
    *,
    width_px: int,
    mode: PrintMode,
    profile: str | None = None,
    encoding: TextEncoding | None = None,
) -> bytes:
    """The complete ESC/POS job for one ticket (also what a printer agent is sent)."""
    if mode == "image":
        return ticket_bytes_image(render_ticket(t, width_px), profile)
    if mode == "text":
        if width_px not in TICKET_WIDTHS:
            raise ValueError(f"width_px must be 576 or 384, not {width_px!r}")
        return ticket_bytes_text(
            t, text_columns(width_px, profile), text_encoding(profile, encoding), profile=profile
        )
    raise ValueError(f"mode must be 'image' or 'text', not {mode!r}")


def print_ticket(
    t: TicketPrint,
    *,
    transport: str,
    address: str,
    width_px: int,
    mode: PrintMode,
    profile: str | None = None,
    encoding: TextEncoding | None = None,
) -> None:
    """Render, encode and send one ticket. Raises TransportError only; a configuration the
    printer cannot use is ``permanent=True`` since retrying cannot fix it."""
    try:
        data = ticket_bytes(t, width_px=width_px, mode=mode, profile=profile, encoding=encoding)
        target = open_transport(transport, address)
    except ValueError as exc:
        raise TransportError(f"printer configuration: {exc}", permanent=True) from exc
    target.send(data)


def paper_status(transport: str, address: str) -> PaperStatus:
    """"ok", "near_end", "out" or "unknown"; TransportError when the printer is unreachable."""
    try:
        target = open_transport(transport, address)
    except ValueError as exc:
        raise TransportError(f"printer configuration: {exc}", permanent=True) from exc
    return target.paper_status()


def ticket_png(t: TicketPrint, width_px: int) -> bytes:
    """The exact image the printer gets in image mode, as PNG (for ``GET …/ticket.png``)."""
    return _png(render_ticket(t, width_px))


def print_test_page(
    printer_name: str,
    *,
    transport: str,
    address: str,
    width_px: int,
    profile: str | None = None,
) -> None:
    """``qms printer test NAME``: print :func:`render_test_page` as an image."""
    try:
        data = ticket_bytes_image(render_test_page(printer_name, width_px), profile)
        target = open_transport(transport, address)
    except ValueError as exc:
        raise TransportError(f"printer configuration: {exc}", permanent=True) from exc
    target.send(data)


def _png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()
