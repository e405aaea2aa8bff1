"""Workers killed mid-drain: every household waiting for an estimate still gets its follow-up,
and gets it once.

Also workers killed mid-send: a follow-up that may have reached Twilio is never sent again
(at most once, docs/twilio.md).

Real Redis, real forking RQ worker processes (`screener worker` with a stand-in model that
takes a few seconds, worker_kit.standin_worker), real SIGKILL: of the whole worker while it
estimates (a lost machine, an OOM kill of the group), of the work horse alone (the kernel's
OOM killer picks the biggest process), and of the horse after it queued some follow-ups but
before it ticked them off its batch.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from phone import SECRET
from worker_kit import outcomes, submit

from bot import outbox
from worker import followups
from worker.followups import LEASES, PENDING
from worker.outbound import Recipient, enqueue_message
from worker.settings import Timing

pytest_plugins = ["redis_server"]
pytestmark = [pytest.mark.slow, pytest.mark.redis_server]
HOUSEHOLDS = 40
LEASE_SECONDS = 2.0
KIT = Path(__file__).with_name("worker_kit.py")


class Workers:
    """Starts stand-in worker processes (each the leader of its own process group)."""

    def __init__(self, env: dict[str, str], folder: Path):
        self.env, self.folder = env, folder
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, **extra: str) -> subprocess.Popen[bytes]:
        log = (self.folder / f"worker{len(self.processes)}.log").open("w")
        process = subprocess.Popen([sys.executable, str(KIT)], env=self.env | extra,
                                   cwd=self.folder, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def batches(self) -> list[tuple[int, int]]:
        """(work horse pid, households) for every batch the stand-in model was given."""
        path = Path(self.env["STANDIN_LOG"])
        lines = path.read_text().split("\n") if path.exists() else []
        return [(int(pid), int(size)) for pid, size in
                (line.split() for line in lines if line.strip())]

    def logs(self) -> str:
        return "\n".join(path.read_text()[-3000:] for path in sorted(self.folder.glob("*.log")))

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@pytest.fixture
def workers(redis_server, real_redis, tmp_path, monkeypatch) -> Iterator[Workers]:
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("TWILIO_") and name != "WHATSAPP_TEMPLATE_SID"}
    env |= {"REDIS_URL": redis_server.url, "SCREENER_SECRET": SECRET,
            "OUTBOX_PATH": str(tmp_path / "outbox.jsonl"), "QUIET_HOURS": "off",
            "STANDIN_LEASE": str(LEASE_SECONDS), "STANDIN_DELAY": "3",
            "STANDIN_LOG": str(tmp_path / "batches.log")}
    for name in ("OUTBOX_PATH", "QUIET_HOURS", "SCREENER_SECRET"):  # this side too
        monkeypatch.setenv(name, env[name])
    monkeypatch.setattr(followups, "LEASE_SECONDS", LEASE_SECONDS)  # the drain jobs' retry
    kit = Workers(env, tmp_path)
    try:
        yield kit
    finally:
        kit.stop_all()


def put_households_in_line(redis) -> set[str]:
    ids = set()
    for n in range(HOUSEHOLDS):
        message_id = f"estimate-SM{n:032d}"
        submit(redis, Recipient.of(SECRET.encode(), f"+1408555{n:04d}"), "en", {"age": 22},
               ["calfresh"], message_id)
        ids.add(message_id)
    return ids


def wait_until(check: Callable[[], object], timeout: float, workers: Workers, what: str):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}; logs:\n{workers.logs()}")
        time.sleep(0.1)
    return found


def sent_once_each(ids: set[str], workers: Workers, timeout: float = 60) -> Counter[str]:
    """Wait for a follow-up to every household, then a while longer for any second one."""
    wait_until(lambda: {m["id"] for m in outbox.read()} >= ids, timeout, workers,
               "every follow-up")
    time.sleep(LEASE_SECONDS + 3)
    return Counter(m["id"] for m in outbox.read())


def test_a_worker_killed_mid_drain_loses_no_household_and_its_successor_texts_each_once(
        workers, real_redis):
    ids = put_households_in_line(real_redis)
    first = workers.start()
    [(horse, _)] = wait_until(workers.batches, 60, workers, "the first batch")
    os.killpg(first.pid, signal.SIGKILL)  # the worker, its scheduler...
    os.kill(horse, signal.SIGKILL)  # ...and its work horse (RQ gives it a session of its own)
    first.wait()
    assert real_redis.llen(PENDING) == 0 and real_redis.zcard(LEASES) == 1  # all in flight
    workers.start(STANDIN_DELAY="0")  # gives the batch back once its lease lapses
    sent = sent_once_each(ids, workers)
    assert sent == Counter(dict.fromkeys(ids, 1))
    assert real_redis.llen(PENDING) == 0 and real_redis.zcard(LEASES) == 0
    assert [size for _, size in workers.batches()] == [HOUSEHOLDS, HOUSEHOLDS]


def test_a_work_horse_killed_mid_drain_has_its_batch_estimated_again_by_the_same_worker(
        workers, real_redis):
    ids = put_households_in_line(real_redis)
    workers.start()
    [(horse, _)] = wait_until(workers.batches, 60, workers, "the first batch")
    os.kill(horse, signal.SIGKILL)  # the OOM killer picks the horse: the worker lives on
    sent = sent_once_each(ids, workers)
    assert sent == Counter(dict.fromkeys(ids, 1))
    assert [size for _, size in workers.batches()] == [HOUSEHOLDS, HOUSEHOLDS]


def test_a_horse_killed_after_queueing_some_follow_ups_sends_none_of_them_twice(
        workers, real_redis):
    ids = put_households_in_line(real_redis)
    workers.start(STANDIN_DELAY="0", STANDIN_KILL_AFTER="10")
    sent = sent_once_each(ids, workers)
    assert Path(workers.env["STANDIN_LOG"] + ".killed").exists()
    assert sent == Counter(dict.fromkeys(ids, 1))
    assert len(workers.batches()) == 2  # the ten queued were estimated again, sent once


# -- killed mid-send ---------------------------------------------------------------------------
MESSAGES = 10
HUNG = "reminder-5"


def sends(workers: Workers) -> Counter[str]:
    """How often Twilio (the stand-in) received each message."""
    path = Path(workers.env["STANDIN_LOG"] + ".sends")
    lines = path.read_text().split("\n") if path.exists() else []
    return Counter(line.split()[1] for line in lines if line.strip())


def queue_reminders(redis) -> set[str]:
    ids = {f"reminder-{n}" for n in range(MESSAGES)}
    for n in range(MESSAGES):
        enqueue_message(redis, Recipient.of(SECRET.encode(), f"+1408555{n:04d}"),
                        "A reminder", f"reminder-{n}", timing=Timing(quiet_hours=None))
    return ids


def as_if_a_minute_and_a_half_had_passed(redis) -> None:
    """The dead worker's heartbeats and scheduler lock lapse: RQ calls a started job
    abandoned 60 s after the job timeout, and the scheduler's lock lives 61 s."""
    for name in redis.scan_iter("rq:wip:*"):
        redis.zadd(name, {member: 1 for member in redis.zrange(name, 0, -1)})
    for name in redis.scan_iter("rq:scheduler-lock:*"):
        redis.delete(name)


