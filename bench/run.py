"""`qms bench`: run the project's benchmarks, each printing its own figures."""
from __future__ import annotations

import importlib
import time

BENCHMARKS = {
    "api": "bench.api_bench",
    "write": "bench.write_path",
    "fanout": "bench.fanout",
    "printing": "bench.printing",
    "prediction": "bench.prediction",
    "reports": "bench.reports",
    "scale": "bench.scale",
    "webhooks": "bench.webhooks",
    "chaos": "bench.chaos",
}


def main(only: list[str] | None = None) -> int:
    names = only or list(BENCHMARKS)
    failed = 0
    for name in names:
        module = BENCHMARKS.get(name)
        if module is None:
            print(f"unknown benchmark {name}; known: {', '.join(BENCHMARKS)}")
            return 2
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            print(f"== {name}: not available ({e})")
            continue
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        failed += int(bool(mod.main()))
        print(f"== {name} done in {time.perf_counter() - start:.1f} s\n", flush=True)
    return 1 if failed else 0
