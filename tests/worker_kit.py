"""Worker test kit: a fake HTTP layer under the real Twilio client, and RQ helpers.

`run_worker` runs RQ's SimpleWorker with its scheduler in burst mode (docs/operations.md);
`make_due` moves scheduled jobs to now, so a test never sleeps through a backoff. The
fixtures that set the worker's environment are in worker_fixtures.py. `standin_worker` is a
real `screener worker` process (forking RQ worker, scheduler, start-up recovery) whose
PolicyEngine model is a slow stand-in, for the tests that kill workers.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from phone import NUMBER, SECRET
from redis import Redis
from rq import SimpleWorker
from rq.job import Job
from twilio.http import HttpClient
from twilio.http.response import Response as TwilioResponse

from bot.session import decode
from worker import followups
from worker.estimates import Estimate, Estimates
from worker.outbound import Recipient
from worker.queues import QUEUES, queue

MESSAGING_SERVICE = "MG" + "0" * 32
PUBLIC_URL = "https://textline.example.org"
# The number as Twilio sends it, and the forms a careless line might write it in.
FORMS = (NUMBER, NUMBER[1:], NUMBER[2:], "408-555-0123", "5550123")
CREATED = (201, {"sid": "SM" + "3" * 32, "status": "accepted"})


def refused(status: int, code: int | None = None) -> tuple[int, dict]:
    """A Twilio error answer: HTTP status, with a Twilio error code if given."""
    return status, {"code": code, "message": f"error {code}", "status": status}


class FakeTwilioHttp(HttpClient):
    """Twilio's REST API as the real twilio client sees it: answers from a script (the last
    one repeats), raises the exceptions in it, and records every request."""

    def __init__(self, *answers: tuple[int, dict] | Exception):
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.answers = list(answers)
        self.requests: list[dict] = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self.requests.append({"method": method, "url": url, "data": data})
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, body = answer
        return TwilioResponse(status, json.dumps(body))

    @property
    def posts(self) -> list[dict]:
        """The messages handed to Twilio (a resident is texted once per POST taken)."""
        return [r["data"] for r in self.requests if r["method"] == "POST"]


def recipient(number: str = NUMBER, channel: str = "sms") -> Recipient:
    return Recipient.of(SECRET.encode(), f"whatsapp:{number}" if channel == "whatsapp"
                        else number)


class BurstWorker(SimpleWorker):
    """RQ's SimpleWorker without its command channel: on a real Redis, unsubscribing joins
    a pubsub thread that waits up to a minute for a message."""

    def subscribe(self) -> None:
        """A burst run takes no commands."""

    def unsubscribe(self) -> None:
        """Nothing was subscribed."""


def submit(redis: Redis, to: Recipient, lang: str, answers: dict, programs: list[str],
           message_id: str) -> None:
    """A household in line for its estimate, as a turn with results puts it there."""
    pipe = redis.pipeline()
    claim = followups.put_in_line(pipe, to, lang, answers, programs, message_id)
    followups.drain_if_claimed(redis, pipe.execute()[claim])


def run_worker(redis: Redis, *names: str) -> None:
    """Run every job of these queues (all by default) that is due, then return."""
    worker = BurstWorker([queue(name, redis) for name in names or QUEUES], connection=redis)
    worker.work(burst=True, with_scheduler=True)


def make_due(redis: Redis, *names: str) -> list[Job]:
    """Every scheduled job of these queues, now due (as if its time had come)."""
    due = []
    for name in names or QUEUES:
        registry = queue(name, redis).scheduled_job_registry
        for job_id in registry.get_job_ids():
            job = Job.fetch(job_id, connection=redis)
            registry.schedule(job, datetime.now(UTC) - timedelta(seconds=1))
            due.append(job)
    return due


def everything_in(redis) -> list[bytes]:
    """Every key and every value in the Redis database, whatever its type; RQ's job data
    (zlib-compressed pickles, arguments included) and the store's compressed sessions and
    replies (bot/session.py) unpacked too."""
    found: list[bytes] = []
    for name in redis.scan_iter():
        found.append(name)
        kind = redis.type(name).decode()
        if kind == "string":
            value = redis.get(name)
            found += [value, unpacked(value)]
        elif kind == "hash":
            for field, value in redis.hgetall(name).items():
                found += [field, value, unpacked(value)]
        elif kind in ("set", "zset", "list"):
            members = {"set": redis.smembers, "list": lambda n: redis.lrange(n, 0, -1),
                       "zset": lambda n: redis.zrange(n, 0, -1)}[kind](name)
            found += list(members)
    return found


def unpacked(value: bytes) -> bytes:
    try:
        return zlib.decompress(value)
    except zlib.error:
        pass
    try:
        return json.dumps(decode(value), ensure_ascii=False).encode()
    except (KeyError, IndexError, ValueError, zlib.error):
        return b""


def outcomes(redis: Redis) -> dict[str, int]:
    """Outbound outcomes and holds as the worker counted them, whatever the day."""
    totals: dict[str, int] = {}
    for name in redis.scan_iter("sj:outbound:*"):
        for field, value in redis.hgetall(name).items():
            totals[field.decode()] = totals.get(field.decode(), 0) + int(value)
    return totals


# -- a real worker process with a stand-in model ---------------------------------------------
# Its environment: REDIS_URL, SCREENER_SECRET, OUTBOX_PATH, QUIET_HOURS and
# STANDIN_LEASE (seconds), STANDIN_DELAY (seconds one batch takes), STANDIN_LOG (a line per
# batch: "<pid> <households>"), STANDIN_KILL_AFTER (a work horse SIGKILLs itself after
# queueing this many follow-ups, once: STANDIN_LOG + ".killed" marks it done),
# STANDIN_HANG_ON (the message id whose send reaches Twilio and then never hears back, as if
# the worker were killed in the middle of it; every send is logged to STANDIN_LOG + ".sends").

def standin_estimates(items, today=None, estimator=None) -> dict[str, Estimates]:
    with open(os.environ["STANDIN_LOG"], "a") as log:
        log.write(f"{os.getpid()} {len(items)}\n")
    time.sleep(float(os.environ.get("STANDIN_DELAY") or 0))
    amount = Estimate("calfresh", True, 229, "month", "at_least")
    return {item.id: Estimates({}, (amount,), ()) for item in items}


def _killing_follow_up(after: int):
    queued = followups._queue_follow_up
    calls = {"n": 0}

    def follow_up(connection, item, estimates) -> None:
        queued(connection, item, estimates)
        calls["n"] += 1
        marker = Path(os.environ["STANDIN_LOG"] + ".killed")
        if calls["n"] >= after and not marker.exists():
            marker.touch()
            os.kill(os.getpid(), signal.SIGKILL)  # queued, not yet ticked off its batch

    return follow_up


def _logged_deliver(hang_on: str):
    """Sends as usual, each logged ("<pid> <message id>") as Twilio receiving it; the send
    of `hang_on` is received and then hangs, once."""
    from worker import outbound

    deliver = outbound.deliver

    def logged(settings, message):
        with open(os.environ["STANDIN_LOG"] + ".sends", "a") as sends:
            sends.write(f"{os.getpid()} {message.message_id}\n")
        if message.message_id == hang_on and not Path(os.environ["STANDIN_LOG"] + ".hung").exists():
            Path(os.environ["STANDIN_LOG"] + ".hung").touch()
            time.sleep(3600)
        return deliver(settings, message)

    return logged


def standin_worker() -> int:
    """`screener worker` with the stand-in model (run as `python worker_kit.py`)."""
    from worker import start

    followups.LEASE_SECONDS = float(os.environ["STANDIN_LEASE"])
    followups.estimate_batch = standin_estimates
    if os.environ.get("STANDIN_KILL_AFTER"):
        followups._queue_follow_up = _killing_follow_up(int(os.environ["STANDIN_KILL_AFTER"]))
    from worker import outbound

    outbound.deliver = _logged_deliver(os.environ.get("STANDIN_HANG_ON", ""))
    start._warm_estimates = lambda: True
    return start.run()


if __name__ == "__main__":
    sys.exit(standin_worker())
