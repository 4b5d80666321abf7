"""The sentence that calls a ticket: what the lobby screen shows and what the speaker says.

Offices word it their own way ("Kính mời công dân có số thứ tự {number} đến quầy {counter}"), so
the wording is a template with two placeholders. The shown text keeps "A023" and "5"; the spoken
text has them as words so no engine can misread them.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from displays.numbers import MAX_NUMBER, read_number, read_ticket_number
from displays.spoken import spoken_text, ticket_speech_en

DEFAULT_TEMPLATES: dict[str, str] = {
    "vi": "Xin mời công dân có số {number} đến quầy số {counter}",
    "en": "Ticket {number}, please go to counter {counter}",
}
SHORT_TEMPLATES: dict[str, str] = {
    "vi": "Số {number}, quầy {counter}",
    "en": "Number {number}, counter {counter}",
}
"""What a display says instead of the office's sentence when calls pile up faster than it can be said."""
PLACEHOLDERS: tuple[str, ...] = ("number", "counter")
MAX_TEMPLATE_LENGTH = 300


@dataclass(frozen=True)
class Announcement:
    """`text` is shown on screens; `speech` is given to the speech engine."""

    text: str
    speech: str
    lang: str


def _parts(template: str) -> list[tuple[str, str | None]]:
    """(literal, placeholder) pairs of a validated template."""
    return [(literal, field) for literal, field, _spec, _conv in string.Formatter().parse(template)]


def validate_template(template: str) -> str:
    """Return `template` if usable, else raise ValueError with a message an office admin can act on.

    Only {number} and {counter} are allowed, with no format specs or attribute access (a template
    is admin input and must not reach into Python objects); {number} is required.
    """
    allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
    if not isinstance(template, str) or not template.strip():
        raise ValueError("the announcement template is empty")
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise ValueError(f"the announcement template is longer than {MAX_TEMPLATE_LENGTH} characters")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"the announcement template has unbalanced braces ({exc}); write {{{{ or }}}} for a literal brace"
        ) from exc
    fields = set()
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in PLACEHOLDERS:
            shown = "{}" if field == "" else "{" + field + "}"
            raise ValueError(f"unknown placeholder {shown} in the announcement template; allowed: {allowed}")
        if spec or conversion:
            raise ValueError(f"placeholder {{{field}}} must be written plainly, without ':' or '!'")
        fields.add(field)
    if "number" not in fields:
        raise ValueError("the announcement template must contain {number}, the ticket number to call")
    return template


def compose(
    display_number: str, counter_number: int, template: str | None = None, lang: str = "vi"
) -> Announcement:
    """The announcement calling ticket `display_number` to counter `counter_number`.

    >>> compose("A023", 5).speech
    'Xin mời công dân có số a, hai mươi ba đến quầy số năm'
    """
    if lang not in DEFAULT_TEMPLATES:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(DEFAULT_TEMPLATES)}")
    if isinstance(counter_number, bool) or not isinstance(counter_number, int):
        raise TypeError(f"counter_number must be an int, got {type(counter_number).__name__}")
    if not 0 <= counter_number <= MAX_NUMBER:
        raise ValueError(f"counter number {counter_number} is out of range 0..{MAX_NUMBER}")
    template = validate_template(template if template is not None else DEFAULT_TEMPLATES[lang])
    if lang == "vi":
        said = {"number": read_ticket_number(display_number), "counter": read_number(counter_number)}
    else:
        said = {"number": ticket_speech_en(display_number), "counter": str(counter_number)}
    shown = {"number": display_number, "counter": str(counter_number)}
    text: list[str] = []
    speech: list[str] = []
    for literal, field in _parts(template):
        text.append(literal)
        speech.append(spoken_text(literal, lang))
        if field is not None:
            text.append(shown[field])
            speech.append(said[field])
    return Announcement(text="".join(text), speech="".join(speech), lang=lang)


def compose_short(display_number: str, counter_number: int, lang: str = "vi") -> Announcement:
    """The short form of a call ("Số A023, quầy năm"), said during a burst of calls so none waits long.

    >>> compose_short("A023", 5).speech
    'Số a, hai mươi ba, quầy năm'
    """
    return compose(display_number, counter_number, SHORT_TEMPLATES.get(lang, SHORT_TEMPLATES["vi"]), lang)
