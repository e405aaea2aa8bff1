"""`GET /healthz`: for the load balancer and for `screener run` to know it is up."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from redis.exceptions import RedisError

from bot.web import textline

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """200 when Redis answers; 503 when it does not (the web hook still apologises then)."""
    line = textline()
    try:
        redis_ok = bool(line.store.redis.ping())
    except RedisError:
        redis_ok = False
    flow = line.content.flow
    body = {
        "status": "ok" if redis_ok else "unavailable",
        "redis": "ok" if redis_ok else "down",
        "flow": {"name": flow.name, "version": flow.version, "fingerprint": flow.fingerprint},
        "languages": list(line.content.languages),
        "opt_out_mode": line.keywords.mode,
    }
    return jsonify(body), 200 if redis_ok else 503
