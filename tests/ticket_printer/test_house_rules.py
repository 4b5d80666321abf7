"""ticket_printer takes only plain data from counters: models, types, clock helpers; never the queue's
logic (estimates) or its event log (the server lends those through ticket_printer/hooks.py)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOM = Path(__file__).resolve().parents[2] / "ticket_printer"
PLAIN = {"counters.models", "counters.types", "counters.clock"}


def test_ticket_printer_imports_only_plain_data_from_counters() -> None:
    bad = []
    for path in ROOM.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in ("counters", "server"):
                if node.module not in PLAIN:
                    bad.append(f"{path.name}: from {node.module} import ...")
            elif isinstance(node, ast.Import):
                bad += [f"{path.name}: import {a.name}" for a in node.names
                        if a.name.split(".")[0] in ("counters", "server")]
    assert not bad, bad
