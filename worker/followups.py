"""The dollar-estimate follow-up: households wait in line, a drain job estimates them
together and queues one message each.

One PolicyEngine simulation costs about a second whether it holds 1 household or 200
(worker/estimates.py). So the host only puts the household in line and makes sure one drain
job is queued (`sj:estimates:drain` is set while one waits). A drain takes up to 200
households at once: the busier the line, the bigger (and cheaper per household) the batches,
and with several workers several drains run side by side.

A drain never holds households only in its own memory: it moves them from the line to its own
processing list (`sj:estimates:batch:<job id>`) in one step, under a lease it renews every few
seconds while it works, and takes each one off that list only once its follow-up is queued. A
drain that fails gives its batch back to the head of the line; one that is killed (OOM,
SIGKILL, a lost machine) stops renewing, and the next drain, or `screener worker` starting,
gives the batch back once the lease has lapsed. A household given back `MAX_TRIES` times is
let go (logged and counted), so one that kills its worker cannot block the line forever. A
follow-up queued twice (a drain killed between queueing it and ticking it off) is still sent
once: its job id is the same and the send is claimed (worker/outbound.py).

    sj:estimates:pending        list of contact hashes, in arrival order
    sj:estimates:batch:<job>    a drain's processing list: its households, until each is done
    sj:estimates:leases         sorted set: processing list -> when its lease lapses
    sj:{<contact>}:estimate     JSON: message id, sealed address, channel, language, answers
                                and programs shown; a STOP deletes it (worker/port.py)
    sj:estimates:disagreements  hash: <program>:<kind> -> count, for staff (`screener jobs`)

Only `Estimates.amounts` are ever stated, in the resident's language, and a household without
any gets no follow-up.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from typing import Any

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError
from rq import Callback, Retry, get_current_job

from bot.content import Content, load_content
from bot.optout import PENDING_ESTIMATE
from bot.results import render_estimates
from bot.rules import san_jose_date
from bot.store import PREFIX, STATS_SECONDS, key
from worker import outbound
from worker.callbacks import count_failure, on_failure
from worker.estimates import BATCH_LIMIT, Estimates, Item, estimate_batch
from worker.outbound import FAILURE_TTL, Recipient, enqueue_message
from worker.queues import ESTIMATES, queue
from worker.settings import Timing

log = logging.getLogger(__name__)
PENDING = f"{PREFIX}:estimates:pending"
DRAIN_QUEUED = f"{PREFIX}:estimates:drain"
DISAGREEMENTS = f"{PREFIX}:estimates:disagreements"
LEASES = f"{PREFIX}:estimates:leases"
BATCH = f"{PREFIX}:estimates:batch:"
TIMEOUT_SECONDS = 600  # a cold model takes ~40 s to load; a batch about a second
PENDING_SECONDS = 86400  # a follow-up a day late is no follow-up: let the list go
LEASE_SECONDS = 30.0  # a killed drain's batch waits this long before it is given back
MAX_TRIES = 3  # a household given back this often is let go
GIVEN_UP = f"{ESTIMATES}:households_given_up"  # counted in sj:jobs:failures

# KEYS: line, processing list, leases. ARGV: how many, lease end, list lifetime.
_CLAIM = """
local taken = redis.call('LPOP', KEYS[1], ARGV[1])
if not taken then return {} end
redis.call('RPUSH', KEYS[2], unpack(taken))
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
return taken
"""
# KEYS: leases, line, processing list. ARGV: give back only if the lease ends before this,
# list lifetime. Returns the households given back, to the head of the line in their order.
_GIVE_BACK = """
local lease = redis.call('ZSCORE', KEYS[1], KEYS[3])
if not lease or tonumber(lease) >= tonumber(ARGV[1]) then return {} end
local items = redis.call('LRANGE', KEYS[3], 0, -1)
redis.call('ZREM', KEYS[1], KEYS[3])
redis.call('DEL', KEYS[3])
for i = #items, 1, -1 do redis.call('LPUSH', KEYS[2], items[i]) end
if #items > 0 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
return items
"""
_ALWAYS = 1e18  # a lease end no lease reaches: give back whatever the lease says


def put_in_line(pipe: Pipeline, to: Recipient, lang: str, answers: Mapping[str, Any],
                programs: Sequence[str], message_id: str) -> int:
    """Add the writes that put a household in line for an estimate to `pipe` (a turn sends
    them with its other jobs, worker/engine_jobs.py). The last claims the drain: returns its
    place in the pipeline, whose answer goes to `drain_if_claimed`."""
    household = {"id": message_id, "sealed": to.sealed, "channel": to.channel, "lang": lang,
                 "answers": dict(answers), "programs": list(programs)}
    pipe.set(key(to.contact, PENDING_ESTIMATE), json.dumps(household, ensure_ascii=False),
             ex=PENDING_SECONDS)
    pipe.rpush(PENDING, to.contact)
    pipe.expire(PENDING, PENDING_SECONDS)
    pipe.set(DRAIN_QUEUED, 1, nx=True, ex=TIMEOUT_SECONDS)
    return len(pipe.command_stack) - 1


def drain_if_claimed(connection: Redis, claimed: Any) -> None:
    """Queue a drain job if this household's claim took: none was waiting already (a waiting
    one will see this household too)."""
    if claimed:
        _enqueue_drain(connection)


def request_drain(connection: Redis) -> None:
    """Queue a drain job unless one is waiting already (it will see this household too)."""
    drain_if_claimed(connection, connection.set(DRAIN_QUEUED, 1, nx=True, ex=TIMEOUT_SECONDS))


def _enqueue_drain(connection: Redis) -> None:
    """A killed work horse fails its job without running any of our code: RQ's retry, once
    the lease has lapsed, runs a drain that gives the killed one's batch back."""
    pipe = connection.pipeline()  # RQ's writes of the job in one round trip, not two
    queue(ESTIMATES, connection).enqueue(
        drain, job_timeout=TIMEOUT_SECONDS, result_ttl=0, failure_ttl=FAILURE_TTL,
        on_failure=Callback(on_failure),
        retry=Retry(max=MAX_TRIES, interval=int(LEASE_SECONDS) + 5), pipeline=pipe)
    pipe.execute()


