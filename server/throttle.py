"""Rate limits per key (device, username+address): floods get 429 with Retry-After.

In one process the counts live in memory; with Redis (several workers and hosts) they live in Redis, so
a device cannot multiply its allowance by landing on different workers.
"""
from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Any

from .errors import ApiError


class Throttle:
    """At most `limit` events per `window_s` seconds per key (sliding window in memory)."""

    def __init__(self, limit: int, window_s: float, what: str, redis: Any = None) -> None:
        self.limit, self.window_s, self.what = limit, window_s, what
        self.redis = redis
        self.namespace = "qms"
        self._hits: dict[str, deque[float]] = defaultdict(deque)

    def _refuse(self, retry: float) -> ApiError:
        return ApiError(429, "rate_limited", f"Too many {self.what}; try again in {int(retry) + 1} s.",
                        retry_after_s=round(retry, 1))

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._hits[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def _redis_key(self, key: str, now: float) -> tuple[str, float]:
        """Fixed windows in Redis: one counter per window, expiring with it."""
        index = int(now // self.window_s)
        return f"{self.namespace}:throttle:{self.what}:{key}:{index}", (index + 1) * self.window_s - now

    async def check(self, key: str) -> None:
        now = time.time() if self.redis is not None else time.monotonic()
        if self.redis is not None:
            rkey, left = self._redis_key(key, now)
            count = int(await self.redis.get(rkey) or 0)
            if count >= self.limit:
                raise self._refuse(left)
            return
        q = self._recent(key, now)
        if len(q) >= self.limit:
            raise self._refuse(max(1.0, q[0] + self.window_s - now))

    async def fail(self, key: str) -> None:
        if self.redis is not None:
            rkey, left = self._redis_key(key, time.time())
            async with self.redis.pipeline(transaction=True) as p:
                await p.incr(rkey).expire(rkey, int(left) + 1).execute()
            return
        self._recent(key, time.monotonic()).append(time.monotonic())

    async def hit(self, key: str) -> None:
        await self.check(key)
        await self.fail(key)
