"""Test helper: tones as WAV files of any rate, width and channel count (pure Python)."""

from __future__ import annotations

import io
import math
import wave


def tone_wav(
    seconds: float,
    rate: int = 22050,
    freq: float = 440.0,
    width: int = 2,
    channels: int = 1,
    amplitude: float = 0.5,
) -> bytes:
    frames = round(seconds * rate)
    full = (1 << (8 * width - 1)) - 1
    raw = bytearray()
    for i in range(frames):
        v = int(amplitude * full * math.sin(2 * math.pi * freq * i / rate))
        sample = (v + 128).to_bytes(1, "little") if width == 1 else v.to_bytes(width, "little", signed=True)
        raw += sample * channels
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(bytes(raw))
    return buf.getvalue()
