"""Rate limits per key (device, username+address): floods get 429 with Retry-After.

In one process the counts live in memory; with Redis (several workers and hosts) they live in Redis, so
a device cannot multiply its allowance by landing on different workers. Both are the same sliding
window (a fixed window in Redis let a flood through twice over at each window's edge). While Redis is
unreachable the worker counts in its own memory instead: a rate limit is no reason to refuse a ticket,
and a flood is still held to the allowance per worker.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections import defaultdict, deque
from typing import Any

from .errors import ApiError

log = logging.getLogger("qms.throttle")

REDIS_RETRY_S = 1.0  # after Redis failed, count in memory this long before asking it again

# One key per limited thing: a sorted set of the hits' times. Atomic, so workers racing on one key
# cannot both take the last place. ARGV: now, window, limit, add (1 = count this hit), member.
# Answers {1, 0} when allowed, {0, oldest hit's time} when the window is full.
_SLIDE = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  return {0, redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]}
end
if ARGV[4] == '1' then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[5])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window * 1000))
end
return {1, '0'}
"""


class Throttle:
    """At most `limit` events per `window_s` seconds per key (a sliding window, in Redis when shared)."""

    def __init__(self, limit: int, window_s: float, what: str, redis: Any = None) -> None:
        self.limit, self.window_s, self.what = limit, window_s, what
        self.redis = redis
        self.namespace = "qms"
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._redis_down_until = 0.0

    def _refuse(self, retry: float) -> ApiError:
        return ApiError(429, "rate_limited", f"Too many {self.what}; try again in {int(retry) + 1} s.",
                        retry_after_s=round(retry, 1))

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._hits[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def _local(self, key: str, add: bool) -> None:
        now = time.monotonic()
        q = self._recent(key, now)
        if len(q) >= self.limit:
            raise self._refuse(max(1.0, q[0] + self.window_s - now))
        if add:
            q.append(now)

    def _shared(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, e: Exception) -> None:
        if self._redis_down_until == 0.0:  # once per outage, not once per request
            log.error("rate limits on Redis failed (%s: %s); counting %s in this worker until it answers",
                      type(e).__name__, e, self.what)
        self._redis_down_until = time.monotonic() + REDIS_RETRY_S

    def _rkey(self, key: str) -> str:
        return f"{self.namespace}:throttle:{self.what}:{key}"

    @staticmethod
    def _member(now: float) -> str:
        """A hit's member in the sorted set: its time, made unique (two hits may share an instant)."""
        return f"{now!r}:{secrets.token_hex(4)}"

    async def _slide(self, key: str, add: bool) -> bool:
        """The shared window: False when Redis is not answering (the caller counts in memory)."""
        from redis.exceptions import RedisError  # only ever reached with a Redis client set

        now = time.time()
        try:
            allowed, oldest = await self.redis.eval(_SLIDE, 1, self._rkey(key), repr(now), repr(self.window_s),
                                                    self.limit, "1" if add else "0", self._member(now))
        except (RedisError, OSError) as e:
            self._redis_failed(e)
            return False
        if self._redis_down_until:
            log.warning("rate limits on Redis answer again; %s are shared by every worker", self.what)
            self._redis_down_until = 0.0
        if not int(allowed):
            raise self._refuse(max(1.0, float(oldest) + self.window_s - now))
        return True

    async def check(self, key: str) -> None:
        """Refuse (429) when the key's window is full; counts nothing."""
        if not (self._shared() and await self._slide(key, add=False)):
            self._local(key, add=False)

    async def fail(self, key: str) -> None:
        """Count one event (a failed login) whatever the window holds."""
        if self._shared():
            from redis.exceptions import RedisError

            now = time.time()
            rkey = self._rkey(key)
            try:
                async with self.redis.pipeline(transaction=True) as p:
                    await p.zadd(rkey, {self._member(now): now}) \
                        .zremrangebyscore(rkey, "-inf", now - self.window_s) \
                        .pexpire(rkey, int(self.window_s * 1000) + 1).execute()
                return
            except (RedisError, OSError) as e:
                self._redis_failed(e)
        self._recent(key, time.monotonic()).append(time.monotonic())

    async def hit(self, key: str) -> None:
        """Count one event, or refuse (429) it when the window is full: atomic across workers."""
        if not (self._shared() and await self._slide(key, add=True)):
            self._local(key, add=True)
