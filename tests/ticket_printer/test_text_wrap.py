"""Text mode on 58 mm paper: no line holds more bytes than the printer has columns, so the printer
never breaks a word itself (CP1258 sends a tone mark as its own byte)."""
from __future__ import annotations

from tests.ticket_printer.fakeprinter import iter_commands
from tests.ticket_printer.samples import make_ticket
from ticket_printer.codepages import decode_cp1258, decode_tcvn3
from ticket_printer.escpos_output import ticket_bytes_text
from ticket_printer.text_wrap import cp1258_cells, wrap_cells

LONG = {"office_name": "Trung tâm Phục vụ hành chính công tỉnh Bắc Ninh",
        "office_subtitle": "Bộ phận tiếp nhận và trả kết quả phường Hồng Hải",
        "service_name": "Chứng thực bản sao từ bản chính giấy tờ, văn bản",
        "desk_label": "Bộ phận một cửa làm ngay trong ngày"}


def printed_lines(data: bytes) -> list[bytes]:
    """The bytes of each printed line (commands left out)."""
    text = b"".join(c.raw for c in iter_commands(data) if c.kind == "text")
    return text.split(b"\n")


def test_cp1258_lines_fit_the_paper_and_words_stay_whole() -> None:
    data = ticket_bytes_text(make_ticket(**LONG), 32, "cp1258", profile="default")
    lines = printed_lines(data)
    assert max(len(line) for line in lines if b"A023" not in line) <= 32, lines
    words = {w for line in lines for w in decode_cp1258(line).split()}
    for field in LONG.values():
        for word in field.split():
            assert word in words, (word, [decode_cp1258(x) for x in lines])


def test_tcvn3_lines_fit_the_paper_and_words_stay_whole() -> None:
    data = ticket_bytes_text(make_ticket(**LONG), 32, "tcvn3", code_page=30, upper_code_page=31)
    # TCVN-3 switches page (ESC t) around upper-case letters: join a line's runs before measuring
    lines, current = [], b""
    for c in iter_commands(data):
        if c.kind == "text":
            *done, current = (current + c.raw).split(b"\n")
            lines += done
    assert max(len(line) for line in lines if b"A023" not in line) <= 32
    words = {w for line in lines for w in decode_tcvn3(line).split()}
    assert all(w in words for w in LONG["office_subtitle"].split() if w.islower())


def test_a_word_longer_than_a_line_splits_between_letters_not_tone_marks() -> None:
    word = "Nghiêngnghiêngnghiêngnghiêngnghiêng"
    parts = wrap_cells(word, 16, cp1258_cells)
    assert "".join(parts) == word and all(cp1258_cells(p) <= 16 for p in parts)
