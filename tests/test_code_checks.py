"""The rules of the house that a tool can check: ruff (the rules chosen in pyproject.toml) over the whole
tree, and mypy over the four packages that ship. Part of the test command, so CI fails on a finding."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=240,
                          check=False)


def test_ruff_finds_nothing() -> None:
    done = _run("ruff", "check", "--no-cache", ".")
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


@pytest.mark.timeout(300)
def test_mypy_finds_nothing_in_the_packages() -> None:
    done = _run("mypy")  # what it checks, and how, is in pyproject.toml
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
