"""One pyttsx3 synthesis in its own process: `python -m displays.speech.pyttsx3_worker --lang vi --out F`.

On Linux pyttsx3's `save_to_file` + `runAndWait` can return before the file is written, and calls in
one process can swap files, so the parent starts a fresh process per sentence. This worker reads
the text from stdin, writes the WAV to the unique path it was given, and waits until that file is a
complete WAV before exiting. Exit codes: 0 done, 2 permanent failure (no engine or voice), 3 the
file never became complete, 1 anything else. Messages go to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from displays.audio import validate_wav

EXIT_PERMANENT = 2
EXIT_INCOMPLETE = 3
WAIT_S = 15.0

# How a voice for each language may be recognised across drivers (espeak, SAPI5, NSSpeechSynthesizer).
_VOICE_HINTS: dict[str, tuple[str, ...]] = {"vi": ("vi", "vietnam"), "en": ("en", "english")}


def _languages(voice: Any) -> list[str]:
    out = []
    for lang in getattr(voice, "languages", None) or []:
        if isinstance(lang, bytes):
            lang = lang.decode("utf-8", "replace").lstrip("\x05")
        out.append(str(lang).lower().replace("_", "-"))
    return out


def choose_voice(voices: list[Any], lang: str) -> Any | None:
    """A voice tagged exactly `lang`, else the plainest `lang-XX` (en-gb before en-gb-scotland),
    else one whose name says the language (SAPI5 voices often carry no tags)."""
    tagged = [
        (0 if tag == lang else len(tag), i, voice)
        for i, voice in enumerate(voices)
        for tag in _languages(voice)
        if tag == lang or tag.startswith(lang + "-")
    ]
    if tagged:
        return min(tagged, key=lambda t: (t[0], t[1]))[2]
    hints = _VOICE_HINTS.get(lang, (lang,))
    for voice in voices:
        label = f"{getattr(voice, 'name', '')} {getattr(voice, 'id', '')}".lower()
        if any(h in label.replace("/", " ").split() or (len(h) > 2 and h in label) for h in hints):
            return voice
    return None


STABLE_S = 0.15


def wait_until_complete(path: Path, timeout: float = WAIT_S) -> bool:
    """Poll until `path` holds a valid WAV with audio that has stopped growing for STABLE_S.

    A valid header alone is not enough: the espeak driver rewrites it as it appends, so a file caught
    mid-write can look complete (seen under load: a sentence cut short).
    """
    deadline = time.monotonic() + timeout
    last: tuple[int, float] | None = None
    while time.monotonic() < deadline:
        try:
            data = path.read_bytes()
            info = validate_wav(data)
            if info.frames > 0:
                now = time.monotonic()
                if last is None or last[0] != len(data):
                    last = (len(data), now)
                elif now - last[1] >= STABLE_S:
                    return True
        except (OSError, ValueError):
            last = None
        time.sleep(0.03)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", required=True)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    text = sys.stdin.buffer.read().decode("utf-8")
    try:
        import pyttsx3  # optional dependency, loaded only in this process
    except ImportError:
        print("pyttsx3 is not installed (pip install pyttsx3)", file=sys.stderr)
        return EXIT_PERMANENT
    try:
        engine = pyttsx3.init()
    except Exception as exc:  # noqa: BLE001 - the drivers raise anything from OSError to RuntimeError
        print(f"pyttsx3 cannot start its engine: {exc}", file=sys.stderr)
        return EXIT_PERMANENT
    voice = choose_voice(list(engine.getProperty("voices") or []), args.lang)
    if voice is None:
        print(f"pyttsx3 has no voice for language {args.lang!r} on this machine", file=sys.stderr)
        return EXIT_PERMANENT
    engine.setProperty("voice", voice.id)
    engine.setProperty("rate", 150)
    engine.save_to_file(text, str(args.out))
    engine.runAndWait()
    if not wait_until_complete(args.out):
        print(f"pyttsx3 did not finish writing {args.out} within {WAIT_S:.0f} s", file=sys.stderr)
        return EXIT_INCOMPLETE
    return 0


if __name__ == "__main__":
    sys.stdout = sys.stderr  # pyttsx3 prints progress; keep the protocol on exit codes and stderr
    raise SystemExit(main())
