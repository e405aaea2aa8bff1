"""Messages to residents outside a reply (estimate follow-ups, reminders), sent by RQ.

One job per message, `send_message`. Before it hands a message on, it checks in order:
the contact opted out (a STOP may come after the job was queued), the number is known to be
invalid (`sj:{<contact>}:invalid`, set on Twilio errors 21211 and 21614), the message was
sent already (a retried or duplicated job texts nobody twice: SET NX on
`sj:{<contact>}:sent:<id>`), quiet hours, WhatsApp's 24-hour window (outside it the approved
template, or the outcome `needs_template`) and the sender's throughput. Waiting for the
morning or for a slot returns `Retry(interval)`: RQ's scheduler runs the same job again
later, and no worker sleeps.

A job carries the contact hash and the sealed address, never the number (bot/sealing.py).
Outcomes and holds are counted per day in `sj:outbound:{<day>}`.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import NoScriptError
from rq import Callback, Retry, get_current_job
from rq.job import Job
from twilio.base.exceptions import TwilioRestException

from bot import optout, window
from bot.sealing import open_sealed, seal
from bot.segments import segments
from bot.store import Store, contact_id, key
from worker import throughput
from worker.callbacks import on_failure
from worker.delivery import Failure, Outgoing, deliver, explain
from worker.queues import OUTBOUND, queue, schedule
from worker.settings import Settings, Timing

log = logging.getLogger(__name__)
RETRY = Retry(max=3, interval=[5, 30, 120])  # 429, 5xx, no connection; needs the scheduler
HOLDS = 10  # waits for the morning or a throughput slot that one message may take
TIMEOUT_SECONDS = 30
FAILURE_TTL = 86400  # a failed job is kept a day for `screener jobs retry`
SENT_KINDS = "sent"  # daily texts handed on, by kind (the message id's prefix): dashboard
SENDING, DONE = b"sending", b"done"  # a message's claim: being handed on, outcome known

clock = time.time  # the worker's clock; tests set it


@dataclass(frozen=True)
class Recipient:
    """Whom a job texts: the contact hash (Redis, logs) and the sealed address (the send)."""

    contact: str
    sealed: str
    channel: str

    @classmethod
    def of(cls, secret: bytes, address: str) -> Recipient:
        channel = "whatsapp" if address.lower().startswith("whatsapp:") else "sms"
        return cls(contact_id(secret, address), seal(secret, address), channel)


@dataclass(frozen=True)
class Hold:
    """Not now: run this job again in `seconds`."""

    reason: str  # held_quiet_hours or throttled
    seconds: float


class SendFailed(Exception):
    """Twilio did not take the message. Says only status and code: Twilio's own message
    may quote the number, and RQ stores a failed job's error in Redis."""


class HeldTooLong(Exception):
    """Held for quiet hours or throughput more often than a message should ever be."""


def enqueue_message(connection: Redis, to: Recipient, body: str, message_id: str,
                    at: datetime | None = None, *, timing: Timing | None = None,
                    now: float | None = None, pipeline: Pipeline | None = None) -> Job:
    """Queue a message for now or `at`, moved out of quiet hours, noted on the contact so a
    STOP can cancel it. `timing` is the caller's configuration; only the worker, whose
    configuration is its environment, may leave it out. A message for later puts its writes
    in `pipeline` when given (a turn's jobs go together, worker/engine_jobs.py), for the caller
    to execute; one for now is queued at once (RQ makes a given pipeline a transaction of
    its own first, which a pipeline already holding commands cannot become)."""
    timing = timing or Timing.from_config(os.environ)
    moment = datetime.fromtimestamp(clock() if now is None else now, UTC)
    when = max(at or moment, moment)
    if timing.quiet_hours is not None:
        when = timing.quiet_hours.next_allowed(when)
    job_id = f"send-{message_id}"
    pipeline = pipeline if when > moment else None
    # The set lives as long as its furthest job could still run, at least the retention.
    note_job(connection, to.contact, job_id,
             timing.ttl.retention + max(0, round((when - moment).total_seconds())), pipeline)
    args = (to.contact, to.sealed, to.channel, body, message_id)
    # RQ logs a job's description, by default its call with the arguments: the message text.
    options = {"job_id": job_id, "description": f"send {message_id}", "retry": RETRY,
               "job_timeout": TIMEOUT_SECONDS, "result_ttl": 0, "failure_ttl": FAILURE_TTL,
               "on_failure": Callback(on_failure), "meta": {"contact": to.contact[:8]}}
    outbound = queue(OUTBOUND, connection)
    if when > moment:
        return schedule(outbound, when, pipeline, send_message, *args, **options)
    return outbound.enqueue(send_message, *args, **options)


