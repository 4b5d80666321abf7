"""Printer transports: one small module per way of reaching a printer."""

from .base import DLE_EOT_PAPER, PaperStatus, Transport, TransportError, decode_paper_status
from .file import FileAddress, FileTransport
from .network import NetworkAddress, NetworkTransport
from .registry import ALL_PRINTER_TRANSPORTS, TRANSPORT_KINDS, open_transport, parse_address
from .serial import SerialAddress, SerialTransport
from .usb import UsbAddress, UsbTransport

__all__ = [
    "ALL_PRINTER_TRANSPORTS",
    "DLE_EOT_PAPER",
    "TRANSPORT_KINDS",
    "FileAddress",
    "FileTransport",
    "NetworkAddress",
    "NetworkTransport",
    "PaperStatus",
    "SerialAddress",
    "SerialTransport",
    "Transport",
    "TransportError",
    "UsbAddress",
    "UsbTransport",
    "decode_paper_status",
    "open_transport",
    "parse_address",
]
