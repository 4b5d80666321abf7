"""Bench: live view and report latency on one year of a 150-office province (about 10 million tickets).

The history is written straight into the tables in bulk (sqlite3 executemany / PostgreSQL COPY):
tickets, their report facts, the rollups, feedback and users, plus a busy "today" in every branch
(waiting tickets, open counters) so the live view predicts real queues. Office days are drawn from a
pool of day templates whose rollups are computed once with the same code as production
(`facts.add_into`), so facts and rollups agree exactly; the bench checks one office-quarter against
the production fold. The SQLite file (and the PostgreSQL database) is cached and reused by later runs;
a cached database is first brought up to date by the migrations (0004/0005 fill quarter/year rollups).

Then a real server (`qms serve`) answers `/live` and `/reports` (several groupings and ranges, one
branch and the whole province) and the bench prints p50/p95 per request kind, in SQLite and, when
QMS_TEST_POSTGRES_URL is set, in PostgreSQL. It also times `estimate_queue` with 300 waiting tickets.

    python -m bench.reports [--offices 150] [--tickets 10000000] [--requests 30] [--no-postgres]
"""
from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "bench"
TZ = timezone(timedelta(hours=7))
SERVICES = (("A", "Chứng thực", "do_it_now", 250), ("B", "Hộ tịch", "standard", 640),
            ("C", "Đất đai – Xây dựng", "standard", 1250), ("D", "Đăng ký kinh doanh", "standard", 800),
            ("E", "Lao động – Thương binh và Xã hội", "standard", 520))
SHARES = (0.34, 0.26, 0.14, 0.12, 0.14)
COUNTERS = 6            # counter 1 do-it-now (A), 2-6 standard (B-E)
CLERKS = 8
TEMPLATES = 48
RATINGS = ("very_satisfied", "satisfied", "unsatisfied")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- the synthetic province


def working_days(n_days: int, today: date) -> list[date]:
    """The office days of the last `n_days` calendar days before today: Monday-Friday and Saturday mornings."""
    out = []
    for k in range(n_days, 0, -1):
        d = today - timedelta(days=k)
        if d.weekday() < 6:
            out.append(d)
    return out


def day_template(rng: random.Random, tickets: int) -> list[dict[str, Any]]:
    """One office day's tickets as offsets from local midnight, in symbolic ids (service 0-4, counter 0-5)."""
    out = []
    for _ in range(tickets):
        morning = rng.random() < 0.62
        issued = (7.5 * 3600 + rng.random() * 4 * 3600) if morning else (13 * 3600 + rng.random() * 3.5 * 3600)
        s = rng.choices(range(5), SHARES)[0]
        counter = 0 if s == 0 else rng.randrange(1, COUNTERS)
        clerk = counter if rng.random() < 0.85 else rng.randrange(COUNTERS, CLERKS)
        roll = rng.random()
        status = "done" if roll < 0.93 else "no_show" if roll < 0.98 else "cancelled"
        wait = int(rng.lognormvariate(6.2, 0.8)) if status != "cancelled" else None
        service = int(rng.lognormvariate(math.log(SERVICES[s][3]), 0.35)) if status == "done" else None
        started = 20 + int(rng.random() * 40) if status == "done" and rng.random() < 0.8 else None
        rating = rng.choices(RATINGS, (0.55, 0.35, 0.10))[0] if status == "done" and rng.random() < 0.3 else None
        out.append({"issued": issued, "s": s, "c": counter, "k": clerk, "status": status, "wait": wait,
                    "service": service, "started": started, "rating": rating, "prio": rng.random() < 0.08})
    out.sort(key=lambda t: t["issued"])
    return out


