"""The live view of an office, announcement audio and the voice preview."""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlmodel import Session
from starlette.responses import Response

from counters.projections.live import live_state
from counters.models import Announcement, Counter, Office, Ticket

from ..api import ANYONE, HEADS, STAFF, Call, EndpointGroup
from ..auth import require_office
from ..errors import ApiError
from ..schemas import LiveOut

endpoints = EndpointGroup("live")


@endpoints("GET", "/api/v1/offices/{office_id:int}/live", summary="Live queues, counters, programmes, "
           "satisfaction, alerts and staffing of today (clerks: their office's view)", allow=STAFF,
           response=LiveOut)
async def live(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        office = require_office(session, call.actor, call.param("office_id"), read_only=True)
        return live_state(session, office, call.now())
    return await call.qms.live.overlay(call.param("office_id"), await call.read(run))


def _wav(body: bytes) -> Response:
    return Response(body, media_type="audio/wav", headers={"Cache-Control": "public, max-age=86400"})


async def _synthesize(call: Call, speech: str, lang: str, repeat: int) -> bytes:
    return await _voice(lambda: call.qms.voice.announcement_wav(speech, lang, repeat))


async def _voice(make: Callable[[], bytes]) -> bytes:
    from displays import SpeechError
    try:
        return await asyncio.get_running_loop().run_in_executor(None, make)
    except SpeechError as e:
        raise ApiError(503, "voice_unavailable", str(e), retry=not e.permanent) from None


@endpoints("GET", "/api/v1/announcements/{announcement_id:int}.wav", summary="The announcement's audio: chime, "
           "then the sentence (repeated per office setting); public, synthesized once", allow=ANYONE,
           media_type="audio/wav", query={"part": "sentence: the sentence alone, once (displays add the chime "
                                          "and decide the repeats by the queue); short: 'Số A023, quầy 5', said "
                                          "when calls pile up"})
async def announcement_audio(call: Call) -> Any:
    part = call.query("part")
    if part not in (None, "", "sentence", "short"):
        raise ApiError(422, "invalid_value", "part is sentence or short, or absent for the whole announcement",
                       field="part")

    def run(session: Session) -> tuple[str, str, int]:
        a = session.get(Announcement, call.param("announcement_id"))
        if a is None:
            raise ApiError(404, "not_found", "Unknown announcement.")
        office = session.get(Office, a.office_id)
        speech = a.speech
        if part == "short":
            from displays.announcement import compose_short
            ticket, counter = session.get(Ticket, a.ticket_id), session.get(Counter, a.counter_id)
            if ticket is not None and counter is not None:
                speech = compose_short(ticket.display_number, counter.number, a.lang).speech
        return speech, a.lang, office.announcement_repeat if office else 2
    speech, lang, repeat = await call.read(run)
    if part in ("sentence", "short"):
        return _wav(await _sentence(call, speech, lang))
    return _wav(await _synthesize(call, speech, lang, repeat))


async def _sentence(call: Call, speech: str, lang: str) -> bytes:
    return await _voice(lambda: call.qms.voice.sentence_wav(speech, lang))


@endpoints("GET", "/api/v1/voice/chime.wav", summary="The lobby chime played before each sentence (short: the "
           "quick one played while calls queue up); public", allow=ANYONE, media_type="audio/wav",
           query={"length": "full (default) | short"})
async def chime_audio(call: Call) -> Any:
    from displays import chime_wav
    length = call.query("length", "full") or "full"
    if length not in ("full", "short"):
        raise ApiError(422, "invalid_value", "length is full or short", field="length")
    return _wav(chime_wav(short=length == "short"))


@endpoints("GET", "/api/v1/voice/preview", summary="Hear a text as the lobby would (for trying templates)",
           allow=HEADS, media_type="audio/wav", query={"text": "the sentence", "lang": "vi|en"})
async def voice_preview(call: Call) -> Any:
    from displays import spoken_text
    text = (call.query("text") or "").strip()
    lang = call.query("lang", "vi") or "vi"
    if not text or len(text) > 300:
        raise ApiError(422, "invalid_value", "text is 1-300 characters", field="text")
    if lang not in ("vi", "en"):
        raise ApiError(422, "invalid_value", "lang is vi or en", field="lang")
    return _wav(await _synthesize(call, spoken_text(text, lang), lang, 1))
