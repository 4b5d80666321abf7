"""The data folder is private: it holds password hashes, tracking codes, comments, a device's token until
it is collected, and the secret key. Folders 0700 and files 0600, whatever the process's umask.

SQLite creates a database's `-wal` and `-shm` files with the database file's own mode, so creating the
database file 0600 before SQLite opens it keeps those private too. Only what this user owns is changed.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger("qms")
DIR_MODE = 0o700
FILE_MODE = 0o600


def _tighten(path: Path, mode: int) -> None:
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & ~mode:
            path.chmod(mode)
            log.warning("made %s private (mode %o)", path, mode)
    except (OSError, AttributeError):  # gone meanwhile, not ours, or no owners (Windows)
        pass


def private_dir(path: Path | str, tighten: bool = True) -> Path:
    """Create `path` (and missing parents) 0700; an existing folder of ours is tightened if `tighten`."""
    path = Path(path)
    if not path.is_dir():
        path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        path.chmod(DIR_MODE)  # mkdir's mode is filtered by the umask
    elif tighten:
        _tighten(path, DIR_MODE)
    return path


def private_file(path: Path | str) -> Path:
    """Make sure `path` exists and is 0600 (created empty if missing, never truncated)."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | getattr(os, "O_BINARY", 0), FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def write_private(path: Path | str, text: str) -> None:
    """Write a new file that is 0600 from its first byte (a secret must never exist world-readable)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    _tighten(Path(path), FILE_MODE)


def private_sqlite(database: str) -> None:
    """Before SQLite opens `database`: its folder exists (0700 when created here) and the database file and
    any `-wal`/`-shm` left from an earlier run are 0600."""
    path = Path(database)
    private_dir(path.parent, tighten=False)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        extra = path.with_name(path.name + suffix)
        if extra.exists():
            _tighten(extra, FILE_MODE)
