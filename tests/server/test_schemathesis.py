"""Schemathesis against /api/v1/openapi.json: over a thousand generated requests, no 500 and no response
that breaks the documented schema, status codes or content types."""
from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def demo_server() -> Iterator[ServerProcess]:
    s = ServerProcess(demo=True).start()
    yield s
    s.stop()


def test_generated_requests_find_no_server_error_or_schema_violation(demo_server: ServerProcess) -> None:
    token = demo_server.admin().token
    cmd = [sys.executable, "-m", "schemathesis.cli", "run", f"{demo_server.base_url}/api/v1/openapi.json",
           "-H", f"Authorization: Bearer {token}", "--max-examples", "20", "--seed", "20261122",
           "--checks", "not_a_server_error,status_code_conformance,response_schema_conformance,"
                       "content_type_conformance,unsupported_method",
           "--exclude-path-regex", "logout", "--no-color", "--request-timeout", "30"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    text = out.stdout + out.stderr
    generated = re.search(r"(\d+) generated", text)
    assert generated, text[-3000:]
    assert int(generated.group(1)) >= 1000, text[-3000:]
    assert out.returncode == 0, text[-6000:]
    assert "500" not in re.findall(r"\[(\d{3})\] Internal", text)
