"""Announcement text and speech, templates and their validation, free text made speakable."""

import dataclasses

import pytest

from displays.announcement import Announcement, compose, validate_template
from displays.spoken import spoken_text


def test_compose_default_vietnamese() -> None:
    a = compose("A023", 5)
    assert a.text == "Xin mời công dân có số A023 đến quầy số 5"
    assert a.speech == "Xin mời công dân có số a, hai mươi ba đến quầy số năm"
    assert a.lang == "vi"


def test_announcement_is_frozen() -> None:
    a = compose("A023", 5)
    assert isinstance(a, Announcement)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.text = "x"  # type: ignore[misc]


def test_compose_english() -> None:
    a = compose("A023", 5, lang="en")
    assert a.text == "Ticket A023, please go to counter 5"
    assert a.speech == "Ticket A, 23, please go to counter 5"


def test_compose_office_template_reads_literal_digits_too() -> None:
    a = compose("B115", 21, "Kính mời công dân có số thứ tự {number} đến phòng 2, quầy {counter}")
    assert a.text == "Kính mời công dân có số thứ tự B115 đến phòng 2, quầy 21"
    assert a.speech == "Kính mời công dân có số thứ tự bê, một trăm mười lăm đến phòng hai, quầy hai mươi mốt"


def test_compose_template_with_escaped_braces_and_no_counter() -> None:
    a = compose("C1", 3, "Xin mời khách hàng số {number} {{ưu tiên}}")
    assert a.text == "Xin mời khách hàng số C1 {ưu tiên}"
    assert a.speech == "Xin mời khách hàng số xê, một {ưu tiên}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("Mời số {number} đến {quay}", r"unknown placeholder \{quay\}"),
        ("Mời {number.__class__}", r"unknown placeholder \{number.__class__\}"),
        ("Mời {number[0]}", "unknown placeholder"),
        ("Mời {} số", r"unknown placeholder \{\}"),
        ("Mời {number:>5}", "written plainly"),
        ("Mời {number!r}", "written plainly"),
        ("Mời {number", "unbalanced braces"),
        ("Mời quầy {counter}", r"must contain \{number\}"),
        ("   ", "empty"),
        ("{number}" + "x" * 400, "longer than"),
    ],
)
def test_validate_template_refuses_with_clear_message(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_template(template)


def test_validate_template_accepts_office_wordings() -> None:
    for template in (
        "Xin mời công dân có số {number} đến quầy số {counter}",
        "Kính mời công dân có số thứ tự {number} đến quầy {counter}",
        "Xin mời khách hàng số {number}",
    ):
        assert validate_template(template) == template


def test_compose_refuses_bad_inputs() -> None:
    with pytest.raises(ValueError, match="unknown placeholder"):
        compose("A1", 1, "{who}")
    with pytest.raises(ValueError, match="unsupported language"):
        compose("A1", 1, lang="fr")
    with pytest.raises(ValueError, match="out of range"):
        compose("A1", -1)


def test_spoken_text_reads_ticket_numbers_and_digits() -> None:
    assert spoken_text("Số A023 chờ 15 phút") == "Số a, hai mươi ba chờ mười lăm phút"
    assert spoken_text("Số A023 chờ 15 phút", "en") == "Số A, 23 chờ 15 phút"
    assert spoken_text("không có số") == "không có số"


def test_spoken_text_reads_ticket_like_tokens_in_any_case_as_a_call_does() -> None:
    """`qms say "số a023"` was read "a0hai mươi ba": a digit run is never split, letters may be lower case."""
    assert spoken_text("Số A023") == "Số a, hai mươi ba"
    assert spoken_text("số a023") == "số a, hai mươi ba"
    assert spoken_text("Mời số A-023 và B.105") == "Mời số a, hai mươi ba và bê, một trăm lẻ năm"
    assert spoken_text("vé đ12") == "vé đê, mười hai"
    assert spoken_text("lúc 8h30") == "lúc 8h30", "never a piece of a longer token"
    assert spoken_text("số a023", "en") == "số A, 23"
