"""Messages to residents outside a reply (follow-ups, results of slow work), sent by RQ.

Safe to run twice and safe after STOP: the opt-out flag is checked at send time (the job may
have been queued before the STOP, or be running when it arrives), and a message id is handed
on at most once (SET NX), whatever RQ retries or duplicate enqueues do.
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime

from redis import Redis
from rq import Retry, get_current_job
from rq.job import Job
from twilio.rest import Client

from bot import optout, outbox
from bot.store import Store, Ttl, key
from worker.queues import OUTBOUND, queue

log = logging.getLogger(__name__)
RETRY = Retry(max=3, interval=[5, 30, 120])  # needs `rq worker --with-scheduler`


def enqueue_message(connection: Redis, contact: str, to: str, channel: str, body: str,
                    message_id: str, at: datetime | None = None) -> Job:
    """Queue a message (now, or `at` a time) and note the job on the contact for STOP."""
    job_id = f"send-{message_id}"
    jobs = key(contact, "jobs")
    pipe = connection.pipeline()
    pipe.sadd(jobs, job_id)
    pipe.expire(jobs, Ttl.from_config(os.environ).retention)
    pipe.execute()
    outbound = queue(OUTBOUND, connection)
    args = (contact, to, channel, body, message_id)
    # The job's arguments hold the number: keep no result, and a failure only for a day.
    options = {"job_id": job_id, "retry": RETRY, "result_ttl": 0, "failure_ttl": 86400}
    if at is not None:
        return outbound.enqueue_at(at, send_message, *args, **options)
    return outbound.enqueue(send_message, *args, **options)


def send_message(contact_key: str, to: str, channel: str, body: str, message_id: str) -> str:
    """The RQ job: `sent`, or why not (`opted_out`, `duplicate`)."""
    job = get_current_job()
    store = Store(job.connection, Ttl.from_config(os.environ))
    outcome = _send(store, contact_key, to, channel, body, message_id)
    job.connection.srem(key(contact_key, "jobs"), job.id)
    log.info("outbound message %s for contact %s: %s", message_id, contact_key[:8], outcome)
    return outcome


def _send(store: Store, contact: str, to: str, channel: str, body: str,
          message_id: str) -> str:
    if store.opt_out_record(contact) is not None:
        return "opted_out"
    claim = key(contact, f"sent:{message_id}")
    if not store.redis.set(claim, 1, nx=True, ex=store.ttl.retention):
        return "duplicate"
    try:
        deliver(to, channel, body, message_id)
    except Exception as error:
        if getattr(error, "code", None) == optout.CARRIER_OPT_OUT:
            optout.opt_out_now(store, contact, time.time(), "opted_out_by_carrier")
            return "opted_out"
        store.redis.delete(claim)  # let the retry send it
        raise
    return "sent"


def deliver(to: str, channel: str, body: str, message_id: str) -> None:
    """Through Twilio's REST API when credentials are set, else into the local outbox."""
    sid, token = os.environ.get("TWILIO_ACCOUNT_SID"), os.environ.get("TWILIO_AUTH_TOKEN")
    if not (sid and token):
        outbox.append({"id": message_id, "to": to, "channel": channel, "body": body,
                       "at": time.time()})
        return
    params = {"to": to, "body": body,
              "messaging_service_sid": os.environ["TWILIO_MESSAGING_SERVICE_SID"]}
    if os.environ.get("PUBLIC_URL"):
        params["status_callback"] = os.environ["PUBLIC_URL"].rstrip("/") + "/twilio/status"
    twilio_client(sid, token).messages.create(**params)


def twilio_client(sid: str, token: str) -> Client:
    return Client(sid, token)