# KEYS: the contact's jobs set. ARGV: job id, seconds it must live at least. Never shortens.
_NOTE_JOB = """
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
"""
_NOTE_JOB_SHA = hashlib.sha1(_NOTE_JOB.encode()).hexdigest()  # as Redis names it


def note_job(connection: Redis, contact: str, job_id: str, seconds: int,
             pipeline: Pipeline | None = None) -> None:
    """Note a queued job on its contact, so a STOP finds and cancels it. In a `pipeline` the
    script goes by its hash alone (no SCRIPT EXISTS first); `run_pipeline` loads it and runs
    it again if Redis did not know it."""
    if pipeline is None:
        connection.register_script(_NOTE_JOB)(keys=[key(contact, "jobs")],
                                              args=[job_id, seconds])
    else:
        pipeline.evalsha(_NOTE_JOB_SHA, 1, key(contact, "jobs"), job_id, seconds)


def run_pipeline(connection: Redis, pipeline: Pipeline) -> list[Any]:
    """Execute a pipeline of queued jobs: what each command answered. A `note_job` that Redis
    did not know the script of (first use, or Redis restarted) runs again, loading it."""
    commands = [args for args, _ in pipeline.command_stack]
    answers = pipeline.execute(raise_on_error=False)
    for command, answer in zip(commands, answers, strict=True):
        if isinstance(answer, NoScriptError) and command[1] == _NOTE_JOB_SHA:
            connection.register_script(_NOTE_JOB)(keys=[command[3]], args=list(command[4:]))
        elif isinstance(answer, Exception):
            raise answer
    return answers


def send_message(contact: str, sealed: str, channel: str, body: str,
                 message_id: str) -> str | Retry:
    """The RQ job: the outcome (`sent`, `sent_template`, `opted_out`, `duplicate`,
    `invalid_number`, `needs_template`, `unconfirmed`), or a Retry to run again later."""
    job = get_current_job()
    settings = Settings.from_env()
    store = Store(job.connection, settings.ttl)
    now = clock()
    result = _send(job, store, settings, Recipient(contact, sealed, channel), body, message_id,
                   now)
    if isinstance(result, Hold):
        return _hold(job, store, result, contact, message_id, now)
    job.connection.srem(key(contact, "jobs"), job.id)
    store.count(now, [result], table="outbound")
    if result in ("sent", "sent_template"):  # what was sent: estimate, reminder, nudge...
        store.count(now, [message_id.split("-", 1)[0]], table=SENT_KINDS)
    log.info("outbound message %s for contact %s: %s", message_id, contact[:8], result)
    return result


def _hold(job: Job, store: Store, hold: Hold, contact: str, message_id: str,
          now: float) -> Retry:
    """Run again later; after `HOLDS` holds, fail the job (counted, logged, in the failed
    registry for `screener jobs retry`) rather than end it the way RQ ends a job out of
    retries: silently, with no failure callback."""
    holds = job.meta.get("holds", 0) + 1
    if holds > HOLDS:
        job.meta["holds"] = 0  # a staff retry starts afresh
        job.meta.pop("slot", None)
        job.save_meta()
        job.retries_left = 0
        store.count(now, ["held_too_long"], table="outbound")
        raise HeldTooLong(f"held {HOLDS} times, the last for {hold.reason}")
    job.meta["holds"] = holds
    job.save_meta()
    store.count(now, [hold.reason], table="outbound")
    log.info("outbound message %s for contact %s: %s for %.0f s", message_id, contact[:8],
             hold.reason, hold.seconds)
    # RQ counts every Retry returned and ends the job silently at `max`: the count is ours.
    return Retry(max=(job.number_of_retries or 0) + 1,
                 interval=max(1, math.ceil(hold.seconds)))


