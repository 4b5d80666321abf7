"""Result look-up over HTTP(S): `GET <url>?code=<code>` → `{"code","status_text","ready","return_date"?}`.

A 404 means the province does not know the code; any other failure (refused, timed out, 5xx, a body
that is not that shape) is LookupUnavailable. httpx keeps connections to the province's server open
between look-ups; its timeouts bound each phase and the caller bounds the whole.
"""
from __future__ import annotations

from typing import Any

import httpx

from .base import DossierStatus, LookupUnavailable, parse_return_date

TIMEOUT_S = 3.0


class HttpLookup:
    def __init__(self, url: str, timeout_s: float = TIMEOUT_S) -> None:
        self.url = url
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), follow_redirects=False,
                                        headers={"Accept": "application/json"})

    async def find(self, code: str) -> DossierStatus | None:
        try:
            r = await self.client.get(self.url, params={"code": code})
        except Exception as e:  # noqa: BLE001 - refused, timed out, a URL httpx cannot use: all "unavailable"
            raise LookupUnavailable(f"the look-up service did not answer ({type(e).__name__})") from None
        if r.status_code == 404:
            return None
        if r.status_code != 200:
            raise LookupUnavailable(f"the look-up service answered HTTP {r.status_code}")
        try:
            return _status(code, r.json())
        except (ValueError, TypeError, KeyError) as e:
            raise LookupUnavailable(f"the look-up service's answer is not a dossier status ({e})") from None

    async def aclose(self) -> None:
        await self.client.aclose()


def _status(code: str, body: Any) -> DossierStatus:
    if not isinstance(body, dict):
        raise TypeError("not an object")
    status_text, ready = body["status_text"], body["ready"]
    if not isinstance(status_text, str) or not isinstance(ready, bool):
        raise TypeError("status_text is a string and ready a boolean")
    return DossierStatus(code=code, status_text=status_text.strip()[:500], ready=ready,
                         return_date=parse_return_date(body.get("return_date")))
