"""Choose a transport by kind and address, and validate addresses for the API (422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import file, network, serial, usb
from .base import Transport

#: Kinds this process can print to itself. "agent" printers are reached through a paired
#: printer agent over the WebSocket; their address is the agent's device id.
TRANSPORT_KINDS: tuple[str, ...] = ("network", "usb", "serial", "file")
ALL_PRINTER_TRANSPORTS: tuple[str, ...] = (*TRANSPORT_KINDS, "agent")

_PARSERS: dict[str, Callable[[str], Any]] = {
    "network": network.parse,
    "usb": usb.parse,
    "serial": serial.parse,
    "file": file.parse,
}


def _parse_agent(address: str) -> int:
    text = address.strip()
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"bad agent printer address {address!r}: expected the agent's device id")
    return int(text)


def parse_address(kind: str, address: str) -> Any:
    """The parsed address (NetworkAddress, UsbAddress, SerialAddress, FileAddress, or an agent's
    device id); ValueError with a message fit for the user when kind or address is wrong."""
    if kind == "agent":
        return _parse_agent(address)
    parser = _PARSERS.get(kind)
    if parser is None:
        raise ValueError(f"unknown printer transport {kind!r}; use one of {', '.join(ALL_PRINTER_TRANSPORTS)}")
    return parser(address)


def open_transport(kind: str, address: str, **options: Any) -> Transport:
    """A ready transport; ``options`` go to its constructor (e.g. ``connect_timeout``).

    Opening does not connect: that happens in ``send`` / ``paper_status``.
    """
    if kind == "agent":
        raise ValueError("agent printers are printed by their printer agent, not by the server")
    target = parse_address(kind, address)
    if kind == "network":
        return network.NetworkTransport(target, **options)
    if kind == "usb":
        return usb.UsbTransport(target, **options)
    if kind == "serial":
        return serial.SerialTransport(target, **options)
    return file.FileTransport(target, **options)
