"""A fake ESC/POS network printer and a raster decoder, for this room's and end-to-end tests.

``FakePrinter`` listens on 127.0.0.1 (a free port), records every byte per connection, answers
DLE EOT status requests like a real printer, and can refuse connections or report paper
near-end / out. ``decode_raster`` turns GS v 0 blocks back into images so a test can OCR the
ticket and scan its QR code.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Self

from PIL import Image

ESC, GS, DLE = 0x1B, 0x1D, 0x10
_ESC_NO_ARG = b"@2"
_INVERT = bytes(255 - i for i in range(256))

PaperState = Literal["ok", "near_end", "out"]
#: DLE EOT 4 answers: fixed bits 0x12, near-end sensor bits 2+3, paper-end bits 5+6.
PAPER_ANSWERS: dict[PaperState, int] = {"ok": 0x12, "near_end": 0x1E, "out": 0x7E}


@dataclass(frozen=True)
class Command:
    """One ESC/POS command (or a run of printable text) from a byte stream."""

    kind: str  # "text", "raster", "cut", "status", "qr", "esc", "gs"
    raw: bytes
    args: bytes = b""


def next_command(data: bytes, pos: int) -> tuple[Command, int] | None:
    """The command starting at ``pos`` and where the next one starts; None if incomplete."""
    n = len(data)
    b = data[pos]
    if b == DLE:
        if pos + 3 > n:
            return None
        if data[pos + 1] == 0x04:
            return Command("status", data[pos : pos + 3], data[pos + 2 : pos + 3]), pos + 3
        return Command("other", data[pos : pos + 2]), pos + 2
    if b == ESC:
        if pos + 2 > n:
            return None
        op = data[pos + 1]
        if op in _ESC_NO_ARG:
            return Command("esc", data[pos : pos + 2]), pos + 2
        if pos + 3 > n:
            return None
        return Command("esc", data[pos : pos + 3], data[pos + 1 : pos + 3]), pos + 3
    if b == GS:
        if pos + 2 > n:
            return None
        op = data[pos + 1]
        if op == ord("v"):  # GS v 0 m xL xH yL yH d1…dk
            if pos + 8 > n:
                return None
            width_bytes = data[pos + 4] | data[pos + 5] << 8
            height = data[pos + 6] | data[pos + 7] << 8
            end = pos + 8 + width_bytes * height
            if end > n:
                return None
            return Command("raster", data[pos:end], data[pos + 4 : end]), end
        if op == ord("("):  # GS ( k / GS ( L pL pH …
            if pos + 5 > n:
                return None
            end = pos + 5 + (data[pos + 3] | data[pos + 4] << 8)
            if end > n:
                return None
            kind = "qr" if data[pos + 2] == ord("k") else "gs"
            return Command(kind, data[pos:end], data[pos + 5 : end]), end
        if op == ord("V"):  # GS V m, or GS V m n for m = 65, 66
            if pos + 3 > n:
                return None
            end = pos + (4 if data[pos + 2] in (65, 66) else 3)
            if end > n:
                return None
            return Command("cut", data[pos:end], data[pos + 2 : end]), end
        if pos + 3 > n:
            return None
        return Command("gs", data[pos : pos + 3], data[pos + 1 : pos + 3]), pos + 3
    end = pos
    while end < n and data[end] not in (ESC, GS, DLE):
        end += 1
    return Command("text", data[pos:end], data[pos:end]), end


def iter_commands(data: bytes) -> Iterator[Command]:
    """All complete commands of ``data`` in order."""
    pos = 0
    while pos < len(data):
        found = next_command(data, pos)
        if found is None:
            return
        command, pos = found
        yield command


def _raster_image(command: Command) -> Image.Image:
    args = command.args
    width_bytes = args[0] | args[1] << 8
    height = args[2] | args[3] << 8
    # ESC/POS: bit 1 = black dot; Pillow mode "1": bit 1 = white.
    return Image.frombytes("1", (width_bytes * 8, height), args[4:].translate(_INVERT))


def decode_raster(data: bytes) -> list[Image.Image]:
    """Every GS v 0 raster block in ``data`` as a mode "1" image (black ink = 0)."""
    return [_raster_image(c) for c in iter_commands(data) if c.kind == "raster"]


def decode_tickets(data: bytes) -> list[Image.Image]:
    """The raster blocks between cuts stacked into one image per cut-off ticket."""
    tickets: list[Image.Image] = []
    blocks: list[Image.Image] = []
    for command in iter_commands(data):
        if command.kind == "raster":
            blocks.append(_raster_image(command))
        elif command.kind == "cut" and blocks:
            width = max(b.width for b in blocks)
            page = Image.new("1", (width, sum(b.height for b in blocks)), 1)
            y = 0
            for block in blocks:
                page.paste(block, (0, y))
                y += block.height
            tickets.append(page)
            blocks = []
    return tickets


def count_cuts(data: bytes) -> int:
    return sum(1 for c in iter_commands(data) if c.kind == "cut")


class FakePrinter:
    """A thread-based TCP "port 9100" printer. Use as a context manager or call ``close()``."""

    def __init__(self, paper: PaperState = "ok", answer_status: bool = True) -> None:
        self.paper: PaperState = paper
        self.answer_status = answer_status  # False: ignore DLE EOT like printers that never answer
        self.connections: list[bytearray] = []
        self.status_requests = 0
        self._lock = threading.Condition()
        self._closed = False
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    # -- control --

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def refuse_connections(self) -> None:
        """Close the listener: new connections are refused (the printer is off)."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:  # wakes the thread blocked in accept(); close() alone would not stop listening
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()

    def accept_connections(self) -> None:
        """Listen again on the same port (the printer is back)."""
        if self._listener is None:
            self._listen()

    def close(self) -> None:
        self._closed = True
        self.refuse_connections()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what arrived --

    @property
    def received(self) -> bytes:
        """All bytes from all connections, in connection order."""
        with self._lock:
            return b"".join(bytes(c) for c in self.connections)

    def wait_for_bytes(self, count: int, timeout: float = 5.0) -> bytes:
        """Block until ``count`` bytes arrived in total; AssertionError on timeout."""
        return self._wait(lambda data: len(data) >= count, timeout, f"{count} bytes")

    def wait_for_cut(self, cuts: int = 1, timeout: float = 5.0) -> bytes:
        """Block until ``cuts`` paper cuts (GS V) arrived; returns everything received."""
        return self._wait(lambda data: count_cuts(data) >= cuts, timeout, f"{cuts} cut(s)")

    def tickets(self) -> list[Image.Image]:
        return decode_tickets(self.received)

    def _wait(self, done: object, timeout: float, what: str) -> bytes:
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                data = b"".join(bytes(c) for c in self.connections)
                if done(data):  # type: ignore[operator]
                    return data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"fake printer: no {what} within {timeout} s ({len(data)} bytes)")
                self._lock.wait(left)

    # -- server --

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(8)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept_loop, args=(listener,), daemon=True).start()

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # listener closed
            with self._lock:
                buffer = bytearray()
                self.connections.append(buffer)
            threading.Thread(target=self._serve, args=(conn, buffer), daemon=True).start()

    def _serve(self, conn: socket.socket, buffer: bytearray) -> None:
        parsed = 0
        with conn:
            conn.settimeout(10)
            while not self._closed:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                with self._lock:
                    buffer += chunk
                    data = bytes(buffer)
                    self._lock.notify_all()
                while parsed < len(data):
                    found = next_command(data, parsed)
                    if found is None:
                        break
                    command, parsed = found
                    if command.kind == "status":
                        self._answer(conn, command.args[0])

    def _answer(self, conn: socket.socket, which: int) -> None:
        with self._lock:
            self.status_requests += 1
            self._lock.notify_all()
        if not self.answer_status:
            return
        answer = PAPER_ANSWERS[self.paper] if which == 4 else 0x12
        try:
            conn.sendall(bytes([answer]))
        except OSError:
            pass