def the_hung_send(workers: Workers) -> int:
    """The pid of the work horse whose send reached Twilio and hangs there."""
    wait_until(lambda: Path(workers.env["STANDIN_LOG"] + ".hung").exists(), 60, workers,
               "the send that hangs")
    path = Path(workers.env["STANDIN_LOG"] + ".sends")
    return next(int(pid) for pid, message in (line.split() for line in
                path.read_text().split("\n") if line.strip()) if message == HUNG)


@pytest.mark.parametrize("killed", ["work horse", "whole worker"])
def test_a_worker_killed_mid_send_never_texts_that_resident_twice_and_counts_it_unconfirmed(
        workers, real_redis, killed):
    ids = queue_reminders(real_redis)
    first = workers.start(STANDIN_HANG_ON=HUNG)
    horse = the_hung_send(workers)
    if killed == "whole worker":
        os.killpg(first.pid, signal.SIGKILL)
    os.kill(horse, signal.SIGKILL)
    if killed == "whole worker":
        first.wait()
        as_if_a_minute_and_a_half_had_passed(real_redis)
        workers.start()  # its successor finds the send abandoned
    wait_until(lambda: outcomes(real_redis).get("unconfirmed"), 180, workers,
               "the killed send to be counted")
    wait_until(lambda: {m["id"] for m in outbox.read()} >= ids - {HUNG}, 60, workers,
               "the other messages")
    assert sends(workers) == Counter(dict.fromkeys(ids, 1))  # Twilio got each once, no more
    assert Counter(m["id"] for m in outbox.read()) == Counter(dict.fromkeys(ids - {HUNG}, 1))
    assert outcomes(real_redis) == {"sent": MESSAGES - 1, "unconfirmed": 1}
