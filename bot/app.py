"""The Flask app factory: `gunicorn 'bot.app:create_app()'`.

Configuration comes from the environment (docs/design.md, "Contracts"); tests pass a mapping
instead, which may also hold a ready `REDIS` client, loaded `CONTENT`, a `CLOCK` and a `JOBS`
port (bot/jobs.py; otherwise the installed one, found through its entry point).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask
from redis import Redis
from redis.exceptions import RedisError, ResponseError

from bot.content import load_content
from bot.inbound import Textline
from bot.jobs import for_app as jobs_for_app
from bot.language import warm as warm_language_model
from bot.optout import Fallback
from bot.ratelimit import Limits
from bot.store import DEFAULT_REDIS_URL, Ttl, connect
from bot.web import door, health, staff, twilio

ENVIRONMENT = (
    "REDIS_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_WEBHOOK_KEYS",
    "PUBLIC_URL", "SCREENER_SECRET", "OPT_OUT_MODE", "RETENTION_DAYS",
    "OPT_OUT_RETENTION_DAYS", "RATE_LIMIT_PER_MINUTE", "GLOBAL_RATE_LIMIT_PER_MINUTE",
    "OPT_OUT_FALLBACK_PATH", "QUIET_HOURS", "STAFF_USERS",
)
# Twilio's form is a few KB (1,600 characters of text, percent-encoded, and up to ten media
# URLs). Anything larger is refused (413) before Werkzeug parses it, signature or not.
MAX_BODY_BYTES = 64 * 1024
log = logging.getLogger(__name__)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    if not logging.getLogger().handlers:  # gunicorn configures only its own loggers
        logging.basicConfig(level=logging.INFO,
                            format="%(asctime)s %(levelname)s %(name)s %(message)s")
    app = Flask(__name__)
    if config is None:
        config = {name: os.environ[name] for name in ENVIRONMENT if os.environ.get(name)}
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES)
    app.config.from_mapping(config)
    secret = app.config.get("SCREENER_SECRET")
    if not secret:
        raise RuntimeError("SCREENER_SECRET is not set: it keys the hashes that keep phone "
                           "numbers out of Redis and logs")
    content = app.config.get("CONTENT") or load_content()
    warm_language_model(content.flow)  # the first resident must not wait for it
    redis = app.config.get("REDIS") or connect(app.config.get("REDIS_URL") or DEFAULT_REDIS_URL)
    warn_unless_persistent(redis)
    jobs = app.config.get("JOBS") or jobs_for_app(app.config, redis, content, secret.encode())
    app.extensions["textline"] = Textline(
        content,
        redis,
        secret.encode(),
        jobs=jobs,
        opt_out_mode=app.config.get("OPT_OUT_MODE") or "twilio",
        ttl=Ttl.from_config(app.config),
        limits=Limits.from_config(app.config),
        clock=app.config.get("CLOCK") or time.time,
        fallback=Fallback(app.config.get("OPT_OUT_FALLBACK_PATH")),
    )
    app.register_blueprint(twilio.bp)
    app.register_blueprint(health.bp)
    staff.install(app)
    door.install(app)  # the resident web page at / (after staff: its CSRF)
    return app


def warn_unless_persistent(redis: Redis) -> None:
    """Opt-out records are the data we must never lose: say loudly when a Redis restart
    would lose them (no append-only file)."""
    try:
        enabled = redis.info("persistence").get("aof_enabled")
    except ResponseError:  # INFO refused (some managed services, fakeredis): cannot tell
        log.info("could not check whether Redis persists: INFO refused")
        return
    except RedisError as error:
        log.warning("could not check whether Redis persists: %s", type(error).__name__)
        return
    if enabled is not None and not int(enabled):
        log.warning("REDIS DOES NOT PERSIST: appendonly is off, so a Redis restart loses every "
                    "opt-out record, session and queued job. Set `appendonly yes` "
                    "(docs/twilio.md, section 6)")
