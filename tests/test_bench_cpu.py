"""How the benches count server CPU (bench/cpu.py): when a process has settled after a batch, and what
the batch cost once the idle rate is taken off."""
from __future__ import annotations

import os
import time

from bench.cpu import TICK_S, is_settled, net_cpu_s, process_cpu_s, ratio, verdict


def test_not_settled_before_a_quiet_stretch_is_long_enough() -> None:
    samples = [(0.0, 1.0), (0.2, 1.0), (0.4, 1.0)]
    assert not is_settled(samples, idle=0.0, quiet_s=0.5)
    assert is_settled(samples + [(0.6, 1.0)], idle=0.0, quiet_s=0.5)


def test_work_after_the_answer_keeps_it_unsettled() -> None:
    # a checkpoint 1 s after the batch: 50 ms of CPU inside the last half second
    samples = [(0.0, 1.0), (0.5, 1.0), (1.0, 1.05), (1.2, 1.05)]
    assert not is_settled(samples, idle=0.0, quiet_s=0.5)
    assert is_settled(samples + [(1.6, 1.05)], idle=0.0, quiet_s=0.5)


def test_idle_rate_and_one_tick_of_slack_count_as_quiet() -> None:
    idle = 0.02  # 20 ms of timers per second
    samples = [(0.0, 1.0), (1.0, 1.0 + idle + TICK_S)]
    assert is_settled(samples, idle=idle, quiet_s=1.0)
    assert not is_settled([(0.0, 1.0), (1.0, 1.0 + idle + 3 * TICK_S)], idle=idle, quiet_s=1.0)


def test_net_cpu_takes_off_the_idle_rate_over_the_window() -> None:
    assert net_cpu_s(10.0, 10.5, seconds=2.0, idle=0.05) == 0.4
    assert net_cpu_s(10.0, 10.0, seconds=2.0, idle=0.05) == 0.0  # never negative


def test_ratio_and_verdict() -> None:
    assert ratio(6.0, 2.0) == 3.0
    assert verdict(3.0, 3.0) == "PASS"
    assert verdict(3.01, 3.0) == "FAIL"
    assert verdict(ratio(1.0, 0.0), 3.0) == "FAIL"  # an unmeasured floor is no pass
    assert verdict(float("nan"), 3.0) == "FAIL"


def test_process_cpu_counts_a_busy_loop() -> None:
    before = process_cpu_s(os.getpid())
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    assert 0.1 <= process_cpu_s(os.getpid()) - before <= 1.0
