"""ESC/POS bytes for a ticket, built with python-escpos's ``Dummy`` printer.

Building bytes separately from sending them lets one job be retried on any transport, lets
tests decode exactly what a printer would receive, and keeps python-escpos's device classes
(which need pyusb / pyserial) out of the common path.

Profiles are python-escpos capability profiles ("default", "TM-T88V", "TM-T20II", …). Code pages
are looked up in the profile's ``codePages``; for "default" and the Epson TM profiles these are
CP1258 = ESC t 52, TCVN-3 lower case = ESC t 30, TCVN-3 upper case = ESC t 31.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from PIL import Image

from .codepages import ESC_T, encode_cp1258, encode_tcvn3
from .layout import TicketPrint, ticket_lines
from .text_wrap import cp1258_cells, tcvn3_cells, wrap_cells

if TYPE_CHECKING:
    from escpos.capabilities import BaseProfile
    from escpos.printer import Dummy

TextEncoding = Literal["cp1258", "tcvn3"]
TEXT_ENCODINGS: tuple[TextEncoding, ...] = ("cp1258", "tcvn3")
DEFAULT_PROFILE = "default"
_PROFILE_CODE_PAGE_NAMES = {"cp1258": "CP1258", "tcvn3": "TCVN-3-1", "tcvn3_upper": "TCVN-3-2"}


def _capabilities() -> Any:
    """python-escpos's capability database, loaded on first use: it parses a large YAML file, a fifth of
    a worker's start-up, which a restart should not wait on before it answers (only printing needs it)."""
    from escpos.capabilities import CAPABILITIES
    return CAPABILITIES


def printer_profiles() -> list[str]:
    """Names accepted as ``profile`` (python-escpos's capability database)."""
    return sorted(_capabilities()["profiles"])


def load_profile(profile: str | None) -> BaseProfile:
    """The python-escpos profile; ValueError (for a 422) when the name is unknown."""
    from escpos.capabilities import get_profile

    name = profile or DEFAULT_PROFILE
    if name not in _capabilities()["profiles"]:
        raise ValueError(
            f"unknown printer profile {name!r}; use one of python-escpos's profiles, "
            f"e.g. 'default', 'TM-T88V', 'TM-T20II'"
        )
    return get_profile(name)


def profile_width_px(profile: str | None) -> int | None:
    """The widest raster the profile's printer takes, if the profile says."""
    pixels = load_profile(profile).profile_data.get("media", {}).get("width", {}).get("pixels")
    return pixels if isinstance(pixels, int) else None


def code_page_number(profile: str | None, name: str) -> int | None:
    """ESC t number of a code page ("CP1258", "TCVN-3-1", "TCVN-3-2") in a profile, if listed."""
    pages = {page: int(number) for number, page in load_profile(profile).codePages.items()}
    return pages.get(name)


def _printer(profile: str | None) -> Dummy:
    from escpos.printer import Dummy

    load_profile(profile)  # refuse unknown names with a clear message
    return Dummy(profile=profile or DEFAULT_PROFILE)


def _with_width(profile: BaseProfile, width_px: int) -> BaseProfile:
    data = profile.profile_data
    media = dict(data.get("media", {}))
    media["width"] = {**media.get("width", {}), "pixels": width_px}
    profile.profile_data = {**data, "media": media}  # instance copy; the class stays shared
    return profile


def ticket_bytes_image(img: Image.Image, profile: str | None = None) -> bytes:
    """Initialise, print ``img`` as raster (GS v 0), feed past the cutter and cut."""
    max_width = profile_width_px(profile)
    if max_width is not None and img.width > max_width:
        raise ValueError(
            f"profile {profile!r} prints at most {max_width} dots per line but the ticket is "
            f"{img.width} wide: choose width 384, another profile, or text mode"
        )
    p = _printer(profile)
    if max_width is None:
        # Tell python-escpos the paper width so it neither guesses nor prints a warning to stdout.
        p.profile = _with_width(p.profile, img.width)
    p.hw("INIT")
    p.image(img, impl="bitImageRaster", high_density_vertical=True, high_density_horizontal=True)
    p.cut()  # feeds 6 lines, then GS V (full cut where the profile has it)
    return p.output


def ticket_bytes_text(
    t: TicketPrint,
    width_chars: int,
    encoding: TextEncoding = "cp1258",
    *,
    profile: str | None = None,
    code_page: int | None = None,
    upper_code_page: int | None = None,
) -> bytes:
    """The ticket in the printer's own font, for printers that have a Vietnamese code page.

    ``code_page`` (and for TCVN-3 ``upper_code_page``) override the ESC t numbers otherwise
    taken from the profile; a profile that lists no such page needs them.
    """
    if encoding not in TEXT_ENCODINGS:
        raise ValueError(f"encoding must be 'cp1258' or 'tcvn3', not {encoding!r}")
    if width_chars < 16:
        raise ValueError(f"width_chars must be at least 16, not {width_chars}")
    lower = code_page if code_page is not None else code_page_number(
        profile, _PROFILE_CODE_PAGE_NAMES[encoding]
    )
    upper = upper_code_page if upper_code_page is not None else code_page_number(
        profile, _PROFILE_CODE_PAGE_NAMES["tcvn3_upper"]
    )
    if lower is None or (encoding == "tcvn3" and upper is None):
        raise ValueError(
            f"profile {profile or DEFAULT_PROFILE!r} lists no {encoding} code page; "
            "give the ESC t number(s) from the printer's manual"
        )

    def encode(text: str) -> bytes:
        if encoding == "cp1258":
            return encode_cp1258(text)
        assert lower is not None and upper is not None
        return encode_tcvn3(text, lower, upper)

    measure = cp1258_cells if encoding == "cp1258" else tcvn3_cells

    def line(text: str | None, columns: int = width_chars) -> None:
        if text:  # by the cells the printer counts, so it never wraps a word itself
            for part in wrap_cells(text, columns, measure) or [""]:
                p._raw(encode(part) + b"\n")

    lines = ticket_lines(t)
    p = _printer(profile)
    p.hw("INIT")
    p._raw(ESC_T + bytes([lower]))
    p.set(align="center", bold=True)
    line(lines["office_name"])
    line(lines["office_subtitle"])
    p.set(bold=False)
    p._raw(b"-" * width_chars + b"\n")
    p.set(bold=True)
    line(lines["heading"])
    number = lines["number"] or ""
    magnification = max(1, min(8, width_chars // max(1, len(number))))
    p.set(custom_size=True, width=magnification, height=magnification)  # GS ! n
    line(number, columns=max(1, width_chars // magnification))
    p.set(custom_size=True, width=1, height=1)
    if lines["priority"]:
        p.set(invert=True)
        line(f" {lines['priority']} ")
        p.set(invert=False)
    p.set(custom_size=True, width=1, height=2)
    line(lines["service"])
    p.set(custom_size=True, width=1, height=1, bold=False)
    line(lines["desk"])
    p._raw(b"-" * width_chars + b"\n")
    line(lines["people_ahead"])
    line(lines["wait"])
    line(lines["issued"])
    p._raw(b"\n")  # never p.text()/ln(): python-escpos would switch the code page
    from escpos.constants import QR_ECLEVEL_M

    p.qr(t.track_url, ec=QR_ECLEVEL_M, size=6 if width_chars >= 40 else 4, native=True)
    line(lines["scan"])
    p.set(bold=True)
    line(lines["thanks"])
    p.set(bold=False, align="left")
    p.cut()
    return p.output
