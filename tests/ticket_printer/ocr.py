"""Read a printed ticket back with tesseract, one printed line at a time.

Tesseract's page layout analysis drops or garbles text that is much larger than the rest (the
ticket number), so the page is cut into its ink bands (lines separated by white rows), each band
is scaled to a height tesseract reads well and read as a single line (--psm 7).
"""

from __future__ import annotations

import os
import unicodedata

import pytesseract
from PIL import Image, ImageOps

# One thread per tesseract process: on small machines its OpenMP threads only contend.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


def ink_bands(img: Image.Image, min_gap: int = 3) -> list[Image.Image]:
    """Horizontal strips that contain ink, split at runs of at least ``min_gap`` white rows."""
    gray = img.convert("L")
    ink = ImageOps.invert(gray)
    width, height = gray.size
    bands: list[tuple[int, int]] = []
    start: int | None = None
    blank = 0
    for y in range(height + min_gap):
        has_ink = y < height and ink.crop((0, y, width, y + 1)).getbbox() is not None
        if has_ink:
            start = y if start is None else start
            blank = 0
        elif start is not None:
            blank += 1
            if blank >= min_gap:
                bands.append((start, y - blank + 1))
                start = None
    return [gray.crop((0, top, width, bottom)) for top, bottom in bands]


def ocr_lines(img: Image.Image, lang: str = "vie", line_height: int = 48) -> list[str]:
    """The text of each printed line (NFC), top to bottom; graphics give short garbage."""
    lines: list[str] = []
    for band in ink_bands(img):
        if band.height < 8:
            continue  # rules and specks
        box = ImageOps.invert(band).getbbox()
        assert box is not None
        band = band.crop((box[0], 0, box[2], band.height))
        scale = min(1.0, line_height / band.height)
        band = band.resize(
            (max(1, round(band.width * scale)), max(1, round(band.height * scale))), Image.Resampling.LANCZOS
        )
        text = pytesseract.image_to_string(ImageOps.expand(band, 16, fill=255), lang=lang, config="--psm 7")
        lines.append(unicodedata.normalize("NFC", text.strip()))
    return lines
