"""WAV helpers in pure Python: parse, check, convert, join, measure.

Announcements are stitched from pieces of different origins (the chime, espeak-ng at 22050 Hz,
recorded clips at 44100 Hz stereo, ...). Everything is converted to one PCM format before joining.
`audioop` is deprecated since Python 3.11 and gone in 3.13, and numpy is not a dependency, so the
few conversions needed are written here with `array`.
"""

from __future__ import annotations

import io
import math
import struct
import sys
import wave
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

DEFAULT_RATE = 22050
"""The common rate: espeak-ng's own, and plenty for speech."""


@dataclass(frozen=True)
class WavInfo:
    """What a WAV file's header says, plus its duration."""

    rate: int
    channels: int
    sample_width: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.rate if self.rate else 0.0


@dataclass
class Pcm:
    """Signed 16-bit samples (interleaved when channels > 1) at a sample rate."""

    samples: array[int]
    rate: int
    channels: int = 1

    @property
    def frames(self) -> int:
        return len(self.samples) // self.channels

    @property
    def duration(self) -> float:
        return self.frames / self.rate

    def to_wav(self) -> bytes:
        return write_wav(self)


def validate_wav(data: bytes) -> WavInfo:
    """Check that `data` is a complete PCM WAV file and return its parameters.

    "Complete" means the RIFF and data chunk sizes in the header agree with the bytes present: a file
    caught while an engine is still writing it has a header that says otherwise. Raises ValueError.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a WAV file (no RIFF/WAVE header)")
    riff_size = struct.unpack_from("<I", data, 4)[0]
    if riff_size + 8 not in (len(data), len(data) - 1):
        raise ValueError(f"incomplete WAV: header says {riff_size + 8} bytes, file has {len(data)}")
    pos, fmt_seen, data_size = 12, False, -1
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        if pos + 8 + size > len(data):
            raise ValueError(f"incomplete WAV: chunk {chunk_id!r} runs past the end of the file")
        if chunk_id == b"fmt ":
            fmt_seen = True
        elif chunk_id == b"data":
            data_size = size
        pos += 8 + size + (size & 1)
    if not fmt_seen or data_size < 0:
        raise ValueError("WAV file lacks a fmt or data chunk")
    info = wav_info(data)
    if info.frames * info.channels * info.sample_width != data_size:
        raise ValueError("WAV data chunk is not a whole number of frames")
    return info


def wav_info(data: bytes) -> WavInfo:
    """Read the parameters of a PCM WAV file (raises ValueError for anything else)."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            return WavInfo(w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes())
    except (wave.Error, EOFError, struct.error) as exc:
        raise ValueError(f"unreadable WAV: {exc}") from exc


def duration_seconds(data: bytes) -> float:
    """Duration of a WAV file in seconds."""
    return wav_info(data).duration


def _to_int16(raw: bytes, width: int) -> array[int]:
    """Convert little-endian PCM of any common width to signed 16-bit samples."""
    out = array("h")
    if width == 2:
        out.frombytes(raw[: len(raw) - len(raw) % 2])
        if sys.byteorder == "big":
            out.byteswap()
    elif width == 1:  # WAV 8-bit is unsigned
        out.extend((b - 128) << 8 for b in raw)
    elif width in (3, 4):  # keep the two most significant bytes
        hi = width - 1
        out.extend(
            int.from_bytes(raw[i + hi - 1 : i + hi + 1], "little", signed=True)
            for i in range(0, len(raw) - width + 1, width)
        )
    else:
        raise ValueError(f"unsupported sample width {width}")
    return out


