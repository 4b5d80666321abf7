"""Traffic for crash tests: kiosks issuing and clerks calling against a real server until told to stop."""
from __future__ import annotations

import threading
import time
from typing import Any

import httpx


def hammer(base: str, token: str, office_id: int, service_id: int, counter_id: int | None,
           stop: threading.Event, accepted: list[dict[str, Any]]) -> None:
    """Issue tickets (counter_id None) or press Next on a counter until `stop`; keeps each 201's ticket in
    `accepted`, so a test knows exactly what the server acknowledged before it was killed."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=5) as c:
        while not stop.is_set():
            try:
                if counter_id is None:
                    r = c.post(f"/api/v1/offices/{office_id}/tickets", json={"service_id": service_id, "print": False})
                    if r.status_code == 201:
                        accepted.append(r.json())
                else:
                    c.post(f"/api/v1/counters/{counter_id}/next", json={})
            except httpx.HTTPError:
                time.sleep(0.05)
