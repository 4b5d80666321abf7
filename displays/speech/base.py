"""The narrow interface every speech backend implements.

One small module per engine, chosen by name (QMS_VOICE), imported lazily so a missing optional
engine never breaks the others. Failures are `SpeechError`s that say whether retrying can help.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

LANGS: tuple[str, ...] = ("vi", "en")


class SpeechError(Exception):
    """Synthesis failed. `permanent` is True when retrying the same request cannot help
    (engine or voice missing, clip missing), False for a transient failure (timeout, crash)."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


class SpeechBackend(ABC):
    """Turns already-spelled-out text into WAV bytes.

    The text given to `synthesize` has numbers and letters written as words (see
    `displays.announcement`), so engines never guess how to read "A023".
    """

    name: str = ""

    @abstractmethod
    def available(self) -> tuple[bool, str]:
        """(True, description) when usable here, else (False, a reason that names the fix)."""

    @abstractmethod
    def synthesize(self, text: str, lang: str) -> bytes:
        """Speak `text` in `lang` ("vi" or "en") and return a complete WAV file."""

    @property
    def cache_tag(self) -> str:
        """What distinguishes this backend's output in a cache; the name unless it has more state."""
        return self.name


def check_lang(lang: str) -> None:
    """Refuse languages the project has no voice for, permanently."""
    if lang not in LANGS:
        raise SpeechError(
            f"unsupported language {lang!r}; expected one of {', '.join(LANGS)}", permanent=True
        )
