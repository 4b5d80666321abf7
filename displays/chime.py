"""The lobby chime played before every announcement, generated here rather than shipped.

A descending three-note "ding-dong-dang" (G5, E5, C5: a major triad, like airport and station
chimes) so people look up before the sentence starts. Each note is a sine with a soft octave
overtone, a 5 ms attack to avoid clicks and an exponential decay; notes overlap and ring out.
"""

from __future__ import annotations

import math
from array import array
from functools import lru_cache

from displays.audio import DEFAULT_RATE, Pcm, write_wav

NOTES_HZ: tuple[float, ...] = (783.99, 659.25, 523.25)
NOTE_SPACING_S = 0.32
RING_S = 0.9
SHORT_NOTES_HZ: tuple[float, ...] = (659.25, 523.25)  # when calls queue up: "ding-dong", 0.5 s instead of 1.5 s
SHORT_NOTE_SPACING_S = 0.13
SHORT_RING_S = 0.3
PEAK = 0.45  # of full scale: loud enough to notice, below the speech so it never startles


def _note(freq: float, rate: int, ring_s: float = RING_S) -> list[float]:
    n = int(ring_s * rate)
    attack = int(0.005 * rate)
    out = []
    two_pi_f = 2 * math.pi * freq
    for i in range(n):
        t = i / rate
        envelope = min(1.0, i / attack) * math.exp(-4.5 * t)
        out.append(envelope * (math.sin(two_pi_f * t) + 0.25 * math.sin(2 * two_pi_f * t)))
    return out


@lru_cache(maxsize=8)
def _chime_samples(rate: int, short: bool = False) -> array[int]:
    notes, spacing, ring = (SHORT_NOTES_HZ, SHORT_NOTE_SPACING_S, SHORT_RING_S) if short else \
        (NOTES_HZ, NOTE_SPACING_S, RING_S)
    step = int(spacing * rate)
    total = step * (len(notes) - 1) + int(ring * rate)
    mix = [0.0] * total
    for k, freq in enumerate(notes):
        for i, v in enumerate(_note(freq, rate, ring)):
            mix[k * step + i] += v
    peak = max(abs(v) for v in mix) or 1.0
    scale = PEAK * 32767 / peak
    return array("h", (int(v * scale) for v in mix))


def chime_pcm(rate: int = DEFAULT_RATE, short: bool = False) -> Pcm:
    """The chime as mono 16-bit PCM at `rate`; `short` is the quick one played while calls queue up."""
    return Pcm(array("h", _chime_samples(rate, short)), rate, 1)


def chime_wav(rate: int = DEFAULT_RATE, short: bool = False) -> bytes:
    """The chime as a WAV file."""
    return write_wav(chime_pcm(rate, short))
