"""Recorded clip packs, built in a temporary folder from generated tones."""

from pathlib import Path

import pytest
from displays_wavgen import tone_wav

from displays import audio
from displays.announcement import compose
from displays.speech import SpeechError, get_backend
from displays.speech.clips import CORE_VOCABULARY

# each clip its own length and format, so a wrong join shows in the total
CLIPS = {
    "xin_mời": (0.50, 44100, 2, 2),
    "công_dân": (0.40, 22050, 2, 1),
    "có": (0.15, 16000, 1, 1),
    "số": (0.20, 48000, 3, 1),
    "đến": (0.25, 22050, 2, 1),
    "quầy": (0.30, 22050, 2, 1),
    "a": (0.12, 22050, 2, 1),
    "hai": (0.21, 22050, 2, 1),
    "mươi": (0.23, 22050, 2, 1),
    "ba": (0.17, 22050, 2, 1),
    "năm": (0.19, 8000, 2, 1),
}


def make_pack(root: Path, clips: dict[str, tuple[float, int, int, int]] = CLIPS) -> Path:
    folder = root / "vi"
    folder.mkdir(parents=True)
    for i, (name, (seconds, rate, width, channels)) in enumerate(clips.items()):
        (folder / f"{name}.wav").write_bytes(tone_wav(seconds, rate, 300 + 40 * i, width, channels))
    return root


def test_sentence_is_the_clips_joined_without_gaps(tmp_path: Path) -> None:
    backend = get_backend("clips", clips_dir=make_pack(tmp_path))
    speech = compose("A023", 5).speech  # "Xin mời công dân có số a, hai mươi ba đến quầy số năm"
    plan = backend.plan(speech, "vi")
    assert [p.stem for p in plan] == [
        "xin_mời",
        "công_dân",
        "có",
        "số",
        "a",
        "hai",
        "mươi",
        "ba",
        "đến",
        "quầy",
        "số",
        "năm",
    ]
    wav = backend.synthesize(speech, "vi")
    info = audio.validate_wav(wav)
    assert info.rate == 48000  # the highest rate among the clips; the others are converted
    expected = sum(CLIPS[p.stem][0] for p in plan)
    assert info.duration == pytest.approx(expected, abs=0.001 * len(plan))


def test_longest_phrase_wins_but_single_words_also_work(tmp_path: Path) -> None:
    pack = make_pack(
        tmp_path, {"xin_mời": (0.5, 22050, 2, 1), "xin": (0.2, 22050, 2, 1), "mời": (0.2, 22050, 2, 1)}
    )
    backend = get_backend("clips", clips_dir=pack)
    assert [p.stem for p in backend.plan("Xin mời, mời xin", "vi")] == ["xin_mời", "mời", "xin"]


def test_missing_clip_names_the_file(tmp_path: Path) -> None:
    backend = get_backend("clips", clips_dir=make_pack(tmp_path))
    with pytest.raises(SpeechError) as err:
        backend.synthesize("Xin mời công dân có số bê", "vi")
    assert err.value.permanent
    assert str(tmp_path / "vi" / "bê.wav") in err.value.message


def test_available_lists_what_a_pack_lacks(tmp_path: Path) -> None:
    backend = get_backend("clips", clips_dir=make_pack(tmp_path))
    ok, reason = backend.available()
    assert not ok and "mười.wav" in reason and "nghìn.wav" in reason and "xin.wav" not in reason
    full = {w: (0.1, 22050, 2, 1) for w in CORE_VOCABULARY}
    ok, reason = get_backend("clips", clips_dir=make_pack(tmp_path / "full", full)).available()
    assert ok, reason
    ok, reason = get_backend("clips", clips_dir=tmp_path / "nowhere").available()
    assert not ok and "does not exist" in reason


def test_cache_tag_changes_when_a_clip_is_rerecorded(tmp_path: Path) -> None:
    backend = get_backend("clips", clips_dir=make_pack(tmp_path))
    before = backend.cache_tag
    (tmp_path / "vi" / "ba.wav").write_bytes(tone_wav(0.4))
    assert backend.cache_tag != before
