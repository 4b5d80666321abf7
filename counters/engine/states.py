"""The ticket life cycle as a state machine that refuses an illegal move with a message naming the fix."""
from __future__ import annotations

from counters.errors import StateConflict
from counters.types import TicketStatus as S

# action -> the statuses it may start from
ALLOWED_FROM: dict[str, frozenset[S]] = {
    "call": frozenset({S.WAITING, S.NO_SHOW}),
    "recall": frozenset({S.CALLED, S.SERVING}),
    "start": frozenset({S.CALLED}),
    "finish": frozenset({S.CALLED, S.SERVING}),
    "no_show": frozenset({S.CALLED}),
    "cancel": frozenset({S.WAITING, S.CALLED, S.NO_SHOW}),
    "transfer": frozenset({S.WAITING, S.CALLED, S.SERVING}),
}

_HINTS = {
    "call": "only a waiting or no-show ticket can be called",
    "recall": "only the ticket a counter has called can be announced again",
    "start": "call the ticket first",
    "finish": "call the ticket first; a finished ticket cannot be finished again",
    "no_show": "only a called ticket can be marked absent",
    "cancel": "a ticket being served is finished, not cancelled",
    "transfer": "a finished, cancelled or absent ticket cannot be transferred; issue or call it again",
}


def check_move(action: str, display_number: str, status: str) -> None:
    """Raise StateConflict (409) when `action` is not allowed from `status`."""
    if S(status) not in ALLOWED_FROM[action]:
        raise StateConflict(
            f"Ticket {display_number} is {status}: {_HINTS[action]}.",
            code="ticket_state",
            status=status,
            action=action,
            allowed_from=sorted(ALLOWED_FROM[action]),
        )


LIVE_STATUSES = frozenset({S.WAITING, S.CALLED, S.SERVING})
