"""Rows a transaction keeps loaded until it ends.

The session's identity map holds rows weakly: an office the authorization or a handler loaded is gone once
they return, and the rest of the transaction (sealing its events needs the office's time zone) would
read it again. The code that loads such a row keeps it here, in the session's own `info` (one
transaction), instead of a listener on every session.
"""
from __future__ import annotations

from typing import TypeVar

from sqlmodel import Session

R = TypeVar("R")
_KEPT = "qms_kept_rows"


def keep(session: Session, row: R) -> R:
    """`row`, held for as long as `session` lives (None is passed through)."""
    if row is not None:
        session.info.setdefault(_KEPT, []).append(row)
    return row