def template_facts(template: list[dict[str, Any]], day: date) -> list[Any]:
    """The template's tickets as production `Fact`s of a canonical office (ids = symbolic ids)."""
    from counters.projections.facts import Fact
    midnight = datetime(day.year, day.month, day.day, tzinfo=TZ)
    facts = []
    for i, t in enumerate(template):
        issued = (midnight + timedelta(seconds=t["issued"])).astimezone(UTC)
        called = issued + timedelta(seconds=t["wait"]) if t["wait"] is not None else None
        started = called + timedelta(seconds=t["started"]) if called and t["started"] is not None else None
        finished = ((started or called) + timedelta(seconds=t["service"])
                    if t["service"] is not None and called else None)
        dni = t["s"] == 0
        facts.append(Fact(ticket_id=i, office_id=0, office_day=day, hour=int(t["issued"] // 3600), service_id=t["s"],
                          issued_at=issued, counter_id=t["c"] if called else None, clerk_id=t["k"] if called else None,
                          priority=t["prio"], status=t["status"], called_at=called, last_called_at=called,
                          started_at=started, finished_at=finished, wait_s=t["wait"],
                          service_s=t["service"] if finished else None,
                          total_s=t["wait"] + (t["started"] or 0) + t["service"] if finished else None,
                          wait_target_s=(10 if dni else 15) * 60, do_it_now=dni,
                          total_target_s=600 if dni else None, rating=t["rating"]))
    return facts


def template_rollups(facts: list[Any]) -> dict[tuple[str, int], tuple[int, ...]]:
    """Day-level rollups of a template by (dim, symbolic key), computed by production code, as metric vectors."""
    from counters.projections.facts import METRICS, add_into, service_key
    totals: dict[Any, dict[str, int]] = {}
    for f in facts:
        add_into(totals, f, +1, (0,), service_key(SERVICES[f.service_id][0]))
    return {(k[3], k[4]): tuple(m.get(x, 0) for x in METRICS) for k, m in totals.items() if k[1] == "d"}


ZERO: tuple[int, ...] = ()
N_METRICS = 57


def weighted_sum(counts: dict[int, int], vectors: list[tuple[int, ...]]) -> tuple[int, ...]:
    """Σ count × vector over templates: the rollup of many office days that used those templates."""
    out = [0] * N_METRICS
    for t, n in counts.items():
        for i, v in enumerate(vectors[t]):
            if v:
                out[i] += n * v
    return tuple(out)


class Province:
    """Ids of the generated offices, services, counters and users."""

    def __init__(self, offices: int) -> None:
        self.parent_id = 1
        self.office_ids = list(range(2, offices + 2))
        self.service_ids = {o: [(o - 2) * 5 + i + 1 for i in range(5)] for o in self.office_ids}
        self.counter_ids = {o: [(o - 2) * COUNTERS + i + 1 for i in range(COUNTERS)] for o in self.office_ids}
        self.clerk_ids = {o: [(o - 2) * CLERKS + i + 1000 for i in range(CLERKS)] for o in self.office_ids}

    def remap(self, office_id: int, dim: str, key: int) -> int:
        if dim == "counter":
            return self.counter_ids[office_id][key]
        if dim == "clerk":
            return self.clerk_ids[office_id][key]
        return key


def _ts(d: datetime | None) -> str | None:
    """A UTC timestamp in the text form both databases accept (and SQLite stores)."""
    return None if d is None else d.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


# --------------------------------------------------------------------------- writing


class Writer:
    """Bulk rows into SQLite (executemany) or PostgreSQL (COPY), table by table."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from server.db import normalize_url
        from server.migrate import upgrade
        self.url = normalize_url(url)
        engine = create_engine(self.url)
        upgrade(engine)
        engine.dispose()
        self.pg = self.url.startswith("postgresql")
        if self.pg:
            import psycopg
            self.conn: Any = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"))
        else:
            import sqlite3
            self.conn = sqlite3.connect(self.url.split("///", 1)[1], isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=OFF")
            self.conn.execute("PRAGMA cache_size=-400000")
            self.conn.execute("BEGIN")

    def rows(self, table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        quoted = ", ".join(f'"{c}"' for c in cols)
        if self.pg:
            with self.conn.cursor().copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                for r in rows:
                    copy.write_row(r)
        else:
            self.conn.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" * len(cols))})', rows)

    def drop_indexes(self, tables: tuple[str, ...]) -> list[str]:
        """Secondary indexes of the bulk tables: dropped for the load, rebuilt after (a sort beats 10M inserts)."""
        if self.pg:
            q = ("SELECT indexdef, indexname FROM pg_indexes WHERE tablename = ANY(%s) AND indexname NOT IN "
                 "(SELECT conname FROM pg_constraint)")
            found = self.conn.execute(q, (list(tables),)).fetchall()
        else:
            marks = ", ".join("?" * len(tables))
            found = self.conn.execute(f"SELECT sql, name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                      f"AND tbl_name IN ({marks})", tables).fetchall()
        for _, name in found:
            self.conn.execute(f'DROP INDEX "{name}"')
        self.commit()
        return [ddl for ddl, _ in found]

    def create_indexes(self, ddl: list[str]) -> None:
        for statement in ddl:
            self.conn.execute(statement)
        self.commit()

    def sql(self, statement: str) -> None:
        self.conn.execute(statement)

    def commit(self) -> None:
        if self.pg:
            self.conn.commit()
        else:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")

    def close(self) -> None:
        if not self.pg:
            self.conn.execute("COMMIT")
            self.conn.execute("ANALYZE")
        else:
            self.conn.commit()
            self.conn.autocommit = True
            self.conn.execute("ANALYZE")
        self.conn.close()


TICKET_COLS = ("id", "office_id", "service_id", "issued_service_id", "office_day", "number", "display_number",
               "priority", "channel", "status", "lang", "issued_at", "queue_at", "called_at", "last_called_at",
               "started_at", "finished_at", "counter_id", "clerk_id", "recalls", "transfers", "track_code")


def _clock(seconds_local: float | None) -> str | None:
    """A local time of day as the UTC wall-clock suffix the databases store (VN has no DST; 07:00+ stays same date)."""
    if seconds_local is None:
        return None
    x = int(seconds_local) - 7 * 3600
    return f"{x // 3600:02d}:{x // 60 % 60:02d}:{x % 60:02d}.000000"


def compiled(template: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Per ticket, everything that does not depend on the office or the day (times as clock suffixes)."""
    out, numbers = [], [0] * 5
    for t in template:
        s = t["s"]
        numbers[s] += 1
        issued = t["issued"]
        called = issued + t["wait"] if t["wait"] is not None else None
        started = called + t["started"] if called is not None and t["started"] is not None else None
        finished = (started or called) + t["service"] if t["service"] is not None and called is not None else None
        dni = s == 0
        out.append((s, numbers[s], f"{SERVICES[s][0]}{numbers[s]:03d}", "elderly" if t["prio"] else None, t["status"],
                    _clock(issued), _clock(called), _clock(started), _clock(finished),
                    t["c"] if called is not None else None, t["k"] if called is not None else None,
                    int(issued // 3600), t["wait"],
                    t["service"] if finished is not None else None,
                    t["wait"] + (t["started"] or 0) + t["service"] if finished is not None else None,
                    (10 if dni else 15) * 60, dni,
                    600 if dni else None, t["rating"], _clock(finished + 30) if finished is not None and t["rating"]
                    else None))
    return out


def generate(url: str, offices: int, tickets: int, today: date, log: Any = print) -> dict[str, float]:
    """Write the province's year into an empty database; returns timings."""
    from counters.projections.facts import FACT_FIELDS, METRICS
    t0 = time.perf_counter()
    w = Writer(url)
    prov = Province(offices)
    days = working_days(365, today)
    per_day = tickets / (offices * len(days))
    rng = random.Random(2026)
    templates = []
    for _ in range(TEMPLATES):
        n = max(20, int(rng.gauss(per_day, per_day * 0.15)))
        tpl = day_template(rng, n)
        templates.append((compiled(tpl), template_rollups(template_facts(tpl, days[0]))))
    now = _ts(datetime.now(UTC))
    w.rows("office", ("id", "name", "code", "parent_id", "timezone", "no_wait_target_min", "priority_policy",
                      "interleave_every", "routing", "rating_scale", "number_format", "announcement_repeat",
                      "feedback_window_min", "created_at"),
           [(1, "Trung tâm Phục vụ hành chính công tỉnh", "TINH", None, "Asia/Ho_Chi_Minh", 15, "strict", 3, "fifo", 3,
             "{code}{n:03d}", 2, 15, now)] +
           [(o, f"Bộ phận một cửa {o - 1:03d}", f"X{o - 1:03d}", 1, "Asia/Ho_Chi_Minh", 15, "strict", 3, "fifo", 3,
             "{code}{n:03d}", 2, 15, now) for o in prov.office_ids])
    w.rows("officeseq", ("office_id", "last_seq"), [(o, 0) for o in [1] + prov.office_ids])
    w.rows("service", ("id", "office_id", "code", "name", "desk", "number_start", "target_wait_min",
                       "target_total_min", "active", "archived", "sort_order"),
           [(prov.service_ids[o][i], o, c, n, d, 1, 15, 10 if d == "do_it_now" else None, True, False, i)
            for o in prov.office_ids for i, (c, n, d, _) in enumerate(SERVICES)])
    w.rows("counter", ("id", "office_id", "number", "name", "desk", "service_ids", "state", "archived"),
           [(prov.counter_ids[o][i], o, i + 1, f"Quầy {i + 1}", "do_it_now" if i == 0 else "standard",
             f"[{prov.service_ids[o][0]}]" if i == 0 else
             "[" + ", ".join(str(prov.service_ids[o][k]) for k in (1 + (i - 1) % 4, 1 + i % 4)) + "]", "closed", False)
            for o in prov.office_ids for i in range(COUNTERS)])
    w.rows("user", ("id", "username", "full_name", "role", "office_id", "password_hash", "active"),
           [(prov.clerk_ids[o][k], f"cb{o - 1:03d}_{k + 1}", f"Cán bộ {k + 1} – {o - 1:03d}", "clerk", o, "!", True)
            for o in prov.office_ids for k in range(CLERKS)])
    w.commit()
    dropped = w.drop_indexes(("ticket", "ticket_fact", "feedback", "report_rollup"))
    tid = fid = 0
    # (period, office, start) -> template counts
    used: dict[tuple[str, int, date], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    batch_t: list[tuple[Any, ...]] = []
    batch_f: list[tuple[Any, ...]] = []
    batch_fb: list[tuple[Any, ...]] = []
    batch_r: list[tuple[Any, ...]] = []

    def flush() -> None:
        w.rows("ticket", TICKET_COLS, batch_t)
        w.rows("ticket_fact", FACT_FIELDS, batch_f)
        w.rows("feedback", ("id", "office_id", "ticket_id", "counter_id", "clerk_id", "rating", "created_at"), batch_fb)
        w.rows("report_rollup", ("office_id", "period", "start", "dim", "key") + METRICS, batch_r)
        batch_t.clear(), batch_f.clear(), batch_fb.clear(), batch_r.clear()

    salt = rng.getrandbits(32)
    shared = sorted({k for _, rolls in templates for k in rolls if k[0] in ("day", "hour", "service")})
    for di, day in enumerate(days):
        d_iso = day.isoformat()
        d_pre = d_iso + " "
        month = day.replace(day=1)
        week = day - timedelta(days=day.weekday())
        quarter = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        day_counts: dict[int, int] = defaultdict(int)
        for o in prov.office_ids:
            which = (o * 7919 + di * 104729) % TEMPLATES
            rows, rolls = templates[which]
            used[("m", o, month)][which] += 1
            used[("w", o, week)][which] += 1
            used[("q", o, quarter)][which] += 1
            used[("y", o, day.replace(month=1, day=1))][which] += 1
            day_counts[which] += 1
            sids, cids, kids = prov.service_ids[o], prov.counter_ids[o], prov.clerk_ids[o]
            for (s, number, display, prio, status, i_s, c_s, st_s, f_s, ci, ki, hour, wait, svc, total, target, dni, tt,
                 rating, fb_s) in rows:
                tid += 1
                issued = d_pre + i_s
                called = d_pre + c_s if c_s else None
                started = d_pre + st_s if st_s else None
                finished = d_pre + f_s if f_s else None
                counter = cids[ci] if ci is not None else None
                clerk = kids[ki] if ki is not None else None
                sid = sids[s]
                batch_t.append((tid, o, sid, sid, d_iso, number, display, prio, "kiosk", status, "vi", issued, issued,
                                called, called, started, finished, counter, clerk, 0, 0, f"{tid:010x}{salt:08x}"))
                batch_f.append((tid, o, d_iso, hour, sid, issued, counter, clerk, prio is not None, status, called,
                                called, started, finished, wait, svc, total, target, dni, tt, False, rating))
                if fb_s:
                    fid += 1
                    batch_fb.append((fid, o, tid, counter, clerk, rating, d_pre + fb_s))
            for (dim, key), vec in rolls.items():
                real = prov.remap(o, dim, key)
                batch_r.append((o, "d", d_iso, dim, real) + vec)
                if dim in ("counter", "clerk"):  # the province's rows of its branches' own counters and clerks
                    batch_r.append((prov.parent_id, "d", d_iso, dim, real) + vec)
            if len(batch_t) >= 100_000:
                flush()
        for dim, key in shared:  # the province's day, hour and service rows: its branches summed
            vectors = [rolls.get((dim, key)) or ZERO for _, rolls in templates]
            batch_r.append((prov.parent_id, "d", d_iso, dim, key) + weighted_sum(day_counts, vectors))
        if di % 25 == 0:
            w.commit()
            log(f"  generated {day} ({tid:,} tickets, {time.perf_counter() - t0:.0f} s)", flush=True)
    flush()
    period_rows: dict[tuple[int, str, str, str, int], list[int]] = {}
    for (period, o, start), counts in used.items():
        for dim, key in {k for t in counts for k in templates[t][1] if k[0] != "day"}:
            vec = weighted_sum(counts, [rolls.get((dim, key)) or ZERO for _, rolls in templates])
            real = prov.remap(o, dim, key)
            for owner in (o, prov.parent_id):
                acc = period_rows.setdefault((owner, period, start.isoformat(), dim, real), [0] * len(METRICS))
                for i, v in enumerate(vec):
                    acc[i] += v
    w.rows("report_rollup", ("office_id", "period", "start", "dim", "key") + METRICS,
           [key + tuple(vec) for key, vec in period_rows.items()])
    w.commit()
    t_rows = time.perf_counter() - t0
    log(f"  rows written in {t_rows:.0f} s; building indexes", flush=True)
    w.create_indexes(dropped)
    _sequences(w, tid, fid)
    w.close()
    return {"tickets": tid, "rows_s": t_rows, "total_s": time.perf_counter() - t0}


def _sequences(w: Writer, tickets: int, feedback: int) -> None:
    if w.pg:
        for table in ("office", "service", "counter", "ticket", "feedback", "user"):
            w.sql(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT MAX(id) FROM \"{table}\"))")
        w.commit()


def add_today(url: str, offices: int, waiting: int = 25) -> None:
    """A busy morning in every branch: counters open with their clerks and people waiting (the live view),
    its tickets folded into facts and rollups as production does (`facts.add_into`, `facts.upsert_rollups`),
    so a report "to yesterday" reads past today's rows as it would in an office at work. Re-running it
    takes the previous run's morning away first (its facts subtracted from the rollups)."""
    from sqlalchemy import create_engine, delete, select, text
    from sqlmodel import Session
    from counters.projections.facts import FACT_FIELDS, Fact, Settings, TicketFact, add_into, upsert_rollups
    from server.db import normalize_url
    prov = Province(offices)
    engine = create_engine(normalize_url(url))
    now = datetime.now(UTC)
    today = now.astimezone(TZ).date()
    rng = random.Random(7)
    ft = TicketFact.__table__  # type: ignore[attr-defined]
    with Session(engine) as c, c.begin():
        settings = Settings().load(c, prov.office_ids)
        deltas: dict[Any, dict[str, int]] = {}
        old = [r[0] for r in c.execute(text("SELECT id FROM ticket WHERE office_day >= :d AND channel = 'staff'"),
                                       {"d": today})]
        for i in range(0, len(old), 5000):
            chunk = old[i:i + 5000]
            for r in c.execute(select(*[ft.c[n] for n in FACT_FIELDS]).where(ft.c.ticket_id.in_(chunk))):
                f = Fact(**r._asdict())
                add_into(deltas, f, -1, settings.owners(f.office_id), settings.service_key(f.service_id))
            c.execute(delete(ft).where(ft.c.ticket_id.in_(chunk)))
        c.execute(text("DELETE FROM ticket WHERE office_day >= :d AND channel = 'staff'"), {"d": today})
        start = int(c.execute(text("SELECT COALESCE(MAX(id), 0) FROM ticket")).scalar_one()) + 1
        rows, new = [], []
        for o in prov.office_ids:
            for i, cid in enumerate(prov.counter_ids[o]):
                c.execute(text("UPDATE counter SET state = 'open', clerk_id = :k, clerk_name = :n, "
                               "current_ticket_id = NULL WHERE id = :c"),
                          {"k": prov.clerk_ids[o][i], "n": f"Cán bộ {i + 1}", "c": cid})
            for j in range(waiting + 40):
                s = rng.choices(range(5), SHARES)[0]
                issued = now - timedelta(seconds=rng.random() * 7200)
                done = j >= waiting
                called = issued + timedelta(seconds=rng.random() * 600) if done else None
                finished = called + timedelta(seconds=SERVICES[s][3] * rng.uniform(0.6, 1.4)) if called else None
                if finished and finished > now:
                    called, finished = now - timedelta(seconds=900), now - timedelta(seconds=60)
                desk = 0 if s == 0 else 1
                cid = prov.counter_ids[o][desk] if done else None
                clerk = prov.clerk_ids[o][desk] if done else None
                rows.append({"id": start, "o": o, "s": prov.service_ids[o][s], "d": today, "n": 5000 + j,
                             "dn": f"{SERVICES[s][0]}{5000 + j}", "st": "done" if done else "waiting",
                             "i": _ts(issued), "c": _ts(called), "f": _ts(finished), "cid": cid, "k": clerk,
                             "tc": f"today{start:012x}{rng.getrandbits(32):08x}"})
                wait = round((called - issued).total_seconds()) if called else None
                served = round((finished - called).total_seconds()) if finished and called else None
                new.append(Fact(ticket_id=start, office_id=o, office_day=today, hour=issued.astimezone(TZ).hour,
                                service_id=prov.service_ids[o][s], issued_at=issued, counter_id=cid, clerk_id=clerk,
                                status="done" if done else "waiting", called_at=called, last_called_at=called,
                                finished_at=finished, wait_s=wait, service_s=served,
                                total_s=wait + served if wait is not None and served is not None else None,
                                wait_target_s=(10 if s == 0 else 15) * 60, do_it_now=s == 0,
                                total_target_s=600 if s == 0 else None))
                start += 1
        c.execute(text("INSERT INTO ticket (id, office_id, service_id, issued_service_id, office_day, number, "
                       "display_number, channel, status, lang, issued_at, queue_at, called_at, last_called_at, "
                       "finished_at, counter_id, clerk_id, recalls, transfers, track_code) VALUES (:id, :o, :s, :s, "
                       ":d, :n, :dn, 'staff', :st, 'vi', :i, :i, :c, :c, :f, :cid, :k, 0, 0, :tc)"), rows)
        c.execute(ft.insert(), [f.row() for f in new])
        for f in new:
            add_into(deltas, f, +1, settings.owners(f.office_id), settings.service_key(f.service_id))
        upsert_rollups(c, deltas)
    engine.dispose()


def check_against_production_fold(url: str) -> bool:
    """One office-year (the latest): the stored rollups (bulk-written, or filled by migrations on a cached
    database) equal what `facts.add_into` makes of the office's facts, row for row, every period."""
    from sqlalchemy import create_engine, select
    from counters.projections.facts import (FACT_FIELDS, METRICS, Fact, ReportRollup, TicketFact, add_into, service_key,
                                            year_start)
    from counters.models import Service
    from server.db import normalize_url
    engine = create_engine(normalize_url(url))
    with engine.connect() as c:
        f = TicketFact.__table__  # type: ignore[attr-defined]
        r = ReportRollup.__table__  # type: ignore[attr-defined]
        day = c.execute(select(f.c.office_day).where(f.c.office_id == 2)
                        .order_by(f.c.office_day.desc()).limit(1)).scalar_one()
        first = year_start(day)
        facts = [Fact(**row._asdict()) for row in c.execute(select(*[f.c[n] for n in FACT_FIELDS]).where(
            f.c.office_id == 2, f.c.office_day >= first, f.c.office_day <= day))]
        codes = {sid: code for sid, code in c.execute(select(Service.id, Service.code).where(Service.office_id == 2))}
        expected: dict[Any, dict[str, int]] = {}
        for x in facts:
            add_into(expected, x, +1, (2,), service_key(codes[x.service_id]))
        got = {(row.office_id, row.period, row.start, row.dim, row.key): {m: getattr(row, m) for m in METRICS}
               for row in c.execute(select(r).where(r.c.office_id == 2, r.c.start >= first, r.c.start <= day))}
        got = {k: v for k, v in got.items() if any(v.values())}  # a row taken back to zero counts as no row
    engine.dispose()
    clean = {k: {m: v.get(m, 0) for m in METRICS} for k, v in expected.items() if k[2] >= first}
    return clean == got and {k[1] for k in got} == {"d", "w", "m", "q", "y"}


def bring_up_to_date(url: str) -> float:
    """A cached database made by an older bench: run the migrations it lacks (0004 and 0005 fill
    quarter and year rows from the month rows), as `qms serve` would; returns the seconds it took."""
    from sqlalchemy import create_engine
    from server.db import normalize_url
    from server.migrate import upgrade
    t = time.perf_counter()
    engine = create_engine(normalize_url(url))
    upgrade(engine)
    engine.dispose()
    return time.perf_counter() - t


# --------------------------------------------------------------------------- measuring


def time_estimate_queue(waiting: int = 300) -> tuple[float, float]:
    """estimate_queue with `waiting` tickets: a fresh prediction, and the cached one (ms)."""
    from sqlmodel import SQLModel
    import server.models  # noqa: F401
    import ticket_printer.models  # noqa: F401
    from counters.engine import calling, issuing, setup
    from counters.clock import office_day
    from counters.context import Ctx, Who
    from counters.insight.estimates import CACHE, estimate_queue
    from counters.models import Office
    from server.db import Database
    db = Database(f"sqlite:///{Path(tempfile.mkdtemp()) / 'e.db'}")
    SQLModel.metadata.create_all(db.engine)
    now = datetime.now(UTC) - timedelta(hours=1)

    def seed(s: Any) -> int:
        ctx = Ctx(Who("user:1", 1, None, "x"), now)
        o = setup.create_office(s, ctx, "E", "E")
        svcs = [setup.create_service(s, ctx, o, {"code": c, "name": c}) for c in "BCDE"]
        for i in range(6):
            k = setup.create_counter(s, ctx, o, {"number": i + 1, "name": str(i + 1),
                                                 "service_ids": [svcs[i % 4].id, svcs[(i + 1) % 4].id]})
            calling.set_counter_state(s, ctx, o, k, "open")  # type: ignore[arg-type]
        for i in range(waiting):
            issuing.issue_ticket(s, Ctx(ctx.who, now + timedelta(seconds=i)), o, svcs[i % 4])
        return o.id or 0
    office_id, _ = db.write_sync(seed)
    fresh, cached = [], []
    for k in range(5):
        when = now + timedelta(minutes=10 + k)

        def run(s: Any, when: datetime = when) -> None:
            o = s.get(Office, office_id)
            estimate_queue(s, o, office_day(when, o.timezone), when)
        CACHE._items.clear()
        t = time.perf_counter()
        db.read_sync(run)
        fresh.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        db.read_sync(run)
        cached.append((time.perf_counter() - t) * 1000)
    db.dispose()
    return statistics.median(fresh), statistics.median(cached)


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))]


