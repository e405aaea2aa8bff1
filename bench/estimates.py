"""Benchmark of the dollar estimates (worker/estimates.py), as RQ workers run them.

Two parts, one after the other so at most two processes hold the model at once:

1. The model in a child of this script, as a worker holds it: import, cold start, time per
   household and households per second at several batch sizes (each batch in a fresh fork,
   as RQ runs each drain), the first batch for a new year with and without the worker warming
   again, memory.
2. Real `screener worker` processes (bench/worker_start.py): start to loading and to ready,
   and the first estimate after results, each against a baseline run beside it.

The machines are shared and noisy, so every figure comes with a baseline measured in the same
run, and times taken in rounds are each compared with the baseline run beside them.

    .venv/bin/python bench/estimates.py [--sizes 1 10 100] [--repeats 5] [--results 5] \
        [--write docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass
from datetime import date
from importlib.metadata import version
from pathlib import Path
from typing import Any

from report import write_section  # bench/report.py, beside this script

from bot.rules import load_rules
from worker import estimates
from worker.estimates import Estimator, Item, estimate_batch

TODAY = date(2026, 11, 27)
NEW_YEAR = date(2027, 1, 15)
SECTION = "## Dollar estimates (PolicyEngine-US)"
TARGET = ("Issue 14 asks for at least 100 households a second in a batch of 100. Before its "
          "work (2026-11-27, this command then, in one process only): model import 40.9 s, "
          "import + first calculation 53.8 s, a batch of 100 at 83.0 households a second; "
          "start to ready of a real worker and the first estimate were not measured.")
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
    baseline: str
    ratio: str


def seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def median_ratio(pairs: Sequence[tuple[float, float]]) -> float:
    """The median of per-round ratios (measure / baseline run beside it)."""
    return statistics.median(value / base for value, base in pairs)


# 1. The model --------------------------------------------------------------------------------


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


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def items(count: int, offset: int) -> list[Item]:
    rules = load_rules()
    batch = []
    for index in range(count):
        answers = dict(PERSONAS[index % len(PERSONAS)])
        answers["monthly_income"] += 10 * (offset + index)
        matched = [program.id for program in rules.match(answers)]
        batch.append(Item(f"bench-{offset + index}", answers, matched))
    return batch


def in_fork(job: Callable[[], Any]) -> Any:
    """`job`'s figures (JSON), computed in a fresh fork of this process, as RQ runs a drain."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        with os.fdopen(write, "w") as out:
            json.dump(job(), out)
        os._exit(0)  # skip the interpreter's multi-second teardown
    os.close(write)
    with os.fdopen(read) as answer:
        value = json.load(answer)
    os.waitpid(pid, 0)
    return value


