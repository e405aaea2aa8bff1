"""`GET /healthz`: for the load balancer and for `screener run` to know it is up."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from redis.exceptions import RedisError

from bot.inbound import Textline
from bot.web import textline

bp = Blueprint("health", __name__)
PROBE = "sj:health:probe"
# The workers' readiness is read at most this often per process, so a load balancer probing
# many times a second costs no extra Redis read; a worker takes 40-60 s to get ready anyway.
WORKERS_SECONDS = 5.0


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when Redis takes a write; 503 when it is down or answers but cannot write (out of
    memory, a read-only replica): either way no turn can be saved. `workers` says which
    queues a worker serves, or is still loading for; it never changes the status: the web
    hook answers residents without any worker."""
    line = textline()
    redis = line.store.redis
    state = "ok"
    try:
        redis.ping()
    except RedisError:
        state = "down"
    else:
        try:
            redis.set(PROBE, line.clock(), ex=60)
        except RedisError:
            state = "cannot_write"
    redis_ok = state == "ok"
    flow = line.content.flow
    body = {
        "status": "ok" if redis_ok else "unavailable",
        "redis": state,
        "flow": {"name": flow.name, "version": flow.version,
                 "fingerprint": line.content.fingerprint},
        "languages": list(line.content.languages),
        "opt_out_mode": line.keywords.mode,
        "opt_outs_kept_on_disk": line.fallback.pending(),
        "workers": _workers(line) if redis_ok else None,
    }
    return jsonify(body), 200 if redis_ok else 503


@dataclass
class _Readiness:
    value: Mapping[str, Any] | None = None
    until: float = 0.0  # time.monotonic() after which it is read again


def _workers(line: Textline) -> Mapping[str, Any] | None:
    """The job port's readiness, read at most every WORKERS_SECONDS; None if unreadable."""
    cached = current_app.extensions.setdefault("healthz_workers", _Readiness())
    now = time.monotonic()
    if now >= cached.until:
        try:
            cached.value = line.jobs.readiness()
        except RedisError:
            cached.value = None
        cached.until = now + WORKERS_SECONDS
    return cached.value
