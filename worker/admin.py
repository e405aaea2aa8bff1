"""`screener jobs`: what the queues hold, and what to do with failed jobs.

Staff see, per queue, the jobs in each RQ registry; each worker, loading its model or ready,
and since when; the failures counted by the failure callback, today's outbound outcomes, the
households waiting for an estimate, and where the PolicyEngine model and our rules disagreed
(drift to look into).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import datetime

from redis import Redis
from rq import Worker
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.queue import Queue
from rq.registry import FailedJobRegistry

from bot.store import stats_key
from worker import readiness
from worker.callbacks import FAILURES
from worker.followups import DISAGREEMENTS, LEASES, PENDING
from worker.queues import ESTIMATES, QUEUES, queue
from worker.readiness import WorkerState

REGISTRIES = ("queued", "started", "scheduled", "deferred", "finished", "failed")


def registry_counts(q: Queue) -> dict[str, int]:
    return {
        "queued": q.count,
        "started": q.started_job_registry.count,
        "scheduled": q.scheduled_job_registry.count,
        "deferred": q.deferred_job_registry.count,
        "finished": q.finished_job_registry.count,
        "failed": q.failed_job_registry.count,
    }


def report(connection: Redis, names: Iterable[str], now: float | None = None) -> str:
    now = time.time() if now is None else now
    width = max(len(name) for name in REGISTRIES)
    lines = ["queue      " + " ".join(f"{name:>{width}}" for name in REGISTRIES)]
    for name in names:
        counts = registry_counts(queue(name, connection))
        lines.append(f"{name:<10} " + " ".join(f"{counts[r]:>{width}}" for r in REGISTRIES))
    workers = listening(connection, names)
    lines.append("workers listening: " + ", ".join(f"{name} {count}"
                                                     for name, count in workers.items()))
    states = readiness.alive(connection, now)
    lines += [f"  {_worker_line(state, now)}" for state in states]
    if workers.get(ESTIMATES) == 0:
        lines.append("  (an estimates worker listens once its model is loaded: 40-60 s after "
                     "it starts)")
    lines.append(f"households waiting for an estimate: {connection.llen(PENDING)}")
    batches = connection.zrange(LEASES, 0, -1)
    lines.append(f"households being estimated: {sum(connection.llen(b) for b in batches)} "
                 f"(in {len(batches)} batches)")
    lines += _table("failed runs (<queue> gave up, <queue>:retried will run again)",
                    connection.hgetall(FAILURES))
    lines += _table("outbound messages today",
                    connection.hgetall(stats_key(time.time(), "outbound")))
    lines += _table("estimates: model and rules disagree (<program>:<kind>)",
                    connection.hgetall(DISAGREEMENTS))
    return "\n".join(lines)


def listening(connection: Redis, names: Iterable[str] = QUEUES) -> dict[str, int]:
    """Workers alive and listening on each queue (RQ's registry of workers, kept by their
    heartbeats): the estimates worker joins only when its model is ready."""
    return {name: Worker.count(connection=connection, queue=queue(name, connection))
            for name in names}


def _worker_line(worker: WorkerState, now: float) -> str:
    """`<host>:<pid> <queues>: ready since 2026-12-06 11:52:03 UTC (3 min), 52 s to get
    ready`, in this machine's time zone."""
    since = datetime.fromtimestamp(worker.since).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    doing = "ready" if worker.state == readiness.READY else "loading the model"
    line = (f"{worker.host}:{worker.pid} {', '.join(worker.queues)}: {doing} since {since} "
            f"({_age(now - worker.since)})")
    if worker.state == readiness.READY and worker.load_seconds is not None:
        line += f", {worker.load_seconds:.0f} s to get ready"
    return line


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _table(title: str, counts: dict[bytes, bytes]) -> list[str]:
    rows = sorted((field.decode(), int(value)) for field, value in counts.items())
    return [f"{title}:", *(f"  {field:<44} {value:>6}" for field, value in rows)] \
        if rows else [f"{title}: none"]


def retry_failed(connection: Redis, names: Iterable[str]) -> int:
    """Put every failed job back on its queue; how many were requeued."""
    done = 0
    for registry, job_id in _failed_jobs(connection, names):
        try:
            registry.requeue(job_id)
            done += 1
        except (NoSuchJobError, InvalidJobOperation):
            registry.remove(job_id)  # its data expired: nothing left to run
    return done


def drop_failed(connection: Redis, names: Iterable[str]) -> int:
    """Delete every failed job; how many were deleted."""
    done = 0
    for registry, job_id in _failed_jobs(connection, names):
        try:
            Job.fetch(job_id, connection=connection).delete()
        except NoSuchJobError:
            registry.remove(job_id)
        done += 1
    return done


def _failed_jobs(connection: Redis,
                 names: Iterable[str]) -> Iterator[tuple[FailedJobRegistry, str]]:
    """(failed-job registry, job id) for every failed job of the named queues."""
    for name in names:
        registry = queue(name, connection).failed_job_registry
        for job_id in registry.get_job_ids():
            yield registry, job_id
