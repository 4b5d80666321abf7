"""The Vietnamese readings announcements depend on (DOMAIN.md's table and beyond)."""

import pytest

from displays.numbers import LETTERS, read_digits, read_letter, read_number, read_ticket_number

DOMAIN_TABLE = {
    5: "năm",
    10: "mười",
    11: "mười một",
    15: "mười lăm",
    21: "hai mươi mốt",
    24: "hai mươi bốn",
    25: "hai mươi lăm",
    100: "một trăm",
    105: "một trăm lẻ năm",
    110: "một trăm mười",
    1000: "một nghìn",
    1004: "một nghìn không trăm lẻ bốn",
    1005: "một nghìn không trăm lẻ năm",
    1015: "một nghìn không trăm mười lăm",
    1023: "một nghìn không trăm hai mươi ba",
    1100: "một nghìn một trăm",
    2000: "hai nghìn",
    9999: "chín nghìn chín trăm chín mươi chín",
}

MORE = {
    0: "không",
    1: "một",
    4: "bốn",
    9: "chín",
    14: "mười bốn",
    20: "hai mươi",
    31: "ba mươi mốt",
    45: "bốn mươi lăm",
    55: "năm mươi lăm",
    90: "chín mươi",
    101: "một trăm lẻ một",
    111: "một trăm mười một",
    115: "một trăm mười lăm",
    121: "một trăm hai mươi mốt",
    200: "hai trăm",
    999: "chín trăm chín mươi chín",
    1001: "một nghìn không trăm lẻ một",
    1010: "một nghìn không trăm mười",
    1021: "một nghìn không trăm hai mươi mốt",
    1105: "một nghìn một trăm lẻ năm",
    10000: "mười nghìn",
    15000: "mười lăm nghìn",
    21000: "hai mươi mốt nghìn",
    100005: "một trăm nghìn không trăm lẻ năm",
    105000: "một trăm lẻ năm nghìn",
    110001: "một trăm mười nghìn không trăm lẻ một",
    999999: "chín trăm chín mươi chín nghìn chín trăm chín mươi chín",
}


@pytest.mark.parametrize(("n", "reading"), sorted({**DOMAIN_TABLE, **MORE}.items()))
def test_read_number(n: int, reading: str) -> None:
    assert read_number(n) == reading


@pytest.mark.parametrize("bad", [-1, 1_000_000])
def test_read_number_refuses_out_of_range(bad: int) -> None:
    with pytest.raises(ValueError, match="0..999999"):
        read_number(bad)


def test_read_number_refuses_non_int() -> None:
    with pytest.raises(TypeError):
        read_number("5")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        read_number(True)


DOMAIN_LETTERS = {
    "A": "a",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "K": "ca",
    "L": "e-lờ",
    "M": "em-mờ",
    "N": "en-nờ",
    "O": "o",
    "P": "pê",
    "Q": "quy",
    "R": "e-rờ",
    "S": "ét-xì",
    "T": "tê",
    "U": "u",
    "V": "vê",
    "X": "ích-xì",
    "Y": "i dài",
}


@pytest.mark.parametrize(("letter", "name"), sorted(DOMAIN_LETTERS.items()))
def test_read_letter_domain_names(letter: str, name: str) -> None:
    assert read_letter(letter) == name
    assert read_letter(letter.lower()) == name


def test_every_latin_letter_has_a_reading() -> None:
    for code in range(ord("A"), ord("Z") + 1):
        assert read_letter(chr(code)), chr(code)
    assert {read_letter(c) for c in "FJWZ"} == {"ép", "gi", "vê kép", "dét"}
    assert len(set(LETTERS.values())) == len(LETTERS)  # no two letters sound alike


@pytest.mark.parametrize("bad", ["", "AB", "1", "?"])
def test_read_letter_refuses(bad: str) -> None:
    with pytest.raises(ValueError):
        read_letter(bad)


@pytest.mark.parametrize(
    ("ticket", "reading"),
    [
        ("A023", "a, hai mươi ba"),
        ("A001", "a, một"),
        ("B105", "bê, một trăm lẻ năm"),
        ("a015", "a, mười lăm"),
        ("023", "hai mươi ba"),
        ("1000", "một nghìn"),
        ("000", "không"),
        ("AB012", "a bê, mười hai"),
        ("Đ-021", "đê, hai mươi mốt"),
        ("LY7", "e-lờ i dài, bảy"),
        ("C", "xê"),
        ("K12345678", "ca, một hai ba bốn năm sáu bảy tám"),
    ],
)
def test_read_ticket_number(ticket: str, reading: str) -> None:
    assert read_ticket_number(ticket) == reading


def test_read_ticket_number_refuses_empty() -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        read_ticket_number("--")


def test_read_digits() -> None:
    assert read_digits("0915") == "không chín một năm"
