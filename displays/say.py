"""`qms say "…"`: speak any sentence with the configured voice, to try a voice or a speaker.

Ticket numbers and digits in the text are read the project's way ("A023" -> "a, hai mươi ba"),
so what an operator hears here is what the lobby will hear.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from displays.speech import default_backend_name, get_backend
from displays.spoken import spoken_text

# Players tried in order, as argument lists; the WAV path is appended.
PLAYERS: tuple[tuple[str, ...], ...] = (
    ("aplay", "-q"),
    ("paplay",),
    ("ffplay", "-nodisp", "-autoexit", "-loglevel", "quiet"),
)


def find_player() -> list[str] | None:
    """The first installed audio player, as a command prefix, or None."""
    for player in PLAYERS:
        exe = shutil.which(player[0])
        if exe:
            return [exe, *player[1:]]
    return None


def say(
    text: str,
    out: Path | None = None,
    backend_name: str | None = None,
    lang: str = "vi",
    clips_dir: Path | None = None,
    play: bool = True,
) -> Path:
    """Synthesize `text`; write it to `out`, or play it (when a player exists) from a temp file.

    Returns the path of the WAV written. The voice is `backend_name`, else $QMS_VOICE, else the
    default for this machine; clip packs come from `clips_dir` or $QMS_CLIPS_DIR.
    """
    name = backend_name or os.environ.get("QMS_VOICE") or default_backend_name()
    if clips_dir is None and os.environ.get("QMS_CLIPS_DIR"):
        clips_dir = Path(os.environ["QMS_CLIPS_DIR"])
    backend = get_backend(name, clips_dir=clips_dir)
    wav = backend.synthesize(spoken_text(text, lang), lang)
    if out is not None:
        out = Path(out)
        out.write_bytes(wav)
        return out
    fd, tmp = tempfile.mkstemp(prefix="qms-say-", suffix=".wav")
    with os.fdopen(fd, "wb") as f:
        f.write(wav)
    player = find_player() if play else None
    if player is not None:
        subprocess.run([*player, tmp], check=False, timeout=120)
    return Path(tmp)
