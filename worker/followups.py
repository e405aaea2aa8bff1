"""The dollar-estimate follow-up: households wait in line, a drain job estimates them
together and queues one message each.

One PolicyEngine simulation costs about a second whether it holds 1 household or 200
(worker/estimates.py). So the host only puts the household in line and makes sure one drain
job is queued (`sj:estimates:drain` is set while one waits). A drain takes up to 200
households at once: the busier the line, the bigger (and cheaper per household) the batches,
and with several workers several drains run side by side.

    sj:estimates:pending        list of contact hashes, in arrival order
    sj:{<contact>}:estimate     JSON: message id, sealed address, channel, language, answers
                                and programs shown; a STOP deletes it (bot/optout.py)
    sj:estimates:disagreements  hash: <program>:<kind> -> count, for staff (`screener jobs`)

Only `Estimates.amounts` are ever stated, in the resident's language, and a household without
any gets no follow-up.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from redis import Redis
from rq import Callback, get_current_job

from bot.content import Content, load_content
from bot.optout import PENDING_ESTIMATE
from bot.results import render_estimates
from bot.store import PREFIX, key
from worker.callbacks import on_failure
from worker.estimates import BATCH_LIMIT, Estimates, Item, estimate_batch
from worker.outbound import FAILURE_TTL, Recipient, enqueue_message
from worker.queues import ESTIMATES, queue

log = logging.getLogger(__name__)
PENDING = f"{PREFIX}:estimates:pending"
DRAIN_QUEUED = f"{PREFIX}:estimates:drain"
DISAGREEMENTS = f"{PREFIX}:estimates:disagreements"
TIMEOUT_SECONDS = 600  # a cold model takes ~40 s to load; a batch about a second
PENDING_SECONDS = 86400  # a follow-up a day late is no follow-up: let the list go


def submit(connection: Redis, to: Recipient, lang: str, answers: Mapping[str, Any],
           programs: Sequence[str], message_id: str) -> None:
    """Put a household in line for an estimate (the host calls this after the results)."""
    household = {"id": message_id, "sealed": to.sealed, "channel": to.channel, "lang": lang,
                 "answers": dict(answers), "programs": list(programs)}
    pipe = connection.pipeline()
    pipe.set(key(to.contact, PENDING_ESTIMATE), json.dumps(household, ensure_ascii=False),
             ex=PENDING_SECONDS)
    pipe.rpush(PENDING, to.contact)
    pipe.expire(PENDING, PENDING_SECONDS)
    pipe.execute()
    request_drain(connection)


def request_drain(connection: Redis) -> None:
    """Queue a drain job unless one is waiting already (it will see this household too)."""
    if connection.set(DRAIN_QUEUED, 1, nx=True, ex=TIMEOUT_SECONDS):
        queue(ESTIMATES, connection).enqueue(
            drain, job_timeout=TIMEOUT_SECONDS, result_ttl=0, failure_ttl=FAILURE_TTL,
            on_failure=Callback(on_failure))


def drain() -> int:
    """The RQ job: estimate every waiting household (up to 200) in one batch, queue the
    follow-ups. Returns how many households were estimated."""
    connection = get_current_job().connection
    connection.delete(DRAIN_QUEUED)  # households put in line from now on need another drain
    households = _take(connection)
    if households:
        started = time.perf_counter()
        found = estimate_batch([Item(h["id"], h["answers"], h["programs"])
                                for h in households])
        log.info("estimated %d households in %.1f s", len(households),
                 time.perf_counter() - started)
        for household in households:
            if household["id"] in found:
                _follow_up(connection, household, found[household["id"]])
    if connection.llen(PENDING):
        request_drain(connection)
    return len(households)


def _take(connection: Redis) -> list[dict[str, Any]]:
    """The next households in line; one that STOPped while waiting is gone already."""
    contacts = [raw.decode() for raw in connection.lpop(PENDING, BATCH_LIMIT) or []]
    contacts = list(dict.fromkeys(contacts))  # screened twice while waiting: the latest once
    pipe = connection.pipeline()
    for contact in contacts:
        pipe.getdel(key(contact, PENDING_ESTIMATE))
    return [json.loads(raw) | {"contact": contact}
            for contact, raw in zip(contacts, pipe.execute(), strict=True) if raw]


def _follow_up(connection: Redis, item: Mapping[str, Any], estimates: Estimates) -> None:
    """Count the household's disagreements and queue its follow-up; a failure here costs
    this household its follow-up, not the rest of the batch theirs."""
    try:
        _count_disagreements(connection, estimates)
        if estimates.amounts:
            _queue_follow_up(connection, item, estimates)
    except Exception:
        log.exception("estimate follow-up %s for contact %s not queued", item["id"],
                      item["contact"][:8])


def _count_disagreements(connection: Redis, estimates: Estimates) -> None:
    pipe = connection.pipeline()
    for disagreement in estimates.disagreements:
        pipe.hincrby(DISAGREEMENTS, f"{disagreement.program}:{disagreement.kind}", 1)
    pipe.execute()


def _queue_follow_up(connection: Redis, item: Mapping[str, Any], estimates: Estimates) -> None:
    body = render_estimates(content(), item["lang"], [
        (estimate.program, estimate.amount, estimate.period, estimate.basis)
        for estimate in estimates.amounts])
    enqueue_message(connection, Recipient(item["contact"], item["sealed"], item["channel"]),
                    body, item["id"])


@cache
def content() -> Content:
    """The flows and catalogs, loaded once per worker process (`screener worker` preloads)."""
    return load_content()
