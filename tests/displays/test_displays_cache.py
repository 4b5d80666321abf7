"""The audio cache: one synthesis per phrase under concurrency, chime first, atomic files."""

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from displays_wavgen import tone_wav

from displays import audio
from displays.cache import AudioCache
from displays.chime import chime_pcm
from displays.speech import SpeechBackend, get_backend


class CountingBackend(SpeechBackend):
    """Speaks a tone whose length grows with the text and counts how often it was asked."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()
        self.release = threading.Event()

    def available(self) -> tuple[bool, str]:
        return True, "test"

    def synthesize(self, text: str, lang: str) -> bytes:
        with self._lock:
            self.calls += 1
            n = self.calls
        self.release.wait(5)  # hold the first synthesis until every thread is waiting on it
        return tone_wav(0.05 * len(text), 22050, 300 + n)


def test_ten_concurrent_requests_synthesize_once(tmp_path: Path) -> None:
    backend = CountingBackend()
    cache = AudioCache(tmp_path, backend)
    barrier = threading.Barrier(10)

    def ask() -> bytes:
        barrier.wait()
        return cache.announcement_wav("xin mời", "vi")

    with ThreadPoolExecutor(max_workers=10) as pool:
        futures = [pool.submit(ask) for _ in range(10)]
        threading.Timer(0.2, backend.release.set).start()
        results = [f.result() for f in futures]
    assert backend.calls == 1
    assert all(r == results[0] for r in results)
    assert len(list(tmp_path.glob("*.wav"))) == 2  # phrase + announcement
    assert not list(tmp_path.glob(".tmp*"))
    assert cache.path(cache.key("announcement", "vi", "xin mời", 2)).read_bytes() == results[0]
    # a new cache over the same folder serves the file without synthesizing
    again = AudioCache(tmp_path, backend).announcement_wav("xin mời", "vi")
    assert again == results[0] and backend.calls == 1
    assert not cache._locks  # no lock kept per announcement once done


def test_announcement_is_chime_then_sentence_repeated(tmp_path: Path) -> None:
    backend = CountingBackend()
    backend.release.set()
    cache = AudioCache(tmp_path, backend)
    sentence = cache.phrase_wav("xin mời công dân", "vi")
    wav = cache.announcement_wav("xin mời công dân", "vi", repeat=2)
    assert backend.calls == 1
    pcm = audio.read_pcm(wav)
    chime = chime_pcm(22050).samples
    assert pcm.samples[: len(chime)] == chime
    one = audio.duration_seconds(sentence)
    expected = audio.duration_seconds(audio.write_wav(chime_pcm())) + 0.35 + one + 0.8 + one
    assert audio.duration_seconds(wav) == pytest.approx(expected, abs=0.001)
    three = cache.announcement_wav("xin mời công dân", "vi", repeat=3)
    assert audio.duration_seconds(three) == pytest.approx(expected + 0.8 + one, abs=0.001)
    assert backend.calls == 1  # the phrase itself was reused


def test_keys_separate_backend_language_text_and_repeat(tmp_path: Path) -> None:
    cache = AudioCache(tmp_path, CountingBackend())
    keys = {
        cache.key("announcement", "vi", "a", 2),
        cache.key("announcement", "en", "a", 2),
        cache.key("announcement", "vi", "b", 2),
        cache.key("announcement", "vi", "a", 1),
        AudioCache(tmp_path, get_backend("off")).key("announcement", "vi", "a", 2),
    }
    assert len(keys) == 5


def test_voice_off_gives_the_chime_alone(tmp_path: Path) -> None:
    wav = AudioCache(tmp_path, get_backend("off")).announcement_wav("xin mời", "vi")
    assert audio.read_pcm(wav).samples == chime_pcm().samples


def test_failed_synthesis_caches_nothing(tmp_path: Path) -> None:
    class Failing(CountingBackend):
        def synthesize(self, text: str, lang: str) -> bytes:
            raise RuntimeError("engine crashed")

    cache = AudioCache(tmp_path, Failing())
    with pytest.raises(RuntimeError):
        cache.announcement_wav("x", "vi")
    assert not list(tmp_path.glob("*.wav")) and not list(tmp_path.glob(".tmp*"))


WORKER_SCRIPT = """
import sys, time
from pathlib import Path
sys.path[:0] = [sys.argv[3], sys.argv[4]]
from displays_wavgen import tone_wav
from displays.cache import AudioCache
from displays.speech import SpeechBackend

class Logged(SpeechBackend):
    name = "logged"
    def available(self):
        return True, "test"
    def synthesize(self, text, lang):
        with open(sys.argv[2], "a") as log:
            log.write("synth\\n")
        time.sleep(0.3)  # long enough for the other process to arrive and wait
        return tone_wav(0.2)

Path(sys.argv[5]).touch()
while len(list(Path(sys.argv[5]).parent.glob("ready-*"))) < 2:
    time.sleep(0.01)
sys.stdout.buffer.write(AudioCache(Path(sys.argv[1]), Logged()).announcement_wav("xin mời", "vi"))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="cross-process locking is POSIX flock")
def test_two_server_processes_synthesize_once(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    log = tmp_path / "synth.log"
    root = str(Path(__file__).resolve().parents[2])
    here = str(Path(__file__).resolve().parent)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(script),
                str(tmp_path / "cache"),
                str(log),
                root,
                here,
                str(tmp_path / f"ready-{i}"),
            ],
            stdout=subprocess.PIPE,
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert outputs[0] == outputs[1] and audio.validate_wav(outputs[0]).frames > 0
    assert log.read_text().splitlines() == ["synth"]
