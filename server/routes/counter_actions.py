"""What a clerk does at a counter: open, pause, close, next, call a chosen ticket, recall."""
from __future__ import annotations

from typing import Any

from sqlmodel import Session

from counters.engine import calling
from counters.models import Counter, Ticket
from counters.types import CounterState

from ..api import STAFF, Call, EndpointGroup
from ..errors import ApiError
from ..lookup import load, office_of, require_counter_actor
from ..schemas import CallBody, CallResult, CounterOut, Empty, NextBody, RecallResult
from .offices import counter_out
from .tickets import ticket_out

endpoints = EndpointGroup("counter actions")


def _state_change(state: CounterState) -> Any:
    async def handler(call: Call) -> Any:
        def run(session: Session) -> dict[str, Any]:
            c = load(session, Counter, call.param("counter_id"), call.actor)
            require_counter_actor(session, call.actor, c)
            office = office_of(session, c)
            c = calling.set_counter_state(session, call.ctx(), office, c, state)
            return counter_out(session, office, c)
        return await call.write(run)
    return handler


for _state, _verb, _summary in ((CounterState.OPEN, "open", "Open the counter (the calling clerk takes it)"),
                                (CounterState.PAUSED, "pause", "Pause the counter (no calls)"),
                                (CounterState.CLOSED, "close", "Close the counter")):
    endpoints("POST", f"/api/v1/counters/{{counter_id:int}}/{_verb}", summary=_summary, allow=STAFF,
              body=Empty, response=CounterOut, auth_in_write=True)(_state_change(_state))


@endpoints("POST", "/api/v1/counters/{counter_id:int}/next", summary="Close the current ticket (done or "
           "no-show) and call the next one by the office's rules", allow=STAFF, body=NextBody,
           response=CallResult, auth_in_write=True)
async def next_ticket(call: Call) -> Any:
    body: NextBody = call.body

    def run(session: Session) -> dict[str, Any]:
        c = load(session, Counter, call.param("counter_id"), call.actor)
        require_counter_actor(session, call.actor, c)
        office = office_of(session, c)
        ctx = call.ctx()
        t = calling.call_next(session, ctx, office, c, close_current=body.close_current,
                              expected_current_id=body.current_ticket_id)
        return {"ticket": ticket_out(session, office, t, ctx.now) if t else None}
    return await call.write(run)


@endpoints("POST", "/api/v1/counters/{counter_id:int}/call", summary="Call a chosen waiting or no-show ticket "
           "out of order", allow=STAFF, body=CallBody, response=CallResult, auth_in_write=True)
async def call_ticket(call: Call) -> Any:
    body: CallBody = call.body

    def run(session: Session) -> dict[str, Any]:
        c = load(session, Counter, call.param("counter_id"), call.actor)
        require_counter_actor(session, call.actor, c)
        office = office_of(session, c)
        t = session.get(Ticket, body.ticket_id)
        if t is None or t.office_id != office.id:
            raise ApiError(422, "invalid_value", "ticket_id is not a ticket of this office", field="ticket_id")
        ctx = call.ctx()
        calling.call_ticket(session, ctx, office, c, t, close_current=body.close_current)
        return {"ticket": ticket_out(session, office, t, ctx.now)}
    return await call.write(run)


@endpoints("POST", "/api/v1/counters/{counter_id:int}/recall", summary="Announce the current ticket again",
           allow=STAFF, body=Empty, response=RecallResult, auth_in_write=True)
async def recall(call: Call) -> Any:
    def run(session: Session) -> dict[str, Any]:
        c = load(session, Counter, call.param("counter_id"), call.actor)
        require_counter_actor(session, call.actor, c)
        office = office_of(session, c)
        ctx = call.ctx()
        t, announcement = calling.recall(session, ctx, office, c)
        return {"ticket": ticket_out(session, office, t, ctx.now), "announcement": announcement}
    return await call.write(run)
