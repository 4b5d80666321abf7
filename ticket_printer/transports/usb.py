"""A USB printer reached through python-escpos's ``Usb`` class (pyusb + libusb).

python-escpos and pyusb are imported only when a USB printer is used, so a server without
libusb still starts and prints to network printers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .base import DLE_EOT_PAPER, PaperStatus, TransportError, decode_paper_status

_USB = re.compile(r"^(?:usb:)?([0-9A-Fa-f]{4}):([0-9A-Fa-f]{4})$")


@dataclass(frozen=True)
class UsbAddress:
    vendor_id: int
    product_id: int

    def __str__(self) -> str:
        return f"usb:{self.vendor_id:04x}:{self.product_id:04x}"


def parse(address: str) -> UsbAddress:
    """"usb:04b8:0202" (vendor:product in hex, as ``lsusb`` shows them)."""
    match = _USB.match(address.strip())
    if not match:
        raise ValueError(
            f"bad USB printer address {address!r}: expected usb:VVVV:PPPP in hex, e.g. usb:04b8:0202"
        )
    return UsbAddress(int(match.group(1), 16), int(match.group(2), 16))


class UsbTransport:
    kind = "usb"

    def __init__(self, address: UsbAddress, *, timeout_ms: int = 10_000) -> None:
        self.target = address
        self.address = str(address)
        self.timeout_ms = timeout_ms

    def _open(self) -> Any:
        from escpos.exceptions import Error as EscposError
        from escpos.printer import usb as escpos_usb

        if not escpos_usb.is_usable():
            raise TransportError(
                "USB printing needs pyusb and libusb: pip install pyusb; apt-get install libusb-1.0-0",
                permanent=True,
            )
        printer = escpos_usb.Usb(self.target.vendor_id, self.target.product_id, timeout=self.timeout_ms)
        try:
            printer.open()
        except (EscposError, OSError) as exc:  # not plugged in, or busy: may come back
            raise TransportError(f"USB printer {self.address} not available: {exc}", False) from exc
        return printer

    def send(self, data: bytes) -> None:
        printer = self._open()
        try:
            printer._raw(data)
        except OSError as exc:  # usb.core.USBError is an OSError
            raise TransportError(f"writing to USB printer {self.address} failed: {exc}", False) from exc
        finally:
            printer.close()

    def paper_status(self) -> PaperStatus:
        printer = self._open()
        try:
            printer._raw(DLE_EOT_PAPER)
            return decode_paper_status(bytes(printer._read()))
        except OSError:
            return "unknown"  # no IN endpoint or no answer
        finally:
            printer.close()
