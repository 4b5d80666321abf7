"""The announcement audio a display plays: real espeak-ng speech in a valid WAV, synthesized once."""
from __future__ import annotations

import array
import concurrent.futures
import io
import itertools
import math
import shutil
import wave

import pytest

from tests.support.server import OfficeSetup, ServerProcess

pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


def _cache_files(server: ServerProcess) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in (server.data_dir / "audio").rglob("*.wav")}


def test_announcement_wav_is_espeak_speech_and_is_synthesized_once(server: ServerProcess,
                                                                   office: OfficeSetup) -> None:
    a = office.service("A")
    c = office.counter(7, [a["id"]])
    office.admin.ok("POST", f"/api/v1/offices/{office.id}/tickets", json={"service_id": a["id"]})
    office.admin.ok("POST", f"/api/v1/counters/{c['id']}/open")
    office.admin.ok("POST", f"/api/v1/counters/{c['id']}/next")
    recall = office.admin.ok("POST", f"/api/v1/counters/{c['id']}/recall")
    url = recall["announcement"]["audio_url"]
    assert recall["announcement"]["text"] == "Xin mời công dân có số A001 đến quầy số 7"

    anyone = server.client()  # public: it is spoken aloud in the lobby anyway
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        bodies = list(pool.map(lambda _: anyone.get(url), range(6)))
    assert all(r.status_code == 200 and r.headers["content-type"] == "audio/wav" for r in bodies)
    assert len({r.content for r in bodies}) == 1, "every screen hears the same file"
    body = bodies[0].content
    with wave.open(io.BytesIO(body)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() >= 16000
        rate, samples = w.getframerate(), array.array("h", w.readframes(w.getnframes()))
    seconds = len(samples) / rate
    assert 3.0 < seconds < 30.0, f"chime + sentence twice lasts {seconds:.1f} s"

    # Speech, not silence or a tone: loud 50 ms windows over several seconds, with pauses between words.
    win = rate // 20
    rms = [math.sqrt(sum(x * x for x in samples[i:i + win]) / win) for i in range(0, len(samples) - win, win)]
    loud = [r > 500 for r in rms]
    assert sum(loud) * 0.05 > 2.0, "at least two seconds of voiced audio"
    assert max(rms) > 2000
    changes = sum(1 for x, y in itertools.pairwise(loud) if x != y)
    assert changes >= 8, "syllables and pauses alternate as in speech"

    files = _cache_files(server)
    assert files, "the cache keeps the synthesized file"
    again = anyone.get(url)
    assert again.content == body
    assert _cache_files(server) == files, "the second request reads the cache: nothing new is written"
