"""WebSocket snapshots, built once per change of an office and shared by every socket that connects.

A display that connects with no `since_seq` (or one too old to replay) gets the office's state. After a
restart or a network blip thousands of displays ask for it at once; the state only changes with the
office's events, so it is keyed by (office, the office's latest seq): the first socket builds it (one
database read), every other socket asking for the same key awaits that same build, and each audience's
form is filtered and serialized once. A new event gives a new seq, so the next socket gets a fresh one.

The state also holds figures that move with the clock (the longest wait, estimates), so a snapshot is
reused for at most MAX_AGE_S; it carries the `at` it was computed for. Held by the hub, one per app,
bounded in size.
"""
from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, TypeVar

from prometheus_client import Counter

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
MAX_AGE_S = 30.0
LIMIT = 256  # states kept (offices × recent seqs); forms per audience are kept up to 4x that


class Shared(Generic[K, V]):
    """Values built once per key and awaited by every caller that asks while the build runs or after.

    The build runs as its own task, so a caller that goes away (its socket closed) does not cancel it for
    the others; a failed build is forgotten, so the next caller tries again. Least recently used keys go
    first beyond `limit`; a key older than `max_age_s` is built again.
    """

    def __init__(self, limit: int, max_age_s: float) -> None:
        self.limit, self.max_age_s = limit, max_age_s
        self._items: OrderedDict[K, tuple[float, asyncio.Task[V]]] = OrderedDict()

    async def get(self, key: K, build: Callable[[], Awaitable[V]]) -> V:
        now = time.monotonic()
        hit = self._items.get(key)
        if hit is not None and (not hit[1].done() or now - hit[0] <= self.max_age_s):
            self._items.move_to_end(key)
            task = hit[1]
        else:
            task = asyncio.ensure_future(build())
            self._items[key] = (now, task)
            task.add_done_callback(lambda t: self._forget_failed(key, t))
            while len(self._items) > self.limit:
                self._items.popitem(last=False)
        return await asyncio.shield(task)

    def _forget_failed(self, key: K, task: asyncio.Task[V]) -> None:
        if task.cancelled() or task.exception() is not None:
            hit = self._items.get(key)
            if hit is not None and hit[1] is task:
                del self._items[key]

    def drop(self, keep: Callable[[K], bool]) -> None:
        """Forget every key `keep` refuses (an office's older seqs once a newer one is asked for)."""
        for key in [k for k in self._items if not keep(k)]:
            del self._items[key]

    def __len__(self) -> int:
        return len(self._items)


StateKey = tuple[int, int, str]  # office, seq, what was built ("office" or a tracked ticket's audience)
FormKey = tuple[int, int, str]  # office, seq, audience


class Snapshots:
    """The serialized snapshot of an office for an audience at a seq: one state build per (office, seq),
    one serialization per audience."""

    def __init__(self, builds: Counter | None = None, limit: int = LIMIT, max_age_s: float = MAX_AGE_S) -> None:
        self.builds = builds
        self.states: Shared[StateKey, dict[str, Any]] = Shared(limit, max_age_s)
        self.forms: Shared[FormKey, str] = Shared(limit * 4, max_age_s)
        self._latest: dict[int, int] = {}  # office -> the latest seq a snapshot was asked for (pruning only)

    async def text(self, office_id: int, seq: int, audience: str, state_of: str,
                   build: Callable[[], Awaitable[dict[str, Any]]],
                   form: Callable[[dict[str, Any]], str]) -> str:
        """The snapshot text for `audience`: `build()` gives the state (shared by every audience whose
        `state_of` is the same), `form(state)` the audience's text."""
        self._prune(office_id, seq)

        async def counted() -> dict[str, Any]:
            if self.builds is not None:
                self.builds.inc()
            return await build()

        async def serialized() -> str:
            return form(await self.states.get((office_id, seq, state_of), counted))
        return await self.forms.get((office_id, seq, audience), serialized)

    def _prune(self, office_id: int, seq: int) -> None:
        """An office's snapshots at older seqs are never asked for again: drop them when a newer one is."""
        if seq > self._latest.get(office_id, -1):
            self._latest[office_id] = seq
            self.states.drop(lambda k: k[0] != office_id or k[1] >= seq)
            self.forms.drop(lambda k: k[0] != office_id or k[1] >= seq)

    def stale(self, office_id: int) -> None:
        """The office's figures moved without a new seq (a derived frame went out): build afresh next time,
        so a socket that connects now starts from what the others were just sent."""
        self.states.drop(lambda k: k[0] != office_id)
        self.forms.drop(lambda k: k[0] != office_id)
