"""In-process pub/sub: the embedded default (one process)."""
from __future__ import annotations

from .base import PubSub


class MemoryPubSub(PubSub):
    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def publish(self, channel: str, message: str) -> None:
        if self.on_message is not None:
            await self.on_message(channel, message)

    async def healthy(self) -> bool:
        return True
