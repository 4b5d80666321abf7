from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.ticket_printer.fakeprinter import FakePrinter
from ticket_printer.transports import (
    DLE_EOT_PAPER,
    NetworkAddress,
    TransportError,
    decode_paper_status,
    open_transport,
    parse_address,
)


@pytest.mark.parametrize(
    "kind,address,expected",
    [
        ("network", "192.168.1.50", "192.168.1.50:9100"),
        ("network", "192.168.1.50:9101", "192.168.1.50:9101"),
        ("network", "printer-1.office.local", "printer-1.office.local:9100"),
        ("network", "[fe80::1]:9100", "[fe80::1]:9100"),
        ("usb", "usb:04b8:0202", "usb:04b8:0202"),
        ("usb", "04B8:0E15", "usb:04b8:0e15"),
        ("serial", "/dev/ttyUSB0", "/dev/ttyUSB0"),
        ("serial", "COM3@38400", "COM3@38400"),
        ("file", "/tmp/spool.bin", "/tmp/spool.bin"),
    ],
)
def test_addresses_parse(kind: str, address: str, expected: str) -> None:
    assert str(parse_address(kind, address)) == expected


def test_network_port_defaults_to_9100() -> None:
    assert parse_address("network", "10.0.0.7") == NetworkAddress("10.0.0.7", 9100)


@pytest.mark.parametrize(
    "kind,address",
    [
        ("network", ""),
        ("network", "192.168.1.50:"),
        ("network", "192.168.1.50:70000"),
        ("network", "print er:9100"),
        ("network", "[fe80::1:9100"),
        ("usb", "usb:04b8"),
        ("usb", "usb:zzzz:0202"),
        ("serial", "ttyUSB0"),
        ("serial", "/dev/ttyUSB0@1234"),
        ("file", ""),
        ("agent", "kiosk"),
        ("bluetooth", "00:11:22:33:44:55"),
    ],
)
def test_bad_addresses_are_value_errors(kind: str, address: str) -> None:
    with pytest.raises(ValueError):
        parse_address(kind, address)
    if kind != "agent":
        with pytest.raises(ValueError):
            open_transport(kind, address)


def test_agent_address_is_a_device_id_and_is_not_opened_here() -> None:
    assert parse_address("agent", "12") == 12
    with pytest.raises(ValueError, match="agent"):
        open_transport("agent", "12")


def test_network_send_reaches_the_printer(fake_printer: FakePrinter) -> None:
    open_transport("network", fake_printer.address).send(b"\x1b@hello\x1dV\x00")
    assert fake_printer.wait_for_cut() == b"\x1b@hello\x1dV\x00"
    assert len(fake_printer.connections) == 1


def test_refused_connection_is_a_temporary_error(fake_printer: FakePrinter) -> None:
    fake_printer.refuse_connections()
    transport = open_transport("network", fake_printer.address, connect_timeout=1.5)
    with pytest.raises(TransportError) as caught:
        transport.send(b"x")
    assert caught.value.permanent is False
    assert "refused" in caught.value.message.lower()
    with pytest.raises(TransportError):
        transport.paper_status()
    fake_printer.accept_connections()  # the printer is back: the retry works
    transport.send(b"again\x1dV\x00")
    assert fake_printer.wait_for_cut().endswith(b"again\x1dV\x00")


def test_connect_timeout_is_a_temporary_error() -> None:
    # A listener whose backlog is full stops completing handshakes, like a printer that hangs.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        transport = open_transport("network", f"127.0.0.1:{port}", connect_timeout=0.3)
        with pytest.raises(TransportError) as caught:
            transport.send(b"x" * 10)
        assert caught.value.permanent is False
        assert "did not answer" in caught.value.message
    finally:
        for s in fillers:
            s.close()
        server.close()


@pytest.mark.parametrize("paper", ["ok", "near_end", "out"])
def test_paper_status_from_dle_eot(fake_printer: FakePrinter, paper: str) -> None:
    fake_printer.paper = paper  # type: ignore[assignment]
    assert open_transport("network", fake_printer.address).paper_status() == paper
    assert fake_printer.received == DLE_EOT_PAPER


def test_printer_that_never_answers_has_unknown_paper() -> None:
    with FakePrinter(answer_status=False) as printer:
        transport = open_transport("network", printer.address, status_timeout=0.2)
        assert transport.paper_status() == "unknown"
        assert printer.status_requests == 1


@pytest.mark.parametrize(
    "answer,status",
    [
        (b"\x12", "ok"),
        (b"\x16", "near_end"),  # bit 2 only
        (b"\x1a", "near_end"),  # bit 3 only
        (b"\x1e", "near_end"),
        (b"\x32", "out"),  # bit 5 only
        (b"\x72", "out"),
        (b"\x7e", "out"),
        (b"", "unknown"),
        (b"\xff", "unknown"),  # not a status byte
        (b"A", "unknown"),
    ],
)
def test_decode_paper_status(answer: bytes, status: str) -> None:
    assert decode_paper_status(answer) == status


def test_file_transport_appends(tmp_path: Path) -> None:
    path = tmp_path / "spool.bin"
    transport = open_transport("file", str(path))
    transport.send(b"first")
    transport.send(b"second")
    assert path.read_bytes() == b"firstsecond"
    assert transport.paper_status() == "unknown"


def test_file_transport_into_a_missing_folder_is_permanent(tmp_path: Path) -> None:
    with pytest.raises(TransportError) as caught:
        open_transport("file", str(tmp_path / "no" / "such" / "dir.bin")).send(b"x")
    assert caught.value.permanent is True


def test_missing_usb_and_serial_libraries_are_permanent(monkeypatch: pytest.MonkeyPatch) -> None:
    from escpos.printer import serial as escpos_serial
    from escpos.printer import usb as escpos_usb

    monkeypatch.setattr(escpos_usb, "is_usable", lambda: False)
    monkeypatch.setattr(escpos_serial, "is_usable", lambda: False)
    for kind, address, hint in [("usb", "usb:04b8:0202", "pyusb"), ("serial", "/dev/ttyUSB0", "pyserial")]:
        with pytest.raises(TransportError) as caught:
            open_transport(kind, address).send(b"x")
        assert caught.value.permanent is True
        assert hint in caught.value.message


def test_unplugged_usb_printer_is_temporary(monkeypatch: pytest.MonkeyPatch) -> None:
    """With pyusb present but no device, python-escpos raises DeviceNotFoundError: retry later."""
    from escpos.exceptions import DeviceNotFoundError
    from escpos.printer import usb as escpos_usb

    class NoDevice:
        def __init__(self, *args: object, **kwargs: object) -> None:
            pass

        def open(self) -> None:
            raise DeviceNotFoundError("Unable to open USB printer on (1208, 514)")

    monkeypatch.setattr(escpos_usb, "is_usable", lambda: True)
    monkeypatch.setattr(escpos_usb, "Usb", NoDevice)
    with pytest.raises(TransportError) as caught:
        open_transport("usb", "usb:04b8:0202").send(b"x")
    assert caught.value.permanent is False
