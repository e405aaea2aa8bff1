"""Whether each worker is still loading its model or ready, and since when.

RQ lists a worker only once it listens, so a worker loading the PolicyEngine model (40-60 s)
was invisible: staff could not tell "starting" from "not running". Each `screener worker`
keeps one field of the hash `sj:workers` (its name -> JSON) fresh: a thread every few seconds
while it loads, RQ's own heartbeat once it listens (worker/start.py). It removes its field on
a clean stop; a killed worker's field goes stale and readers ignore it.

    sj:workers   hash: worker name -> {"queues", "state", "since", "seen", "pid", "host",
                 "load_seconds"}; `state` is loading or ready, `since` when it got there

`screener jobs` lists the workers; /healthz shows `summary` through the job port.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from redis import Redis
from redis.client import Pipeline
from redis.exceptions import RedisError

from bot.store import PREFIX
from worker.queues import QUEUES

log = logging.getLogger(__name__)
State = Literal["loading", "ready"]
WORKERS = f"{PREFIX}:workers"
LOADING: State = "loading"
READY: State = "ready"
BEAT_SECONDS = 5.0  # a loading worker says it is still loading this often
# Longer than RQ lets a listening worker go between heartbeats (its TTL + 60 s,
# worker/start.py): a field not refreshed for this long belongs to a dead worker.
STALE_SECONDS = 150.0


@dataclass(frozen=True)
class WorkerState:
    """One worker process as it last reported itself."""

    name: str
    queues: tuple[str, ...]
    state: State
    since: float  # Unix time it started loading, or became ready
    seen: float  # Unix time of its last report
    pid: int = 0
    host: str = ""
    load_seconds: float | None = None  # how long its model took (ready workers that load one)

    @classmethod
    def starting(cls, name: str, queues: Sequence[str], now: float) -> WorkerState:
        return cls(name, tuple(queues), LOADING, now, now, os.getpid(), socket.gethostname())

    def ready(self, queues: Sequence[str], now: float,
              load_seconds: float | None) -> WorkerState:
        return replace(self, queues=tuple(queues), state=READY, since=now, seen=now,
                       load_seconds=load_seconds)

    def to_json(self) -> str:
        fields = asdict(self)
        del fields["name"]
        return json.dumps(fields)

    @classmethod
    def from_json(cls, name: str, raw: str | bytes) -> WorkerState:
        fields = json.loads(raw)
        return cls(name=name, queues=tuple(fields.pop("queues")), **fields)


# Writing (the worker) -------------------------------------------------------------------------


def report(connection: Redis | Pipeline, worker: WorkerState, now: float) -> None:
    """Record the worker as seen now (on a pipeline too: RQ's heartbeat passes one)."""
    connection.hset(WORKERS, worker.name, replace(worker, seen=now).to_json())


def forget(connection: Redis, name: str) -> None:
    connection.hdel(WORKERS, name)


@contextmanager
def loading(connection: Redis, worker: WorkerState,
            clock: Callable[[], float]) -> Iterator[None]:
    """Report the worker loading, again every BEAT_SECONDS until the block ends (its model is
    in), and prune dead workers' fields. The thread is joined before the block returns: RQ
    forks afterwards, and a fork must not copy a thread in the middle of a Redis call. A block
    that raises takes the field with it. Redis being down delays no start-up."""
    stop = threading.Event()

    def beat() -> None:
        while True:
            try:
                report(connection, worker, clock())
            except RedisError as error:
                log.warning("worker %s: loading state not recorded: %s", worker.name, error)
            if stop.wait(BEAT_SECONDS):
                return

    try:
        prune(connection, clock())
    except RedisError as error:
        log.warning("stale worker states not pruned: %s", error)
    thread = threading.Thread(target=beat, name="worker-loading", daemon=True)
    thread.start()
    try:
        yield
    except BaseException:
        stop.set()
        thread.join()
        _forget_quietly(connection, worker.name)
        raise
    stop.set()
    thread.join()


def _forget_quietly(connection: Redis, name: str) -> None:
    try:
        forget(connection, name)
    except RedisError:
        log.warning("worker %s: state not removed (it goes stale)", name)


def prune(connection: Redis, now: float) -> None:
    """Drop the fields of workers gone without a clean stop (killed, machine lost)."""
    stale = [state.name for state in _all(connection) if state.seen < now - STALE_SECONDS]
    if stale:
        connection.hdel(WORKERS, *stale)


# Reading (screener jobs, the job port) --------------------------------------------------------


def alive(connection: Redis, now: float) -> list[WorkerState]:
    """Workers that reported lately, oldest first: one Redis read."""
    return sorted((state for state in _all(connection) if state.seen >= now - STALE_SECONDS),
                  key=lambda state: (state.since, state.name))


def summary(workers: Iterable[WorkerState],
            queues: Sequence[str] = QUEUES) -> dict[str, dict[str, Any]]:
    """Per queue: `state` (ready when a worker listens, loading when one is still loading its
    model, else none), how many are `ready` and `loading`, and `since` (ISO time, UTC) when the
    first got to that state."""
    workers = list(workers)
    found = {}
    for name in queues:
        serving = [w for w in workers if name in w.queues]
        ready = [w.since for w in serving if w.state == READY]
        loading = [w.since for w in serving if w.state == LOADING]
        state = READY if ready else LOADING if loading else "none"
        since = min(ready or loading) if ready or loading else None
        found[name] = {"state": state, "ready": len(ready), "loading": len(loading),
                       "since": _iso(since) if since is not None else None}
    return found


def _all(connection: Redis) -> list[WorkerState]:
    states = []
    for field, raw in connection.hgetall(WORKERS).items():
        name = field.decode() if isinstance(field, bytes) else field
        try:
            states.append(WorkerState.from_json(name, raw))
        except (ValueError, TypeError, KeyError):
            log.warning("worker %s: unreadable state %r", name, raw)
    return states


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace("+00:00",
                                                                                     "Z")