def time_rows(estimator: Estimator, sizes: Sequence[int], repeats: int,
              cold: float) -> tuple[list[Row], float]:
    """Times against one warm household alone in the worker, run just before each batch so a
    busy neighbour slows both alike; and that baseline. Every batch runs in a fresh fork of
    the worker as its warm-up left it, as RQ runs each drain, and then once more in the same
    fork (what the fork no longer has to build); the largest also on the interpreter's
    16 KB frame-stack chunks, as before `in_one_stack_chunk`."""
    alone, batches = items(1, 0), {size: items(size, size) for size in sizes}
    largest = max(sizes)
    rounds: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
    chunk_rounds: list[tuple[float, float]] = []  # per household in 16 KB chunks, baseline
    again: list[tuple[float, float]] = []  # first batch in a fork, second
    chunked: list[tuple[float, float]] = []  # in one chunk, in 16 KB chunks

    def drain(batch: list[Item], runs: int = 1, chunks: bool = False) -> list[float]:
        if chunks:  # this fork only
            estimates.in_one_stack_chunk = lambda call: call()
        return [seconds(lambda: estimate_batch(batch, TODAY, estimator)) for _ in range(runs)]

    for _ in range(repeats):
        for size, batch in batches.items():
            one = seconds(lambda: estimate_batch(alone, TODAY, estimator))
            first, second = in_fork(lambda b=batch: drain(b, runs=2))
            rounds[size].append((first / size, one))
            if size == largest:
                again.append((first, second))
                [plain] = in_fork(lambda b=batch: drain(b, chunks=True))
                chunk_rounds.append((plain / size, one))
                chunked.append((first, plain))
    one = statistics.median(base for pairs in rounds.values() for _, base in pairs)
    base = f"{one * 1000:.0f} ms (1 warm household alone)"
    load = estimator.load_seconds or 0.0
    rows = [
        Row("Model import", f"{load:.1f} s", base, f"{load / one:.0f}x"),
        Row("Cold start in one process (import + warm-up)", f"{cold:.1f} s", base,
            f"{cold / one:.0f}x"),
    ]
    for size in sizes:
        rows += per_household_rows(f"Batch of {size} (a drain: a fresh fork)", rounds[size],
                                   base)
    rows += per_household_rows(f"Batch of {largest}, frames in 16 KB stack chunks (before)",
                               chunk_rounds, base)
    rows += [
        Row(f"Batch of {largest}, the whole batch in a fresh fork",
            f"{statistics.median(first for first, _ in again):.2f} s",
            f"{statistics.median(second for _, second in again):.2f} s (the same batch again "
            "in that fork)", f"{median_ratio(again):.2f}x"),
        Row(f"Batch of {largest}, frames in one stack chunk",
            f"{statistics.median(first for first, _ in chunked):.2f} s",
            f"{statistics.median(plain for _, plain in chunked):.2f} s (in 16 KB chunks, "
            "CPython 3.11's way)", f"{median_ratio(chunked):.2f}x"),
    ]
    return rows, one


def per_household_rows(label: str, pairs: Sequence[tuple[float, float]],
                       base: str) -> list[Row]:
    each, ratio = statistics.median(e for e, _ in pairs), median_ratio(pairs)
    return [Row(f"{label}: time per household", f"{each * 1000:.1f} ms", base, f"{ratio:.3f}x"),
            Row(f"{label}: households per second", f"{1 / each:.1f}", base,
                f"{1 / ratio:.1f}x")]


def new_year_rows(estimator: Estimator, one: float) -> list[Row]:
    """A drain in a new year forks from a parent warmed for the old one: every fork builds
    the year's tables, until the parent warms again (worker/start.py does, before forking)."""
    batch = items(10, 500)
    base = f"{one * 1000:.0f} ms (1 warm household alone)"
    stale = in_fork(lambda: seconds(lambda: estimate_batch(batch, NEW_YEAR, estimator)))
    rewarm = seconds(lambda: estimator.keep_warm(NEW_YEAR))
    warm = in_fork(lambda: seconds(lambda: estimate_batch(batch, NEW_YEAR, estimator)))
    return [
        Row("New year, batch of 10 in a fork of a worker warmed for the old year",
            f"{stale:.2f} s", base, f"{stale / one:.1f}x"),
        Row("New year, the same after the worker warmed again (once, before forking: "
            f"{rewarm:.1f} s)", f"{warm:.2f} s", base, f"{warm / one:.1f}x"),
    ]


def memory_rows(estimator: Estimator, base: float, loaded: float, warm: float) -> list[Row]:
    """Memory against the interpreter before the model loaded."""
    batch = items(10, 10_000)

    def own_pages() -> float:
        estimate_batch(batch, TODAY, estimator)
        return private_mb(os.getpid())

    now, child = rss_mb(), in_fork(own_pages)
    label = f"{base:.0f} MB (the interpreter before the model)"
    return [
        Row("Memory: after the import", f"{loaded:.0f} MB", label, f"{loaded / base:.1f}x"),
        Row("Memory: warm worker (after warm-up)", f"{warm:.0f} MB", label,
            f"{warm / base:.1f}x"),
        Row("Memory: worker after the rounds (each batch in a fork)", f"{now:.0f} MB", label,
            f"{now / base:.1f}x"),
        Row("Memory: worker peak", f"{peak_mb():.0f} MB", label, f"{peak_mb() / base:.1f}x"),
        Row("Memory: a forked job's own pages (batch of 10)", f"{child:.0f} MB", label,
            f"{child / base:.1f}x"),
    ]