def requests_plan(prov: Province, today: date, rng: random.Random) -> Iterator[tuple[str, str]]:
    year_from, last = (today - timedelta(days=365)).isoformat(), (today - timedelta(days=1)).isoformat()
    month_from = (today - timedelta(days=31)).isoformat()
    branch = lambda: rng.choice(prov.office_ids)  # noqa: E731
    month, year = f"from={month_from}&to={last}", f"from={year_from}&to={last}"
    yield "live branch", f"/api/v1/offices/{branch()}/live"
    yield "live province", f"/api/v1/offices/{prov.parent_id}/live"
    yield "report branch month by day", f"/api/v1/offices/{branch()}/reports?{month}&group_by=day"
    yield "report branch year by service", f"/api/v1/offices/{branch()}/reports?{year}&group_by=service"
    yield "report branch year by clerk", f"/api/v1/offices/{branch()}/reports?{year}&group_by=clerk"
    yield "report province year by day", f"/api/v1/offices/{prov.parent_id}/reports?{year}&group_by=day"
    yield "report province year by hour", f"/api/v1/offices/{prov.parent_id}/reports?{year}&group_by=hour"
    yield "report province year by service", f"/api/v1/offices/{prov.parent_id}/reports?{year}&group_by=service"
    yield "report province month by counter", f"/api/v1/offices/{prov.parent_id}/reports?{month}&group_by=counter"
    yield "report province year by clerk", f"/api/v1/offices/{prov.parent_id}/reports?{year}&group_by=clerk"


