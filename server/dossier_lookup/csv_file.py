"""Result look-up from a CSV file the province exports (`file:///path.csv`).

Columns `code,status_text,ready,return_date`, UTF-8 (a BOM is accepted), `ready` is `true`/`false`,
`return_date` `YYYY-MM-DD` or empty. The file is read again whenever its modification time or size
changes, so a nightly (or hourly) export is picked up without a restart. A missing or unreadable file is
LookupUnavailable; a malformed row is skipped (and counted in the log, never printed).
"""
from __future__ import annotations

import asyncio
import csv
import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .base import DossierStatus, LookupUnavailable, parse_return_date

log = logging.getLogger("qms.dossier_lookup")
COLUMNS = ("code", "status_text", "ready", "return_date")
READY = {"true": True, "false": False}


def path_of(url: str) -> Path:
    """`file:///srv/ketqua.csv` → /srv/ketqua.csv."""
    return Path(unquote(urlsplit(url).path))


def read_statuses(path: Path) -> dict[str, DossierStatus]:
    """The whole file as code → status (blocking: run in a thread)."""
    out: dict[str, DossierStatus] = {}
    skipped = 0
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header = [h.strip().lower() for h in reader.fieldnames or []]
        if not {"code", "status_text", "ready"} <= set(header):
            raise LookupUnavailable(f"{path.name} lacks the columns {', '.join(COLUMNS)}")
        reader.fieldnames = header
        for row in reader:
            try:
                code = (row.get("code") or "").strip().upper()
                ready = READY[(row.get("ready") or "").strip().lower()]
                if not code:
                    raise ValueError("empty code")
                out[code] = DossierStatus(code=code, status_text=(row.get("status_text") or "").strip()[:500],
                                          ready=ready, return_date=parse_return_date(row.get("return_date")))
            except (KeyError, ValueError, AttributeError):
                skipped += 1
    if skipped:
        log.warning("result look-up file %s: %d malformed rows skipped", path.name, skipped)
    return out


def _retrieved(task: asyncio.Task[dict[str, DossierStatus]]) -> None:
    """A failed read whose waiters all gave up is not an 'exception never retrieved' at shutdown."""
    if not task.cancelled():
        task.exception()


class CsvLookup:
    """The file's rows, read again when its modification time or size changes.

    A read runs in a thread as one task shared by every look-up waiting for it, so a look-up that gives up
    at the deadline does not abandon it: a large export is parsed once, however many people are asking.
    """

    def __init__(self, url: str) -> None:
        self.path = path_of(url)
        self._stamp: tuple[int, int] | None = None
        self._rows: dict[str, DossierStatus] = {}
        self._loading: asyncio.Task[dict[str, DossierStatus]] | None = None
        self._loading_stamp: tuple[int, int] | None = None
        self.loads = 0  # how many times the file was read (tests check it is re-read only on change)

    async def find(self, code: str) -> DossierStatus | None:
        rows = await self._current()
        return rows.get(code)

    async def _current(self) -> dict[str, DossierStatus]:
        try:
            st = await asyncio.to_thread(os.stat, self.path)
        except OSError as e:
            raise LookupUnavailable(f"the look-up file cannot be read ({type(e).__name__})") from None
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp == self._stamp:
            return self._rows
        if self._loading is None or self._loading_stamp != stamp:
            self._loading_stamp = stamp
            self._loading = asyncio.get_running_loop().create_task(self._load(stamp))
            self._loading.add_done_callback(_retrieved)
        return await asyncio.shield(self._loading)

    async def _load(self, stamp: tuple[int, int]) -> dict[str, DossierStatus]:
        try:
            rows = await asyncio.to_thread(read_statuses, self.path)
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            raise LookupUnavailable(f"the look-up file cannot be read ({type(e).__name__})") from None
        finally:
            if self._loading_stamp == stamp:
                self._loading = None
        self._rows, self._stamp = rows, stamp
        self.loads += 1
        return rows

    async def aclose(self) -> None:
        if self._loading is not None:
            self._loading.cancel()
        self._rows = {}
