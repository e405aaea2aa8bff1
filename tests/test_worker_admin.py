"""`screener jobs`: what staff see of the queues, and retrying or dropping failed jobs."""

from __future__ import annotations

import operator
import os

import pytest
from fakeredis import FakeStrictRedis
from rq import SimpleWorker

from bot import outbox
from bot.cli import main
from bot.redis_embedded import RedisServer, free_port
from bot.store import connect
from worker.admin import drop_failed, listening, report, retry_failed
from worker.followups import DISAGREEMENTS
from worker.queues import ESTIMATES, OUTBOUND, QUEUES, queue
from worker.start import MAINTENANCE_SECONDS, rq_worker

pytest_plugins = ["redis_server"]


@pytest.fixture
def local(tmp_path, monkeypatch):
    """A local folder of this test's own, and no Redis named in the environment."""
    monkeypatch.setenv("SCREENER_VAR", str(tmp_path / "var"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("OUTBOX_PATH", raising=False)
    return tmp_path


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


@pytest.mark.redis_server
def test_screener_jobs_reads_the_embedded_redis_of_a_running_screener_run(local, capsys):
    with RedisServer(announce=True) as embedded:  # as `screener run` starts it
        fail_a_job(connect(embedded.url))
        assert main(["jobs"]) == 0
        shown = capsys.readouterr()
        assert next(line for line in shown.out.splitlines()
                    if line.startswith(OUTBOUND)).split()[-1] == "1"
        assert embedded.url in shown.err and "screener run" in shown.err
    main(["jobs"])  # stopped: no longer read, and said which Redis is read instead
    assert "the default: REDIS_URL is not set" in capsys.readouterr().err


def test_screener_jobs_with_redis_down_says_so_in_one_sentence_without_a_traceback(
        local, monkeypatch, capsys):
    url = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
    monkeypatch.setenv("REDIS_URL", url)
    assert main(["jobs"]) == 1
    shown = capsys.readouterr()
    assert shown.out == ""
    assert f"could not read Redis at {url} (REDIS_URL)" in shown.err
    assert "Traceback" not in shown.err


def test_screener_outbox_reads_one_file_whatever_folder_it_runs_in(local, monkeypatch, capsys):
    (local / "a").mkdir()
    monkeypatch.chdir(local / "a")
    outbox.append({"id": "a", "to": "+15555550100", "channel": "sms", "body": "Hi"})
    monkeypatch.chdir(local)
    assert main(["outbox"]) == 0
    shown = capsys.readouterr()
    assert [line for line in shown.out.splitlines()] == [
        '{"id": "a", "to": "+15555550100", "channel": "sms", "body": "Hi"}']
    assert str(local / "var" / "outbox.jsonl") in shown.err
    assert os.listdir(local / "a") == []


def test_an_idle_worker_runs_its_maintenance_every_minute_so_a_dead_workers_jobs_come_back(
        redis):
    worker = rq_worker(QUEUES, redis)
    assert worker.maintenance_interval == MAINTENANCE_SECONDS == 60
    # An idle worker only runs maintenance when its wait for a job times out.
    assert worker.dequeue_timeout <= MAINTENANCE_SECONDS


def test_screener_jobs_says_which_workers_listen_so_staff_see_when_estimates_are_ready(redis):
    assert listening(redis) == {OUTBOUND: 0, ESTIMATES: 0}
    assert "workers listening: outbound 0, estimates 0" in report(redis, QUEUES)
    assert "once its model is loaded" in report(redis, QUEUES)
    worker = SimpleWorker([queue(OUTBOUND, redis)], connection=redis)
    worker.register_birth()  # as a running `screener worker --queue outbound` is
    assert listening(redis) == {OUTBOUND: 1, ESTIMATES: 0}
    worker.register_death()
