"""Flood limits kept in Redis, so every web process shares them.

Per contact, a sliding window: a flood gets one polite notice, then silence until the contact
has been calm for a whole window (every message counts, and every message over the limit
pushes the notice's expiry on). A global per-minute ceiling protects the web processes and the
budget from a storm of many numbers; every message over it gets the "busy" reply (never
silence: those are residents, not a loop) and is not marked seen.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from redis import Redis

from bot.store import global_key, key


class Verdict(Enum):
    OK = "ok"
    RATE_LIMITED = "rate_limited"  # send the contact's notice (flow message of that name)
    BUSY = "busy"  # send the global notice (flow message of that name)
    SILENT = "silent"  # noticed already: say nothing


@dataclass(frozen=True)
class Limits:
    per_contact: int = 20  # messages per window: above any fast typer, below any loop
    window: int = 60  # seconds
    # The fault probe measured about 16,000 turns a minute on the Procfile settings; keep a
    # quarter in reserve. A city event (500 residents at once) sent about 4,600 a minute.
    global_per_minute: int = 12_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        names = {"per_contact": "RATE_LIMIT_PER_MINUTE",
                 "global_per_minute": "GLOBAL_RATE_LIMIT_PER_MINUTE"}
        return cls(**{field: int(config[name]) for field, name in names.items()
                      if config.get(name)})


def check(redis: Redis, contact: str, now: float, limits: Limits) -> Verdict:
    recent, minute = key(contact, "rate"), global_key(f"rate:{int(now // 60)}")
    pipe = redis.pipeline(transaction=False)
    pipe.zremrangebyscore(recent, 0, now - limits.window)
    pipe.zadd(recent, {f"{now:.6f}-{secrets.token_hex(4)}": now})
    pipe.zcard(recent)
    pipe.expire(recent, limits.window)
    pipe.incr(minute)
    pipe.expire(minute, 120)
    _, _, count, _, total, _ = pipe.execute()
    if count <= limits.per_contact:
        return Verdict.OK if total <= limits.global_per_minute else Verdict.BUSY
    notice = key(contact, "rate:notice")
    if redis.set(notice, 1, nx=True, ex=limits.window):
        return Verdict.RATE_LIMITED
    redis.expire(notice, limits.window)
    return Verdict.SILENT
