"""A worker says when it is ready: loading its model, then ready, on `screener jobs` and
/healthz; and its jobs run in forks of the warm parent, which never load the model again.

The process tests run a real `screener worker` (forking RQ worker, real Redis) whose
PolicyEngine import is a stand-in (`standin_model_worker`, this file run as a script): it
loads only when the test says so, and records in Redis each load and each simulation with
the process that ran it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from fakeredis import FakeStrictRedis
from phone import SECRET, make_app
from redis import Redis
from worker_kit import submit

from bot import outbox
from worker import estimates, readiness
from worker.admin import report
from worker.outbound import Recipient
from worker.queues import ESTIMATES, OUTBOUND, QUEUES
from worker.readiness import LOADING, READY, STALE_SECONDS, WorkerState
from worker.start import rq_worker

pytest_plugins = ["redis_server"]
NOW = 1_780_000_000.0
LOADS, SIMULATIONS, RELEASE = "standin:loads", "standin:simulations", "standin:release"


def worker(name: str, queues: tuple[str, ...], state: str, since: float,
           seen: float | None = None) -> WorkerState:
    return WorkerState(name, queues, state, since, since if seen is None else seen, 42, "host")


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# Reading what the workers report -------------------------------------------------------------


def test_a_queue_is_ready_when_a_worker_listens_loading_while_one_loads_else_none():
    found = readiness.summary([
        worker("a", QUEUES, LOADING, NOW - 30),
        worker("b", (OUTBOUND,), READY, NOW - 600),
    ])
    assert found[OUTBOUND] == {"state": READY, "ready": 1, "loading": 1,
                               "since": iso(NOW - 600)}
    assert found[ESTIMATES]["state"] == LOADING and found[ESTIMATES]["ready"] == 0
    assert readiness.summary([])[ESTIMATES] == {"state": "none", "ready": 0, "loading": 0,
                                                 "since": None}


def test_a_worker_that_stopped_reporting_is_no_longer_counted():
    redis = FakeStrictRedis()
    readiness.report(redis, worker("dead", QUEUES, READY, NOW - 3600), NOW - STALE_SECONDS - 1)
    readiness.report(redis, worker("alive", (OUTBOUND,), READY, NOW - 3600), NOW - 10)
    assert [state.name for state in readiness.alive(redis, NOW)] == ["alive"]
    readiness.prune(redis, NOW)
    assert redis.hkeys(readiness.WORKERS) == [b"alive"]


def test_stale_means_longer_than_rq_lets_a_listening_worker_go_between_heartbeats():
    assert rq_worker(QUEUES, FakeStrictRedis()).worker_ttl + 60 < STALE_SECONDS


def test_screener_jobs_says_which_worker_loads_its_model_and_which_is_ready_since_when():
    redis = FakeStrictRedis()
    readiness.report(redis, worker("a", QUEUES, LOADING, NOW - 35), NOW)
    ready = replace(worker("b", (OUTBOUND,), READY, NOW - 300), load_seconds=52.4)
    readiness.report(redis, ready, NOW)
    text = report(redis, QUEUES, now=NOW)
    assert "host:42 outbound, estimates: loading the model since " in text
    assert "(35 s)" in text
    assert "host:42 outbound: ready since " in text and "(5 min), 52 s to get ready" in text


def test_healthz_shows_the_workers_without_changing_its_status(content):
    redis = FakeStrictRedis()
    app = make_app(redis, content)
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.json["workers"][ESTIMATES]["state"] == "none"  # the hook needs no worker
    readiness.report(redis, worker("a", QUEUES, LOADING, time.time() - 5), time.time())
    again = make_app(redis, content).test_client().get("/healthz")  # its readiness read anew
    assert again.json["workers"][ESTIMATES]["state"] == LOADING


def test_healthz_reads_the_workers_at_most_every_few_seconds(content):
    redis = FakeStrictRedis()
    client = make_app(redis, content).test_client()
    assert client.get("/healthz").json["workers"][OUTBOUND]["state"] == "none"
    readiness.report(redis, worker("a", QUEUES, READY, time.time()), time.time())
    assert client.get("/healthz").json["workers"][OUTBOUND]["state"] == "none"  # cached


# The warm parent -----------------------------------------------------------------------------


class CountingSimulation:
    """A model that records each simulation's period; every program is worth $100."""

    periods: ClassVar[list[int]] = []

    def __init__(self, situation: dict[str, Any]):
        self.people = list(situation["people"])
        self.households = len(situation["households"])
        household = next(iter(situation["households"].values()))
        CountingSimulation.periods.append(int(next(iter(household["state_code"]))))
        self.populations = {"person": type("People", (), {"ids": self.people})}

    def calculate(self, variable: str, period: str, map_to: str | None = None) -> list[float]:
        return [100.0] * (self.households if map_to == "household" else len(self.people))


