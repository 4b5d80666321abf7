"""First start: the admin account from QMS_ADMIN_PASSWORD, or a random password printed once."""
from __future__ import annotations

import logging
import sys

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from counters.clock import utcnow

from .db import Database
from .models import User
from .passwords import hash_password, random_password

log = logging.getLogger("qms")


def ensure_admin(db: Database, password: str | None) -> str | None:
    """Create user `admin` if no admin exists; returns the generated password when one was generated."""
    generated = None

    def run(session: Session) -> None:
        nonlocal generated
        if session.exec(select(User).where(User.role == "admin")).first():
            return
        pw = password or random_password()
        generated = None if password else pw
        session.add(User(username="admin", full_name="Administrator", role="admin", password_hash=hash_password(pw),
                         created_at=utcnow()))
    try:
        db.write_sync(run)
    except IntegrityError:  # another worker created it at the same moment
        return None
    if generated:
        print(f"\n  First start: user 'admin' created with password: {generated}\n"
              "  (shown once; set QMS_ADMIN_PASSWORD to choose it)\n", file=sys.stderr, flush=True)
    return generated
