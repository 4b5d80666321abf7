"""Redis pub/sub: fan-out across workers and hosts. Reconnects by itself and reports the gap."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from .base import PubSub

log = logging.getLogger("qms.pubsub")


class RedisPubSub(PubSub):
    def __init__(self, url: str, namespace: str = "qms") -> None:
        super().__init__(namespace)
        self.url = url
        self._client: Any = None
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def connect(self) -> None:
        import redis.asyncio as aioredis  # optional dependency, loaded only for redis://

        self._client = aioredis.from_url(self.url, socket_connect_timeout=3, health_check_interval=10)
        self._task = asyncio.create_task(self._listen(), name="qms-redis-listener")
        try:
            await asyncio.wait_for(self._connected.wait(), timeout=10)
        except TimeoutError:
            log.error("Redis at %s is not answering; events fan out once it is back", self.url)

    async def _listen(self) -> None:
        first = True
        while True:
            pubsub = self._client.pubsub()
            try:
                await pubsub.subscribe(self.events, self.control)
                self._connected.set()
                if not first:
                    log.warning("Redis pub/sub reconnected; filling the gap from the event log")
                    if self.on_reconnect is not None:
                        await self.on_reconnect()
                first = False
                async for msg in pubsub.listen():
                    if msg.get("type") != "message" or self.on_message is None:
                        continue
                    channel = msg["channel"].decode() if isinstance(msg["channel"], bytes) else msg["channel"]
                    data = msg["data"].decode() if isinstance(msg["data"], bytes) else msg["data"]
                    try:
                        await self.on_message(channel, data)
                    except Exception:  # one bad message must not stop the listener
                        log.exception("handling a pub/sub message failed")
            except asyncio.CancelledError:
                raise
            except Exception as e:  # noqa: BLE001 - connection lost: say so, retry
                self._connected.clear()
                log.error("Redis pub/sub connection lost (%s); retrying", e)
                await asyncio.sleep(0.5)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:  # noqa: BLE001
                    pass

    async def disconnect(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        if self._client is not None:
            await self._client.aclose()

    async def publish(self, channel: str, message: str) -> None:
        await self._client.publish(channel, message)

    async def healthy(self) -> bool:
        try:
            return bool(await asyncio.wait_for(self._client.ping(), timeout=2)) and self._connected.is_set()
        except Exception:  # noqa: BLE001 - health check reports, never raises
            return False
