"""Real espeak-ng audio: the sentence is parseable, of a sensible length and loud."""

import io
import shutil
import wave

import pytest

from displays import audio
from displays.announcement import compose
from displays.speech import SpeechError, get_backend

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def test_sentence_is_a_real_loud_wav() -> None:
    backend = get_backend("espeak")
    assert backend.available()[0]
    wav = backend.synthesize(compose("A023", 5).speech, "vi")
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getnframes() > 0
        duration = w.getnframes() / w.getframerate()
    assert 1.0 < duration < 15.0
    assert audio.rms(wav) > 0.03  # silence is 0.0; espeak speech measures about 0.12


def test_longer_text_gives_longer_audio() -> None:
    backend = get_backend("espeak")
    short = backend.synthesize("Xin mời", "vi")
    long = backend.synthesize(compose("A023", 5).speech, "vi")
    assert audio.duration_seconds(long) > audio.duration_seconds(short) + 1.0


def test_english_and_hostile_text() -> None:
    backend = get_backend("espeak")
    assert audio.duration_seconds(backend.synthesize(compose("A023", 5, lang="en").speech, "en")) > 1.0
    # text that looks like options or shell is only ever spoken
    assert audio.duration_seconds(backend.synthesize("-v en --help; $(rm -rf x)", "vi")) > 0.5


def test_unknown_language_is_permanent_error() -> None:
    with pytest.raises(SpeechError) as err:
        get_backend("espeak").synthesize("x", "fr")
    assert err.value.permanent


def test_missing_program_is_reported() -> None:
    from displays.speech.espeak import EspeakBackend

    backend = EspeakBackend(executable="/nonexistent/espeak-ng")
    with pytest.raises(SpeechError) as err:
        backend.synthesize("một", "vi")
    assert err.value.permanent
