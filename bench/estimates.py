"""Benchmark of the dollar estimates (worker/estimates.py), as one RQ worker would run them.

Reports cold start (model import + first calculation), warm time per household, households per
second at several batch sizes, and worker memory. The machines are shared and noisy, so every
figure also comes as a ratio against a baseline measured in the same run: times against one
warm household alone (batch of 1), memory against the interpreter before the model loaded.

    .venv/bin/python bench/estimates.py [--sizes 1 10 100] [--repeats 5] \
        [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bot.rules import load_rules
from worker.estimates import Estimator, Item, estimate_batch

TODAY = date(2026, 11, 27)
COMMAND = ".venv/bin/python bench/estimates.py --write docs/benchmarks.md"
# The four personas of tests/test_estimates.py, with varied incomes so no two households match.
PERSONAS: tuple[dict[str, Any], ...] = (
    {"age": 20, "zip": "95112", "household_size": 1, "monthly_income": 1200, "works_20h": True,
     "monthly_rent": 900},
    {"age": 22, "zip": "95116", "household_size": 2, "youngest_child_age": 2,
     "monthly_income": 2000, "works_20h": True},
    {"age": 19, "zip": "95192", "household_size": 1, "monthly_income": 600, "student": True},
    {"age": 24, "zip": "95123", "household_size": 2, "monthly_income": 4500, "works_20h": True},
)


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    ratio: str


def rss_mb() -> float:
    """Resident memory now (Linux /proc), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def private_mb(pid: int) -> float:
    """Memory a process does not share (copy-on-write pages it has touched), in MB."""
    fields = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    kb = sum(int(line.split()[1]) for line in fields if line.startswith("Private_"))
    return kb / 1024


def items(count: int, offset: int) -> list[Item]:
    rules = load_rules()
    batch = []
    for index in range(count):
        answers = dict(PERSONAS[index % len(PERSONAS)])
        answers["monthly_income"] += 10 * (offset + index)
        matched = [program.id for program in rules.match(answers)]
        batch.append(Item(f"bench-{offset + index}", answers, matched))
    return batch


def seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def child_private_mb(estimator: Estimator) -> float:
    """What one job adds to a warm worker: RQ forks a child per job (copy-on-write)."""
    batch = items(10, 10_000)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        estimate_batch(batch, TODAY, estimator)
        os.write(write, f"{private_mb(os.getpid()):.1f}".encode())
        os._exit(0)  # skip the interpreter's multi-second teardown
    os.close(write)
    value = float(os.read(read, 64).decode())
    os.waitpid(pid, 0)
    return value


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_rows(estimator: Estimator, sizes: Sequence[int], repeats: int,
              cold: float) -> list[Row]:
    """Times against the baseline, one warm household alone, measured in the same round
    just before each batch so a busy neighbour slows both alike."""
    alone, batches = items(1, 0), {size: items(size, size) for size in sizes}
    baselines: list[float] = []
    per_household: dict[int, list[float]] = {size: [] for size in sizes}
    speedups: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(repeats):
        for size, batch in batches.items():
            one = seconds(lambda: estimate_batch(alone, TODAY, estimator))
            each = seconds(lambda b=batch: estimate_batch(b, TODAY, estimator)) / size
            baselines.append(one)
            per_household[size].append(each)
            speedups[size].append(one / each)
    one = statistics.median(baselines)
    load = estimator.load_seconds or 0.0
    rows = [
        Row("Model import", f"{load:.1f} s", f"{load / one:.0f}x"),
        Row("Cold start (import + first calculation)", f"{cold:.1f} s", f"{cold / one:.0f}x"),
        Row("Warm, 1 household alone (baseline)", f"{one * 1000:.0f} ms", "1x"),
    ]
    for size in sizes:
        each, speedup = statistics.median(per_household[size]), statistics.median(speedups[size])
        rows += [
            Row(f"Batch of {size}: time per household", f"{each * 1000:.1f} ms",
                f"{1 / speedup:.3f}x"),
            Row(f"Batch of {size}: households per second", f"{1 / each:.1f}",
                f"{speedup:.1f}x"),
        ]
    return rows


def memory_rows(estimator: Estimator, base: float, loaded: float, warm: float) -> list[Row]:
    """Memory against the baseline: the interpreter before the model loaded."""
    now, child = rss_mb(), child_private_mb(estimator)
    return [
        Row("Memory: interpreter before the model (baseline)", f"{base:.0f} MB", "1x"),
        Row("Memory: after the import", f"{loaded:.0f} MB", f"{loaded / base:.1f}x"),
        Row("Memory: warm worker (after warm-up)", f"{warm:.0f} MB", f"{warm / base:.1f}x"),
        Row("Memory: worker after all batches", f"{now:.0f} MB", f"{now / base:.1f}x"),
        Row("Memory: worker peak", f"{peak_mb():.0f} MB", f"{peak_mb() / base:.1f}x"),
        Row("Memory: a forked job's own pages (batch of 10)", f"{child:.0f} MB",
            f"{child / base:.1f}x"),
    ]


def measure(sizes: Sequence[int], repeats: int) -> list[Row]:
    base = rss_mb()
    estimator = Estimator()
    started = time.perf_counter()
    estimator.load()
    loaded = rss_mb()
    estimator.warm_up(TODAY)
    cold = time.perf_counter() - started
    warm = rss_mb()
    rows = time_rows(estimator, sizes, repeats, cold)
    return rows + memory_rows(estimator, base, loaded, warm)


def markdown(rows: Sequence[Row], sizes: Sequence[int], repeats: int) -> str:
    lines = [
        "# Benchmarks",
        "",
        "## Dollar estimates (PolicyEngine-US)",
        "",
        "How fast one RQ worker computes dollar estimates (`worker/estimates.py`): the model is",
        "loaded once per worker process, and the households waiting in the queue are computed",
        "together in one simulation, so throughput grows with the queue. Shared machines are",
        "noisy: compare the ratio column, measured against a baseline from the same run",
        "(times: one warm household alone; memory: the interpreter before the model).",
        "Each batch is timed right after its own baseline run and a time ratio is the median of",
        "those per-round ratios, so it can differ from the ratio of the medians shown.",
        "",
        "Command (from the repository root):",
        "",
        "```bash",
        COMMAND,
        "```",
        "",
        f"Run on {date.today().isoformat()}: policyengine-us {version('policyengine-us')}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs; "
        f"medians of {repeats} rounds per batch size ({', '.join(map(str, sizes))}).",
        "",
        "| Measure | Value | Ratio to baseline |",
        "|---|---|---|",
        *(f"| {row.label} | {row.value} | {row.ratio} |" for row in rows),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", type=Path, help="write the Markdown report to this file")
    args = parser.parse_args(argv)
    report = markdown(measure(args.sizes, args.repeats), args.sizes, args.repeats)
    print(report)
    if args.write:
        args.write.write_text(report, encoding="utf-8")
    sys.stdout.flush()
    os._exit(0)  # skip the interpreter's multi-second teardown of the model


if __name__ == "__main__":
    main()
