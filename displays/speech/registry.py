"""Choosing a speech backend by name (QMS_VOICE), importing its module only then."""

from __future__ import annotations

import importlib
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from displays.speech.base import SpeechBackend

logger = logging.getLogger("displays.speech")

_MODULES: dict[str, tuple[str, str]] = {
    "espeak": ("displays.speech.espeak", "EspeakBackend"),
    "pyttsx3": ("displays.speech.pyttsx3_backend", "Pyttsx3Backend"),
    "clips": ("displays.speech.clips", "ClipsBackend"),
    "off": ("displays.speech.off", "OffBackend"),
}
BACKEND_NAMES: tuple[str, ...] = tuple(_MODULES)


def get_backend(name: str, clips_dir: Path | None = None) -> SpeechBackend:
    """A backend by name: espeak, pyttsx3, clips (needs `clips_dir`) or off. ValueError otherwise."""
    key = name.strip().lower()
    if key not in _MODULES:
        raise ValueError(f"unknown voice {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    module_name, class_name = _MODULES[key]
    cls: Callable[..., SpeechBackend] = getattr(importlib.import_module(module_name), class_name)
    if key == "clips":
        if clips_dir is None:
            raise ValueError("the clips voice needs a clip pack folder (QMS_CLIPS_DIR)")
        return cls(Path(clips_dir))
    return cls()


def default_backend_name() -> str:
    """espeak where espeak-ng is installed, else pyttsx3 where it really works, else off (warned)."""
    if shutil.which("espeak-ng"):
        return "espeak"
    ok, reason = get_backend("pyttsx3").available()
    if ok:
        return "pyttsx3"
    logger.warning(
        "no speech engine works here, announcements will be chime only: espeak-ng is not installed and %s",
        reason,
    )
    return "off"
