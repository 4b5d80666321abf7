"""The chip ID card (CCCD / thẻ căn cước) as the queue sees it: only what it needs, nothing else kept.

A 2D scanner types the card's QR as keystrokes: seven fields separated by `|` — card number (12 digits),
old ID number (9 digits or empty), full name, date of birth `ddmmyyyy`, sex, permanent address, issue
date `ddmmyyyy` (DOMAIN.md). The queue needs the holder's age (elderly priority) and a way to recognise
the same card again (an appointment booked with the card's number, repeat visits). So `parse` returns
the birth date, the sex and the card number, and `keyed_hash` turns the number into a value that cannot
be turned back without the office's secret key. Name, address and the old ID number are dropped here,
at the first step, and the card number never leaves this module's caller except as its keyed hash.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

from counters.errors import InvalidValue

ELDERLY_AGE = 60  # Law on the Elderly (2009): citizens aged 60 and over
_CARD_NUMBER = re.compile(r"^[0-9]{12}$")
_OLD_ID = re.compile(r"^([0-9]{9})?$")
_DATE = re.compile(r"^[0-9]{8}$")
_MAX_LEN = 400  # a real card's QR is well under this; anything longer is not a card


@dataclass(frozen=True, repr=False)
class IdCard:
    """What the queue reads off a card: the number (to hash at once), birth date and sex."""

    number: str
    birth_date: date
    sex: str  # "Nam" / "Nữ" as printed on the card, kept only for the kiosk's greeting

    def __repr__(self) -> str:  # never print the number into a log by accident
        return f"IdCard(birth_year={self.birth_date.year})"

    @property
    def birth_year(self) -> int:
        return self.birth_date.year

    def age_on(self, day: date) -> int:
        """Whole years on `day` (the office's today decides who is elderly)."""
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - (1 if before_birthday else 0)

    def is_elderly_on(self, day: date) -> bool:
        return self.age_on(day) >= ELDERLY_AGE


def _parse_date(text: str) -> date:
    if not _DATE.match(text):
        raise ValueError(text)
    return date(int(text[4:8]), int(text[2:4]), int(text[0:2]))


def parse(text: str) -> IdCard:
    """The card's QR text → IdCard; InvalidValue (field `id_card_qr`) when it is not a card's QR.

    The message never repeats the scanned text: it holds a name and an address.
    """
    refusal = InvalidValue("Không đọc được mã QR của thẻ căn cước / not a chip ID card's QR code",
                           field="id_card_qr")
    if not isinstance(text, str) or len(text) > _MAX_LEN:
        raise refusal
    fields = text.strip().split("|")
    if len(fields) != 7:
        raise refusal
    number, old_id, _name, born, sex, _address, _issued = (f.strip() for f in fields)
    if not _CARD_NUMBER.match(number) or not _OLD_ID.match(old_id):
        raise refusal
    try:
        birth_date = _parse_date(born)
        _parse_date(_issued)
    except ValueError:
        raise refusal from None
    if birth_date.year < 1900:
        raise refusal
    return IdCard(number=number, birth_date=birth_date, sex=sex)


def keyed_hash(secret: str | bytes, number: str) -> str:
    """HMAC-SHA256 of a card (or ID) number under the deployment's secret key, hex.

    Used to find the holder's appointment and count repeat visits; without the key the number cannot be
    recovered by trying all 10^12 of them.
    """
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, number.strip().encode(), hashlib.sha256).hexdigest()
