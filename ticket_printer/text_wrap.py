"""Word wrap for text mode, measured in the cells the printer's line buffer counts.

A printer in text mode wraps by itself when a line holds more bytes than its columns. CP1258 sends
a toned vowel as two bytes (the letter, then the tone mark), so a line of 32 letters can be 40 bytes
and the printer breaks it mid-word ("Bộ ph|ận"). We therefore measure every line as the printer does
(one cell per byte it prints: control sequences such as TCVN-3's code page switches excluded) and
break only between words; a word longer than a whole line is split between letters, never between a
letter and its tone mark.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Callable

from .codepages import to_cp1258_form

Measure = Callable[[str], int]


def cp1258_cells(text: str) -> int:
    """Bytes CP1258 sends for `text`: one per letter plus one per separate tone mark."""
    return len(to_cp1258_form(unicodedata.normalize("NFC", text)))


def tcvn3_cells(text: str) -> int:
    """TCVN-3 has every toned letter as one byte (its ESC t page switches print nothing)."""
    return len(unicodedata.normalize("NFC", text))


def _letters(word: str) -> list[str]:
    """A word as letters with their marks attached (NFC keeps Vietnamese letters whole)."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", word):
        if out and unicodedata.combining(ch):
            out[-1] += ch
        else:
            out.append(ch)
    return out


def wrap_cells(text: str, columns: int, measure: Measure) -> list[str]:
    """Greedy wrap of `text` into lines of at most `columns` printed cells."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if measure(candidate) <= columns:
            current = candidate
            continue
        if current:
            lines.append(current)
            current = ""
        if measure(word) <= columns:
            current = word
            continue
        for letter in _letters(word):  # longer than a line: split between letters
            if current and measure(current + letter) > columns:
                lines.append(current)
                current = ""
            current += letter
    if current:
        lines.append(current)
    return lines
