"""`qms`: serve, demo, db upgrade, user add, say, printer test, printer-agent, simulate, bench."""
from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .drivers import MissingDriver, require_redis_driver
from .settings import SETTINGS, Settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from .db import Database


def _db(settings: Settings) -> Database:
    from .db import Database
    from .migrate import upgrade
    db = Database(settings.database_url)
    upgrade(db.engine)
    return db


def uvicorn_settings(host: str, port: int, log_level: str) -> dict[str, Any]:
    """What `qms serve` asks of uvicorn (the bench's write floor runs on the very same)."""
    from .limits import MAX_WS_MESSAGE_BYTES
    return dict(host=host, port=port, ws_per_message_deflate=False, log_level=log_level,
                ws_max_size=MAX_WS_MESSAGE_BYTES, access_log=False, timeout_graceful_shutdown=5)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .bootstrap import ensure_admin
    from .demo import describe, seed_demo
    from .listening import listening_message, local_url
    settings = Settings.load()
    require_redis_driver(settings.redis_url)  # before anything starts: one clear line, not a worker's traceback
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    db = _db(settings)
    ensure_admin(db, settings.admin_password)
    base = local_url(args.host, args.port)
    if args.demo:
        print(describe(seed_demo(db), base), flush=True)
    db.dispose()
    workers = args.workers or settings.workers
    if workers > 1 and (settings.database_url.startswith("sqlite") or not settings.redis_url):
        print("warning: several workers need PostgreSQL (QMS_DATABASE_URL) and Redis (QMS_REDIS_URL) for "
              "events to reach every client; starting anyway", file=sys.stderr)
    print(listening_message(args.host, args.port), flush=True)
    common = uvicorn_settings(args.host, args.port, settings.log_level)
    if workers > 1:
        from .metrics import prepare_multiprocess
        prepare_multiprocess(Path(settings.data_dir))  # before the workers import prometheus_client
        os.environ["QMS_WORKERS"] = str(workers)  # each worker knows how many share the host (server/estimator.py)
        os.environ["QMS_SCHEMA_UPGRADED"] = "1"  # by _db() above: the workers skip it (server/asgi.py)
        uvicorn.run("server.asgi:app", workers=workers, **common)
    else:
        from .app import create_app
        uvicorn.run(create_app(settings, migrate=False), **common)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import describe, seed_demo
    print(describe(seed_demo(_db(Settings.load())), args.base_url))
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    _db(Settings.load()).dispose()
    print("database is at the newest schema")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from sqlmodel import select

    from counters.clock import utcnow

    from .models import User
    from .passwords import hash_password
    db = _db(Settings.load())
    password = args.password or os.environ.get("QMS_NEW_PASSWORD") or getpass.getpass("Password: ")
    if len(password) < 8:
        print("error: the password needs at least 8 characters", file=sys.stderr)
        return 2

    def run(session: Session) -> None:
        if session.exec(select(User).where(User.username == args.username)).first():
            raise SystemExit(f"error: user {args.username!r} exists")
        session.add(User(username=args.username, full_name=args.full_name or args.username, role=args.role,
                         office_id=args.office_id, password_hash=hash_password(password), created_at=utcnow()))
    db.write_sync(run)
    print(f"user {args.username} ({args.role}) created")
    return 0


def cmd_say(args: argparse.Namespace) -> int:
    from displays import say
    settings = Settings.load()
    path = say(args.text, Path(args.out) if args.out else None, settings.voice, lang=args.lang,
               clips_dir=settings.clips_dir, play=args.out is None)
    print(path)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.run import main as bench_main
    return bench_main(args.only)


def cmd_settings(args: argparse.Namespace) -> int:
    for s in SETTINGS:
        print(f"{s.name:<22} default {s.default!s:<10} {s.help}")
    return 0


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; of the commands other modules contribute, only the one `argv` names is imported."""
    p = argparse.ArgumentParser(prog="qms", description="Queueing for one-stop public service centres")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("serve", help="start the server (upgrades the database first)")
    s.add_argument("--host", default="0.0.0.0")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=0)
    s.add_argument("--demo", action="store_true", help="seed the demo office and print its logins and URLs")
    s.set_defaults(fn=cmd_serve)
    d = sub.add_parser("demo", help="seed the demo office")
    d.add_argument("--base-url", default="http://127.0.0.1:8000")
    d.set_defaults(fn=cmd_demo)
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(fn=cmd_db)
    u = sub.add_parser("user", help="user tasks")
    u.add_argument("action", choices=["add"])
    u.add_argument("username")
    u.add_argument("--role", choices=["admin", "head", "clerk"], default="clerk")
    u.add_argument("--office-id", type=int)
    u.add_argument("--full-name")
    u.add_argument("--password", help="or QMS_NEW_PASSWORD, or asked")
    u.set_defaults(fn=cmd_user_add)
    say = sub.add_parser("say", help="speak a phrase (or write it to --out WAV)")
    say.add_argument("text")
    say.add_argument("--out")
    say.add_argument("--lang", default="vi", choices=["vi", "en"])
    say.set_defaults(fn=cmd_say)
    b = sub.add_parser("bench", help="run the benchmarks and print their figures")
    b.add_argument("--only", nargs="*", help="names of benchmarks to run")
    b.set_defaults(fn=cmd_bench)
    st = sub.add_parser("settings", help="list the settings (environment variables)")
    st.set_defaults(fn=cmd_settings)
    chosen = next((a for a in (sys.argv[1:] if argv is None else argv) if not a.startswith("-")), None)
    for module, commands in EXTRA_COMMANDS.items():
        if chosen in commands:
            __import__(module, fromlist=["register"]).register(sub)
        else:  # listed in --help; its module (and what it imports) loads only when chosen
            for name, help_text in commands.items():
                sub.add_parser(name, help=help_text)
    return p


# Commands defined in other modules: the printing stack takes most of a second to import, and `qms --help`,
# `qms say` or `qms settings` need none of it.
EXTRA_COMMANDS: dict[str, dict[str, str]] = {
    "server.cli_printer": {"printer": "printer tasks",
                           "printer-agent": "run the printer agent of a kiosk PC with a local printer"},
    "server.cli_simulate": {"simulate": "replay a synthetic office day against a running server"},
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser(argv).parse_args(argv)
    try:
        return int(args.fn(args) or 0)
    except MissingDriver as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
