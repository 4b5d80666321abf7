"""espeak-ng, run as a subprocess: fast (~35 ms a sentence), deterministic, has vi and en voices.

The text goes in on stdin and the command is an argument list, never a shell string. The WAV is
written to a temporary file because espeak-ng's `--stdout` WAV header carries placeholder sizes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from displays.audio import validate_wav
from displays.speech.base import SpeechBackend, SpeechError, check_lang

VOICES: dict[str, str] = {"vi": "vi", "en": "en"}
TIMEOUT_S = 20.0


class EspeakBackend(SpeechBackend):
    """Speech through the `espeak-ng` program."""

    name = "espeak"

    def __init__(self, executable: str | None = None, words_per_minute: int = 150) -> None:
        # 150 wpm rather than espeak's 175: a lobby is noisy and citizens are not all young.
        self._executable = executable
        self.words_per_minute = words_per_minute

    def _find(self) -> str | None:
        return self._executable or shutil.which("espeak-ng")

    def available(self) -> tuple[bool, str]:
        exe = self._find()
        if exe is None:
            return False, "espeak-ng is not installed (Debian/Ubuntu: apt install espeak-ng)"
        return True, f"espeak-ng at {exe}"

    def synthesize(self, text: str, lang: str) -> bytes:
        check_lang(lang)
        exe = self._find()
        if exe is None:
            raise SpeechError(self.available()[1], permanent=True)
        with tempfile.TemporaryDirectory(prefix="qms-espeak-") as tmp:
            out = Path(tmp) / "speech.wav"
            cmd = [
                exe,
                "-v",
                VOICES[lang],
                "-s",
                str(self.words_per_minute),
                "-b",
                "1",
                "-w",
                str(out),
                "--stdin",
            ]
            try:
                done = subprocess.run(
                    cmd, input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT_S, check=False
                )
            except subprocess.TimeoutExpired as exc:
                raise SpeechError(f"espeak-ng took longer than {TIMEOUT_S:.0f} s", permanent=False) from exc
            except OSError as exc:
                raise SpeechError(f"cannot run espeak-ng: {exc}", permanent=True) from exc
            if done.returncode != 0 or not out.exists():
                message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
                raise SpeechError(f"espeak-ng failed: {message}", permanent=False)
            data = out.read_bytes()
        try:
            validate_wav(data)
        except ValueError as exc:
            raise SpeechError(f"espeak-ng wrote a bad WAV: {exc}", permanent=False) from exc
        return data
