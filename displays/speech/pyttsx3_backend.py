"""pyttsx3 (espeak on Linux, SAPI5 on Windows with "Microsoft An", NSSpeechSynthesizer on macOS).

pyttsx3 is not trustworthy in-process on Linux (files written late or swapped between calls), so
every sentence runs in a fresh `python -m displays.speech.pyttsx3_worker` process writing to its own
temporary path, and the parent checks that the result is a complete WAV before returning it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from displays.audio import validate_wav
from displays.speech.base import SpeechBackend, SpeechError, check_lang
from displays.speech.pyttsx3_worker import EXIT_PERMANENT

TIMEOUT_S = 30.0
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_PROBE_TEXT = "một"


class Pyttsx3Backend(SpeechBackend):
    """Speech through pyttsx3, one isolated process per sentence."""

    name = "pyttsx3"

    def __init__(self, max_parallel: int | None = None) -> None:
        # Each worker loads a speech engine; more of them than cores only adds contention.
        self._slots = threading.BoundedSemaphore(max_parallel or max(2, os.cpu_count() or 2))
        self._probe_lock = threading.Lock()
        self._probe: tuple[bool, str] | None = None

    def available(self) -> tuple[bool, str]:
        """Installed, and a real test sentence comes back as a complete WAV (checked once per instance)."""
        if importlib.util.find_spec("pyttsx3") is None:
            return False, "pyttsx3 is not installed (pip install pyttsx3)"
        with self._probe_lock:
            if self._probe is None:
                try:
                    self.synthesize(_PROBE_TEXT, "vi")
                    self._probe = (True, "pyttsx3 with a Vietnamese voice, one process per sentence")
                except SpeechError as exc:
                    hint = (
                        " (Debian/Ubuntu: apt install libespeak-ng1)"
                        if sys.platform.startswith("linux")
                        else ""
                    )
                    verdict = (False, f"pyttsx3 does not work here: {exc.message}{hint}")
                    if not exc.permanent:
                        return verdict  # a timeout on a busy machine: ask again next time
                    self._probe = verdict
            return self._probe

    def synthesize(self, text: str, lang: str) -> bytes:
        check_lang(lang)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_PROJECT_ROOT), env.get("PYTHONPATH")) if p)
        with self._slots, tempfile.TemporaryDirectory(prefix="qms-pyttsx3-") as tmp:
            out = Path(tmp) / "speech.wav"
            cmd = [sys.executable, "-m", "displays.speech.pyttsx3_worker", "--lang", lang, "--out", str(out)]
            try:
                done = subprocess.run(
                    cmd,
                    input=text.encode("utf-8"),
                    capture_output=True,
                    timeout=TIMEOUT_S,
                    env=env,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise SpeechError(
                    f"pyttsx3 worker took longer than {TIMEOUT_S:.0f} s", permanent=False
                ) from exc
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            reason = message[-1] if message else f"exit status {done.returncode}"
            if done.returncode != 0:
                raise SpeechError(f"pyttsx3: {reason}", permanent=done.returncode == EXIT_PERMANENT)
            try:
                data = out.read_bytes()
                info = validate_wav(data)
            except (OSError, ValueError) as exc:
                raise SpeechError(f"pyttsx3 wrote no complete WAV: {exc}", permanent=False) from exc
        if info.frames == 0:
            raise SpeechError("pyttsx3 produced an empty WAV", permanent=False)
        return data
