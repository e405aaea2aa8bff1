"""The follow-ups that close the loop, as RQ jobs: a nudge, "Did you apply?", "Were you
approved?" (what each asks and when: bot/checkins.py).

`enqueue_check_in` schedules one job, out of quiet hours, noted on the contact so a STOP
deletes it. When it comes due, `check_in`:
1. does nothing for a contact who opted out;
2. waits for the morning if it is quiet hours now;
3. on WhatsApp, asks only inside the 24-hour window or with the approved template;
4. under the contact's lock (the same lock as web turns, fencing the write), reads the
   session, lets `bot.checkins.check_in` decide, and saves the session and the counts;
5. queues the text as an ordinary outbound message (worker/outbound.py), which checks
   opt-out, quiet hours, the window and the sender's pace again, and sends it at most once.
"""

from __future__ import annotations

import logging
import math
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import LockError, RedisError
from rq import Callback, Retry, get_current_job
from rq.job import Job

from bot import checkins, outreach, window
from bot.store import Change, Store, key
from worker import followups, outbound
from worker.callbacks import on_failure
from worker.outbound import FAILURE_TTL, Recipient, enqueue_message, note_job
from worker.queues import OUTBOUND, queue, schedule
from worker.settings import Settings, Timing

log = logging.getLogger(__name__)
BUSY_SECONDS = 30  # the contact is in a turn: try again shortly


def enqueue_check_in(connection: Redis, to: Recipient, data: dict[str, Any], job_id: str,
                     now: float, timing: Timing | None = None,
                     pipeline: Pipeline | None = None) -> Job:
    """Schedule the follow-up `data["kind"]` for `data["after"]` seconds from `now`, moved
    out of quiet hours. `data` holds no answer: kind, language, campaign, program ids.
    `timing` and `pipeline` are as for `enqueue_message`."""
    timing = timing or Timing.from_config(os.environ)
    due = datetime.fromtimestamp(now, UTC) + timedelta(seconds=data["after"])
    if timing.quiet_hours is not None:
        due = timing.quiet_hours.next_allowed(due)
    note_job(connection, to.contact, job_id, timing.ttl.retention + round(due.timestamp() - now),
             pipeline)
    return schedule(
        queue(OUTBOUND, connection), due, pipeline, check_in, to.contact, to.sealed,
        to.channel, data, job_id=job_id, description=f"check-in {data['kind']}", result_ttl=0,
        failure_ttl=FAILURE_TTL, on_failure=Callback(on_failure),
        meta={"contact": to.contact[:8]})


def check_in(contact: str, sealed: str, channel: str, data: dict[str, Any]) -> str | Retry:
    """The RQ job: `asked`, `skipped`, `opted_out` or `needs_template`, or a Retry."""
    job = get_current_job()
    settings = Settings.from_env()
    store = Store(job.connection, settings.ttl)
    now = outbound.clock()
    kind = data["kind"]
    if store.opt_out_record(contact) is not None:
        return _done(store, job, contact, kind, "opted_out", now)
    moment = datetime.fromtimestamp(now, UTC)
    if settings.quiet_hours is not None and settings.quiet_hours.contains(moment):
        return _again(job, (settings.quiet_hours.next_allowed(moment) - moment).total_seconds())
    if channel == "whatsapp" and not window.is_open(store.redis, contact, now) \
            and not settings.whatsapp_template_sid:
        return _done(store, job, contact, kind, "needs_template", now)
    lock = store.lock(contact)
    if not lock.acquire():
        return _again(job, BUSY_SECONDS)
    try:
        found = store.snapshot(contact, None)
        if found.opt_out is not None:  # a STOP landed since the check above
            return _done(store, job, contact, kind, "opted_out", now)
        decided = checkins.check_in(followups.content(), found.session, kind, data, now)
        if decided.later is not None:
            return _again(job, decided.later - now)
        if decided.session is not None:
            counted = outreach.fields(decided.session, channel,
                                      outreach.outcomes(decided.events))
            store.commit(contact, Change([], session=decided.session, outreach=counted), now,
                         token=lock.local.token)
    finally:
        _release(lock)
    if decided.text:
        enqueue_message(job.connection, Recipient(contact, sealed, channel), decided.text,
                        job.id, timing=Timing(settings.quiet_hours, settings.ttl), now=now)
    return _done(store, job, contact, kind, "asked" if decided.text else "skipped", now)


def _again(job: Job, seconds: float) -> Retry:
    """Run this job again in `seconds` (RQ counts every Retry returned: the count is ours)."""
    return Retry(max=(job.number_of_retries or 0) + 1, interval=max(1, math.ceil(seconds)))


def _done(store: Store, job: Job, contact: str, kind: str, outcome: str, now: float) -> str:
    store.redis.srem(key(contact, "jobs"), job.id)
    store.count(now, [f"check_in:{kind}:{outcome}"], table="outbound")
    log.info("check-in %s for contact %s: %s", kind, contact[:8], outcome)
    return outcome


def _release(lock: Any) -> None:
    try:
        lock.release()
    except (LockError, RedisError) as error:
        log.warning("could not release a contact lock: %s", type(error).__name__)
