"""Who may see which event, and in what form: each actor belongs to one audience.

An audience is a key such as `staff`, `public`, `tablet:5`, `printer:7`, `track:42`; every event is
filtered and serialized once per audience, not once per client. Displays and kiosks get no clerk data
and no tracking codes; a tablet only its counter's events; a printer agent only its own print jobs.
"""
from __future__ import annotations

from typing import Any

from .auth import Actor

# Lobby screens and kiosks need calls and the state they show, nothing else: fewer messages per action
# also means a call's own message is the first one every display receives.
PUBLIC_TYPES = frozenset({"ticket.called", "ticket.recalled", "counter.updated", "queue.updated",
                          "office.updated", "service.updated"})
TABLET_TYPES = frozenset({"ticket.called", "ticket.recalled", "ticket.started", "ticket.finished",
                          "ticket.no_show", "counter.updated", "feedback.request", "feedback.received",
                          "office.updated"})
CALL_TYPES = frozenset({"ticket.called", "ticket.recalled"})
# Frames derived from the log (no seq slot of their own, never replayed): server/live_projector.py.
DERIVED_TYPES = frozenset({"queue.updated"})
PRIVATE_TICKET_FIELDS = ("clerk_id", "track_code", "note")
PUBLIC_TICKET_FIELDS = ("id", "office_id", "service_id", "number", "display_number", "priority", "status",
                        "issued_at", "called_at", "counter_id", "position", "estimated_wait_s", "lang",
                        "serving_now")


def audience_of(actor: Actor | None, track_ticket_id: int | None = None) -> str:
    if track_ticket_id is not None:
        return f"track:{track_ticket_id}"
    assert actor is not None
    if actor.kind in ("admin", "head", "clerk"):
        return "staff"
    if actor.kind == "tablet":
        return f"tablet:{actor.counter_id}"
    if actor.kind == "printer":
        return f"printer:{actor.id}"
    return "public"


def _public_ticket(t: dict[str, Any] | None) -> dict[str, Any] | None:
    if t is None:
        return None
    return {k: t.get(k) for k in PUBLIC_TICKET_FIELDS if k in t}


def _public_counter(c: dict[str, Any], keep_clerk: bool = False) -> dict[str, Any]:
    out = {k: v for k, v in c.items() if k not in ("clerk_id", "clerk")}
    if keep_clerk and c.get("clerk"):
        out["clerk"] = {"full_name": c["clerk"].get("full_name")}
    if out.get("current_ticket"):
        out["current_ticket"] = _public_ticket(out["current_ticket"])
    return out


def _public_data(data: dict[str, Any], keep_clerk: bool = False) -> dict[str, Any]:
    out = dict(data)
    if "ticket" in out:
        out["ticket"] = _public_ticket(out["ticket"])
    if isinstance(out.get("counter"), dict) and "state" in out["counter"]:
        out["counter"] = _public_counter(out["counter"], keep_clerk)
    out.pop("note", None)
    return out


def _public_queue(data: dict[str, Any]) -> dict[str, Any]:
    """A `queue.updated` as lobby screens, kiosks and tracking pages show it: per service the count and the
    wait to the minute (what they print), no running figures (the longest wait moves every second). So a
    frame that changes nothing they show is the same text, and the hub sends it to nobody."""
    rows = []
    for row in data.get("services") or []:
        wait = row.get("estimated_wait_s")
        rows.append({"id": row.get("id"), "service_id": row.get("service_id", row.get("id")), "code": row.get("code"),
                     "waiting": row.get("waiting"), "serving_now": row.get("serving_now"),
                     "estimated_wait_s": None if wait is None else 60 * round(wait / 60)})
    return {"services": rows}


def filter_event(audience: str, msg: dict[str, Any]) -> dict[str, Any] | None:
    """The form of `msg` this audience sees, or None when it may not see it."""
    kind, _, ident = audience.partition(":")
    t, data = msg["type"], msg.get("data") or {}
    if kind == "staff":
        return msg if t != "print.job" else None
    if t == "queue.updated" and kind in ("public", "track"):
        return {**msg, "data": _public_queue(data)}
    if kind == "public":
        return {**msg, "data": _public_data(data)} if t in PUBLIC_TYPES else None
    if kind == "tablet":
        if t not in TABLET_TYPES:
            return None
        counter = data.get("counter") or {}
        if t != "office.updated" and str(counter.get("id")) != ident:
            return None
        return {**msg, "data": _public_data(data, keep_clerk=True)}
    if kind == "printer":
        return msg if t == "print.job" and str(data.get("device_id")) == ident else None
    if kind == "track":
        ticket = data.get("ticket") or {}
        if t == "queue.updated" or (t.startswith("ticket.") and str(ticket.get("id")) == ident):
            return {**msg, "data": _public_data(data)}
        return None
    return None


def filter_batch(audience: str, msgs: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(seq, form) of consecutive events this audience sees, in order.

    Lobby screens and kiosks are not sent a `counter.updated` that only restates a call just before it
    in the batch (the counter is open and its current ticket is the one called): the call's own message
    already carries that, and one frame less per call matters with thousands of screens on the feed.
    """
    out: list[tuple[int, dict[str, Any]]] = []
    called: dict[Any, Any] = {}  # counter id → ticket id called in this batch
    for msg in msgs:
        shown = filter_event(audience, msg)
        if shown is None:
            continue
        if audience == "public":
            data = shown.get("data") or {}
            if shown["type"] in CALL_TYPES:
                called[(data.get("counter") or {}).get("id")] = (data.get("ticket") or {}).get("id")
            elif shown["type"] == "counter.updated" and _restates_call(data.get("counter") or {}, called):
                continue
        out.append((msg["seq"], shown))
    return out


def _restates_call(counter: dict[str, Any], called: dict[Any, Any]) -> bool:
    current = counter.get("current_ticket") or {}
    return (counter.get("id") in called and counter.get("state") == "open"
            and current.get("id") is not None and current.get("id") == called[counter.get("id")])


def filter_snapshot(audience: str, live: dict[str, Any]) -> dict[str, Any]:
    """The live state as an audience may see it (staff: all; others: no clerk data, no alerts)."""
    if audience == "staff":
        return live
    kind, _, ident = audience.partition(":")
    out = {k: v for k, v in live.items() if k not in ("alerts", "staffing", "satisfaction", "rating_requests")}
    if kind == "tablet":  # the rating its counter still asks for, if any (a tablet that connects after a finish)
        out["rating_request"] = next((r for r in live.get("rating_requests") or []
                                      if str((r.get("counter") or {}).get("id")) == ident), None)
    keep_clerk = kind == "tablet"
    counters = [_public_counter(c, keep_clerk) for c in live.get("counters", [])]
    if kind == "tablet":
        counters = [c for c in counters if str(c.get("id")) == ident]
    out["counters"] = [{k: c[k] for k in ("id", "number", "name", "desk", "state", "current_ticket", "clerk",
                                          "service_ids") if k in c} for c in counters]
    out["services"] = [{k: s[k] for k in ("id", "code", "name", "name_en", "desk", "active", "waiting",
                                          "estimated_wait_s", "serving_now") if k in s}
                       for s in live.get("services", [])]
    out.pop("totals", None)
    return out
