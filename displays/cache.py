"""The on-disk audio cache: each phrase is synthesized once, however many screens ask at once.

A call is announced on every lobby screen at the same moment, and each screen fetches the WAV; a
per-key lock lets the first request synthesize while the others wait for its file. Server workers
in other processes are held back too, by an advisory file lock (POSIX `flock`) on one of a few
lock files chosen by the key. Files are written to a temporary name and renamed into place, so a
reader sees a whole file or none.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from displays.audio import DEFAULT_RATE, join, limit_peak, read_pcm, silence, trim_silence, wav_info, write_wav
from displays.chime import chime_pcm
from displays.speech.base import SpeechBackend

try:
    import fcntl
except ImportError:  # Windows: one server process there, the thread locks suffice
    fcntl = None  # type: ignore[assignment]

CACHE_FORMAT = 2  # bump when the assembled audio changes shape, so old files are not served
GAP_AFTER_CHIME_S = 0.35
GAP_BETWEEN_REPEATS_S = 0.8
LOCK_STRIPES = 64  # lock files shared between processes; a key takes one by its first hex digits


class _KeyLock:
    """A lock for one cache key and how many threads hold or wait for it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0


class AudioCache:
    """WAV files of phrases and whole announcements, keyed by what produced them."""

    def __init__(self, directory: Path, backend: SpeechBackend) -> None:
        self.directory = Path(directory)
        # private like the rest of the data folder (0700; files are 0600: mkstemp's and the locks' mode)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            if os.name == "posix" and self.directory.stat().st_uid == os.getuid():
                self.directory.chmod(0o700)
        except OSError:
            pass
        self.backend = backend
        # Entries go away when unused, so a server that runs for months does not keep one lock
        # per announcement ever made.
        self._locks: dict[str, _KeyLock] = {}
        self._locks_guard = threading.Lock()

    def key(self, kind: str, lang: str, text: str, repeat: int = 1) -> str:
        """A hash of everything that decides the audio: backend, language, text, repeats."""
        ident = json.dumps(
            [CACHE_FORMAT, kind, self.backend.cache_tag, lang, text, repeat], ensure_ascii=False
        )
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()

    def path(self, key: str) -> Path:
        return self.directory / f"{key}.wav"

    def _acquire(self, key: str) -> None:
        with self._locks_guard:
            entry = self._locks.setdefault(key, _KeyLock())
            entry.users += 1
        entry.lock.acquire()

    def _release(self, key: str) -> None:
        with self._locks_guard:
            entry = self._locks[key]
            entry.lock.release()
            entry.users -= 1
            if entry.users == 0:
                del self._locks[key]

    @contextmanager
    def _process_lock(self, key: str) -> Iterator[None]:
        if fcntl is None:
            yield
            return
        stripe = int(key[:8], 16) % LOCK_STRIPES
        fd = os.open(self.directory / f".lock-{stripe:02d}", os.O_RDWR | os.O_CREAT, 0o600)
        with os.fdopen(fd, "r+b") as f:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def _get_or_make(self, key: str, make: Callable[[], bytes]) -> bytes:
        """The cached file for `key`, made by `make` once. Never called while holding another key,
        so two processes can never wait on each other's stripes."""
        path = self.path(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        self._acquire(key)
        try:
            with self._process_lock(key):
                return self._make_locked(path, make)
        finally:
            self._release(key)

    def _make_locked(self, path: Path, make: Callable[[], bytes]) -> bytes:
        try:
            return path.read_bytes()  # made while we waited for the lock
        except FileNotFoundError:
            pass
        data = make()
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".wav")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return data

    def phrase_wav(self, text: str, lang: str) -> bytes:
        """The backend's WAV for `text` (already spelled out as words), synthesized once."""
        return self._get_or_make(self.key("phrase", lang, text), lambda: self.backend.synthesize(text, lang))

    def sentence_wav(self, speech_text: str, lang: str) -> bytes:
        """The sentence alone, its padding trimmed and its peak under the headroom: what a display plays
        after the chime, and again when nothing else waits (see web/display/announcer.js)."""
        key = self.key("sentence", lang, speech_text)
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            pass
        phrase = self.phrase_wav(speech_text, lang)
        return self._get_or_make(key, lambda: write_wav(limit_peak(trim_silence(read_pcm(phrase)))))

    def announcement_wav(self, speech_text: str, lang: str, repeat: int = 2) -> bytes:
        """Chime, then the sentence `repeat` times with short gaps: what a lobby speaker plays."""
        if not 1 <= repeat <= 5:
            raise ValueError(f"repeat must be 1..5, got {repeat}")
        key = self.key("announcement", lang, speech_text, repeat)
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            pass
        sentence = self.phrase_wav(speech_text, lang)  # before taking the announcement's lock

        def assemble() -> bytes:
            rate = wav_info(sentence).rate or DEFAULT_RATE
            spoken = trim_silence(read_pcm(sentence))
            pieces = [chime_pcm(rate)]
            if spoken.frames == 0:  # voice off: the chime alone
                return write_wav(limit_peak(join(pieces, rate=rate)))
            pieces.append(silence(GAP_AFTER_CHIME_S, rate))
            for i in range(repeat):
                if i:
                    pieces.append(silence(GAP_BETWEEN_REPEATS_S, rate))
                pieces.append(spoken)
            return write_wav(limit_peak(join(pieces, rate=rate)))

        return self._get_or_make(key, assemble)
