"""Flood limits kept in Redis, so every web process shares them.

Per contact, a sliding window: a flood gets one polite notice, then silence until the contact
has been calm for a whole window (every message counts, and every message over the limit
pushes the notice's expiry on). A global per-minute ceiling protects the web processes and the
budget from a storm of many numbers; every message over it gets the "busy" reply (never
silence: those are residents, not a loop) and is not marked seen.

No round trip of its own: a turn reads the counts in its first round trip and writes this
message into them with its commit (bot/store.py), under the contact's lock.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from bot.store import Command, global_key, key


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


def minute_count(now: float) -> tuple[Command, ...]:
    """Count a message in the global minute (run beside the turn's first read)."""
    minute = global_key(f"rate:{int(now // 60)}")
    return ("INCR", minute), ("EXPIRE", minute, 120)


def verdict(recent: int, total: int, noticed: bool, limits: Limits) -> Verdict:
    """`recent`: the contact's messages in the window, this one included; `total`: everyone's
    this minute; `noticed`: this flood got its notice already."""
    if recent <= limits.per_contact:
        return Verdict.OK if total <= limits.global_per_minute else Verdict.BUSY
    return Verdict.SILENT if noticed else Verdict.RATE_LIMITED


def marks(contact: str, now: float, limits: Limits, said: Verdict) -> tuple[Command, ...]:
    """The writes that put this message in the contact's window, and push a flood's notice on
    (the turn's commit runs them under the contact's lock)."""
    recent = key(contact, "rate")
    writes: tuple[Command, ...] = (
        ("ZREMRANGEBYSCORE", recent, 0, now - limits.window),
        ("ZADD", recent, now, f"{now:.6f}-{secrets.token_hex(4)}"),
        ("EXPIRE", recent, limits.window))
    if said in (Verdict.RATE_LIMITED, Verdict.SILENT):
        writes += (("SET", key(contact, "rate:notice"), 1, "EX", limits.window),)
    return writes
