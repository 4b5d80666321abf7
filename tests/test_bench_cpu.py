"""How the benches count server CPU (bench/cpu.py): when a process has settled after a batch, and what
the batch cost once the idle rate is taken off; and how the benches judge their figures against the
targets (bench/scale.py's limit, bench/fanout.py's latency basis)."""
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


def test_what_limits_names_a_process_on_a_whole_core_first() -> None:
    from bench.scale import what_limits
    line = what_limits({"redis": 0.95, "worker 1": 0.4}, machine_share=0.9, cores=2)
    assert line.startswith("CPU-bound: redis")
    line = what_limits({"worker 1": 0.5, "worker 2": 0.5, "postgres backends (this database)": 0.6},
                       machine_share=0.95, cores=2)
    assert "cores are saturated" in line and "postgres backends (this database) 60%" in line
    assert what_limits({"worker 1": 0.2}, machine_share=0.3, cores=2).startswith("no CPU limit reached")


def test_latency_target_adds_the_write_floor_below_a_thousand_displays() -> None:
    from bench.fanout import latency_basis
    assert latency_basis(100, 20.0, 10.0) == (30.0, "broadcast + write floor")
    assert latency_basis(1000, 20.0, 10.0) == (20.0, "broadcast")
