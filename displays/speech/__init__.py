"""Speech backends behind one interface, chosen by name; engines are imported only when chosen."""

from displays.speech.base import LANGS, SpeechBackend, SpeechError
from displays.speech.registry import BACKEND_NAMES, default_backend_name, get_backend

__all__ = ["BACKEND_NAMES", "LANGS", "SpeechBackend", "SpeechError", "default_backend_name", "get_backend"]
