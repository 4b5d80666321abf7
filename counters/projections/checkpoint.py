"""Folding the event log into the report facts from a stored checkpoint, one batch per transaction.

Why: an action's transaction only numbers and inserts its events (engine/events.py); the report facts and
rollups are a projection of the log, folded afterwards by one projector (server/report_projector.py). Each
batch reads an office's events past its checkpoint in `seq` order, folds them (`facts.apply`,
`facts.apply_missed`) and moves the checkpoint to the last one, all in one transaction: a crash rolls back
both, and running a batch again folds only what is still past the checkpoint (idempotent).

Reading `seq > checkpoint` never skips an event that commits later: within an office, `seq` is taken under
the `office_seq` row lock held to the commit, so the committed events are always a prefix of the numbers.
The checkpoint rows are locked (FOR UPDATE on PostgreSQL; SQLite has one writer) before the events are
read, so two folders that overlapped in a failover would fold a batch once, one after the other.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from counters.models import Event, OfficeSeq, ProjectionCheckpoint
from counters.projections import facts
from counters.tables import table_of

REPORTS = facts.REPORTS


def behind(session: Session, office_ids: Iterable[int] | None = None,
           name: str = REPORTS) -> dict[int, tuple[int, int]]:
    """Offices whose log goes past the projection's checkpoint: office id -> (checkpoint, last seq)."""
    cp = table_of(ProjectionCheckpoint)
    seq = table_of(OfficeSeq)
    done = func.coalesce(cp.c.seq, 0)
    q = (select(seq.c.office_id, done, seq.c.last_seq)
         .select_from(seq.outerjoin(cp, and_(cp.c.office_id == seq.c.office_id, cp.c.name == name)))
         .where(seq.c.last_seq > done))
    if office_ids is not None:
        q = q.where(seq.c.office_id.in_(list(office_ids)))
    return {int(o): (int(d), int(last)) for o, d, last in session.execute(q).all()}


def fold_batch(session: Session, limit: int, name: str = REPORTS) -> tuple[int, bool]:
    """Fold up to about `limit` events past the checkpoints (shared fairly among the offices behind) and
    advance the checkpoints, in the caller's transaction. Returns how many events were folded, and whether
    an office may still be behind (one had more than its share)."""
    lag = behind(session, name=name)
    if not lag:
        return 0, False
    offices = sorted(lag)  # a fixed lock order
    cp = table_of(ProjectionCheckpoint)
    session.execute(facts.insert_for(session, cp).values(
        [{"name": name, "office_id": o, "seq": 0} for o in offices]).on_conflict_do_nothing())
    locked = select(cp.c.office_id, cp.c.seq).where(cp.c.name == name, cp.c.office_id.in_(offices))
    if session.get_bind().dialect.name == "postgresql":
        locked = locked.order_by(cp.c.office_id).with_for_update()
    done = {int(o): int(s) for o, s in session.execute(locked).all()}
    share = max(1, limit // len(offices))
    batch: list[Event] = []
    advanced: dict[int, int] = {}
    more = False
    for office_id in offices:
        rows = list(session.execute(
            select(Event).where(col(Event.office_id) == office_id, col(Event.seq) > done[office_id])
            .order_by(col(Event.seq)).limit(share)).scalars())
        if rows:
            batch += rows
            advanced[office_id] = rows[-1].seq
        more = more or len(rows) == share
    if not batch:
        return 0, False
    facts.apply(session, batch)
    facts.apply_missed(session, batch)
    for office_id, last in advanced.items():
        session.execute(cp.update().where(cp.c.name == name, cp.c.office_id == office_id).values(seq=last))
    return len(batch), more

