from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PIL import ImageFont

from tests.ticket_printer.samples import make_ticket
from ticket_printer import fonts
from ticket_printer.fonts import VIETNAMESE_LETTERS, load_font, missing_glyphs
from ticket_printer.layout import format_wait, render_test_page, render_ticket, ticket_lines

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


@pytest.mark.parametrize("width", [576, 384])
def test_ticket_is_one_bit_and_exactly_the_paper_width(width: int, artifacts_dir: Path) -> None:
    img = render_ticket(make_ticket(priority_label="Người cao tuổi"), width)
    assert img.mode == "1"
    assert img.width == width
    assert width * 1.5 < img.height < width * 2.5
    img.save(artifacts_dir / f"ticket_{width}.png")
    # ink reaches neither side edge: nothing is clipped by the paper
    gray = img.convert("L")
    for x in (0, width - 1):
        assert min(gray.crop((x, 0, x + 1, img.height)).getextrema()) == 255


@pytest.mark.parametrize("width", [0, 383, 512, 580, 800])
def test_other_widths_are_refused(width: int) -> None:
    with pytest.raises(ValueError, match="576"):
        render_ticket(make_ticket(), width)
    with pytest.raises(ValueError):
        render_test_page("Kiosk 1", width)


def test_the_number_fills_most_of_the_width() -> None:
    small = render_ticket(make_ticket(display_number="A023"), 576).convert("L")
    # the widest ink row of the page belongs to the number
    widest = 0
    for y in range(0, small.height, 2):
        row = small.crop((0, y, 576, y + 1))
        bbox = row.point(lambda v: 255 - v).getbbox()
        if bbox:
            widest = max(widest, bbox[2] - bbox[0])
    assert widest > 0.85 * 576


@pytest.mark.parametrize("weight", ["regular", "medium", "bold", "extrabold"])
def test_ticket_font_has_every_vietnamese_letter(weight: fonts.Weight) -> None:
    font = load_font(32, weight)
    assert missing_glyphs(font, "Ặ ằ ữ ỹ Đ " + VIETNAMESE_LETTERS) == []


def test_glyph_check_detects_tofu() -> None:
    font = load_font(32, "regular")
    assert missing_glyphs(font, "Aༀ一") == ["ༀ", "一"]


@pytest.mark.skipif(not DEJAVU.is_file(), reason="fonts-dejavu-core not installed")
def test_dejavu_fallback_also_covers_vietnamese(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "_be_vietnam_pro_dir", lambda: None)
    fonts.font_path.cache_clear()
    try:
        assert fonts.font_path("bold").name == "DejaVuSans-Bold.ttf"
        dejavu = ImageFont.truetype(str(fonts.font_path("regular")), 32)
        assert missing_glyphs(dejavu, VIETNAMESE_LETTERS) == []
    finally:
        fonts.font_path.cache_clear()


def test_wording_in_vietnamese_and_english() -> None:
    vi = ticket_lines(make_ticket())
    assert vi["heading"] == "SỐ THỨ TỰ"
    assert vi["people_ahead"] == "Số người chờ trước: 4"
    assert vi["wait"] == "Thời gian chờ dự kiến: ~12 phút"
    assert vi["issued"] == "Giờ lấy số: 22/11/2026 08:15"
    assert vi["thanks"] == "Xin cảm ơn!"
    en = ticket_lines(make_ticket(lang="en"))
    assert en["heading"] == "TICKET NUMBER"
    assert en["people_ahead"] == "People ahead of you: 4"
    assert en["wait"] == "Estimated wait: ~12 min"
    assert en["thanks"] == "Thank you"


def test_optional_lines_are_left_out() -> None:
    lines = ticket_lines(
        make_ticket(desk_label=None, people_ahead=None, estimated_wait_s=None, office_subtitle=None)
    )
    assert lines["desk"] is None and lines["people_ahead"] is None and lines["wait"] is None
    assert render_ticket(make_ticket(desk_label=None, people_ahead=None), 384).width == 384


def test_wait_wording() -> None:
    assert format_wait(make_ticket(estimated_wait_s=None, estimated_wait_range_s=(600, 900))) == "khoảng 10–15 phút"
    assert format_wait(make_ticket(estimated_wait_s=700, estimated_wait_range_s=(600, 1200))) == "khoảng 10–20 phút"
    assert format_wait(make_ticket(estimated_wait_s=100, estimated_wait_range_s=(20, 290))) == "dưới 5 phút"
    assert format_wait(make_ticket(estimated_wait_s=700, estimated_wait_range_s=(690, 730))) == "khoảng 12 phút"
    assert format_wait(make_ticket(estimated_wait_s=10, estimated_wait_range_s=(0, 20))) == "dưới 1 phút"
    assert format_wait(make_ticket(estimated_wait_s=700, estimated_wait_range_s=(600, 1200), lang="en")) \
        == "about 10–20 min"
    assert format_wait(make_ticket(estimated_wait_s=10)) == "dưới 1 phút"
    assert format_wait(make_ticket(estimated_wait_s=95, lang="en")) == "~2 min"


def test_issue_time_is_printed_in_the_zone_it_carries() -> None:
    from zoneinfo import ZoneInfo

    utc = datetime(2026, 11, 22, 1, 15, tzinfo=ZoneInfo("UTC"))
    assert ticket_lines(make_ticket(issued_at=utc))["issued"] == "Giờ lấy số: 22/11/2026 01:15"
    local = utc.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert ticket_lines(make_ticket(issued_at=local))["issued"] == "Giờ lấy số: 22/11/2026 08:15"


def test_naive_issue_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone"):
        make_ticket(issued_at=datetime(2026, 11, 22, 8, 15))


def test_test_page_renders_both_widths(artifacts_dir: Path) -> None:
    for width in (576, 384):
        page = render_test_page("Kiosk 1 – Tầng 1", width)
        assert page.mode == "1" and page.width == width
        page.save(artifacts_dir / f"test_page_{width}.png")


def test_no_time_is_printed_while_no_counter_serves_the_ticket() -> None:
    vi = ticket_lines(make_ticket(estimated_wait_s=None, serving_now=False, people_ahead=0))
    assert vi["wait"] == "Chưa có quầy phục vụ" and vi["people_ahead"] == "Số người chờ trước: 0"
    en = ticket_lines(make_ticket(estimated_wait_s=600, serving_now=False, lang="en"))
    assert en["wait"] == "No counter is serving this yet"
