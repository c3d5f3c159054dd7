"""What two cores give here, against one, for plain Python work: the ceiling of any ``--workers``
figure on this machine (a virtual machine's cores may share what is under them).

    python benchmarks/bench_cores.py [--rounds 5] [--seconds 3]

Each round times a fixed CPU-bound loop in one process alone, then in two processes at once, and
prints the throughput of the two against the one (2.00x: two full cores). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor


def spin(n: int) -> float:
    """CPU seconds for ``n`` rounds of interpreter work (arithmetic, a dict, a string)."""
    started = time.process_time()
    seen: dict[int, str] = {}
    total = 0
    for i in range(n):
        total += i * i
        seen[i & 1023] = str(i)
    return time.process_time() - started


def timed(pool: ProcessPoolExecutor, n: int, processes: int) -> float:
    started = time.perf_counter()
    for future in [pool.submit(spin, n) for _ in range(processes)]:
        future.result()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="about how long one loop runs alone")
    args = parser.parse_args()
    with ProcessPoolExecutor(2) as pool:
        pool.submit(spin, 1000).result()
        per_second = 200_000 / pool.submit(spin, 200_000).result()
        n = int(per_second * args.seconds)
        ratios = []
        for round_ in range(args.rounds):
            one, two = timed(pool, n, 1), timed(pool, n, 2)
            ratios.append(2 * one / two)
            print(f"  round {round_ + 1}: one process {one:.2f} s, two at once {two:.2f} s: "
                  f"{ratios[-1]:.2f}x one core; load {os.getloadavg()[0]:.2f}", flush=True)
    print(f"two cores give {statistics.median(ratios):.2f}x one (median of {args.rounds}; "
          f"{min(ratios):.2f} to {max(ratios):.2f})")


if __name__ == "__main__":
    main()
