"""The job port (bot/jobs.py) with RQ: the web side's one door into the worker.

Declared in pyproject.toml as the entry points `jobs` (`for_app`) and `worker` (`LOCAL`) of
the group `screener.plugins`, so the web process finds it without naming `worker`. Its quiet
hours and retention come from the app's configuration, not the process environment.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job as RqJob
from rq.job import JobStatus

from bot.content import Content
from bot.engine import Job
from bot.optout import PENDING_ESTIMATE
from bot.store import key
from worker import engine_jobs, readiness
from worker.admin import listening, registry_counts
from worker.callbacks import FAILURES
from worker.followups import DISAGREEMENTS, PENDING
from worker.queues import QUEUES, queue
from worker.quiet import QuietHours
from worker.settings import Timing


@dataclass(frozen=True)
class RqJobs:
    """Engine jobs into RQ queues; STOP takes them back out."""

    redis: Redis
    content: Content
    secret: bytes
    timing: Timing

    def enqueue(self, address: str, jobs: Sequence[Job], turn_id: str, now: float) -> None:
        engine_jobs.enqueue(self.redis, self.content, self.secret, address, jobs, turn_id, now,
                            timing=self.timing)

    def cancel(self, contact: str) -> None:
        cancel_jobs(self.redis, contact)

    def health(self) -> Mapping[str, Any]:
        return queue_health(self.redis)

    def readiness(self) -> Mapping[str, Any]:
        return readiness.summary(readiness.alive(self.redis, time.time()))


def for_app(config: Mapping[str, Any], redis: Redis, content: Content,
            secret: bytes) -> RqJobs:
    """The port for a web app: its `config` (QUIET_HOURS, RETENTION_DAYS) times the jobs."""
    return RqJobs(redis, content, secret, Timing.from_config(config))


def cancel_jobs(redis: Redis, contact: str) -> None:
    """Delete every queued or scheduled RQ job for the contact and the household waiting for
    a dollar estimate (their data goes with them).

    A job already running is left to its worker, whose opt-out check at send time stops it."""
    redis.delete(key(contact, PENDING_ESTIMATE))
    jobs_key = key(contact, "jobs")
    for raw in redis.smembers(jobs_key):
        job_id = raw.decode() if isinstance(raw, bytes) else raw
        try:
            job = RqJob.fetch(job_id, connection=redis)
        except NoSuchJobError:
            continue
        if job.get_status() != JobStatus.STARTED:
            job.delete()
    redis.delete(jobs_key)


def queue_health(redis: Redis) -> dict[str, Any]:
    """What `screener jobs` shows staff, as counts for the dashboard (bot/jobs.py `health`)."""
    return {"queues": {name: registry_counts(queue(name, redis)) for name in QUEUES},
            "failures": _counts(redis.hgetall(FAILURES)),
            "disagreements": _counts(redis.hgetall(DISAGREEMENTS)),
            "estimates_waiting": redis.llen(PENDING),
            "workers": listening(redis)}


def _counts(found: Mapping[bytes, bytes]) -> dict[str, int]:
    return {field.decode(): int(value) for field, value in found.items()}


class _Local:
    """What `screener run` needs to start one worker per queue beside the web app."""

    queues: Sequence[str] = QUEUES

    def describe_quiet_hours(self, config: Mapping[str, Any]) -> str | None:
        quiet = config.get("QUIET_HOURS")
        hours = QuietHours.parse(str(quiet) if quiet is not None else None)
        return None if hours is None else str(hours)


LOCAL = _Local()
