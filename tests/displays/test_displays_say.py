"""`qms say`: digits spoken the project's way, written to a file or handed to a player."""

import os
import shutil
import stat
from pathlib import Path

import pytest

from displays import audio
from displays.say import find_player, say
from displays.speech import get_backend

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@needs_espeak
def test_say_reads_ticket_numbers_as_vietnamese_words(tmp_path: Path) -> None:
    out = say("Số A023 đến quầy 15", out=tmp_path / "say.wav", backend_name="espeak")
    assert out == tmp_path / "say.wav"
    expected = get_backend("espeak").synthesize("Số a, hai mươi ba đến quầy mười lăm", "vi")
    assert out.read_bytes() == expected  # espeak-ng is deterministic
    assert audio.duration_seconds(expected) > 1.0


@needs_espeak
def test_say_plays_with_a_player_as_an_argument_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "played.txt"
    fake = tmp_path / "bin" / "aplay"
    fake.parent.mkdir()
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {log}\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    espeak_dir = os.path.dirname(shutil.which("espeak-ng") or "")
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{espeak_dir}")
    path = say("A1", out=None, backend_name="espeak")
    try:
        assert log.read_text().splitlines() == ["-q", str(path)]
        assert audio.validate_wav(path.read_bytes()).frames > 0
    finally:
        path.unlink()


def test_without_player_the_wav_is_left_in_a_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert find_player() is None
    path = say("xin chào", out=None, backend_name="off")
    try:
        assert path.exists() and audio.validate_wav(path.read_bytes()).frames == 0
    finally:
        path.unlink()


def test_say_uses_qms_voice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMS_VOICE", "nonsense")
    with pytest.raises(ValueError, match="unknown voice 'nonsense'"):
        say("x", out=tmp_path / "x.wav")
