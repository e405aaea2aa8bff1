"""`screener worker`: an RQ worker whose heavy parts are loaded once, before it forks.

RQ forks a work horse for each job, and the horses share what the parent loaded
(copy-on-write). So the flows, the catalogs and the PolicyEngine model (~40 s, ~1 GB) are
loaded here once, not in every job (docs/estimates.md). The worker runs RQ's
scheduler too: retries with backoff, holds for quiet hours and throughput, and reminders.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from collections.abc import Sequence

from redis import Redis
from rq import Worker

from worker import followups
from worker.estimates import get_estimator
from worker.queues import ESTIMATES, QUEUES, queue
from worker.settings import Settings, redis_url

MAINTENANCE_SECONDS = 60


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
    followups.content()
    if ESTIMATES in names and not _warm_estimates():
        names.remove(ESTIMATES)
    if not names:
        return 0
    connection = Redis.from_url(redis_url())
    if ESTIMATES in names:
        followups.resume(connection)  # batches of drains killed with their worker
    print(f"Worker serving {', '.join(names)}.", flush=True)
    rq_worker(names, connection).work(with_scheduler=True, logging_level="INFO")
    return 0


def rq_worker(names: Sequence[str], connection: Redis) -> Worker:
    """Maintenance every minute, not RQ's ten: after a crash the scheduler's lock outlives the
    dead worker, and only maintenance tries to take it again (retries, reminders, holds) and
    returns the dead worker's jobs. An idle RQ worker runs maintenance only when its wait for
    a job times out, after its TTL less 15 s (405 s by default), so the TTL follows."""
    return Worker([queue(name, connection) for name in names], connection=connection,
                  maintenance_interval=MAINTENANCE_SECONDS,
                  worker_ttl=MAINTENANCE_SECONDS + 15)


def _warm_estimates() -> bool:
    """Load and warm the model; False when the `estimates` extra is not installed."""
    if importlib.util.find_spec("policyengine_us") is None:
        print("Dollar estimates are off: policyengine-us is not installed "
              "(pip install -e '.[estimates]').", flush=True)
        return False
    print("Loading the PolicyEngine-US model for dollar estimates (30-50 s)...", flush=True)
    started = time.perf_counter()
    get_estimator()
    print(f"Dollar estimates ready (model loaded in {time.perf_counter() - started:.0f} s).",
          flush=True)
    return True
