"""RQ queues, named by purpose.

A worker takes jobs from its queues in the order listed, so `outbound` comes first: a
resident's message must never wait behind a slow benefit estimate.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Any

from redis import Redis
from redis.client import Pipeline
from rq import Queue
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

OUTBOUND = "outbound"  # messages to residents (Twilio REST API or the local outbox)
ESTIMATES = "estimates"  # benefit amount estimates and other slow lookups
QUEUES = (OUTBOUND, ESTIMATES)


def queue(name: str, connection: Redis) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; the queues are {QUEUES}")
    return _queue(name, connection)


@lru_cache(maxsize=32)
def _queue(name: str, connection: Redis) -> Queue:
    """One Queue per name and client, not one per job: making one checks its serializer
    against RQ's serializer protocol, a slow `isinstance` before Python 3.12."""
    return Queue(name, connection=connection)


def schedule(target: Queue, when: datetime, pipeline: Pipeline | None,
             func: Callable[..., Any], *args: Any, **options: Any) -> Job:
    """`target.enqueue_at(when, func, *args, **options)`, every write of it in `pipeline`
    (executed here when None). RQ's own sends the scheduled registry's ZADD at once, on a
    round trip of its own: rq 2's `ScheduledJobRegistry.schedule` ignores the pipeline it is
    given. The job, its queue's name and its place in the registry are written together."""
    options["timeout"] = options.pop("job_timeout", None)  # as enqueue_at names it
    job = target.create_job(func, args=args, status=JobStatus.SCHEDULED, **options)
    pipe = target.connection.pipeline() if pipeline is None else pipeline
    pipe.sadd(target.redis_queues_keys, target.key)
    job.save(pipeline=pipe)
    # Scored as RQ scores it: whole seconds, UTC.
    pipe.zadd(ScheduledJobRegistry(queue=target).key,
              {job.id: calendar.timegm(when.utctimetuple())})
    if pipeline is None:
        pipe.execute()
    return job
