"""`GET /healthz`: for the load balancer and for `screener run` to know it is up."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError

from bot.web import textline

bp = Blueprint("health", __name__)
PROBE = "sj:health:probe"


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when Redis takes a write; 503 when it is down or answers but cannot write (out of
    memory, a read-only replica): either way no turn can be saved."""
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
    }
    return jsonify(body), 200 if redis_ok else 503
