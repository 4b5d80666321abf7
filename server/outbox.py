"""The outbox: a delivery row per matching active webhook, inserted in the transaction of its event.

`Database` calls `Outbox.enqueue` right after the transaction's events are sealed (numbered) and before
the commit, so an event and its deliveries commit together: none is lost to a crash or a restart, and
none exists for an event that rolled back. Only the listed types (API.md) are sent out.

Which webhooks an office has must not cost a query per event when it has none:
- SQLite (one process, one writer): a map office → active webhooks, kept per `Database` (not per
  process, not keyed by an id alone) and loaded once; every write that changes a webhook marks its
  session and the map is dropped right after that transaction ends, while the writer lock is still
  held, so no later transaction can read a stale map.
- PostgreSQL (several processes): another worker may have changed a webhook, which this process cannot
  know without asking the database, so a transaction that sealed events of a listed type reads its
  offices' active webhooks once (one indexed query per transaction, none when no event is of a listed type).
"""
from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import insert, select
from sqlmodel import Session, col

from counters.engine.events import NewEvent
from counters.tables import table_of

from .webhook_models import Webhook, WebhookDelivery

WEBHOOK_EVENTS: tuple[str, ...] = (
    "ticket.issued", "ticket.called", "ticket.finished", "ticket.no_show", "ticket.cancelled",
    "ticket.transferred", "dossier.linked", "feedback.received", "appointment.booked",
    "appointment.checked_in", "appointment.cancelled")
LISTED = frozenset(WEBHOOK_EVENTS)
CHANGED = "qms_webhooks_changed"  # session.info flag: this transaction changed a webhook
ENQUEUED = "qms_webhooks_enqueued"  # session.info: the webhooks this transaction gave work
# keys never sent out, at any depth: tracking codes, tokens, booking keys, ID-card facts, contact data
PRIVATE_KEYS = frozenset({"track_code", "manage_code", "token", "secret", "password", "id_card_qr", "id_card_hash",
                          "id_hash", "id_number", "birth_year", "birth_date", "phone"})
Subscriptions = dict[int, list[tuple[int, frozenset[str]]]]  # office id → (webhook id, event types)
_INSERT = insert(table_of(WebhookDelivery))


def webhook_changed(session: Session) -> None:
    """Call in any transaction that adds, changes or removes a webhook (drops the SQLite map after it)."""
    session.info[CHANGED] = True


class Outbox:
    def __init__(self, cache: bool) -> None:
        self.cache = cache
        self._map: Subscriptions | None = None
        self._lock = threading.Lock()
        self.on_enqueue: Callable[[set[int]], None] | None = None  # the delivery worker's wake-up, after a commit

    def enqueue(self, session: Session, sealed: Iterable[NewEvent]) -> int:
        """Insert the deliveries of these just-sealed events; returns how many (no query when none apply)."""
        wanted = [e for e in sealed if e.type in LISTED]
        if not wanted:
            return 0
        subs = self._subscriptions(session, {e.office_id for e in wanted})
        if not subs:
            return 0
        rows: list[dict[str, Any]] = []
        for e in wanted:
            for webhook_id, types in subs.get(e.office_id, ()):
                if e.type in types:
                    rows.append({"webhook_id": webhook_id, "office_id": e.office_id, "event_seq": e.seq,
                                 "type": e.type, "key": uuid.uuid4().hex, "status": "pending", "attempts": 0,
                                 "window_start": e.at, "next_attempt_at": e.at, "created_at": e.at})
        if rows:
            session.connection().execute(_INSERT, rows)
            session.info.setdefault(ENQUEUED, set()).update(r["webhook_id"] for r in rows)
        return len(rows)

    def ended(self, session: Session) -> None:
        """After the transaction ended (committed or not), still under the writer lock on SQLite."""
        if session.info.pop(CHANGED, False):
            self.invalidate()

    def committed(self, session: Session) -> None:
        """After a commit: hand the delivery worker the webhooks that got deliveries (or have work again)."""
        webhooks = session.info.pop(ENQUEUED, None)
        if webhooks and self.on_enqueue is not None:
            self.on_enqueue(set(webhooks))

    @staticmethod
    def wake_for(session: Session, webhook_id: int) -> None:
        """Wake the worker for this webhook once this transaction commits (a retry, a resumed webhook)."""
        session.info.setdefault(ENQUEUED, set()).add(webhook_id)

    def invalidate(self) -> None:
        with self._lock:
            self._map = None

    def _subscriptions(self, session: Session, offices: set[int]) -> Subscriptions:
        if not self.cache:
            return _load(session, offices)
        with self._lock:
            if self._map is None:
                self._map = _load(session, None)
            return self._map


def _load(session: Session, offices: set[int] | None) -> Subscriptions:
    q = select(col(Webhook.id), col(Webhook.office_id), col(Webhook.events)).where(
        col(Webhook.active) == True, col(Webhook.archived) == False)  # noqa: E712
    if offices is not None:
        q = q.where(col(Webhook.office_id).in_(sorted(offices)))
    out: Subscriptions = {}
    for wid, office_id, types in session.execute(q).all():
        out.setdefault(office_id, []).append((wid, frozenset(types or ())))
    return out


def public_body(message: dict[str, Any]) -> dict[str, Any]:
    """The envelope as sent out: no tracking codes, tokens, booking keys or ID-card facts at any depth."""
    data = _strip(message.get("data") or {})
    if str(message.get("type", "")).startswith("appointment."):  # its check-in code is a key, like a track code
        data.pop("code", None)
        if isinstance(data.get("appointment"), dict):
            data["appointment"].pop("code", None)
    return {"type": message["type"], "seq": message["seq"], "at": message["at"], "office_id": message["office_id"],
            "data": data}


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in PRIVATE_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value
