"""Recorded clip packs: the most natural voice, a real person's recordings joined word by word.

Layout of a pack (any PCM WAV: rate, width and channels may differ between files)::

    <pack>/vi/xin_mời.wav      one file per word or phrase, named by its words in lower case,
    <pack>/vi/công_dân.wav     Vietnamese letters kept (NFC or NFD), words joined by "_";
    <pack>/vi/có.wav  số.wav  đến.wav  quầy.wav
    <pack>/vi/không.wav một.wav ... chín.wav  mười.wav mươi.wav mốt.wav lăm.wav lẻ.wav trăm.wav nghìn.wav
    <pack>/vi/a.wav bê.wav xê.wav ... e-lờ.wav ... i_dài.wav   (letter names as read_letter gives them)
    <pack>/en/...              the same for English, optional

A pack with WAVs directly in <pack>/ and no vi/ folder is taken as Vietnamese. Names keep their
diacritics because ASCII would merge words that must sound different (mười/mươi, năm/nam).
A sentence is split into words; the longest recorded phrase is taken first ("xin_mời.wav" before
"xin.wav" + "mời.wav"); clips are converted to one format and joined with no gaps.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from displays.audio import DEFAULT_RATE, join, read_pcm, wav_info, write_wav
from displays.numbers import read_digit_run
from displays.speech.base import SpeechBackend, SpeechError, check_lang

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")

CORE_SENTENCE = "xin mời công dân có số đến quầy"
NUMERAL_WORDS: tuple[str, ...] = (
    "không",
    "một",
    "hai",
    "ba",
    "bốn",
    "năm",
    "sáu",
    "bảy",
    "tám",
    "chín",
    "mười",
    "mươi",
    "mốt",
    "lăm",
    "lẻ",
    "trăm",
    "nghìn",
)
CORE_VOCABULARY: tuple[str, ...] = (*CORE_SENTENCE.split(), *NUMERAL_WORDS)
"""Words the default Vietnamese announcement can need (letters aside): checked by `available()`."""


def clip_key(phrase: str) -> str:
    """The lookup key of a phrase or file stem: NFC, lower case, words joined by "_"."""
    words = unicodedata.normalize("NFC", phrase).lower().replace("_", " ").split()
    return "_".join(words)


def words_of(text: str, lang: str) -> list[str]:
    """Split a sentence into the words to look up; stray digits are read as numerals in Vietnamese."""
    words: list[str] = []
    for token in _WORD.findall(unicodedata.normalize("NFC", text).lower()):
        if token.isdigit() and lang == "vi":
            words.extend(read_digit_run(token).split())
        else:
            words.append(token)
    return words


class ClipsBackend(SpeechBackend):
    """Speech assembled from a folder of recorded WAV clips."""

    name = "clips"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def folder(self, lang: str) -> Path:
        """Where the clips of `lang` live."""
        sub = self.directory / lang
        if sub.is_dir() or lang != "vi":
            return sub
        return self.directory

    def index(self, lang: str) -> dict[str, Path]:
        """Recorded phrases of `lang`, by key (rescanned each time so new recordings count at once)."""
        folder = self.folder(lang)
        if not folder.is_dir():
            return {}
        return {
            clip_key(p.stem): p
            for p in sorted(folder.iterdir())
            if p.suffix.lower() == ".wav" and p.is_file()
        }

    def available(self) -> tuple[bool, str]:
        if not self.directory.is_dir():
            return False, f"clip pack folder {self.directory} does not exist (set QMS_CLIPS_DIR)"
        index = self.index("vi")
        _, missing_words = self._cover(CORE_SENTENCE.split(), index)
        missing = [f"{w}.wav" for w in missing_words + [w for w in NUMERAL_WORDS if w not in index]]
        if missing:
            return False, f"clip pack {self.folder('vi')} lacks {', '.join(missing)}"
        return True, f"clip pack {self.directory} ({len(index)} Vietnamese clips)"

    @property
    def cache_tag(self) -> str:
        """Changes when any clip is added, removed or re-recorded, so caches never serve stale audio."""
        digest = hashlib.sha256(str(self.directory.resolve()).encode())
        for path in sorted(self.directory.rglob("*.wav")):
            stat = path.stat()
            digest.update(f"{path.relative_to(self.directory)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        return f"clips:{digest.hexdigest()[:16]}"

    @staticmethod
    def _cover(words: list[str], index: dict[str, Path]) -> tuple[list[Path], list[str]]:
        """Clips for `words`, longest recorded phrase first, and the words no clip covers."""
        longest = max((k.count("_") + 1 for k in index), default=1)
        clips: list[Path] = []
        missing: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(longest, len(words) - i), 0, -1):
                path = index.get("_".join(words[i : i + n]))
                if path is not None:
                    clips.append(path)
                    i += n
                    break
            else:
                missing.append(words[i])
                i += 1
        return clips, missing

    def plan(self, text: str, lang: str) -> list[Path]:
        """The clip files that speak `text`; a SpeechError names the first file that is missing."""
        check_lang(lang)
        clips, missing = self._cover(words_of(text, lang), self.index(lang))
        if missing:
            wanted = self.folder(lang) / f"{missing[0]}.wav"
            raise SpeechError(f"clip pack has no recording of {missing[0]!r}: add {wanted}", permanent=True)
        return clips

    def synthesize(self, text: str, lang: str) -> bytes:
        clips = self.plan(text, lang)
        pieces: list[bytes] = []
        for path in clips:
            try:
                data = path.read_bytes()
                wav_info(data)
            except (OSError, ValueError) as exc:
                raise SpeechError(f"clip {path} is not a readable PCM WAV: {exc}", permanent=True) from exc
            pieces.append(data)
        rate = max((wav_info(p).rate for p in pieces), default=DEFAULT_RATE)
        return write_wav(join((read_pcm(p) for p in pieces), rate=rate))