def read_pcm(data: bytes) -> Pcm:
    """Decode a PCM WAV file into 16-bit samples."""
    try:
        with wave.open(io.BytesIO(data), "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError, struct.error) as exc:
        raise ValueError(f"unreadable WAV: {exc}") from exc
    return Pcm(_to_int16(raw, width), rate, channels)


def write_wav(pcm: Pcm) -> bytes:
    """Encode 16-bit samples as a WAV file."""
    samples = pcm.samples
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(pcm.channels)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


def to_mono(pcm: Pcm) -> Pcm:
    """Average the channels into one."""
    if pcm.channels == 1:
        return pcm
    c, s = pcm.channels, pcm.samples
    mono = array("h", (sum(s[i : i + c]) // c for i in range(0, len(s) - c + 1, c)))
    return Pcm(mono, pcm.rate, 1)


def resample(pcm: Pcm, rate: int) -> Pcm:
    """Change the sample rate of mono audio by linear interpolation (good enough for speech)."""
    if pcm.channels != 1:
        pcm = to_mono(pcm)
    if not pcm.samples:
        return Pcm(array("h"), rate, 1)
    if pcm.rate == rate:
        return pcm
    src = pcm.samples
    n_in = len(src)
    n_out = max(1, round(n_in * rate / pcm.rate))
    step = pcm.rate / rate
    out = array("h", bytes(2 * n_out))
    last = n_in - 1
    for i in range(n_out):
        pos = i * step
        j = int(pos)
        if j >= last:
            out[i] = src[last]
        else:
            frac = pos - j
            out[i] = int(src[j] + (src[j + 1] - src[j]) * frac)
    return Pcm(out, rate, 1)


def to_common(pcm: Pcm, rate: int = DEFAULT_RATE) -> Pcm:
    """Mono, 16-bit, `rate`: the one format announcements are assembled in."""
    return resample(to_mono(pcm), rate)


def silence(seconds: float, rate: int = DEFAULT_RATE) -> Pcm:
    """A mono gap of `seconds`."""
    return Pcm(array("h", bytes(2 * max(0, round(seconds * rate)))), rate, 1)


def join(pieces: Iterable[Pcm | bytes], rate: int = DEFAULT_RATE, gap_seconds: float = 0.0) -> Pcm:
    """Join WAVs/PCM of any rate, width or channel count into one mono stream, gaps between them."""
    out = array("h")
    gap = silence(gap_seconds, rate).samples
    for i, piece in enumerate(pieces):
        pcm = read_pcm(piece) if isinstance(piece, bytes) else piece
        if i and gap:
            out.extend(gap)
        out.extend(to_common(pcm, rate).samples)
    return Pcm(out, rate, 1)


def concatenate(wavs: Sequence[bytes], gap_seconds: float = 0.0, rate: int | None = None) -> bytes:
    """Join WAV files into one WAV; the rate defaults to the highest rate among them."""
    if rate is None:
        rate = max((wav_info(w).rate for w in wavs), default=DEFAULT_RATE)
    return write_wav(join(wavs, rate, gap_seconds))


def rms(data: bytes | Pcm) -> float:
    """Root-mean-square loudness from 0.0 (silence) to 1.0 (full-scale square wave)."""
    pcm = read_pcm(data) if isinstance(data, bytes) else data
    if not pcm.samples:
        return 0.0
    total = math.fsum(s * s for s in pcm.samples)
    return math.sqrt(total / len(pcm.samples)) / 32768.0


HEADROOM_DBFS = -1.5
"""Announcements peak at most here: a lobby amplifier turned up does not clip, and resampling or a
player's volume curve has room above the loudest sample (the field asked for at most -1 dBFS)."""


def peak(data: bytes | Pcm) -> float:
    """The largest absolute sample, from 0.0 to 1.0 of full scale."""
    pcm = read_pcm(data) if isinstance(data, bytes) else data
    return max((abs(s) for s in pcm.samples), default=0) / 32768.0


def peak_dbfs(data: bytes | Pcm) -> float:
    """The peak in dBFS (0 is full scale; silence is -inf)."""
    p = peak(data)
    return 20 * math.log10(p) if p > 0 else float("-inf")


def limit_peak(pcm: Pcm, ceiling_dbfs: float = HEADROOM_DBFS) -> Pcm:
    """Scale `pcm` down so its peak is at most `ceiling_dbfs` (never up: quiet recordings stay as they are)."""
    ceiling = 10 ** (ceiling_dbfs / 20) * 32767
    top = max((abs(s) for s in pcm.samples), default=0)
    if top <= ceiling:
        return pcm
    k = ceiling / top
    return Pcm(array("h", (int(s * k) for s in pcm.samples)), pcm.rate, pcm.channels)


def trim_silence(pcm: Pcm, threshold: float = 0.01, keep_s: float = 0.05) -> Pcm:
    """Drop leading and trailing near-silence (engines pad their output), keeping `keep_s` at each end, so
    a queue of announcements loses no time to dead air."""
    s, c = pcm.samples, pcm.channels
    level = threshold * 32768
    first = next((i for i, v in enumerate(s) if abs(v) > level), None)
    if first is None:  # nothing audible (or the voice is off): leave it as it is
        return pcm
    last = len(s) - next(i for i, v in enumerate(reversed(s)) if abs(v) > level)
    keep = round(keep_s * pcm.rate) * c
    start = max(0, first - keep) // c * c
    end = min(len(s), last + keep)
    end -= (end - start) % c
    return Pcm(s[start:end], pcm.rate, c)
