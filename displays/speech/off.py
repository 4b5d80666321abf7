"""Voice turned off: announcements are the chime alone.

Used when an office wants no speech or no engine works here; the display still gets a valid WAV.
"""

from __future__ import annotations

from displays.audio import silence, write_wav
from displays.speech.base import SpeechBackend, check_lang


class OffBackend(SpeechBackend):
    """Returns an empty (zero-length) WAV for every sentence."""

    name = "off"

    def available(self) -> tuple[bool, str]:
        return True, "voice is off: announcements play the chime only"

    def synthesize(self, text: str, lang: str) -> bytes:
        check_lang(lang)
        return write_wav(silence(0.0))
