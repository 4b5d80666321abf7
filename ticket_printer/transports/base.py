"""The narrow interface every printer transport offers, and its one error type.

A transport only moves bytes: the job worker retries on ``TransportError(permanent=False)`` and
gives up at once on ``permanent=True`` (a retry cannot fix a wrong address or a missing driver).
"""

from __future__ import annotations

from typing import Literal, Protocol

PaperStatus = Literal["ok", "near_end", "out", "unknown"]

#: DLE EOT 4: real-time "transmit paper roll sensor status"; the printer answers one byte.
DLE_EOT_PAPER = b"\x10\x04\x04"


class TransportError(Exception):
    """Printing failed; ``permanent`` says whether retrying the same job can help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"TransportError({self.message!r}, permanent={self.permanent})"


class Transport(Protocol):
    """A way to reach one printer."""

    kind: str
    address: str

    def send(self, data: bytes) -> None:
        """Deliver ``data`` to the printer; raises TransportError."""
        ...

    def paper_status(self) -> PaperStatus:
        """Ask the printer about its paper roll; "unknown" where the transport cannot ask.

        Raises TransportError when the printer cannot be reached at all.
        """
        ...


def decode_paper_status(answer: bytes) -> PaperStatus:
    """Decode the DLE EOT 4 answer: bits 2/3 = roll near end, bits 5/6 = paper out.

    A byte without the fixed bits of a status answer (bit 1 and 4 set, bits 0 and 7 clear)
    is not one, so it yields "unknown" rather than a guess.
    """
    if len(answer) < 1:
        return "unknown"
    status = answer[-1]
    if status & 0x93 != 0x12:
        return "unknown"
    if status & 0x60:
        return "out"
    if status & 0x0C:
        return "near_end"
    return "ok"
