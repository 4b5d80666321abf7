"""Append the bytes to a file: a spool file for tests and debugging, or a Linux printer device
such as /dev/usb/lp0 (the kernel's usblp driver, no pyusb needed)."""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

from .base import PaperStatus, TransportError


@dataclass(frozen=True)
class FileAddress:
    path: Path

    def __str__(self) -> str:
        return str(self.path)


def parse(address: str) -> FileAddress:
    """Any path; "~" is expanded. Whether it exists is checked when printing."""
    text = address.strip()
    if not text:
        raise ValueError("file printer address is empty; expected a path such as /dev/usb/lp0")
    if "\x00" in text:
        raise ValueError("file printer address contains a NUL character")
    return FileAddress(Path(text).expanduser())


# A device node that is missing or failing usually means the printer is off or unplugged.
_DEVICE_TRANSIENT = {errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO, errno.EBUSY, errno.EAGAIN}


class FileTransport:
    kind = "file"

    def __init__(self, address: FileAddress) -> None:
        self.target = address
        self.address = str(address)

    def send(self, data: bytes) -> None:
        try:
            with open(self.target.path, "ab") as out:
                out.write(data)
        except OSError as exc:
            is_device = self.target.path.parts[:2] == ("/", "dev")
            permanent = not (is_device and exc.errno in _DEVICE_TRANSIENT)
            raise TransportError(f"cannot write to {self.address}: {exc.strerror or exc}", permanent) from exc

    def paper_status(self) -> PaperStatus:
        return "unknown"
