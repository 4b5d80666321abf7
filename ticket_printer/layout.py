"""The paper ticket as a 1-bit image, the same pixels for every printer of a given width.

Rendering the text ourselves (instead of using printer fonts) is what makes Vietnamese print
correctly on any ESC/POS printer; the image also serves ``GET /tickets/{id}/ticket.png``.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import qrcode
import qrcode.constants
from PIL import Image, ImageDraw, ImageFont

from .fonts import Weight, load_font

Lang = Literal["vi", "en"]

#: 80 mm paper = 576 dots, 58 mm paper = 384 dots (203 dpi printers).
TICKET_WIDTHS: tuple[int, ...] = (576, 384)

LABELS: dict[Lang, dict[str, str]] = {
    "vi": {
        "heading": "SỐ THỨ TỰ",
        "people_ahead": "Số người chờ trước: {n}",
        "wait": "Thời gian chờ dự kiến: {wait}",
        "minutes": "phút",
        "under_a_minute": "dưới 1 phút",
        "about": "khoảng {span}", "under": "dưới {n}",
        "no_counter": "Chưa có quầy phục vụ",
        "issued": "Giờ lấy số: {time}",
        "scan": "Quét mã để theo dõi lượt của bạn",
        "thanks": "Xin cảm ơn!",
        "test_heading": "IN THỬ",
        "test_printer": "Máy in: {name}",
        "test_width": "Khổ giấy: {width} điểm",
    },
    "en": {
        "heading": "TICKET NUMBER",
        "people_ahead": "People ahead of you: {n}",
        "wait": "Estimated wait: {wait}",
        "minutes": "min",
        "under_a_minute": "under 1 min",
        "about": "about {span}", "under": "under {n}",
        "no_counter": "No counter is serving this yet",
        "issued": "Issued: {time}",
        "scan": "Scan to follow your turn",
        "thanks": "Thank you",
        "test_heading": "TEST PRINT",
        "test_printer": "Printer: {name}",
        "test_width": "Paper width: {width} dots",
    },
}


@dataclass(frozen=True)
class TicketPrint:
    """Everything printed on one ticket, already in the office's language and time zone.

    ``issued_at`` must be timezone-aware; it is printed in its own zone, so pass it converted to
    the office's zone (``issued_at.astimezone(ZoneInfo(office.timezone))``).
    """

    office_name: str
    office_subtitle: str | None
    display_number: str
    service_name: str
    desk_label: str | None
    people_ahead: int | None
    estimated_wait_s: int | None
    estimated_wait_range_s: tuple[int, int] | None
    issued_at: datetime
    track_url: str
    lang: Lang = "vi"
    priority_label: str | None = None
    serving_now: bool = True  # False: no counter serves this yet, so no time is printed

    def __post_init__(self) -> None:
        if self.issued_at.tzinfo is None or self.issued_at.utcoffset() is None:
            raise ValueError("issued_at must be timezone-aware (the office's local time)")
        if self.lang not in LABELS:
            raise ValueError(f"lang must be one of {sorted(LABELS)}, not {self.lang!r}")
        if not self.display_number.strip():
            raise ValueError("display_number is empty")


def labels(lang: Lang) -> dict[str, str]:
    """The fixed wording of the ticket in ``lang``."""
    return LABELS[lang]


def format_issued_at(t: TicketPrint) -> str:
    """dd/mm/yyyy hh:mm in the zone ``issued_at`` carries."""
    return t.issued_at.strftime("%d/%m/%Y %H:%M")


def _minutes(seconds: int) -> int:
    return max(1, round(seconds / 60))


def format_wait(t: TicketPrint) -> str | None:
    """"khoảng 10–15 phút" (the 80% range), "dưới 5 phút", "~12 phút" when only the expected wait is
    known; None when nothing is known."""
    words = LABELS[t.lang]
    unit = words["minutes"]
    estimate = t.estimated_wait_s
    spread = t.estimated_wait_range_s
    if estimate is None and spread is None:
        return None
    if spread is not None:
        if spread[1] < 30:
            return words["under_a_minute"]
        low, high = (max(0, round(s / 60)) for s in spread)
        high = max(1, high)
        if low == 0:
            return words["under"].format(n=f"{high} {unit}")
        return words["about"].format(span=f"{low}–{high} {unit}" if low < high else f"{low} {unit}")
    assert estimate is not None
    if estimate < 30:
        return words["under_a_minute"]
    return f"~{_minutes(estimate)} {unit}"


def ticket_lines(t: TicketPrint) -> dict[str, str | None]:
    """The human text of the ticket, shared by image and text mode so both say the same."""
    words = LABELS[t.lang]
    wait = format_wait(t) if t.serving_now else None
    return {
        "office_name": _nfc(t.office_name),
        "office_subtitle": _nfc(t.office_subtitle) if t.office_subtitle else None,
        "heading": words["heading"],
        "number": _nfc(t.display_number),
        "priority": _nfc(t.priority_label) if t.priority_label else None,
        "service": _nfc(t.service_name),
        "desk": _nfc(t.desk_label) if t.desk_label else None,
        "people_ahead": (
            words["people_ahead"].format(n=t.people_ahead) if t.people_ahead is not None else None
        ),
        "wait": words["wait"].format(wait=wait) if wait is not None
        else None if t.serving_now else words["no_counter"],
        "issued": words["issued"].format(time=format_issued_at(t)),
        "scan": words["scan"],
        "thanks": words["thanks"],
    }


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


# ---------------------------------------------------------------------------------------------
# Drawing


class _Canvas:
    """A growing white strip on which blocks are stacked top to bottom, centred."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.margin = 16 if width >= 576 else 10
        self.blocks: list[Image.Image] = []

    @property
    def content_width(self) -> int:
        return self.width - 2 * self.margin

    def gap(self, height: int) -> None:
        self.blocks.append(Image.new("L", (self.width, height), 255))

    def text(self, text: str, size: int, weight: Weight = "regular", invert: bool = False) -> None:
        font = load_font(size, weight)
        pad = max(4, size // 5) if invert else 0
        for line in balanced_wrap(text, font, self.content_width - 2 * pad):
            self.blocks.append(_line_image(line, font, self.width, invert=invert, pad=pad))

    def rule(self, thickness: int = 2) -> None:
        block = Image.new("L", (self.width, thickness + 12), 255)
        ImageDraw.Draw(block).rectangle(
            (self.margin, 6, self.width - self.margin - 1, 6 + thickness - 1), fill=0
        )
        self.blocks.append(block)

    def image(self, img: Image.Image) -> None:
        block = Image.new("L", (self.width, img.height), 255)
        block.paste(img.convert("L"), ((self.width - img.width) // 2, 0))
        self.blocks.append(block)

    def finish(self) -> Image.Image:
        height = sum(b.height for b in self.blocks)
        page = Image.new("L", (self.width, height), 255)
        y = 0
        for block in self.blocks:
            page.paste(block, (0, y))
            y += block.height
        # Threshold, no dithering: thermal heads print crisp black or nothing.
        return page.point(lambda v: 255 if v >= 128 else 0).convert("1", dither=Image.Dither.NONE)


def wrap_text(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Greedy word wrap by rendered width; a word longer than a line is split by letters."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if font.getlength(candidate) <= max_width:
                current = candidate
                continue
            if current:
                lines.append(current)
            current = ""
            for ch in word:
                if font.getlength(current + ch) > max_width and current:
                    lines.append(current)
                    current = ""
                current += ch
        lines.append(current)
    return lines


def balanced_wrap(text: str, font: ImageFont.FreeTypeFont, max_width: int) -> list[str]:
    """Wrap into as few lines as greedy wrapping needs, but with lines of even length, so an
    office name never ends on a lone word ("… HÀNH CHÍNH / CÔNG")."""
    lines = wrap_text(text, font, max_width)
    if len(lines) < 2:
        return lines
    low, high = 1, max_width
    while low < high:  # narrowest width that still needs no more lines
        mid = (low + high) // 2
        if len(wrap_text(text, font, mid)) <= len(lines):
            high = mid
        else:
            low = mid + 1
    return wrap_text(text, font, low)


def _line_image(
    line: str, font: ImageFont.FreeTypeFont, width: int, *, invert: bool = False, pad: int = 0
) -> Image.Image:
    """One centred line with room for Vietnamese stacked marks above and below."""
    ascent, descent = font.getmetrics()
    # Stacked tone marks (Ấ, Ỗ) rise above the ascent line; the font box does not include them.
    top_room = max(0, -int(font.getbbox("ẤỖỄ", anchor="ls")[1]) - ascent)
    height = ascent + descent + top_room + 2 * pad
    block = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(block)
    text_width = font.getlength(line)
    x = (width - text_width) / 2
    baseline = top_room + ascent + pad
    if invert:
        draw.rectangle(
            (max(0, x - 2 * pad), 0, min(width - 1, x + text_width + 2 * pad), height - 1), fill=0
        )
    draw.text((x, baseline), line, font=font, fill=255 if invert else 0, anchor="ls")
    return block


def _big_number(number: str, max_width: int, max_height: int) -> Image.Image:
    """The ticket number drawn as large as the paper allows, tightly cropped to its ink."""
    font = load_font(40, "extrabold")
    low, high = 20, 600
    while low < high:  # largest size whose ink box fits
        size = (low + high + 1) // 2
        font = load_font(size, "extrabold")
        left, top, right, bottom = font.getbbox(number, anchor="ls")
        if right - left <= max_width and bottom - top <= max_height:
            low = size
        else:
            high = size - 1
    font = load_font(low, "extrabold")
    left, top, right, bottom = (int(v) for v in font.getbbox(number, anchor="ls"))
    img = Image.new("L", (right - left, bottom - top), 255)
    ImageDraw.Draw(img).text((-left, -top), number, font=font, fill=0, anchor="ls")
    return img


def qr_image(data: str, target_width: int) -> Image.Image:
    """A QR code with whole-dot modules (crisp edges) and the 4-module quiet zone scanners need."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=1)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()  # includes the border
    modules = len(matrix)
    scale = max(2, target_width // modules)
    img = Image.new("L", (modules * scale, modules * scale), 255)
    draw = ImageDraw.Draw(img)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                draw.rectangle((x * scale, y * scale, (x + 1) * scale - 1, (y + 1) * scale - 1), fill=0)
    return img


def _check_width(width_px: int) -> None:
    if width_px not in TICKET_WIDTHS:
        raise ValueError(
            f"width_px must be 576 (80 mm paper) or 384 (58 mm paper), not {width_px!r}"
        )


def render_ticket(t: TicketPrint, width_px: int = 576) -> Image.Image:
    """The ticket as a mode "1" image exactly ``width_px`` dots wide (576 or 384)."""
    _check_width(width_px)
    k = width_px / 576  # everything is designed at 576 dots and scaled for 58 mm paper
    lines = ticket_lines(t)
    canvas = _Canvas(width_px)
    canvas.gap(round(8 * k))
    canvas.text(lines["office_name"] or "", round(27 * k), "bold")
    if lines["office_subtitle"]:
        canvas.text(lines["office_subtitle"], round(25 * k), "bold")
    canvas.rule(max(2, round(3 * k)))
    canvas.gap(round(6 * k))
    canvas.text(lines["heading"] or "", round(34 * k), "bold")
    canvas.gap(round(14 * k))
    canvas.image(_big_number(lines["number"] or "", canvas.content_width, round(230 * k)))
    canvas.gap(round(18 * k))
    if lines["priority"]:
        canvas.text(lines["priority"], round(28 * k), "bold", invert=True)
        canvas.gap(round(10 * k))
    canvas.text(lines["service"] or "", round(34 * k), "bold")
    if lines["desk"]:
        canvas.gap(round(4 * k))
        canvas.text(lines["desk"], round(28 * k), "medium")
    canvas.gap(round(8 * k))
    canvas.rule(max(1, round(2 * k)))
    for key in ("people_ahead", "wait", "issued"):
        text = lines[key]
        if text:
            canvas.text(text, round(26 * k), "regular")
            canvas.gap(round(4 * k))
    canvas.gap(round(10 * k))
    canvas.image(qr_image(t.track_url, math.floor(width_px * 0.5)))
    canvas.text(lines["scan"] or "", round(22 * k), "regular")
    canvas.gap(round(12 * k))
    canvas.text(lines["thanks"] or "", round(30 * k), "bold")
    canvas.gap(round(16 * k))
    return canvas.finish()


def render_test_page(printer_name: str, width_px: int, lang: Lang = "vi") -> Image.Image:
    """A page for ``qms printer test NAME``: width marks at both edges, every Vietnamese letter,
    a sample number and a QR code, so one glance tells whether width, font and QR are right."""
    from .fonts import VIETNAMESE_LETTERS

    _check_width(width_px)
    k = width_px / 576
    words = LABELS[lang]
    canvas = _Canvas(width_px)
    canvas.gap(round(8 * k))
    canvas.text(words["test_heading"], round(40 * k), "extrabold")
    canvas.text(words["test_printer"].format(name=_nfc(printer_name)), round(26 * k), "bold")
    canvas.text(words["test_width"].format(width=width_px), round(24 * k), "regular")
    canvas.gap(round(6 * k))
    ruler = Image.new("L", (width_px, 24), 255)
    draw = ImageDraw.Draw(ruler)
    draw.rectangle((0, 0, width_px - 1, 23), outline=0, width=2)
    for x in range(0, width_px, 48):
        draw.line((x, 0, x, 12), fill=0, width=2)
    canvas.blocks.append(ruler)
    canvas.gap(round(8 * k))
    half = len(VIETNAMESE_LETTERS) // 2
    canvas.text(VIETNAMESE_LETTERS[:half], round(28 * k), "regular")
    canvas.text(VIETNAMESE_LETTERS[half:], round(28 * k), "regular")
    canvas.text("Mời công dân có số A023 đến quầy số 5", round(26 * k), "bold")
    canvas.gap(round(8 * k))
    canvas.image(_big_number("A023", canvas.content_width, round(150 * k)))
    canvas.gap(round(10 * k))
    canvas.image(qr_image(f"qms printer test {printer_name}", math.floor(width_px * 0.4)))
    canvas.gap(round(16 * k))
    return canvas.finish()
