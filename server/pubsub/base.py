"""A narrow pub/sub interface chosen by URL (memory://, redis://), after encode/broadcaster.

Unlike broadcaster, a listener that loses its connection says so loudly (`on_reconnect` lets the hub
fill the gap from the event log), so fan-out never silently drops a call.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

Listener = Callable[[str, str], Awaitable[None]]  # (channel, message)

class PubSub(ABC):
    """`namespace` keeps deployments that share one Redis apart (their office ids and seqs overlap)."""

    def __init__(self, namespace: str = "qms") -> None:
        self.on_message: Listener | None = None
        self.on_reconnect: Callable[[], Awaitable[None]] | None = None
        self.events = f"{namespace}.events"
        self.control = f"{namespace}.control"

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def publish(self, channel: str, message: str) -> None: ...

    @abstractmethod
    async def healthy(self) -> bool: ...


def pubsub_from_url(url: str | None, namespace: str = "qms") -> PubSub:
    """`None`/memory:// for one process; redis://… for several workers and hosts (imported lazily)."""
    if not url or url.startswith("memory://"):
        from .memory import MemoryPubSub
        return MemoryPubSub(namespace)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from ..drivers import require_redis_driver
        require_redis_driver(url)
        from .redis import RedisPubSub
        return RedisPubSub(url, namespace)
    raise ValueError(f"unknown pub/sub URL {url!r}: use memory:// or redis://")
