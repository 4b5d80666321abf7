"""pyttsx3 run isolated: concurrent requests get their own complete files, or a clear reason."""

import importlib.util
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest

from displays import audio
from displays.speech.pyttsx3_backend import Pyttsx3Backend
from displays.speech.pyttsx3_worker import choose_voice

BACKEND = Pyttsx3Backend()
AVAILABLE, REASON = BACKEND.available()


@pytest.mark.skipif(not AVAILABLE, reason=f"pyttsx3 unavailable here: {REASON}")
def test_eight_concurrent_different_texts_come_back_distinct_and_in_order() -> None:
    texts = [" ".join(["xin mời công dân"] * (i + 1)) for i in range(8)]
    alone = [audio.validate_wav(BACKEND.synthesize(t, "vi")).duration for t in texts]  # one at a time
    with ThreadPoolExecutor(max_workers=8) as pool:
        wavs = list(pool.map(lambda t: BACKEND.synthesize(t, "vi"), texts))
    infos = [audio.validate_wav(w) for w in wavs]  # every file complete
    assert len(set(wavs)) == 8
    # each answer is complete and about as long as its own text made alone. pyttsx3's espeak driver on
    # Linux does not always apply the speaking rate when several processes run at once (seen: the
    # same sentence 1.10 s or 1.50 s), so the bound is loose; a cut or empty file is still caught.
    for got, want in zip((i.duration for i in infos), alone):
        assert 0.6 * want < got < 1.5 * want, (got, want)
    assert alone[-1] - alone[0] > 3, "the texts really differ in length"
    assert all(audio.rms(w) > 0.03 for w in wavs)


@pytest.mark.skipif(AVAILABLE, reason="pyttsx3 works here; the unavailable branch is covered below")
def test_unavailable_reason_is_clear() -> None:
    assert "pyttsx3" in REASON and len(REASON) > 20


def test_reason_when_pyttsx3_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyttsx3" else real(name, *a)
    )
    ok, reason = Pyttsx3Backend().available()
    assert not ok
    assert reason == "pyttsx3 is not installed (pip install pyttsx3)"


def test_choose_voice_across_drivers() -> None:
    espeak = [
        SimpleNamespace(id="gmw/en-029", name="English_(Caribbean)", languages=["en-029"]),
        SimpleNamespace(id="gmw/en", name="English_(Great_Britain)", languages=["en-gb"]),
        SimpleNamespace(id="aav/vi-vn-x-central", name="Vietnamese_(Central)", languages=["vi-vn-x-central"]),
        SimpleNamespace(id="aav/vi", name="Vietnamese_(Northern)", languages=["vi"]),
    ]
    assert choose_voice(espeak, "vi").id == "aav/vi"
    assert choose_voice(espeak, "en").id == "gmw/en"
    sapi5 = [
        SimpleNamespace(
            id="HKEY\\TTS_MS_EN-US_ZIRA",
            name="Microsoft Zira Desktop - English (United States)",
            languages=[],
        ),
        SimpleNamespace(id="HKEY\\TTS_MS_VI-VN_AN", name="Microsoft An - Vietnamese (Vietnam)", languages=[]),
    ]
    assert choose_voice(sapi5, "vi").name.startswith("Microsoft An")
    assert choose_voice(sapi5, "en").name.startswith("Microsoft Zira")
    assert choose_voice(sapi5[:1], "vi") is None


def test_worker_waits_only_for_complete_files(tmp_path) -> None:
    from displays_wavgen import tone_wav

    from displays.speech.pyttsx3_worker import wait_until_complete

    path = tmp_path / "speech.wav"
    path.write_bytes(tone_wav(0.3)[:-100])  # a writer caught half way
    assert not wait_until_complete(path, timeout=0.1)
    path.write_bytes(tone_wav(0.3))
    assert wait_until_complete(path, timeout=1.0)


def test_worker_waits_until_a_valid_file_stops_growing(tmp_path) -> None:
    import threading
    import time

    from displays_wavgen import tone_wav

    from displays.speech.pyttsx3_worker import STABLE_S, wait_until_complete

    path = tmp_path / "speech.wav"
    path.write_bytes(tone_wav(0.3))
    final = tone_wav(0.9)

    def grow() -> None:  # each write is a valid WAV, as a driver that rewrites its header leaves it
        for seconds in (0.4, 0.5, 0.6, 0.7, 0.8):
            time.sleep(STABLE_S / 2)
            path.write_bytes(tone_wav(seconds))
        time.sleep(STABLE_S / 2)
        path.write_bytes(final)
    t = threading.Thread(target=grow)
    t.start()
    assert wait_until_complete(path, timeout=5.0)
    t.join()
    assert path.read_bytes() == final, "it returned before the writer was done"


@pytest.mark.skipif(importlib.util.find_spec("pyttsx3") is None, reason="pyttsx3 is not installed")
def test_worker_reports_a_missing_voice_as_permanent(tmp_path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "displays.speech.pyttsx3_worker",
            "--lang",
            "xx",
            "--out",
            str(tmp_path / "o.wav"),
        ],
        input=b"hello",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert b"no voice for language 'xx'" in done.stderr
    assert not (tmp_path / "o.wav").exists()
