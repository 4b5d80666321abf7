"""`GET /ws`: authenticate, wait for hello, replay or snapshot, then live events with pings.

`?token=` (or the login cookie) for staff and devices; `?office_id=` lets an admin or a parent office's
head choose the office; `?track=<track_code>` is the public, read-only stream of one ticket.
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlmodel import Session, col, select
from starlette.websockets import WebSocket, WebSocketDisconnect

from counters.projections.live import live_state, rating_requests
from counters.models import Office, OfficeSeq, Ticket

from .audience import audience_of, filter_batch, filter_snapshot
from .auth import Actor, actor_from_token, may_access_office
from .hub import Client
from .limits import loads

HELLO_TIMEOUT_S = 10.0
MAX_REPLAY = 5000


async def _reject(ws: WebSocket, code: int, error: str, message: str) -> None:
    try:
        await ws.send_text(json.dumps({"type": "error", "data": {"code": error, "message": message}}))
        await ws.close(code=code, reason=error)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client is gone already


async def _receive(ws: WebSocket) -> Any:
    """The next JSON message; hostile JSON (nested too deep for the parser) is a ValueError, not a crash."""
    return loads(await ws.receive_text())


async def websocket_endpoint(ws: WebSocket) -> None:
    qms = ws.app.state.qms
    await ws.accept()
    track = ws.query_params.get("track")
    token = ws.query_params.get("token") or ws.cookies.get("qms_token")
    actor: Actor | None = None
    track_ticket: int | None = None
    admitted_seq: int | None = None  # the office's latest seq as the connection was admitted
    if track:
        found = await qms.db.read(lambda s: s.exec(select(Ticket.id, Ticket.office_id)
                                                   .where(Ticket.track_code == track)).first())
        if found is None:
            return await _reject(ws, 4404, "not_found", "Unknown ticket.")
        track_ticket, office_id = found
    else:
        raw_office = ws.query_params.get("office_id")
        now = qms.now()

        def admit(s: Session) -> tuple[Actor | None, int, bool, int]:  # one database hop per connection (storms)
            who = actor_from_token(s, token, now) if token else None
            oid = int(raw_office) if raw_office and raw_office.isdigit() else ((who.office_id or 0) if who else 0)
            if who is None:
                return None, oid, False, 0
            # the office exists, and its latest seq (the snapshot's key, see _catch_up): one row, no ORM object
            found = s.exec(select(Office.id, OfficeSeq.last_seq)
                           .join(OfficeSeq, col(OfficeSeq.office_id) == Office.id, isouter=True)
                           .where(Office.id == oid)).first()
            allowed = found is not None and may_access_office(s, who, oid, read_only=True)
            return who, oid, allowed, (found[1] or 0) if allowed and found else 0
        actor, office_id, allowed, admitted_seq = await qms.db.read(admit)
        if actor is None:
            return await _reject(ws, 4401, "unauthorized", "A valid token is needed (?token=).")
        if not allowed:
            return await _reject(ws, 4403, "forbidden", "You may not follow that office.")
    client = Client(ws, office_id, audience_of(actor, track_ticket), actor.kind if actor else "track",
                    actor.id if actor else None, actor.token_id if actor else None, last_pong=time.monotonic(),
                    pinged_at=time.monotonic())
    try:
        hello = await asyncio.wait_for(_receive(ws), timeout=HELLO_TIMEOUT_S)
    except WebSocketDisconnect:
        return None  # the client left before its hello: nothing to answer, nothing to log
    except (TimeoutError, ValueError, KeyError):
        return await _reject(ws, 4400, "hello_expected", 'Send {"type":"hello","since_seq":N|null} first.')
    since = hello.get("since_seq") if isinstance(hello, dict) and hello.get("type") == "hello" else None
    if since is not None and (not isinstance(since, int) or isinstance(since, bool) or since < 0):
        since = None
    await qms.hub.register(client)  # live events queue up from here on...
    sender = None
    linked = actor is not None and actor.is_device
    # a reconnect storm of one device is one write, not N
    if linked and actor is not None and qms.hub.link_device(actor.id):
        await qms.device_seen(actor, online=True)
    try:
        # ...and the catch-up goes in front of them
        first = await _catch_up(qms, client, since, track_ticket, admitted_seq)
        live: list[tuple[int, str] | None] = []
        while not client.queue.empty():
            live.append(client.queue.get_nowait())
        for item in first + live:
            client.queue.put_nowait(item)
        sender = asyncio.create_task(qms.hub.sender(client))  # pings: Hub.keep_alive, one task for all
        while not client.closed:
            msg = await _receive(ws)
            if isinstance(msg, dict) and msg.get("type") == "pong":
                client.last_pong = time.monotonic()
                if actor is not None and actor.is_device:
                    qms.device_ping(actor)
    except (WebSocketDisconnect, ValueError, RuntimeError, KeyError):
        pass
    finally:
        qms.hub.unregister(client)
        if sender is not None:
            sender.cancel()
        if linked and actor is not None and qms.hub.unlink_device(actor.id):
            await qms.device_seen(actor, online=False)


def _text(msg: dict[str, Any]) -> str:
    return json.dumps(msg, ensure_ascii=False, separators=(",", ":"))


async def _catch_up(qms: Any, client: Client, since: int | None, track_ticket: int | None,
                    admitted_seq: int | None) -> list[tuple[int, str] | None]:
    """What the client missed (a replay), or a snapshot when it has nothing or too old a seq.

    Items carry their seq, so live events already covered are skipped by the sender.
    """
    office_id = client.office_id
    last = qms.hub.delivered(office_id)  # registered already: anything later comes live
    if since is not None and since > last:  # another worker delivered more than this one has yet
        last = await qms.hub.last_seq(office_id)
    if since is not None and since <= last and last - since <= MAX_REPLAY \
            and await qms.replayable_from(office_id) - 1 <= since:
        out: list[tuple[int, str] | None] = []
        if since < last:
            missed = qms.hub.recent(office_id, since, last)
            if missed is None:
                missed = await qms.fetch_events(office_id, since, last)
            for seq, shown in filter_batch(client.audience, missed):
                out.append((seq, _text(shown)))
        client.last_seq = since
        return out
    # The snapshot is shared by every socket asking at the same seq (server/snapshots.py). Its seq is the
    # latest this client can have missed: what the database held as it was admitted (so every write
    # answered before it connected is in), or what this worker delivered before it registered, if more
    # (events after that come live). A build for that seq reads the state after all of them committed.
    if admitted_seq is None:  # a tracked ticket's stream: not admitted through an office
        admitted_seq = await qms.hub.last_seq(office_id)
    seq = max(admitted_seq, qms.hub.delivered(office_id))

    async def build() -> dict[str, Any]:
        now = qms.now()

        def state(session: Session) -> dict[str, Any]:
            office = session.get(Office, office_id)
            assert office is not None
            if track_ticket is not None:
                return {"at": None, "track": qms.track_state(session, track_ticket, now)}
            return {**live_state(session, office, now), "rating_requests": rating_requests(session, office, now)}
        await qms.reports.caught_up([office_id])  # the live state's figures include every write answered before
        data: dict[str, Any] = await qms.db.read(state)
        return data

    def form(data: dict[str, Any]) -> str:
        if track_ticket is None:
            data = filter_snapshot(client.audience, data)
        return _text({"type": "snapshot", "seq": seq, "at": data.get("at"), "office_id": office_id, "data": data})
    state_of = client.audience if track_ticket is not None else "office"
    text = await qms.hub.snapshots.text(office_id, seq, client.audience, state_of, build, form)
    return [(seq, text)]