def test_the_model_is_warmed_again_only_when_san_joses_month_turns(monkeypatch):
    monkeypatch.setattr(estimates, "_import_simulation", lambda: CountingSimulation)
    monkeypatch.setattr(estimates.gc, "freeze", lambda: None)  # not this test process's heap
    CountingSimulation.periods = []
    estimator = estimates.Estimator()
    estimator.warm_up(date(2026, 11, 27))
    assert not estimator.keep_warm(date(2026, 11, 30))
    assert estimator.keep_warm(date(2027, 1, 1))
    assert not estimator.keep_warm(date(2027, 1, 2))
    assert CountingSimulation.periods == [2026, 2027]


# A real worker process -----------------------------------------------------------------------


class StandinWorker:
    """`screener worker` with the stand-in model, on the test Redis."""

    def __init__(self, url: str, folder: Path):
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("TWILIO_") and name != "WHATSAPP_TEMPLATE_SID"}
        env |= {"REDIS_URL": url, "SCREENER_SECRET": SECRET,
                "OUTBOX_PATH": str(folder / "outbox.jsonl"), "QUIET_HOURS": "off"}
        self.url, self.log = url, folder / "worker.log"
        with self.log.open("w") as output:
            self.process = subprocess.Popen([sys.executable, __file__], env=env, cwd=folder,
                                            stdout=output, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_until(self, check: Callable[[], Any], what: str, timeout: float = 60) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := check()):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"no {what}; worker log:\n{self.log.read_text()[-4000:]}")
            time.sleep(0.05)
        return found

    def stop(self) -> None:
        """SIGTERM, then SIGKILL once it has said goodbye: RQ's stop then waits up to a minute
        for its command channel's thread, which this test does not need."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            deadline = time.monotonic() + 30
            while self.process.poll() is None and time.monotonic() < deadline and \
                    Redis.from_url(self.url).hlen(readiness.WORKERS):
                time.sleep(0.05)
            with suppress(ProcessLookupError):  # all gone already
                os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


@pytest.fixture
def standin(redis_server, real_redis, tmp_path, monkeypatch) -> Iterator[StandinWorker]:
    monkeypatch.setenv("OUTBOX_PATH", str(tmp_path / "outbox.jsonl"))
    process = StandinWorker(redis_server.url, tmp_path)
    try:
        yield process
    finally:
        process.stop()


def queue_state(redis: Redis, name: str) -> str:
    return readiness.summary(readiness.alive(redis, time.time()))[name]["state"]


@pytest.mark.slow
@pytest.mark.redis_server
def test_a_worker_reports_loading_then_ready_on_screener_jobs_and_healthz(
        standin, real_redis, content):
    standin.wait_until(lambda: queue_state(real_redis, ESTIMATES) == LOADING, "loading state")
    assert queue_state(real_redis, OUTBOUND) == LOADING  # one process serves both
    assert "loading the model since" in report(real_redis, QUEUES)
    health = make_app(real_redis, content).test_client().get("/healthz")
    assert health.status_code == 200 and health.json["workers"][ESTIMATES]["state"] == LOADING

    real_redis.set(RELEASE, 1)  # the model is in
    standin.wait_until(lambda: queue_state(real_redis, ESTIMATES) == READY, "ready state")
    health = make_app(real_redis, content).test_client().get("/healthz")
    assert health.json["workers"][ESTIMATES]["state"] == READY
    [state] = readiness.alive(real_redis, time.time())
    assert state.pid == standin.process.pid and state.load_seconds > 0
    assert "outbound, estimates: ready since" in report(real_redis, QUEUES)

    standin.stop()  # a clean stop takes the worker off at once
    assert readiness.alive(real_redis, time.time()) == []


@pytest.mark.slow
@pytest.mark.redis_server
def test_jobs_run_in_forks_of_the_warm_parent_and_never_load_the_model_again(
        standin, real_redis):
    real_redis.set(RELEASE, 1)
    standin.wait_until(lambda: queue_state(real_redis, ESTIMATES) == READY, "ready state")
    for n in range(2):  # two drains, two work horses
        submit(real_redis, Recipient.of(SECRET.encode(), f"+1408555010{n}"), "en",
               {"age": 22, "zip": "95112", "household_size": 1, "monthly_income": 900},
               ["calfresh"], f"estimate-SM{n:032d}")
        standin.wait_until(lambda n=n: len(outbox.read()) == n + 1, "follow-up")
    parent = standin.process.pid
    assert [int(pid) for pid in real_redis.lrange(LOADS, 0, -1)] == [parent]  # one load
    first, *jobs = [int(pid) for pid in real_redis.lrange(SIMULATIONS, 0, -1)]
    assert first == parent  # the warm-up, before any fork
    assert len(jobs) == 2 and parent not in jobs and jobs[0] != jobs[1]


def standin_model_worker() -> int:
    """`screener worker` whose model import waits for RELEASE and records who ran what."""
    from worker import start

    redis = Redis.from_url(os.environ["REDIS_URL"])

    class RecordedSimulation(CountingSimulation):
        def __init__(self, situation: dict[str, Any]):
            super().__init__(situation)
            redis.rpush(SIMULATIONS, os.getpid())

    def load() -> type:
        redis.rpush(LOADS, os.getpid())
        while not redis.exists(RELEASE):
            time.sleep(0.05)
        return RecordedSimulation

    estimates._import_simulation = load
    return start.run()


if __name__ == "__main__":
    sys.exit(standin_model_worker())
