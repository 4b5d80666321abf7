"""Documentation keeps up: every setting and every endpoint is in the README (or the shared contract),
and the Alembic migrations describe exactly the tables the code defines."""
from __future__ import annotations

import re
import tempfile
from pathlib import Path

from alembic import command

from server.app import all_endpoints
from server.db import Database
from server.migrate import alembic_config, upgrade
from server.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")
CONTRACT = ROOT.parent / "shared" / "API.md"


def _normal(path: str) -> str:
    return re.sub(r"\{(\w+)(:\w+)?\}", "{}", path)


def test_every_setting_is_documented() -> None:
    missing = [s.name for s in SETTINGS if s.name not in README]
    assert not missing, f"settings missing from README.md: {missing}"


def test_every_endpoint_is_documented() -> None:
    docs = README + (CONTRACT.read_text("utf-8") if CONTRACT.exists() else "")
    documented = {_normal(p) for p in re.findall(r"(/[\w./{}:-]*(?:\{[\w:]+\}[\w./{}-]*)*)", docs)}
    missing = sorted({f"{ep.method} {ep.path}" for ep in all_endpoints() if _normal(ep.path) not in documented})
    assert not missing, f"endpoints missing from README.md and API.md: {missing}"


def test_migrations_match_the_models() -> None:
    url = f"sqlite:///{tempfile.mkdtemp()}/check.db"
    upgrade(Database(url).engine)
    command.check(alembic_config(url))  # raises when autogenerate would find differences
