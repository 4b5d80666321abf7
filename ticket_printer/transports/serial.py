"""A serial (RS-232 or USB-serial) printer through python-escpos's ``Serial`` class (pyserial).

Imported lazily, like USB: pyserial is only needed where such a printer is attached.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .base import DLE_EOT_PAPER, PaperStatus, TransportError, decode_paper_status

DEFAULT_BAUDRATE = 9600
_BAUDRATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
_DEVICE = re.compile(r"^(/dev/[A-Za-z0-9._/-]+|COM[0-9]{1,3})$")


@dataclass(frozen=True)
class SerialAddress:
    device: str
    baudrate: int = DEFAULT_BAUDRATE

    def __str__(self) -> str:
        suffix = "" if self.baudrate == DEFAULT_BAUDRATE else f"@{self.baudrate}"
        return f"{self.device}{suffix}"


def parse(address: str) -> SerialAddress:
    """"/dev/ttyUSB0" or "COM3", optionally "@38400" for a baud rate other than 9600."""
    device, _, baud = address.strip().partition("@")
    if not _DEVICE.match(device) or ".." in device:
        raise ValueError(
            f"bad serial printer address {address!r}: expected a device such as /dev/ttyUSB0 or COM3"
        )
    baudrate = DEFAULT_BAUDRATE
    if baud:
        if not baud.isdigit() or int(baud) not in _BAUDRATES:
            raise ValueError(f"bad serial baud rate {baud!r}: use one of {_BAUDRATES}")
        baudrate = int(baud)
    return SerialAddress(device, baudrate)


class SerialTransport:
    kind = "serial"

    def __init__(self, address: SerialAddress, *, timeout: float = 1.0) -> None:
        self.target = address
        self.address = str(address)
        self.timeout = timeout

    def _open(self) -> Any:
        from escpos.exceptions import Error as EscposError
        from escpos.printer import serial as escpos_serial

        if not escpos_serial.is_usable():
            raise TransportError("serial printing needs pyserial: pip install pyserial", permanent=True)
        printer = escpos_serial.Serial(
            devfile=self.target.device, baudrate=self.target.baudrate, timeout=self.timeout
        )
        try:
            printer.open()
        except (EscposError, OSError) as exc:  # unplugged or busy: may come back
            raise TransportError(f"serial printer {self.address} not available: {exc}", False) from exc
        return printer

    def send(self, data: bytes) -> None:
        printer = self._open()
        try:
            printer._raw(data)
        except OSError as exc:  # serial.SerialException is an OSError
            raise TransportError(f"writing to serial printer {self.address} failed: {exc}", False) from exc
        finally:
            printer.close()

    def paper_status(self) -> PaperStatus:
        printer = self._open()
        try:
            printer._raw(DLE_EOT_PAPER)
            return decode_paper_status(bytes(printer._read()))
        except OSError:
            return "unknown"
        finally:
            printer.close()
