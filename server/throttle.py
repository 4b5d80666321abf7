"""Rate limits per key (device, username+address) in this process: floods get 429 with Retry-After."""
from __future__ import annotations

import time
from collections import defaultdict, deque

from .errors import ApiError


class Throttle:
    """At most `limit` events per `window_s` seconds per key."""

    def __init__(self, limit: int, window_s: float, what: str) -> None:
        self.limit, self.window_s, self.what = limit, window_s, what
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._hits[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            self._hits.pop(key, None)
            q = self._hits[key]
        return q

    def check(self, key: str) -> None:
        now = time.monotonic()
        q = self._recent(key, now)
        if len(q) >= self.limit:
            retry = max(1.0, q[0] + self.window_s - now)
            raise ApiError(429, "rate_limited", f"Too many {self.what}; try again in {int(retry) + 1} s.",
                           retry_after_s=round(retry, 1))

    def fail(self, key: str) -> None:
        self._recent(key, time.monotonic()).append(time.monotonic())

    def hit(self, key: str) -> None:
        self.check(key)
        self.fail(key)