def _send(job: Job, store: Store, settings: Settings, to: Recipient, body: str,
          message_id: str, now: float) -> str | Hold:
    redis = store.redis
    claim = _claim(to.contact, message_id)
    if store.opt_out_record(to.contact) is not None:
        return "opted_out"
    if redis.exists(key(to.contact, "invalid")):
        return "invalid_number"
    if redis.exists(claim):
        return _claimed_before(redis, claim)
    slot = job.meta.pop("slot", None)  # a throughput slot booked on an earlier run
    moment = datetime.fromtimestamp(now, UTC)
    if settings.quiet_hours is not None and settings.quiet_hours.contains(moment):
        morning = settings.quiet_hours.next_allowed(moment)
        return Hold("held_quiet_hours", (morning - moment).total_seconds())
    template = to.channel == "whatsapp" and not window.is_open(redis, to.contact, now)
    if template and not settings.whatsapp_template_sid:
        return "needs_template"
    if slot is None and settings.uses_twilio and to.channel == "sms":
        wait = throughput.book(redis, settings.sender, segments(body),
                               settings.segments_per_second, now)
        if wait:
            job.meta["slot"] = now + wait
            return Hold("throttled", wait)
    if not redis.set(claim, SENDING, nx=True, ex=store.ttl.retention):
        return _claimed_before(redis, claim)
    address = open_sealed(settings.secret, to.sealed)
    return _hand_on(job, store, settings, to.contact,
                    Outgoing(address, to.channel, body, message_id, template), now)


def _hand_on(job: Job, store: Store, settings: Settings, contact: str, message: Outgoing,
             now: float) -> str:
    """Give the message to Twilio; on refusal, record what the refusal means."""
    try:
        sid = deliver(settings, message)
    except Exception as error:
        failure = explain(error)
        if failure is Failure.OUTSIDE_WINDOW and not message.template \
                and settings.whatsapp_template_sid:
            return _hand_on(job, store, settings, contact, replace(message, template=True), now)
        if failure is Failure.UNCONFIRMED:  # it may have gone out: never risk a second text
            store.redis.set(_claim(contact, message.message_id), DONE, xx=True, keepttl=True)
            log.warning("outbound message %s for contact %s: no answer from Twilio; not "
                        "retried", message.message_id, contact[:8])
            return failure.value
        store.redis.delete(_claim(contact, message.message_id))  # nothing went out
        if failure is Failure.OPTED_OUT:
            from worker.port import cancel_jobs  # the port queues through this module

            optout.opt_out_now(store, partial(cancel_jobs, store.redis), contact, now,
                               "opted_out_by_carrier")
            return failure.value
        if failure is Failure.INVALID_NUMBER:
            store.redis.set(key(contact, "invalid"), 1, ex=store.ttl.retention)
            return failure.value
        if failure is Failure.OUTSIDE_WINDOW and not settings.whatsapp_template_sid:
            return "needs_template"
        if failure is not Failure.TRANSIENT:
            job.retries_left = 0  # the same request would be refused again
        raise SendFailed(_described(error)) from None
    store.redis.set(_claim(contact, message.message_id), DONE, xx=True, keepttl=True)
    log.info("outbound message %s for contact %s: handed on as %s", message.message_id,
             contact[:8], sid)
    return "sent_template" if message.template else "sent"


def _claim(contact: str, message_id: str) -> str:
    """Set (NX) to `sending` just before a message is handed on, `done` once its run knows
    the outcome: it is handed on once."""
    return key(contact, f"sent:{message_id}")


# KEYS: the claim. Marks a claim left `sending` done; says what it was.
_SETTLE = """
local was = redis.call('GET', KEYS[1])
if was == 'sending' then redis.call('SET', KEYS[1], 'done', 'KEEPTTL') end
return was
"""


def _claimed_before(redis: Redis, claim: str) -> str:
    """Another run claimed this message. `duplicate` when that run finished; `unconfirmed`
    (once) when it never did (its worker was killed mid-send): Twilio may have the message,
    so it is not sent again, and staff can look it up in Twilio's log."""
    was = redis.register_script(_SETTLE)(keys=[claim])
    return Failure.UNCONFIRMED.value if was == SENDING else "duplicate"


def _described(error: Exception) -> str:
    if isinstance(error, TwilioRestException):
        return f"Twilio answered HTTP {error.status}, error {error.code}"
    return type(error).__name__
