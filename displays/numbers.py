"""Vietnamese readings of numbers, letters and ticket numbers.

Off-the-shelf readers get Vietnamese numerals wrong (espeak-ng says 15 as "mười năm", another
reader says 1023 as "một nghìn lẻ hai mươi ba"), so announcements are spelled out here, in words,
before any speech engine sees them. The rules follow DOMAIN.md's table:

- units after "mươi" (20..99): 1 is "mốt", 5 is "lăm"; after "mười" (10..19): 5 is "lăm";
- a zero tens digit inside a hundred reads "lẻ" (105 "một trăm lẻ năm");
- a group of three after "nghìn" always says its hundreds, even zero ("không trăm").
"""

from __future__ import annotations

import re

MAX_NUMBER = 999_999

DIGITS: tuple[str, ...] = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

LETTERS: dict[str, str] = {
    "A": "a",
    "Ă": "á",
    "Â": "ớ",
    "B": "bê",
    "C": "xê",
    "D": "dê",
    "Đ": "đê",
    "E": "e",
    "Ê": "ê",
    "F": "ép",
    "G": "giê",
    "H": "hát",
    "I": "i",
    "J": "gi",
    "K": "ca",
    "L": "e-lờ",
    "M": "em-mờ",
    "N": "en-nờ",
    "O": "o",
    "Ô": "ô",
    "Ơ": "ơ",
    "P": "pê",
    "Q": "quy",
    "R": "e-rờ",
    "S": "ét-xì",
    "T": "tê",
    "U": "u",
    "Ư": "ư",
    "V": "vê",
    "W": "vê kép",
    "X": "ích-xì",
    "Y": "i dài",
    "Z": "dét",
}

# A ticket number is runs of digits and runs of letters; anything else only separates runs.
_TICKET_PART = re.compile(r"(\d+)|([^\W\d_]+)")


def _below_hundred(n: int) -> str:
    """Read 0 < n < 100 as it stands alone or after a hundreds word."""
    tens, units = divmod(n, 10)
    if tens == 0:
        return DIGITS[units]
    head = "mười" if tens == 1 else f"{DIGITS[tens]} mươi"
    if units == 0:
        return head
    if units == 5:
        return f"{head} lăm"
    if units == 1 and tens >= 2:
        return f"{head} mốt"
    return f"{head} {DIGITS[units]}"


def _group(n: int, full: bool) -> str:
    """Read a group of three digits (0 < n < 1000).

    `full` means a higher group precedes this one, so the hundreds are said even when zero.
    """
    hundreds, rest = divmod(n, 100)
    words: list[str] = []
    if hundreds or full:
        words.append(f"{DIGITS[hundreds]} trăm")
    if rest:
        if words and rest < 10:
            words.append(f"lẻ {DIGITS[rest]}")
        else:
            words.append(_below_hundred(rest))
    return " ".join(words)


def read_number(n: int) -> str:
    """Read 0..999999 as Vietnamese words, e.g. 1023 -> "một nghìn không trăm hai mươi ba"."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"read_number expects an int, got {type(n).__name__}")
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"read_number reads 0..{MAX_NUMBER}, got {n}")
    if n == 0:
        return DIGITS[0]
    thousands, rest = divmod(n, 1000)
    words: list[str] = []
    if thousands:
        words.append(f"{_group(thousands, full=False)} nghìn")
    if rest:
        words.append(_group(rest, full=bool(thousands)))
    return " ".join(words)


def read_digits(digits: str) -> str:
    """Read a digit string one digit at a time ("0912" -> "không chín một hai")."""
    if not digits.isdigit():
        raise ValueError(f"not a string of digits: {digits!r}")
    return " ".join(DIGITS[int(d)] for d in digits)


def read_letter(ch: str) -> str:
    """The Vietnamese name of a letter as said aloud ("B" -> "bê"); case does not matter."""
    if len(ch) != 1:
        raise ValueError(f"read_letter expects one character, got {ch!r}")
    name = LETTERS.get(ch.upper())
    if name is None:
        raise ValueError(f"no Vietnamese reading for the character {ch!r}")
    return name


def read_digit_run(digits: str) -> str:
    """Read a run of digits as one numeral, leading zeros dropped; too long -> digit by digit."""
    value = int(digits)
    if value > MAX_NUMBER:
        return read_digits(digits)
    return read_number(value)


def read_ticket_number(display_number: str) -> str:
    """Read a ticket number: letters by name, digits as one numeral ("A023" -> "a, hai mươi ba").

    Letter runs and digit runs are separated by a comma so engines pause briefly between them;
    other characters (dashes, dots, spaces) only separate runs.
    """
    parts: list[str] = []
    for digits, letters in _TICKET_PART.findall(display_number):
        if digits:
            parts.append(read_digit_run(digits))
        else:
            parts.append(" ".join(read_letter(ch) for ch in letters))
    if not parts:
        raise ValueError(f"ticket number {display_number!r} has no letters or digits to read")
    return ", ".join(parts)