def drain() -> int:
    """The RQ job: estimate every waiting household (up to 200) in one batch, queue the
    follow-ups. Returns how many households were estimated."""
    job = get_current_job()
    connection = job.connection
    connection.delete(DRAIN_QUEUED)  # households put in line from now on need another drain
    recover(connection)
    batch = f"{BATCH}{job.id}"
    with _leased(connection, batch):
        try:
            households = _take(connection, batch)
            if households:
                _estimate(connection, batch, households)
        except BaseException:  # JobTimeoutException included: the batch goes back in line
            given_back = _give_back(connection, batch, _ALWAYS)
            log.warning("estimate drain %s failed; %d households back in line", job.id,
                        len(given_back))
            raise
        _give_back(connection, batch, _ALWAYS)  # any whose follow-up could not be queued
    if connection.llen(PENDING):
        request_drain(connection)
    return len(households)


def _estimate(connection: Redis, batch: str, households: list[dict[str, Any]]) -> None:
    started = time.perf_counter()
    found = estimate_batch([Item(h["id"], h["answers"], h["programs"]) for h in households],
                           today=san_jose_date(outbound.clock()))
    log.info("estimated %d households in %.1f s", len(households), time.perf_counter() - started)
    for household in households:
        estimates = found.get(household["id"])  # None: failed alone too (logged); let go
        if estimates is None or _follow_up(connection, household, estimates):
            _done(connection, batch, household["contact"])


def _take(connection: Redis, batch: str) -> list[dict[str, Any]]:
    """Move the next households in line to this drain's processing list; one that STOPped
    while waiting is gone already, one given back too often is let go."""
    claim = connection.register_script(_CLAIM)
    taken = claim(keys=[PENDING, batch, LEASES],
                  args=[BATCH_LIMIT, time.time() + LEASE_SECONDS, PENDING_SECONDS])
    contacts = list(dict.fromkeys(raw.decode() for raw in taken))  # screened twice: once
    pipe = connection.pipeline()
    for contact in contacts:
        pipe.get(key(contact, PENDING_ESTIMATE))
    households = []
    for contact, raw in zip(contacts, pipe.execute(), strict=True):
        household = json.loads(raw) | {"contact": contact} if raw else None
        if household is not None and household.get("tries", 0) < MAX_TRIES:
            households.append(household)
            continue
        if household is not None:
            log.warning("estimate %s for contact %s given up after %d tries", household["id"],
                        contact[:8], household["tries"])
            count_failure(connection, GIVEN_UP)
        _done(connection, batch, contact)
    return households