def model_rows(sizes: Sequence[int], repeats: int) -> list[Row]:
    base = rss_mb()
    estimator = Estimator()
    started = time.perf_counter()
    estimator.load()
    loaded = rss_mb()
    estimator.warm_up(TODAY)
    cold = time.perf_counter() - started
    warm = rss_mb()
    rows, one = time_rows(estimator, sizes, repeats, cold)
    rows += memory_rows(estimator, base, loaded, warm)
    return rows + new_year_rows(estimator, one)  # last: it warms this process for 2027


# The report ----------------------------------------------------------------------------------


def markdown(rows: Sequence[Row], args: argparse.Namespace,
             load: tuple[float, float, float]) -> str:
    lines = [
        SECTION,
        "",
        "How fast RQ workers compute dollar estimates (`worker/estimates.py`). `screener worker`",
        "loads the model once and warms it, then forks a work horse per job (copy-on-write);",
        "it reports loading, then ready (`screener jobs`, `/healthz`), and warms the model",
        "again when San José's month turns. Households waiting in the queue are computed",
        "together in one simulation, whose cost barely grows with its size, with its frames in",
        "one chunk of the interpreter's stack (`in_one_stack_chunk`). Shared machines are",
        "noisy: compare the ratio column, each against the baseline named beside it and",
        "measured in the same run. Times taken in rounds are each compared with the baseline",
        "run just before, and the ratio is the median of those, so it can differ from the",
        "ratio of the medians shown. Why a cold start still takes half a minute or more, and",
        "what could not be made faster:",
        "[estimates.md](estimates.md#why-a-cold-start-still-takes-half-a-minute-or-more).",
        "",
        TARGET,
        "",
        "Command (from the repository root):",
        "",
        "```bash",
        COMMAND,
        "```",
        "",
        f"Run on {date.today().isoformat()}: policyengine-us {version('policyengine-us')}, "
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs (load average "
        f"{load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end); a throwaway "
        f"Redis; {args.results} screenings to results; medians of {args.repeats} rounds per "
        f"batch size ({', '.join(map(str, args.sizes))}).",
        "",
        "| Measure | Value | Baseline (same run) | Ratio |",
        "|---|---|---|---|",
        *(f"| {row.label} | {row.value} | {row.baseline} | {row.ratio} |" for row in rows),
        "",
    ]
    return "\n".join(lines)


def model_in_child(sizes: Sequence[int], repeats: int) -> list[Row]:
    """`model_rows` in a fork that exits afterwards, so the model leaves with it."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        with os.fdopen(write, "w") as out:
            json.dump([astuple(row) for row in model_rows(sizes, repeats)], out)
        os._exit(0)  # skip the interpreter's multi-second teardown of the model
    os.close(write)
    with os.fdopen(read) as answer:
        rows = [Row(*row) for row in json.load(answer)]
    os.waitpid(pid, 0)
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--results", type=int, default=5,
                        help="screenings to results, each timed to its estimate text")
    parser.add_argument("--write", type=Path, help="write the section into this Markdown file")
    args = parser.parse_args(argv)
    load = os.getloadavg()  # other work on the machine slows every figure
    model = model_in_child(args.sizes, args.repeats)
    from worker_start import worker_rows  # the web app: only once the model part is done

    with tempfile.TemporaryDirectory(prefix="bench-estimates-") as folder:
        rows = [Row(*row) for row in worker_rows(args.results, Path(folder))] + model
    report = markdown(rows, args, load)
    print(report)
    if args.write:
        write_section(args.write, SECTION, report)


if __name__ == "__main__":
    main()
