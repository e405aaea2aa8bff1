"""What happens when a job fails: a log line staff can follow, and a count per queue.

RQ calls `on_failure` after every failed run, also one it will retry, so the count says
which: `sj:jobs:failures` holds `<queue>` for jobs that gave up and `<queue>:retried` for
runs that will be tried again. The log names the contact by its hash prefix only, and the
error by its type: an error's text may quote what it was given.
"""

from __future__ import annotations

import logging
from types import TracebackType

from redis import Redis
from rq.job import Job

from bot.store import PREFIX, STATS_SECONDS

log = logging.getLogger(__name__)
FAILURES = f"{PREFIX}:jobs:failures"


def on_failure(job: Job, connection: Redis, kind: type[BaseException], value: BaseException,
               trace: TracebackType | None) -> None:
    retried = job.should_retry
    log.warning("job %s on %s for contact %s failed: %s%s", job.id, job.origin,
                job.meta.get("contact", "-"), kind.__name__, "; will retry" if retried else "")
    count_failure(connection, f"{job.origin}:retried" if retried else job.origin)


def count_failure(connection: Redis, field: str) -> None:
    """Failed runs by queue: kept as long as the daily counters after the last one."""
    pipe = connection.pipeline()
    pipe.hincrby(FAILURES, field, 1)
    pipe.expire(FAILURES, STATS_SECONDS)
    pipe.execute()
