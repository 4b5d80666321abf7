"""What a lobby screen shows and says: announcements, Vietnamese readings, voices, audio cache."""

from displays.announcement import DEFAULT_TEMPLATES, Announcement, compose, validate_template
from displays.cache import AudioCache
from displays.chime import chime_wav
from displays.numbers import read_letter, read_number, read_ticket_number
from displays.say import say
from displays.speech import SpeechBackend, SpeechError, default_backend_name, get_backend
from displays.spoken import spoken_text

__all__ = [
    "DEFAULT_TEMPLATES",
    "Announcement",
    "AudioCache",
    "SpeechBackend",
    "SpeechError",
    "chime_wav",
    "compose",
    "default_backend_name",
    "get_backend",
    "read_letter",
    "read_number",
    "read_ticket_number",
    "say",
    "spoken_text",
    "validate_template",
]
