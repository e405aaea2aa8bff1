"""`screener jobs`: what staff see of the queues, and retrying or dropping failed jobs."""

from __future__ import annotations

import operator

import pytest
from fakeredis import FakeStrictRedis
from rq import SimpleWorker

from worker.admin import drop_failed, report, retry_failed
from worker.followups import DISAGREEMENTS
from worker.queues import ESTIMATES, OUTBOUND, QUEUES, queue


@pytest.fixture
def redis() -> FakeStrictRedis:
    return FakeStrictRedis()


def fail_a_job(redis: FakeStrictRedis, name: str = OUTBOUND) -> None:
    queue(name, redis).enqueue(operator.truediv, 1, 0)  # ZeroDivisionError, importable
    SimpleWorker([queue(name, redis)], connection=redis).work(burst=True)


def test_the_report_counts_failed_jobs_per_queue_and_shows_disagreements(redis):
    fail_a_job(redis)
    redis.hincrby(DISAGREEMENTS, "calworks:shown_not_eligible", 2)
    text = report(redis, QUEUES)
    outbound_row = next(line for line in text.splitlines() if line.startswith(OUTBOUND))
    assert outbound_row.split()[-1] == "1"  # the failed column
    assert "calworks:shown_not_eligible" in text and text.rstrip().endswith("2")


def test_retry_puts_failed_jobs_back_on_their_queue_only(redis):
    fail_a_job(redis, OUTBOUND)
    fail_a_job(redis, ESTIMATES)
    assert retry_failed(redis, [OUTBOUND]) == 1
    assert queue(OUTBOUND, redis).count == 1
    assert queue(OUTBOUND, redis).failed_job_registry.count == 0
    assert queue(ESTIMATES, redis).failed_job_registry.count == 1


def test_drop_deletes_failed_jobs(redis):
    fail_a_job(redis)
    assert drop_failed(redis, QUEUES) == 1
    assert queue(OUTBOUND, redis).failed_job_registry.count == 0
    assert queue(OUTBOUND, redis).count == 0