def measure(url: str, offices: int, rounds: int, label: str) -> dict[str, list[float]]:
    import httpx
    sys.path.insert(0, str(ROOT))
    from tests.support.server import ServerProcess
    server = ServerProcess(database_url=url).start(timeout=120)
    times: dict[str, list[float]] = defaultdict(list)
    try:
        admin = server.admin()
        http = httpx.Client(base_url=server.base_url, headers=admin.headers(), timeout=60)
        prov = Province(offices)
        rng = random.Random(11)
        today = datetime.now(TZ).date()
        for kind, path in requests_plan(prov, today, rng):  # warm-up
            assert http.get(path).status_code == 200, (kind, path)
        for _ in range(rounds):
            for kind, path in requests_plan(prov, today, rng):
                t = time.perf_counter()
                r = http.get(path)
                times[kind].append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200, r.text[:300]
    finally:
        server.stop()
    print(f"  {label}: {'request':36s} {'p50 ms':>8s} {'p95 ms':>8s}")
    for kind, values in times.items():
        print(f"  {label}: {kind:36s} {p(values, 0.5):8.1f} {p(values, 0.95):8.1f}")
    every = [v for vs in times.values() for v in vs]
    lives = [v for k, vs in times.items() if k.startswith("live") for v in vs]
    reports = [v for k, vs in times.items() if k.startswith("report") for v in vs]
    print(f"  {label}: live p95 {p(lives, 0.95):.1f} ms, reports p95 {p(reports, 0.95):.1f} ms, "
          f"all p95 {p(every, 0.95):.1f} ms over {len(every)} requests (target < 300 ms)", flush=True)
    return times


