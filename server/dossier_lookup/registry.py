"""Choosing a look-up adapter by the office's URL, and bounding how long a look-up may take.

Adapters are kept per URL (a connection pool, a parsed file) in this registry, which the application
state owns; a changed URL gets a new adapter, the few old ones are closed when the set grows.
"""
from __future__ import annotations

import asyncio
from collections import OrderedDict

from .base import DossierStatus, LookupUnavailable, ResultLookup

DEADLINE_S = 3.0  # the province's service gets this long; the citizen gets an answer within 4 s
KEEP = 32  # adapters kept open (one per distinct URL in use)


def adapter_for(url: str) -> ResultLookup:
    """`http(s)://` → JSON over HTTP; `file:///…` → a CSV file (imported lazily, as broadcaster does)."""
    if url.startswith(("http://", "https://")):
        from .http import HttpLookup
        return HttpLookup(url)
    if url.startswith("file:///"):
        from .csv_file import CsvLookup
        return CsvLookup(url)
    raise LookupUnavailable("the look-up URL is neither http(s):// nor file:///")


class LookupRegistry:
    def __init__(self, deadline_s: float = DEADLINE_S) -> None:
        self.deadline_s = deadline_s
        self._adapters: OrderedDict[str, ResultLookup] = OrderedDict()
        self._retired: list[ResultLookup] = []

    def adapter(self, url: str) -> ResultLookup:
        found = self._adapters.get(url)
        if found is None:
            found = self._adapters[url] = adapter_for(url)
            while len(self._adapters) > KEEP:
                self._retired.append(self._adapters.popitem(last=False)[1])
        self._adapters.move_to_end(url)
        return found

    async def find(self, url: str, code: str) -> DossierStatus | None:
        """The status, None for an unknown code; LookupUnavailable on failure or after the deadline."""
        await self._close_retired()
        try:
            return await asyncio.wait_for(self.adapter(url).find(code), self.deadline_s)
        except TimeoutError:
            raise LookupUnavailable(f"the look-up service took over {self.deadline_s:g} s") from None

    async def _close_retired(self) -> None:
        while self._retired:
            await self._retired.pop().aclose()

    async def aclose(self) -> None:
        self._retired.extend(self._adapters.values())
        self._adapters.clear()
        await self._close_retired()
