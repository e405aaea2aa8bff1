"""`screener worker`: an RQ worker whose heavy parts are loaded once, before it forks.

RQ forks a work horse for each job, and the horses share what the parent loaded
(copy-on-write). So the flows, the catalogs and the PolicyEngine model (~40 s, ~1 GB) are
loaded here once, not in every job (docs/estimates.md), and the parent warms the model again
when San José's month turns, so no job rebuilds that month's tables. The worker reports
itself loading, then ready (worker/readiness.py: `screener jobs`, /healthz). It runs RQ's
scheduler too: retries with backoff, holds for quiet hours and throughput, and reminders.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from collections.abc import Sequence
from uuid import uuid4

from redis import Redis
from redis.client import Pipeline
from rq import Worker
from rq.job import Job
from rq.queue import Queue

from bot.rules import san_jose_date
from worker import followups, readiness
from worker.estimates import get_estimator, loaded_estimator
from worker.queues import ESTIMATES, QUEUES, queue
from worker.readiness import WorkerState
from worker.settings import Settings, redis_url

MAINTENANCE_SECONDS = 60
log = logging.getLogger(__name__)


def run(names: Sequence[str] = QUEUES) -> int:
    """Serve `names` (in that order of priority) until stopped."""
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    try:
        Settings.from_env()  # refuse bad settings now rather than in every job
    except (RuntimeError, ValueError) as error:
        print(f"screener worker: {error}", file=sys.stderr)
        return 2
    names = [name for name in QUEUES if name in names]
    connection = Redis.from_url(redis_url())
    starting = WorkerState.starting(uuid4().hex, names, time.time())
    with readiness.loading(connection, starting, time.time):
        followups.content()
        if ESTIMATES in names and not _warm_estimates():
            names.remove(ESTIMATES)
    if not names:
        readiness.forget(connection, starting.name)
        return 0
    if ESTIMATES in names:
        followups.resume(connection)  # batches of drains killed with their worker
    print(f"Worker serving {', '.join(names)}.", flush=True)
    worker = rq_worker(names, connection, starting.name)
    now = time.time()
    worker.readiness = starting.ready(names, now, now - starting.since)
    worker.work(with_scheduler=True, logging_level="INFO")
    return 0


class ReportingWorker(Worker):
    """RQ's forking worker that reports itself ready while it listens (its heartbeat keeps
    the report fresh, its clean stop removes it) and, before it forks an estimates job, warms
    the model again if San José's month has turned since the last warm-up."""

    readiness: WorkerState | None = None

    def register_birth(self) -> None:
        super().register_birth()
        self._report(self.connection)

    def heartbeat(self, timeout: int | None = None, pipeline: Pipeline | None = None) -> None:
        super().heartbeat(timeout, pipeline)
        self._report(pipeline if pipeline is not None else self.connection)

    def register_death(self) -> None:
        if self.readiness is not None:
            readiness.forget(self.connection, self.name)
        super().register_death()

    def execute_job(self, job: Job, queue: Queue) -> None:
        estimator = loaded_estimator()
        if queue.name == ESTIMATES and estimator is not None:
            started = time.perf_counter()
            if estimator.keep_warm(san_jose_date()):
                log.info("model warmed for a new month in %.1f s", time.perf_counter() - started)
        super().execute_job(job, queue)

    def _report(self, connection: Redis | Pipeline) -> None:
        if self.readiness is not None:
            readiness.report(connection, self.readiness, time.time())


def rq_worker(names: Sequence[str], connection: Redis,
              name: str | None = None) -> ReportingWorker:
    """Maintenance every minute, not RQ's ten: after a crash the scheduler's lock outlives the
    dead worker, and only maintenance tries to take it again (retries, reminders, holds) and
    returns the dead worker's jobs. An idle RQ worker runs maintenance only when its wait for
    a job times out, after its TTL less 15 s (405 s by default), so the TTL follows."""
    return ReportingWorker([queue(name, connection) for name in names], connection=connection,
                           name=name, maintenance_interval=MAINTENANCE_SECONDS,
                           worker_ttl=MAINTENANCE_SECONDS + 15)


def _warm_estimates() -> bool:
    """Load and warm the model; False when the `estimates` extra is not installed."""
    if importlib.util.find_spec("policyengine_us") is None:
        print("Dollar estimates are off: policyengine-us is not installed "
              "(pip install -e '.[estimates]').", flush=True)
        return False
    print("Loading the PolicyEngine-US model for dollar estimates (40-60 s)...", flush=True)
    started = time.perf_counter()
    get_estimator()
    print(f"Dollar estimates ready (model loaded in {time.perf_counter() - started:.0f} s).",
          flush=True)
    return True
