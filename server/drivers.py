"""The optional drivers a province set-up needs (psycopg for PostgreSQL, redis for Redis), checked before
they are used, so a missing one is one clear line saying what to install instead of a traceback."""
from __future__ import annotations

import importlib

INSTALL = 'pip install -e ".[postgres,redis]"'


class MissingDriver(RuntimeError):
    """A configured URL needs a Python package that is not installed."""


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def require_database_driver(url: str) -> None:
    if url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres") and not _importable("psycopg"):
        raise MissingDriver(f"QMS_DATABASE_URL is a PostgreSQL URL, but its driver (psycopg 3) is not installed: "
                            f"run {INSTALL}")


def require_redis_driver(url: str | None) -> None:
    if url and url.startswith(("redis://", "rediss://", "unix://")) and not _importable("redis"):
        raise MissingDriver(f"QMS_REDIS_URL is a Redis URL, but the redis package is not installed: run {INSTALL}")
