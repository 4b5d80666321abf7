"""Free text made speakable: ticket numbers and digits written out as words before synthesis.

espeak-ng reads Vietnamese numbers wrongly (15 as "mười năm") and would read "A023" as a word, so
anything number-like in a sentence is replaced by the project's own reading first.
"""

from __future__ import annotations

import re

from displays.numbers import read_digit_run, read_ticket_number

# A whole token: up to three letters (any case) glued to digits, or joined by one dash or dot, as a call
# reads them ("A023", "a023", "AB-12"), or digits alone ("5", "2024"). Never part of a longer word or
# digit run: "số a023" is "số a, hai mươi ba", not "a0" and then "hai mươi ba".
_TICKET_LIKE = re.compile(r"(?<![^\W_])(?:([A-Za-zĐđ]{1,3})[-.]?)?(\d+)(?![^\W_])")


def ticket_speech_en(display_number: str) -> str:
    """English engines read numbers well but run "A023" together; separate the parts instead."""
    parts = re.findall(r"\d+|[^\W\d_]+", display_number)
    spoken = [str(int(p)) if p.isdigit() else " ".join(p.upper()) for p in parts]
    return ", ".join(spoken) if spoken else display_number


def spoken_text(text: str, lang: str = "vi") -> str:
    """Replace ticket numbers and numerals in `text` by words for `lang` ("vi" or "en")."""

    def vi(match: re.Match[str]) -> str:
        letters, digits = match.group(1), match.group(2)
        return read_ticket_number(letters + digits) if letters else read_digit_run(digits)

    def en(match: re.Match[str]) -> str:
        return ticket_speech_en(match.group(0)) if match.group(1) else match.group(0)

    return _TICKET_LIKE.sub(vi if lang == "vi" else en, text)