def sqlite_database(offices: int, tickets: int) -> tuple[str, float | None]:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"province-{offices}-{tickets}.sqlite3"
    if path.exists():
        return f"sqlite:///{path}", None
    tmp = path.with_suffix(".tmp")
    for extra in ("", "-wal", "-shm"):
        Path(f"{tmp}{extra}").unlink(missing_ok=True)
    t = time.perf_counter()
    figures = generate(f"sqlite:///{tmp}", offices, tickets, datetime.now(TZ).date())
    tmp.rename(path)
    elapsed = time.perf_counter() - t
    print(f"  sqlite: generated {figures['tickets']:,} tickets in {elapsed:.0f} s "
          f"({path.stat().st_size / 2**30:.1f} GiB at {path})", flush=True)
    return f"sqlite:///{path}", elapsed


def postgres_database(base: str, offices: int, tickets: int) -> tuple[str, float | None]:
    """A cached PostgreSQL database per size (generated once, reused while it exists)."""
    import psycopg
    name = f"qms_bench_{offices}_{tickets}"
    root, _, _ = base.rpartition("/")
    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return f"{root}/{name}", None
        conn.execute(f'CREATE DATABASE "{name}_tmp"')
    t = time.perf_counter()
    try:
        figures = generate(f"{root}/{name}_tmp", offices, tickets, datetime.now(TZ).date())
    except BaseException:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_tmp"')
        raise
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}_tmp" RENAME TO "{name}"')
    elapsed = time.perf_counter() - t
    print(f"  postgresql: generated {figures['tickets']:,} tickets in {elapsed:.0f} s", flush=True)
    return f"{root}/{name}", elapsed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench.reports", description=__doc__.split("\n")[0])
    ap.add_argument("--offices", type=int, default=150)
    ap.add_argument("--tickets", type=int, default=10_000_000)
    ap.add_argument("--requests", type=int, default=30, help="rounds of every request kind")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args(argv if argv is not None else [])
    fresh, cached = time_estimate_queue(300)
    print(f"  estimate_queue, 300 waiting, 6 counters: {fresh:.1f} ms fresh prediction, {cached:.1f} ms cached",
          flush=True)
    databases = [("sqlite", lambda: sqlite_database(args.offices, args.tickets))]
    pg = os.environ.get("QMS_TEST_POSTGRES_URL")
    if pg and not args.no_postgres:
        databases.append(("postgresql", lambda: postgres_database(pg, args.offices, args.tickets)))
    for label, make in databases:
        url, _ = make()
        print(f"  {label}: migrations brought the database up to date in {bring_up_to_date(url):.1f} s", flush=True)
        add_today(url, args.offices)
        print(f"  {label}: rollups equal the production fold (one office-year, every period): "
              f"{check_against_production_fold(url)}", flush=True)
        measure(url, args.offices, args.requests, label)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
