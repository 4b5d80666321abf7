"""Server CPU as the benches count it: user + system time from /proc, including the work a server does
after it has answered (folds, checkpoints, refinements run on timers), less what it spends when idle.

A batch's CPU = the process's CPU from just before the batch until it has settled afterwards (no more
than its idle rate over the last `quiet_s`), minus the idle rate times that window. Per request = that
over the batch's requests. /proc counts in clock ticks (10 ms), so a batch should cost many ticks.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

TICK_S = 1 / os.sysconf("SC_CLK_TCK")
QUIET_S = 1.5  # longer than any work QMS schedules after a write (its WAL checkpoint runs 1 s after one)
SETTLE_TIMEOUT_S = 20.0


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of `values`; NaN for none."""
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] if s else float("nan")


def _stat_fields(pid: int) -> list[str]:
    # fields after the command name, which may itself hold spaces or brackets: fields[0] is field 3 (state)
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_s(pid: int) -> float:
    """CPU seconds (utime + stime, every thread, the living and the ended) a process has used."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) * TICK_S


def processes() -> dict[int, tuple[int, str]]:
    """Every process on the machine: pid -> (parent pid, command name)."""
    out: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "stat").read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        out[int(entry.name)] = (int(text.rsplit(")", 1)[1].split()[1]), name)
    return out


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (a uvicorn master and its workers)."""
    children: dict[int, list[int]] = {}
    for p, (ppid, _) in processes().items():
        children.setdefault(ppid, []).append(p)
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_of(pids: list[int]) -> float:
    """CPU seconds of several processes; one that has gone counts nothing."""
    total = 0.0
    for p in pids:
        try:
            total += process_cpu_s(p)
        except (OSError, IndexError, ValueError):
            pass
    return total


def idle_rate(read: Callable[[], float], seconds: float = 2.0) -> float:
    """CPU seconds per wall second a server spends with nothing asked of it (timers, pings)."""
    c0, t0 = read(), time.monotonic()
    time.sleep(seconds)
    return max(0.0, (read() - c0) / (time.monotonic() - t0))


def is_settled(samples: list[tuple[float, float]], idle: float, quiet_s: float = QUIET_S) -> bool:
    """Whether the (time, cpu) samples, oldest first, end in a stretch of at least `quiet_s` in which the
    process used no more than its idle rate (one clock tick of slack, the counter's resolution)."""
    if not samples:
        return False
    t_end, c_end = samples[-1]
    start = None
    for t, c in reversed(samples):
        if t_end - t >= quiet_s:
            start = (t, c)
            break
    if start is None:
        return False
    t0, c0 = start
    return c_end - c0 <= idle * (t_end - t0) + TICK_S * 1.01


def net_cpu_s(cpu0: float, cpu1: float, seconds: float, idle: float) -> float:
    """What a window of work cost: the CPU used over it less the idle rate over the same window."""
    return max(0.0, cpu1 - cpu0 - idle * seconds)


def ratio(value: float, floor: float) -> float:
    return value / floor if floor > 0 else float("inf")


def verdict(value: float, limit: float) -> str:
    """PASS when a ratio is within its target (a ratio that could not be measured fails)."""
    return "PASS" if value == value and value <= limit else "FAIL"  # NaN != NaN


class CpuMeter:
    """Counts one batch of requests: start() before it, settle() after its last answer."""

    def __init__(self, read: Callable[[], float], idle: float, quiet_s: float = QUIET_S,
                 poll_s: float = 0.05, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
        self.read, self.idle, self.quiet_s, self.poll_s, self.timeout_s = read, idle, quiet_s, poll_s, timeout_s
        self.cpu0 = self.t0 = 0.0
        self.timed_out = 0  # batches that never settled (counted up to the timeout)

    def start(self) -> None:
        self.cpu0, self.t0 = self.read(), time.monotonic()

    def settle(self) -> float:
        """The batch's CPU seconds, once the process has gone quiet, less the idle rate over the window."""
        samples = [(time.monotonic(), self.read())]
        deadline = samples[0][0] + self.timeout_s
        while not is_settled(samples, self.idle, self.quiet_s):
            if time.monotonic() > deadline:
                self.timed_out += 1
                break
            time.sleep(self.poll_s)
            samples.append((time.monotonic(), self.read()))
        t1, cpu1 = samples[-1]
        return net_cpu_s(self.cpu0, cpu1, t1 - self.t0, self.idle)


def workers_cpu_s(master_pid: int) -> float:
    """CPU seconds (user + system) a uvicorn master's worker processes have used so far (bench/chaos.py)."""
    return cpu_of(descendants(master_pid)[1:]) if master_pid > 0 else 0.0
