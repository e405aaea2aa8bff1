"""Part 1 of bench/estimates.py: real `screener worker` processes on a throwaway Redis.

- cold start: process start to its first report (loading) and to ready, against the same
  start of a worker without the model (`screener worker --queue outbound`);
- the first estimate after results, with the worker ready: from the signed web hook turn that
  gives the results (and queues the estimate) to the estimate text in the outbox, against a
  plain text queued to the same worker.

Its own module, imported only once the model part is done: that part's memory baseline is an
interpreter without the web app this one loads.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from phone import SECRET, Phone, make_app, new_sid  # noqa: E402  (tests/phone.py: the web hook)
from redis import Redis  # noqa: E402

from bot import outbox  # noqa: E402
from bot.content import load_content  # noqa: E402
from bot.redis_embedded import RedisServer  # noqa: E402
from worker import readiness  # noqa: E402
from worker.outbound import Recipient, enqueue_message  # noqa: E402
from worker.readiness import READY  # noqa: E402
from worker.settings import Timing  # noqa: E402

Row = tuple[str, str, str, str]  # measure, value, baseline, ratio (bench/estimates.py)


class WorkerProcess:
    """`screener worker [args]` on `url`, timed from its start to each state it reports."""

    def __init__(self, url: str, folder: Path, *args: str):
        self.redis = Redis.from_url(url)
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("TWILIO_") and name != "WHATSAPP_TEMPLATE_SID"}
        env |= {"REDIS_URL": url, "SCREENER_SECRET": SECRET, "QUIET_HOURS": "off",
                "OUTBOX_PATH": os.environ["OUTBOX_PATH"]}
        self.log = (folder / "worker.log").open("w")
        self.started = time.perf_counter()
        self.process = subprocess.Popen([str(Path(sys.executable).with_name("screener")),
                                         "worker", *args], env=env, cwd=folder,
                                        stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)

    def until(self, state: str | None = None, timeout: float = 300) -> float:
        """Seconds from the start until it reports `state` (any state if None)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = [w for w in readiness.alive(self.redis, time.time())
                    if w.pid == self.process.pid and state in (None, w.state)]
            if mine:
                return time.perf_counter() - self.started
            if self.process.poll() is not None:
                break
            time.sleep(0.02)
        raise RuntimeError(f"the worker never reported {state or 'itself'}; see {self.log.name}")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=90)  # RQ's warm stop waits for its pubsub thread
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class TimedPhone(Phone):
    """A resident's phone that remembers when it sent its last message, and its id."""

    sent_at, sid = 0.0, ""

    def post(self, body: str, sid: str | None = None, **fields: str) -> Any:
        self.sent_at, self.sid = time.perf_counter(), sid or new_sid()
        return super().post(body, self.sid, **fields)


def in_outbox(message_id: str, since: float, timeout: float = 120) -> float:
    """Seconds from `since` until the outbox holds the message `message_id`."""
    deadline = time.monotonic() + timeout
    while not any(sent["id"] == message_id for sent in outbox.read()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{message_id} never reached the outbox")
        time.sleep(0.005)
    return time.perf_counter() - since


def results_to_estimate(app: Any, number: str) -> float:
    """A screening to its results; seconds from the results turn to the estimate text (its
    id is the turn's, engine_jobs.py)."""
    phone = TimedPhone(app, number=number)
    phone.screen_to_results()
    return in_outbox(f"estimate-{phone.sid}", phone.sent_at)


def plain_text(redis: Redis, number: str) -> float:
    """Seconds from queueing a plain text to the same worker to the text in the outbox."""
    started = time.perf_counter()
    enqueue_message(redis, Recipient.of(SECRET.encode(), number), "Hello", f"text-{number[1:]}",
                    timing=Timing.from_config({"QUIET_HOURS": "off"}))
    return in_outbox(f"text-{number[1:]}", started)


def worker_rows(results: int, folder: Path) -> list[Row]:
    """Cold starts and the first estimate after results, from real worker processes."""
    os.environ["OUTBOX_PATH"] = str(folder / "outbox.jsonl")
    with RedisServer() as server:
        light = []
        for _ in range(3):
            worker = WorkerProcess(server.url, folder, "--queue", "outbound")
            light.append(worker.until(READY))
            worker.stop()
        baseline = statistics.median(light)
        worker = WorkerProcess(server.url, folder)
        first_report, ready = worker.until(), worker.until(READY)
        redis = Redis.from_url(server.url)
        app = make_app(redis, load_content(), RATE_LIMIT_PER_MINUTE="1000",
                       GLOBAL_RATE_LIMIT_PER_MINUTE="1000000", QUIET_HOURS="off")
        texts, estimates = [], []
        for n in range(results):
            texts.append(plain_text(redis, f"+1408555{n:04d}"))
            estimates.append(results_to_estimate(app, f"+1408556{n:04d}"))
        worker.stop()
    text, estimate = statistics.median(texts), statistics.median(estimates)
    light_start = f"{baseline:.1f} s (`--queue outbound`, no model)"
    return [
        ("`screener worker` (the Procfile's), start to its first report: loading",
         f"{first_report:.1f} s", light_start, f"{first_report / baseline:.1f}x"),
        ("`screener worker`, start to ready (model loaded and warm)", f"{ready:.1f} s",
         light_start, f"{ready / baseline:.0f}x"),
        (f"First estimate after results (signed results turn to the estimate text in the "
         f"outbox, ready worker; median of {results})", f"{estimate:.2f} s",
         f"{text:.3f} s (a plain text queued to the same worker, to the outbox)",
         f"{estimate / text:.0f}x"),
    ]
