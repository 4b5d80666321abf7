from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.ticket_printer.fakeprinter import iter_commands
from tests.ticket_printer.samples import make_ticket
from ticket_printer.codepages import (
    TCVN3_LOWER,
    TCVN3_UPPER,
    decode_cp1258,
    decode_tcvn3,
    encode_cp1258,
    encode_tcvn3,
    to_cp1258_form,
)
from ticket_printer.escpos_output import ticket_bytes_text
from ticket_printer.fonts import VIETNAMESE_LETTERS

SENTENCES = [
    "Mời công dân",
    "Xin mời công dân có số A023 đến quầy số 5",
    "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG PHƯỜNG BA ĐÌNH",
    "Bộ phận làm ngay – Đất đai, Xây dựng; Lao động – Thương binh và Xã hội",
    VIETNAMESE_LETTERS,
    "Ặ ằ ữ ỹ Đ",
]
vietnamese_text = st.text(alphabet=VIETNAMESE_LETTERS + "abcdeghiklmnopqrstuvxyABCDEGHIKLMNOPQRSTUVXY 0123456789.,:!")


@pytest.mark.parametrize("text", SENTENCES)
def test_cp1258_round_trip(text: str) -> None:
    data = encode_cp1258(text)
    assert b"?" not in data
    assert decode_cp1258(data) == unicodedata.normalize("NFC", text)


def test_cp1258_keeps_base_letters_and_decomposes_tones() -> None:
    assert to_cp1258_form("ậ") == "â\u0323"
    assert encode_cp1258("ậ") == b"\xe2\xf2"  # â + combining dot below
    assert encode_cp1258("ờ") == b"\xf5\xcc"  # ơ + combining grave
    assert encode_cp1258("á") == b"a\xec"  # tone always decomposed, even where precomposed exists
    assert encode_cp1258("Đ") == b"\xd0"
    assert len(encode_cp1258("Mời công dân")) == len("Mời công dân") + 1


@pytest.mark.parametrize("text", SENTENCES)
def test_tcvn3_round_trip(text: str) -> None:
    data = encode_tcvn3(text)
    assert b"?" not in data
    assert decode_tcvn3(data) == unicodedata.normalize("NFC", text).replace("–", "-")


def test_tcvn3_table_follows_the_standard() -> None:
    assert len(TCVN3_LOWER) == 74 and len(TCVN3_UPPER) == 60
    assert [TCVN3_LOWER[c] for c in "ĂÂÊÔƠƯĐăâêôơưđ"] == list(range(0xA1, 0xAF))
    expected = {"à": 0xB5, "ạ": 0xB9, "ằ": 0xBB, "ắ": 0xBE, "ặ": 0xC6, "ầ": 0xC7, "è": 0xCC, "ẻ": 0xCE,
                "é": 0xD0, "ệ": 0xD6, "ì": 0xD7, "ĩ": 0xDC, "ò": 0xDF, "ỏ": 0xE1, "ợ": 0xEE, "ù": 0xEF,
                "ủ": 0xF1, "ự": 0xF9, "ỳ": 0xFA, "ỵ": 0xFE}
    assert {c: TCVN3_LOWER[c] for c in expected} == expected
    assert TCVN3_UPPER["Ụ"] == TCVN3_LOWER["ụ"]


def test_tcvn3_switches_to_the_upper_case_table_and_back() -> None:
    assert encode_tcvn3("VỤ a", 30, 31) == b"V\x1bt\x1f\xf4 a\x1bt\x1e"
    assert encode_tcvn3("VỤ đ", 30, 31) == b"V\x1bt\x1f\xf4 \x1bt\x1e\xae"
    assert encode_tcvn3("PHÒNG") == b"PH\x1bt\x1f\xdfNG\x1bt\x1e"


@given(vietnamese_text)
def test_any_vietnamese_text_round_trips_in_both_code_pages(text: str) -> None:
    assert decode_cp1258(encode_cp1258(text)) == text
    assert decode_tcvn3(encode_tcvn3(text)) == text


def _printed_text(data: bytes, encoding: str) -> str:
    """Text runs and code page switches of an ESC/POS job, decoded as the printer would."""
    kept = b"".join(
        c.raw for c in iter_commands(data) if c.kind == "text" or c.raw.startswith(b"\x1bt")
    )
    body = kept.split(b"\x1bt", 1)[1][1:]  # drop the initial page selection
    return decode_cp1258(body) if encoding == "cp1258" else decode_tcvn3(body)


@pytest.mark.parametrize("encoding,page", [("cp1258", 52), ("tcvn3", 30)])
def test_text_mode_ticket(encoding: str, page: int) -> None:
    t = make_ticket(priority_label="Người khuyết tật")
    data = ticket_bytes_text(t, 42, encoding, profile="TM-T88V")  # type: ignore[arg-type]
    commands = list(iter_commands(data))
    assert commands[0].raw == b"\x1b@"
    assert commands[1].raw == b"\x1bt" + bytes([page])
    pages = {c.raw[2] for c in commands if c.raw.startswith(b"\x1bt")}
    assert pages == ({52} if encoding == "cp1258" else {30, 31})  # nothing else switches tables
    printed = _printed_text(data, encoding)
    for expected in ("TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG", "PHƯỜNG BA ĐÌNH", "SỐ THỨ TỰ", "A023",
                     "Chứng thực", "Bộ phận làm ngay", "Người khuyết tật", "Số người chờ trước: 4",
                     "Thời gian chờ dự kiến: ~12 phút", "22/11/2026 08:15", "Xin cảm ơn!"):
        assert expected in printed
    sizes = [c.args for c in commands if c.raw.startswith(b"\x1d!")]
    assert b"!\x77" in sizes  # GS ! 8x8 for the number (42 columns / 4 characters, capped at 8)
    qr_payloads = [c.args for c in commands if c.kind == "qr"]
    assert any(make_ticket().track_url.encode() in p for p in qr_payloads)
    assert commands[-1].kind == "cut"


def test_text_mode_needs_a_code_page() -> None:
    with pytest.raises(ValueError, match="code page"):
        ticket_bytes_text(make_ticket(), 42, "cp1258", profile="TM-T88IV")
    data = ticket_bytes_text(make_ticket(), 42, "cp1258", profile="TM-T88IV", code_page=52)
    assert data.startswith(b"\x1b@\x1bt\x34")
