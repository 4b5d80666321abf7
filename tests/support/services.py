"""Private PostgreSQL and Redis servers on free loopback ports, for tests that stop and restart them."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.server import free_port


def have_postgres() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")) and shutil.which("su") is not None


def have_redis() -> bool:
    return shutil.which("redis-server") is not None


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateRedis:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            pong = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout
            if pong.strip() == b"PONG":
                return self
            time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class PrivatePostgres:
    """A throwaway cluster owned by the `postgres` system user (PostgreSQL refuses to run as root)."""

    def __init__(self) -> None:
        self.bin = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
        self.dir = Path(tempfile.mkdtemp(prefix="qms-pg-"))
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _as_postgres(self, *args: str) -> None:
        cmd = " ".join(args)
        if os.geteuid() == 0:
            subprocess.run(["su", "postgres", "-s", "/bin/sh", "-c", cmd], check=True, capture_output=True)
        else:
            subprocess.run(["sh", "-c", cmd], check=True, capture_output=True)

    def init(self) -> PrivatePostgres:
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        self._as_postgres(f"{self.bin}/initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "postgres")
        return self.start()

    def start(self) -> PrivatePostgres:
        self._as_postgres(f"{self.bin}/pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w",
                          "-o", f"'-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off'", "start")
        return self

    def stop(self) -> None:
        try:
            self._as_postgres(f"{self.bin}/pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")
        except subprocess.CalledProcessError:
            pass
