"""The write floor: the least a durable write can cost on this stack, to measure QMS's writes against.

A bare Starlette app served by uvicorn with the settings `qms serve` uses (server/cli.py: uvicorn's
auto loop and HTTP parser, i.e. uvloop and httptools when installed, per-message compression off, the
same message limit, no access log). Per `POST /tickets` `{"service_id"}` it checks the bearer token
against a table of token hashes, upserts the office's day counter (INSERT … ON CONFLICT DO UPDATE …
RETURNING), inserts one ticket row and one event row, commits, and answers the ticket as JSON. SQLite
with the product's durability settings (server/db.py): WAL, synchronous=FULL, BEGIN IMMEDIATE, every
write on one writer thread. Nothing else: no ORM, no live model, no publish.

    python -m bench.write_floor --port 8766 --db /tmp/floor.sqlite3 --token SECRET
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from server.cli import uvicorn_settings  # the uvicorn settings of `qms serve`
from server.passwords import token_hash  # the product's hash of a bearer token

SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (hash TEXT PRIMARY KEY, office_id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS day_counters (office_id INTEGER NOT NULL, day TEXT NOT NULL, last INTEGER NOT NULL,
                                         PRIMARY KEY (office_id, day));
CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, office_id INTEGER NOT NULL, service_id INTEGER NOT NULL,
                                    day TEXT NOT NULL, number INTEGER NOT NULL, status TEXT NOT NULL,
                                    issued_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, office_id INTEGER NOT NULL, ticket_id INTEGER NOT NULL,
                                   type TEXT NOT NULL, at TEXT NOT NULL, data TEXT NOT NULL);
"""
UPSERT_DAY = ("INSERT INTO day_counters (office_id, day, last) VALUES (?, ?, 1) "
              "ON CONFLICT (office_id, day) DO UPDATE SET last = last + 1 RETURNING last")


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # we issue BEGIN ourselves
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA busy_timeout=30000")
    return conn


def prepare(path: str, token: str, office_id: int = 1) -> None:
    """Create the tables and the one token the bench sends."""
    conn = connect(path)
    conn.executescript(SCHEMA)
    conn.execute("INSERT OR REPLACE INTO tokens (hash, office_id) VALUES (?, ?)", (token_hash(token), office_id))
    conn.close()


class Writer:
    """One connection on one thread: every write transaction, one after the other, as QMS does on SQLite."""

    def __init__(self, path: str) -> None:
        self.pool = ThreadPoolExecutor(1, thread_name_prefix="floor-writer")
        self.conn = self.pool.submit(connect, path).result()

    def issue(self, token: str, service_id: int) -> dict[str, Any] | None:
        """Check the token, number the ticket, insert it and its event; None for an unknown token."""
        conn = self.conn
        now = datetime.now(UTC)
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT office_id FROM tokens WHERE hash = ?", (token_hash(token),)).fetchone()
            if row is None:
                conn.execute("ROLLBACK")
                return None
            office_id, day, at = row[0], now.date().isoformat(), now.isoformat()
            number = conn.execute(UPSERT_DAY, (office_id, day)).fetchone()[0]
            ticket_id = conn.execute(
                "INSERT INTO tickets (office_id, service_id, day, number, status, issued_at) "
                "VALUES (?, ?, ?, ?, 'waiting', ?)", (office_id, service_id, day, number, at)).lastrowid
            ticket = {"id": ticket_id, "office_id": office_id, "service_id": service_id, "number": number,
                      "status": "waiting", "issued_at": at}
            conn.execute("INSERT INTO events (office_id, ticket_id, type, at, data) VALUES (?, ?, ?, ?, ?)",
                         (office_id, ticket_id, "ticket.issued", at, json.dumps(ticket)))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return ticket


def create_app(path: str) -> Starlette:
    writer = Writer(path)

    async def issue(request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        try:
            service_id = int((await request.json())["service_id"])
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": {"code": "validation_error"}}, status_code=422)
        ticket = await asyncio.get_running_loop().run_in_executor(writer.pool, writer.issue, token, service_id)
        if ticket is None:
            return JSONResponse({"error": {"code": "unauthorized"}}, status_code=401)
        return JSONResponse(ticket, status_code=201)

    return Starlette(routes=[Route("/tickets", issue, methods=["POST"])])


def main() -> None:
    import uvicorn
    parser = argparse.ArgumentParser(prog="bench.write_floor")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    prepare(args.db, args.token)
    uvicorn.run(create_app(args.db), **uvicorn_settings("127.0.0.1", args.port, "warning"))


if __name__ == "__main__":
    main()
