"""Vietnamese text in the two 8-bit code pages ESC/POS printers offer: CP1258 and TCVN-3.

Only needed for text mode; image mode draws the letters itself. Encoders raise nothing: a
character a code page cannot hold is replaced (dashes and quotes by ASCII look-alikes, the rest
by "?") so a ticket always prints (CP1258 itself has dashes and curly quotes).
"""

from __future__ import annotations

import unicodedata

ESC_T = b"\x1bt"  # ESC t n: select character code table n

#: Combining tone marks; CP1258 keeps these as separate characters after the base letter.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")

_ASCII_LOOKALIKES = str.maketrans(
    {"–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": "...", "\u00a0": " "}
)


# --- CP1258 -----------------------------------------------------------------------------------


def to_cp1258_form(text: str) -> str:
    """Base letters precomposed where CP1258 has them (â, ă, ê, ô, ơ, ư, đ…), tones decomposed.

    This is the form Windows-1258 expects (e.g. "ậ" = "â" + U+0323); plain NFD would split
    "â" into "a" + U+0302, which CP1258 cannot encode.
    """
    out: list[str] = []
    for cluster in _clusters(unicodedata.normalize("NFD", text)):
        base, marks = cluster[0], cluster[1:]
        tones = [m for m in marks if m in TONE_MARKS]
        for mark in (m for m in marks if m not in TONE_MARKS):
            composed = unicodedata.normalize("NFC", base + mark)
            if len(composed) == 1 and _in_cp1258(composed):
                base = composed
            else:
                tones.append(mark)
        out.append(base + "".join(tones))
    return "".join(out)


def encode_cp1258(text: str) -> bytes:
    """Unicode text to CP1258 bytes with decomposed tone marks."""
    return to_cp1258_form(unicodedata.normalize("NFC", text)).encode("cp1258", errors="replace")


def decode_cp1258(data: bytes) -> str:
    """CP1258 bytes back to NFC Unicode (the inverse of :func:`encode_cp1258`)."""
    return unicodedata.normalize("NFC", data.decode("cp1258"))


def _clusters(text: str) -> list[str]:
    clusters: list[str] = []
    for ch in text:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def _in_cp1258(ch: str) -> bool:
    try:
        ch.encode("cp1258")
    except UnicodeEncodeError:
        return False
    return True


# --- TCVN-3 (TCVN 5712:1993, VN3) -------------------------------------------------------------
#
# VN3 keeps ASCII and puts the lower-case Vietnamese letters in 0xA8-0xFE; upper-case letters
# with a tone are not in it. The standard's "upper-case fonts" reuse the lower-case positions,
# which is what Epson's second TCVN-3 table (ESC t 31) does. The table is generated from the
# standard's layout instead of being typed out: the fourteen letters without tone, then the 60
# toned vowels in the standard's order (vowel a ă â e ê i o ô ơ u ư y, tone ` ? ~ ' .) on the free
# positions of 0xB5-0xFE (the skipped ones hold upper-case letters in the larger VN1 set).

_TCVN3_PLAIN = "ĂÂÊÔƠƯĐăâêôơưđ"  # 0xA1-0xA7 upper, 0xA8-0xAE lower
_TCVN3_SKIPPED = {0xBA, *range(0xBF, 0xC6), 0xCD, 0xD9, 0xDA, 0xDB, 0xE0, 0xF0}
_VOWELS = "aăâeêioôơuưy"
_TONES = "\u0300\u0309\u0303\u0301\u0323"  # huyền, hỏi, ngã, sắc, nặng


def _build_tcvn3() -> dict[str, int]:
    table = {ch: 0xA1 + i for i, ch in enumerate(_TCVN3_PLAIN)}
    free = [code for code in range(0xB5, 0xFF) if code not in _TCVN3_SKIPPED]
    toned = [unicodedata.normalize("NFC", v + tone) for v in _VOWELS for tone in _TONES]
    assert len(free) == len(toned) == 60
    table.update(zip(toned, free))
    return table


#: Lower-case table (ESC t 30 on Epson): character -> byte.
TCVN3_LOWER: dict[str, int] = _build_tcvn3()
#: Upper-case toned letters, printed from the upper-case table at the lower-case position.
TCVN3_UPPER: dict[str, int] = {
    ch.upper(): code for ch, code in TCVN3_LOWER.items() if ch.upper() not in TCVN3_LOWER
}
_TCVN3_LOWER_DECODE = {code: ch for ch, code in TCVN3_LOWER.items()}
_TCVN3_UPPER_DECODE = {code: ch for ch, code in TCVN3_UPPER.items()}


def encode_tcvn3(text: str, lower_page: int = 30, upper_page: int = 31) -> bytes:
    """Unicode text to TCVN-3 bytes, switching to the upper-case table (ESC t ``upper_page``)
    around upper-case toned letters and back to ``lower_page``.

    Assumes the lower-case table is selected before and leaves it selected after.
    """
    out = bytearray()
    upper = False
    for ch in unicodedata.normalize("NFC", text).translate(_ASCII_LOOKALIKES):
        if ch in TCVN3_UPPER:
            if not upper:
                out += ESC_T + bytes([upper_page])
                upper = True
            out.append(TCVN3_UPPER[ch])
            continue
        if upper and (ch in TCVN3_LOWER or ord(ch) >= 0x80):
            out += ESC_T + bytes([lower_page])
            upper = False
        if ch in TCVN3_LOWER:
            out.append(TCVN3_LOWER[ch])
        elif ord(ch) < 0x80:
            out.append(ord(ch))
        else:
            out.append(ord("?"))
    if upper:
        out += ESC_T + bytes([lower_page])
    return bytes(out)


def decode_tcvn3(data: bytes, lower_page: int = 30, upper_page: int = 31) -> str:
    """TCVN-3 bytes (with the ESC t switches :func:`encode_tcvn3` writes) back to NFC Unicode."""
    chars: list[str] = []
    table = _TCVN3_LOWER_DECODE
    i = 0
    while i < len(data):
        if data[i : i + 2] == ESC_T and i + 2 < len(data):
            page = data[i + 2]
            if page not in (lower_page, upper_page):
                raise ValueError(f"unexpected code table ESC t {page}")
            table = _TCVN3_UPPER_DECODE if page == upper_page else _TCVN3_LOWER_DECODE
            i += 3
            continue
        code = data[i]
        if code < 0x80:
            chars.append(chr(code))
        elif code in table:
            chars.append(table[code])
        elif code in _TCVN3_LOWER_DECODE:  # plain letters (Ă…Đ, ă…đ) in the upper table too
            chars.append(_TCVN3_LOWER_DECODE[code])
        else:
            raise ValueError(f"byte 0x{code:02X} is not TCVN-3")
        i += 1
    return unicodedata.normalize("NFC", "".join(chars))
