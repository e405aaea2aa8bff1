"""Cases: residents who asked for a person and agreed to share their answers with a city
benefits navigator (the hand-off). Stored in Redis, never with the phone number: a case holds
the contact's hash and its sealed address (bot/sealing.py), which only the worker opens to
send a navigator's reply.

    sj:cases:open              sorted set: open case ids by the time they opened
    sj:case:{<id>}             JSON: language, channel, campaign, answers, programs, status...
    sj:case:{<id>}:messages    list of JSON {from: resident|navigator|bot, text, at, staff}
    sj:cases:audit             list of JSON {at, staff, action, case}: who did what (no number)

A case and its messages live `RETENTION_DAYS` after their last activity, like a session, and
the list of open cases as long as its newest activity; a STOP erases them at once. The audit
is kept as long as the daily counters after its last entry.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from redis import Redis

from bot.store import PREFIX, STATS_SECONDS

OPEN = f"{PREFIX}:cases:open"
AUDIT = f"{PREFIX}:cases:audit"
AUDIT_KEPT = 5000


def _case_key(case_id: str) -> str:
    return f"{PREFIX}:case:{{{case_id}}}"


def _messages_key(case_id: str) -> str:
    return f"{_case_key(case_id)}:messages"


@dataclass
class Case:
    id: str
    contact: str  # the contact's hash (bot/store.py), never the number
    sealed: str  # the address, sealed for the worker
    channel: str
    lang: str
    opened: float
    staffed: bool  # opened within staffed hours
    campaign: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    programs: list[str] = field(default_factory=list)
    status: str = "open"
    claimed_by: str | None = None
    closed_by: str | None = None
    closed_at: float | None = None


@dataclass(frozen=True)
class Message:
    sender: str  # resident, navigator or bot
    text: str
    at: float
    staff: str | None = None


def open_case(redis: Redis, *, contact: str, sealed: str, channel: str,
              session: dict[str, Any], now: float, staffed: bool, ttl: int) -> Case:
    """Open a case from the resident's session (the answers they agreed to share)."""
    case = Case(id=secrets.token_hex(6), contact=contact, sealed=sealed, channel=channel,
                lang=session.get("lang") or "en", opened=now, staffed=staffed,
                campaign=session.get("campaign"), answers=dict(session.get("answers") or {}),
                programs=list(session.get("programs") or []))
    pipe = redis.pipeline(transaction=True)
    pipe.set(_case_key(case.id), json.dumps(asdict(case)), ex=ttl)
    pipe.zadd(OPEN, {case.id: now})
    pipe.expire(OPEN, ttl)
    pipe.execute()
    return case


def add_message(redis: Redis, case_id: str, message: Message, ttl: int) -> None:
    pipe = redis.pipeline(transaction=True)
    pipe.rpush(_messages_key(case_id), json.dumps(asdict(message), ensure_ascii=False))
    pipe.expire(_messages_key(case_id), ttl)
    pipe.expire(_case_key(case_id), ttl)
    pipe.expire(OPEN, ttl)
    pipe.execute()


def load(redis: Redis, case_id: str) -> Case | None:
    raw = redis.get(_case_key(case_id))
    return Case(**json.loads(raw)) if raw else None


def messages(redis: Redis, case_id: str) -> list[Message]:
    return [Message(**json.loads(raw)) for raw in redis.lrange(_messages_key(case_id), 0, -1)]


def open_cases(redis: Redis) -> list[Case]:
    """Open cases, oldest first (those waiting longest)."""
    found = (load(redis, raw.decode() if isinstance(raw, bytes) else raw)
             for raw in redis.zrange(OPEN, 0, -1))
    return [case for case in found if case is not None and case.status == "open"]


def waiting_since(redis: Redis, case: Case) -> float | None:
    """Since when the resident has waited for a navigator: their first text after the last
    navigator reply (or the opening), None when the navigator spoke last."""
    since = case.opened
    for message in messages(redis, case.id):
        if message.sender == "navigator":
            since = None
        elif message.sender == "resident" and since is None:
            since = message.at
    return since


def save(redis: Redis, case: Case, ttl: int) -> None:
    redis.set(_case_key(case.id), json.dumps(asdict(case)), ex=ttl)
    if case.status != "open":
        redis.zrem(OPEN, case.id)
    else:
        redis.expire(OPEN, ttl)


def erase(redis: Redis, case_id: str) -> None:
    """STOP: the case and its messages go at once (the audit keeps only who did what)."""
    pipe = redis.pipeline(transaction=True)
    pipe.delete(_case_key(case_id), _messages_key(case_id))
    pipe.zrem(OPEN, case_id)
    pipe.execute()


def audit(redis: Redis, staff: str, action: str, case_id: str, now: float) -> None:
    pipe = redis.pipeline(transaction=True)
    pipe.lpush(AUDIT, json.dumps({"at": now, "staff": staff, "action": action,
                                  "case": case_id}))
    pipe.ltrim(AUDIT, 0, AUDIT_KEPT - 1)
    pipe.expire(AUDIT, STATS_SECONDS)
    pipe.execute()


def audit_log(redis: Redis, case_id: str | None = None) -> list[dict[str, Any]]:
    entries = [json.loads(raw) for raw in redis.lrange(AUDIT, 0, -1)]
    return [e for e in entries if case_id is None or e["case"] == case_id]
