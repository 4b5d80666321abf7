"""Choosing a voice by name, and the default for a machine."""

import logging
import shutil

import pytest

from displays.speech import BACKEND_NAMES, default_backend_name, get_backend
from displays.speech.pyttsx3_backend import Pyttsx3Backend


def test_every_name_gives_its_backend(tmp_path) -> None:
    for name in BACKEND_NAMES:
        backend = get_backend(name, clips_dir=tmp_path)
        assert backend.name == name
        ok, reason = backend.available()
        assert isinstance(ok, bool) and reason


def test_bad_names_and_missing_clip_folder() -> None:
    with pytest.raises(ValueError, match="espeak, pyttsx3, clips, off"):
        get_backend("sapi")
    with pytest.raises(ValueError, match="QMS_CLIPS_DIR"):
        get_backend("clips")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_default_is_espeak_where_installed() -> None:
    assert default_backend_name() == "espeak"


def test_default_falls_back_to_pyttsx3_then_off(monkeypatch: pytest.MonkeyPatch, caplog) -> None:
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    monkeypatch.setattr(Pyttsx3Backend, "available", lambda self: (True, "works"))
    assert default_backend_name() == "pyttsx3"
    monkeypatch.setattr(Pyttsx3Backend, "available", lambda self: (False, "pyttsx3 is not installed"))
    with caplog.at_level(logging.WARNING, logger="displays.speech"):
        assert default_backend_name() == "off"
    assert "pyttsx3 is not installed" in caplog.text and "chime only" in caplog.text
