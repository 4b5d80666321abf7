"""Fonts that can draw every Vietnamese letter.

Thermal printers' own fonts rarely have Vietnamese, so the ticket is a raster image drawn with a
font we ship: Be Vietnam Pro (PyPI ``fontpkg-be-vietnam-pro``), else Debian's DejaVu Sans.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path
from typing import Literal

from PIL import ImageFont

Weight = Literal["regular", "medium", "bold", "extrabold"]

_BE_VIETNAM_FILES: dict[Weight, str] = {
    "regular": "BeVietnamPro-Regular.ttf",
    "medium": "BeVietnamPro-Medium.ttf",
    "bold": "BeVietnamPro-Bold.ttf",
    "extrabold": "BeVietnamPro-ExtraBold.ttf",
}
_DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
_DEJAVU_FILES: dict[Weight, str] = {
    "regular": "DejaVuSans.ttf",
    "medium": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "extrabold": "DejaVuSans-Bold.ttf",
}

#: Every letter Vietnamese writes that ASCII lacks, upper and lower case.
VIETNAMESE_LETTERS = (
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
    "àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ"
)


def _be_vietnam_pro_dir() -> Path | None:
    try:
        root = importlib.resources.files("fontpkg_be_vietnam_pro") / "files"
    except ModuleNotFoundError:
        return None
    path = Path(str(root))
    return path if path.is_dir() else None


@functools.cache
def font_path(weight: Weight = "regular") -> Path:
    """The TTF file for ``weight``: Be Vietnam Pro when installed, else DejaVu Sans."""
    candidates: list[Path] = []
    be_dir = _be_vietnam_pro_dir()
    if be_dir is not None:
        candidates.append(be_dir / _BE_VIETNAM_FILES[weight])
    candidates.append(_DEJAVU_DIR / _DEJAVU_FILES[weight])
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "no Vietnamese-capable font: pip install fontpkg-be-vietnam-pro, "
        "or apt-get install fonts-dejavu-core"
    )


@functools.cache
def load_font(size: int, weight: Weight = "regular") -> ImageFont.FreeTypeFont:
    """A cached font object; sizes are in printer dots."""
    return ImageFont.truetype(str(font_path(weight)), size)


def missing_glyphs(font: ImageFont.FreeTypeFont, text: str) -> list[str]:
    """Characters of ``text`` the font would draw as its "notdef" box (tofu).

    Pillow has no cmap API, so a character counts as missing when its bitmap equals the
    bitmap of a private-use code point that no text font maps.
    """
    def bitmap(ch: str) -> tuple[tuple[int, int], bytes]:
        mask = font.getmask(ch, mode="L")
        return mask.size, bytes(mask)

    notdef = bitmap("\U000F0000")
    return [ch for ch in dict.fromkeys(text) if not ch.isspace() and bitmap(ch) == notdef]