def _done(connection: Redis, batch: str, contact: str) -> None:
    """The household is dealt with: off the processing list, its answers deleted."""
    pipe = connection.pipeline()
    pipe.lrem(batch, 0, contact)
    pipe.delete(key(contact, PENDING_ESTIMATE))
    pipe.execute()


def recover(connection: Redis) -> int:
    """Give back the batches of drains whose lease has lapsed (killed or frozen); how many
    households went back in line."""
    lapsed = connection.zrangebyscore(LEASES, "-inf", time.time())
    return sum(len(_give_back(connection, name.decode(), time.time())) for name in lapsed)


def resume(connection: Redis) -> threading.Thread | None:
    """At worker start: give back lapsed batches and make sure a drain serves the line.
    Leases still running may be those of a worker that just died (this one's predecessor):
    a thread looks again once they would have lapsed. Not RQ's scheduler: after a crash it
    may not run again for minutes (its lock outlives the worker)."""
    recover(connection)
    if connection.llen(PENDING):
        request_drain(connection)
    leases = connection.zrange(LEASES, -1, -1, withscores=True)
    if not leases:
        return None

    def look_again() -> None:
        time.sleep(max(0.0, leases[0][1] - time.time()) + 0.5)
        try:
            if recover(connection):
                request_drain(connection)
        except RedisError:
            log.exception("estimate batches of dead drains not given back")

    thread = threading.Thread(target=look_again, name="estimate-resume", daemon=True)
    thread.start()
    return thread


def _give_back(connection: Redis, batch: str, lapsed_before: float) -> list[str]:
    """Return a processing list to the head of the line, counting a try for each household."""
    give_back = connection.register_script(_GIVE_BACK)
    contacts = [raw.decode() for raw in give_back(keys=[LEASES, PENDING, batch],
                                                  args=[lapsed_before, PENDING_SECONDS])]
    for contact in dict.fromkeys(contacts):
        name = key(contact, PENDING_ESTIMATE)
        raw = connection.get(name)
        if raw:
            household = json.loads(raw)
            household["tries"] = household.get("tries", 0) + 1
            connection.set(name, json.dumps(household, ensure_ascii=False), xx=True,
                           keepttl=True)
    if contacts:
        log.warning("%d households of %s back in line", len(contacts), batch)
    return contacts


@contextmanager
def _leased(connection: Redis, batch: str) -> Iterator[None]:
    """Renew the batch's lease while the drain works: a thread, because the model holds the
    drain for seconds at a time; a killed process stops renewing with it."""
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LEASE_SECONDS / 4):
            try:
                connection.zadd(LEASES, {batch: time.time() + LEASE_SECONDS}, xx=True)
            except RedisError:
                log.warning("estimate batch %s: lease not renewed", batch)

    thread = threading.Thread(target=renew, name="estimate-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _follow_up(connection: Redis, item: Mapping[str, Any], estimates: Estimates) -> bool:
    """Count the household's disagreements and queue its follow-up; False when that failed,
    which puts this household back in line, not the rest of the batch."""
    try:
        _count_disagreements(connection, estimates)
        if estimates.amounts:
            _queue_follow_up(connection, item, estimates)
    except Exception:
        log.exception("estimate follow-up %s for contact %s not queued", item["id"],
                      item["contact"][:8])
        return False
    return True


def _count_disagreements(connection: Redis, estimates: Estimates) -> None:
    pipe = connection.pipeline()
    for disagreement in estimates.disagreements:
        pipe.hincrby(DISAGREEMENTS, f"{disagreement.program}:{disagreement.kind}", 1)
    pipe.expire(DISAGREEMENTS, STATS_SECONDS)  # like the daily counters, after the last one
    pipe.execute()


def _queue_follow_up(connection: Redis, item: Mapping[str, Any], estimates: Estimates) -> None:
    body = render_estimates(content(), item["lang"], [
        (estimate.program, estimate.amount, estimate.period, estimate.basis)
        for estimate in estimates.amounts])
    enqueue_message(connection, Recipient(item["contact"], item["sealed"], item["channel"]),
                    body, item["id"], timing=timing())


def timing() -> Timing:
    """The worker's quiet hours and retention: its configuration is its environment."""
    return Timing.from_config(os.environ)


@cache
def content() -> Content:
    """The flows and catalogs, loaded once per worker process (`screener worker` preloads)."""
    return load_content()
