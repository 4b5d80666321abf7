"""WAV helpers and the chime."""

import pytest
from displays_wavgen import tone_wav

from displays import audio
from displays.chime import chime_pcm, chime_wav


def test_concatenate_mixed_formats_keeps_durations() -> None:
    pieces = [
        tone_wav(0.5, 22050),
        tone_wav(0.25, 44100, channels=2),
        tone_wav(0.3, 16000, width=1),
        tone_wav(0.2, 48000, width=3),
    ]
    joined = audio.concatenate(pieces, gap_seconds=0.1, rate=22050)
    info = audio.validate_wav(joined)
    assert (info.rate, info.channels, info.sample_width) == (22050, 1, 2)
    assert info.duration == pytest.approx(0.5 + 0.25 + 0.3 + 0.2 + 3 * 0.1, abs=0.002)


def test_conversion_preserves_loudness() -> None:
    # a 0.5 amplitude sine has RMS 0.5/sqrt(2) whatever its encoding
    for wav in (
        tone_wav(0.5, 44100, channels=2),
        tone_wav(0.5, 16000, width=1),
        tone_wav(0.5, 8000, width=4),
    ):
        assert audio.rms(audio.concatenate([wav], rate=22050)) == pytest.approx(0.3536, abs=0.01)


def test_rms_and_silence() -> None:
    assert audio.rms(audio.write_wav(audio.silence(0.5))) == 0.0
    assert audio.duration_seconds(audio.write_wav(audio.silence(0.5, 8000))) == pytest.approx(0.5)


def test_validate_wav_catches_unfinished_files() -> None:
    wav = tone_wav(0.2)
    assert audio.validate_wav(wav).frames == round(0.2 * 22050)
    with pytest.raises(ValueError, match="incomplete"):
        audio.validate_wav(wav[:-10])
    with pytest.raises(ValueError, match="not a WAV"):
        audio.validate_wav(b"hello")
    # what a writer leaves before it patches the header: sizes of zero
    header_only = wav[:4] + (36).to_bytes(4, "little") + wav[8:40] + (0).to_bytes(4, "little") + wav[44:]
    with pytest.raises(ValueError):
        audio.validate_wav(header_only)


def test_chime_has_three_audible_notes() -> None:
    wav = chime_wav()
    info = audio.validate_wav(wav)
    assert 1.0 < info.duration < 2.5
    pcm = chime_pcm()
    assert 0.05 < audio.rms(pcm) < 0.45
    assert max(abs(s) for s in pcm.samples) < 32767 * 0.5  # never clips
    # each note starts 0.32 s after the previous: the onsets are louder than what precedes them
    step = round(0.32 * 22050)
    for k in (1, 2):
        before = audio.Pcm(pcm.samples[k * step - 1500 : k * step - 200], 22050)
        after = audio.Pcm(pcm.samples[k * step + 200 : k * step + 1500], 22050)
        assert audio.rms(after) > audio.rms(before) * 1.2


def test_chime_at_other_rates() -> None:
    assert audio.wav_info(chime_wav(44100)).rate == 44100
    assert audio.duration_seconds(chime_wav(44100)) == pytest.approx(
        audio.duration_seconds(chime_wav()), abs=0.001
    )
