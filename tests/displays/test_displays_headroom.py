"""Headroom: every WAV a lobby speaker plays peaks at or below -1 dBFS (chime, short chime, the sentence,
the whole announcement), measured on the generated files with Python's wave module; and the engine's
padding is trimmed so a queue of calls loses no time to dead air."""
from __future__ import annotations

import array
import io
import shutil
import wave
from pathlib import Path

import pytest

from displays import audio
from displays.announcement import compose
from displays.cache import AudioCache
from displays.chime import chime_wav
from displays.speech import get_backend

CEILING_DBFS = -1.0


def peak_dbfs_of(wav_bytes: bytes) -> float:
    """Measured independently of displays.audio: the largest sample of a 16-bit WAV, in dBFS."""
    import math
    with wave.open(io.BytesIO(wav_bytes)) as w:
        assert w.getsampwidth() == 2
        samples = array.array("h", w.readframes(w.getnframes()))
    top = max(abs(s) for s in samples)
    return 20 * math.log10(top / 32768)


def test_both_chimes_leave_headroom() -> None:
    for short in (False, True):
        assert peak_dbfs_of(chime_wav(short=short)) <= CEILING_DBFS
    assert audio.duration_seconds(chime_wav(short=True)) < 0.6 < 1.5 < audio.duration_seconds(chime_wav())


def test_limit_peak_scales_loud_audio_down_and_leaves_quiet_audio_alone() -> None:
    loud = audio.Pcm(array.array("h", [0, 32767, -32768, 1000]), 8000)
    limited = audio.limit_peak(loud)
    assert audio.peak_dbfs(limited) <= audio.HEADROOM_DBFS + 0.01
    assert limited.samples[3] < 1000 and limited.frames == loud.frames
    quiet = audio.Pcm(array.array("h", [0, 8000, -8000]), 8000)
    assert audio.limit_peak(quiet).samples == quiet.samples


def test_trim_silence_keeps_a_short_margin() -> None:
    rate = 8000
    body = array.array("h", [5000, -5000] * 2000)  # 0.5 s of sound
    padded = audio.Pcm(array.array("h", bytes(2 * rate)) + body + array.array("h", bytes(2 * rate)), rate)
    trimmed = audio.trim_silence(padded, keep_s=0.05)
    assert trimmed.duration == pytest.approx(0.5 + 0.1, abs=0.002)
    silent = audio.Pcm(array.array("h", bytes(200)), rate)
    assert audio.trim_silence(silent).samples == silent.samples


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_announcements_peak_below_minus_one_dbfs(tmp_path: Path) -> None:
    backend = get_backend("espeak")
    raw = backend.synthesize(compose("A023", 5).speech, "vi")
    print(f"\nespeak-ng's own peak: {peak_dbfs_of(raw):.2f} dBFS")
    cache = AudioCache(tmp_path, backend)
    for number, counter in (("A023", 5), ("B105", 12), ("C1015", 20)):
        speech = compose(number, counter).speech
        sentence = cache.sentence_wav(speech, "vi")
        whole = cache.announcement_wav(speech, "vi", 2)
        for wav in (sentence, whole):
            assert peak_dbfs_of(wav) <= CEILING_DBFS, f"{number}: {peak_dbfs_of(wav):.2f} dBFS"
        assert audio.rms(sentence) > 0.05, "still loud enough to be heard"
        raw_seconds = audio.duration_seconds(cache.phrase_wav(speech, "vi"))
        assert audio.duration_seconds(sentence) < raw_seconds - 0.2, "espeak's trailing silence is trimmed"
        print(f"{number} → quầy {counter}: sentence {audio.duration_seconds(sentence):.2f} s "
              f"(engine {raw_seconds:.2f} s), whole {audio.duration_seconds(whole):.2f} s, "
              f"peak {peak_dbfs_of(whole):.2f} dBFS")
