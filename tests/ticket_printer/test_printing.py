"""End to end inside the room: ticket -> ESC/POS -> TCP -> fake printer -> decoded paper."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from pyzbar.pyzbar import decode as scan_codes

from tests.ticket_printer.fakeprinter import FakePrinter, decode_raster, decode_tickets
from tests.ticket_printer.ocr import ocr_lines
from tests.ticket_printer.samples import make_ticket
from ticket_printer import (
    TransportError,
    paper_status,
    print_test_page,
    print_ticket,
    render_ticket,
    ticket_bytes,
    ticket_png,
    validate_printer,
)


@pytest.mark.parametrize("width", [576, 384])
def test_printed_ticket_reads_and_scans(fake_printer: FakePrinter, width: int, artifacts_dir: Path) -> None:
    t = make_ticket(display_number="A023", track_url=f"http://192.168.1.10:8000/t/k7Q2xZ9p{width}")
    print_ticket(t, transport="network", address=fake_printer.address, width_px=width, mode="image", profile=None)
    data = fake_printer.wait_for_cut()
    [paper] = decode_tickets(data)
    paper.save(artifacts_dir / f"printed_{width}.png")
    assert paper.width == width

    lines = ocr_lines(paper, "vie")
    assert "A023" in lines  # the big number, on a line of its own
    for expected in ("PHƯỜNG BA ĐÌNH", "Chứng thực", "Bộ phận làm ngay", "Số người chờ trước: 4",
                     "Thời gian chờ dự kiến: ~12 phút", "Giờ lấy số: 22/11/2026 08:15", "Xin cảm ơn!"):
        assert expected in lines

    assert [code.data.decode() for code in scan_codes(paper.convert("L"))] == [t.track_url]


def test_english_ticket_reads_in_english(fake_printer: FakePrinter) -> None:
    t = make_ticket(lang="en", display_number="B105")
    print_ticket(t, transport="network", address=fake_printer.address, width_px=576, mode="image", profile="TM-T20II")
    [paper] = decode_tickets(fake_printer.wait_for_cut())
    lines = ocr_lines(paper, "eng")
    for expected in ("TICKET NUMBER", "B105", "People ahead of you: 4", "Estimated wait: ~12 min", "Thank you"):
        assert expected in lines


def test_png_is_the_exact_image_the_printer_gets(fake_printer: FakePrinter) -> None:
    t = make_ticket(priority_label="Phụ nữ có thai")
    png = Image.open(io.BytesIO(ticket_png(t, 384)))
    print_ticket(t, transport="network", address=fake_printer.address, width_px=384, mode="image", profile=None)
    [paper] = decode_tickets(fake_printer.wait_for_cut())
    assert png.size == paper.size
    assert png.convert("1").tobytes() == paper.tobytes()
    assert render_ticket(t, 384).tobytes() == paper.tobytes()


def test_raster_is_sent_in_fragments_that_decode_back(fake_printer: FakePrinter) -> None:
    data = ticket_bytes(make_ticket(), width_px=576, mode="image")
    blocks = decode_raster(data)
    assert len(blocks) >= 2  # python-escpos splits at 960 rows; printers limit one block's size
    assert all(b.width == 576 for b in blocks)
    assert sum(b.height for b in blocks) == render_ticket(make_ticket(), 576).height
    assert data.startswith(b"\x1b@") and data.endswith(b"\x1dV\x00")


def test_text_mode_over_the_network(fake_printer: FakePrinter) -> None:
    print_ticket(make_ticket(), transport="network", address=fake_printer.address, width_px=576,
                 mode="text", profile="TM-T88V")
    data = fake_printer.wait_for_cut()
    assert data.startswith(b"\x1b@\x1bt\x34")  # CP1258 is ESC t 52 on the TM-T88V
    assert decode_raster(data) == []


def test_two_tickets_are_two_cuts(fake_printer: FakePrinter) -> None:
    for number in ("A001", "A002"):
        print_ticket(make_ticket(display_number=number), transport="network",
                     address=fake_printer.address, width_px=384, mode="image", profile=None)
    assert len(decode_tickets(fake_printer.wait_for_cut(2))) == 2
    assert len(fake_printer.connections) == 2


def test_file_transport_gets_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "lp0"
    t = make_ticket()
    print_ticket(t, transport="file", address=str(path), width_px=576, mode="image", profile=None)
    assert path.read_bytes() == ticket_bytes(t, width_px=576, mode="image")


def test_misconfigured_printer_fails_permanently(fake_printer: FakePrinter) -> None:
    for kwargs in (
        {"width_px": 576, "mode": "image", "profile": "TM-T88V"},  # 512-dot printer
        {"width_px": 576, "mode": "text", "profile": "TM-T88IV"},  # no Vietnamese code page
        {"width_px": 500, "mode": "image", "profile": None},
        {"width_px": 576, "mode": "image", "profile": "no-such-printer"},
    ):
        with pytest.raises(TransportError) as caught:
            print_ticket(make_ticket(), transport="network", address=fake_printer.address, **kwargs)  # type: ignore[arg-type]
        assert caught.value.permanent is True
        with pytest.raises(ValueError):
            validate_printer("network", fake_printer.address, kwargs["width_px"], kwargs["mode"], kwargs["profile"])  # type: ignore[arg-type]
    assert fake_printer.received == b""
    validate_printer("network", fake_printer.address, 576, "image", "TM-T20II")
    validate_printer("usb", "usb:04b8:0202", 384, "text", "TM-T88V")


def test_paper_status_through_printing_api(fake_printer: FakePrinter) -> None:
    assert paper_status("network", fake_printer.address) == "ok"
    fake_printer.paper = "near_end"
    assert paper_status("network", fake_printer.address) == "near_end"
    fake_printer.paper = "out"
    assert paper_status("network", fake_printer.address) == "out"
    assert paper_status("file", "/tmp/whatever.bin") == "unknown"
    fake_printer.refuse_connections()
    with pytest.raises(TransportError) as caught:
        paper_status("network", fake_printer.address)
    assert caught.value.permanent is False


def test_test_page_prints(fake_printer: FakePrinter) -> None:
    print_test_page("Kiosk 1", transport="network", address=fake_printer.address, width_px=576)
    [page] = decode_tickets(fake_printer.wait_for_cut())
    assert page.width == 576
    assert [c.data for c in scan_codes(page.convert("L"))] == [b"qms printer test Kiosk 1"]
