"""What the text line keeps in Redis, under keys that never hold a phone number.

A contact is the keyed hash (HMAC-SHA256 with SCREENER_SECRET) of its normalised address, so
a leaked dump or key listing cannot be turned back into numbers without the secret. Every key
of one contact carries the Redis Cluster hash tag `{<contact>}`: the whole contact lives on one
slot, so a turn reads it in one round trip and writes it in one MULTI.

    sj:{<contact>}:session       JSON session                            retention
    sj:{<contact>}:optout        JSON {"at", "lang"} while opted out      opt-out retention
    sj:{<contact>}:lock          the per-contact turn lock               lock timeout
    sj:{<contact>}:replies       sorted set: recent MessageSids by time   seen window
    sj:{<contact>}:replies:<sid> JSON replies given to that message      seen window
    sj:{<contact>}:rate          sorted set of recent message times      rate window
    sj:{<contact>}:rate:notice   set once a flood got its notice         rate window
    sj:{<contact>}:jobs          set of the contact's queued RQ job ids   retention
    sj:{<contact>}:sent:<id>     an outbound message already handed on    retention
    sj:{<contact>}:whatsapp:last_in  time of the last WhatsApp message   24 hours, or STOP
    sj:{<contact>}:invalid       the number was refused as invalid        retention
    sj:{<contact>}:estimate      the household waiting for its estimate   retention
    sj:{<contact>}:simulator     a fictional resident's texts from the worker   a day
    sj:simulator:next            the simulator's next fictional resident   none
    sj:case:{<id>}, sj:cases:*   the hand-off's cases (bot/cases.py)      retention
    sj:estimates:pending         contacts waiting for the estimate drain  (list)
    sj:estimates:disagreements   hash: program:kind -> count              none
    sj:throughput:{<sender>}     next free send slot of a sender          seconds
    sj:outbound:{<YYYY-MM-DD>}   hash: send outcome -> count              stats retention
    sj:sent:{<YYYY-MM-DD>}       hash: kind of text sent (estimate...) -> count  stats retention
    sj:jobs:failures             hash: queue -> failed jobs               none
    sj:jobs:waiting              list: engine jobs not yet queued (sealed) retention
    sj:{global}:rate:<minute>    inbound messages in that minute         2 minutes
    sj:stats:{<YYYY-MM-DD>}      hash: funnel event -> count              stats retention
    sj:delivery:{<YYYY-MM-DD>}   hash: delivery status -> count           stats retention
    sj:outreach:{<YYYY-MM-DD>}   hash: campaign|lang|channel|outcome -> count  stats retention

Each reply lives under its own key with its own fixed lifetime (never slid by later messages),
listed in `replies` so that a turn can trim them to the last `REPLIES_KEPT` and STOP or
RESTART can erase them (they may quote answers). The snapshot reads that list in the same
round trip as the rest, so trimming costs no extra read.

A turn's commit is fenced by its lock: it WATCHes the lock key and checks the token it holds,
so a turn that outlived its lock (a slow Redis, a paused process) fails instead of overwriting
the session that the next turn already saved.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import WatchError
from redis.lock import Lock
from redis.retry import Retry

PREFIX = "sj"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"  # where a Redis runs unless told otherwise
WHATSAPP_WINDOW = "whatsapp:last_in"  # bot/window.py
OUTREACH = "outreach"  # the table of outreach counts (bot/outreach.py)
CITY_TIME = ZoneInfo("America/Los_Angeles")
STATS_SECONDS = 400 * 86400  # a year of daily counters plus a margin for year-on-year reports
_CHANNEL_PREFIX = re.compile(r"^(whatsapp|sms):", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[\s().-]")
# Replies kept for redeliveries: Twilio redelivers the latest messages within minutes, and a
# contact sends at most RATE_LIMIT_PER_MINUTE (20) a minute, so 20 covers every real retry.
REPLIES_KEPT = 20
PENDING_JOBS = f"{PREFIX}:jobs:waiting"  # engine jobs the web could not queue (bot/inbound.py)


class LockLost(Exception):
    """The turn's lock timed out and may be someone else's now: its writes must not land."""


def connect(url: str) -> Redis:
    """A client that fails fast: with Redis down the resident still gets an apology well
    inside Twilio's 15 s, instead of the default retries with backoff."""
    return Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2,
                          retry=Retry(ExponentialBackoff(cap=0.2, base=0.05), 1),
                          health_check_interval=30)


def normalize_address(address: str) -> str:
    """The phone number behind a Twilio address: `whatsapp:+14085550100` -> `+14085550100`.

    SMS and WhatsApp from the same number are one contact on purpose. It is the same person,
    and a STOP sent on either channel must silence both (opt-outs are honoured through any
    reasonable means); a resident who moves from SMS to WhatsApp mid-screening also carries on
    where they were. Replies still go back on the channel each message came in on.
    """
    return _PUNCTUATION.sub("", _CHANNEL_PREFIX.sub("", address.strip()))


def contact_id(secret: bytes, address: str) -> str:
    """The contact's name in Redis and logs: 128 bits of HMAC, never the number itself."""
    digest = hmac.new(secret, normalize_address(address).encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def key(contact: str, part: str) -> str:
    return f"{PREFIX}:{{{contact}}}:{part}"


def global_key(part: str) -> str:
    return f"{PREFIX}:{{global}}:{part}"


def day(now: float) -> str:
    """The city's calendar day, so a day's counts match what staff see on the wall clock."""
    return datetime.fromtimestamp(now, CITY_TIME).strftime("%Y-%m-%d")


def stats_key(now: float, table: str = "stats") -> str:
    return f"{PREFIX}:{table}:{{{day(now)}}}"


@dataclass(frozen=True)
class Ttl:
    """How long things live, in seconds."""

    retention: int = 30 * 86400  # everything about a contact, after its last message
    opt_out: int = 400 * 86400  # a suppression record must outlive the conversation it ended
    seen: int = 3600  # Twilio redelivers within minutes; an hour is generous
    lock: float = 10  # a crashed holder blocks its contact at most this long
    lock_wait: float = 5  # well inside Twilio's 15 s

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Ttl:
        days = {"retention": "RETENTION_DAYS", "opt_out": "OPT_OUT_RETENTION_DAYS"}
        values = {field: int(float(config[name]) * 86400)
                  for field, name in days.items() if config.get(name)}
        return cls(**values)


class Keep(Enum):
    """Leave this part of the contact as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class Change:
    """What one turn writes: replies to remember, session, opt-out record and counts."""

    replies: list[str]
    session: dict[str, Any] | Keep | None = KEEP  # None erases it
    opt_out: dict[str, Any] | Keep | None = KEEP  # a record opts out, None opts back in
    counts: tuple[str, ...] = ()
    forget_replies: bool = False  # RESTART: earlier replies quote answers that are gone
    outreach: tuple[str, ...] = ()  # outreach counter fields (bot/outreach.py)


@dataclass(frozen=True)
class Snapshot:
    """A contact as one turn finds it, read in one round trip."""

    seen: list[str] | None
    opt_out: dict[str, Any] | None
    session: dict[str, Any] | None
    kept: tuple[tuple[str, float], ...] = ()  # (MessageSid, time) of replies kept, oldest first


class Store:
    def __init__(self, redis: Redis, ttl: Ttl | None = None):
        self.redis = redis
        self.ttl = ttl or Ttl()

    def lock(self, contact: str) -> Lock:
        # Turns take milliseconds: poll often so a queued message waits little.
        return self.redis.lock(key(contact, "lock"), timeout=self.ttl.lock, sleep=0.01,
                               blocking_timeout=self.ttl.lock_wait)

    def snapshot(self, contact: str, sid: str | None) -> Snapshot:
        pipe = self.redis.pipeline(transaction=False)
        pipe.mget(key(contact, "optout"), key(contact, "session"), _reply_key(contact, sid))
        pipe.zrange(key(contact, "replies"), 0, -1, withscores=True)
        (opt_out, session, seen), kept = pipe.execute()
        return Snapshot(
            seen=_json(seen) if sid else None,
            opt_out=_json(opt_out),
            session=_json(session),
            kept=tuple((_text(name), score) for name, score in kept),
        )

    def seen(self, contact: str, sid: str) -> list[str] | None:
        """The replies a MessageSid got, if its turn was saved."""
        return _json(self.redis.get(_reply_key(contact, sid)))

    def opt_out_record(self, contact: str) -> dict[str, Any] | None:
        return _json(self.redis.get(key(contact, "optout")))

    def commit(self, contact: str, change: Change, now: float, sid: str | None = None, *,
               kept: Iterable[tuple[str, float]] | None = None,
               token: bytes | None = None) -> None:
        """Write a turn all at once: a redelivered MessageSid then finds either nothing (and
        runs the turn) or everything (and gets the same replies).

        `kept` is the snapshot's list of kept replies (to trim; read here when not given);
        `token` the turn's lock token: the write lands only while that lock is still this
        turn's (else LockLost)."""
        if kept is None:
            kept = [(_text(name), at) for name, at in
                    self.redis.zrange(key(contact, "replies"), 0, -1, withscores=True)]
        with self.redis.pipeline(transaction=True) as pipe:
            if token is not None:
                pipe.watch(key(contact, "lock"))
                if pipe.get(key(contact, "lock")) != token:
                    raise LockLost(contact[:8])
                pipe.multi()
            forget = change.session is None or change.forget_replies
            self._write_replies(pipe, contact, change.replies if sid else None, sid, now,
                                list(kept), forget)
            if change.session is None:
                pipe.delete(key(contact, "session"))
            elif change.session is not KEEP:
                pipe.set(key(contact, "session"), _dump(change.session), ex=self.ttl.retention)
            if change.opt_out is None:
                pipe.delete(key(contact, "optout"))
            elif change.opt_out is not KEEP:
                pipe.set(key(contact, "optout"), _dump(change.opt_out), ex=self.ttl.opt_out)
                pipe.delete(key(contact, WHATSAPP_WINDOW))  # START opens it again
            _count(pipe, stats_key(now), change.counts)
            _count(pipe, stats_key(now, OUTREACH), change.outreach)
            try:
                pipe.execute()
            except WatchError:
                raise LockLost(contact[:8]) from None

    def _write_replies(self, pipe: Any, contact: str, replies: list[str] | None,
                       sid: str | None, now: float, kept: list[tuple[str, float]],
                       forget: bool) -> None:
        """Keep this message's replies; drop those erased, expired or beyond REPLIES_KEPT."""
        index = key(contact, "replies")
        if forget:
            drop = [name for name, _ in kept]
        else:
            fresh = [name for name, at in kept if at > now - self.ttl.seen and name != sid]
            room = REPLIES_KEPT - (1 if replies is not None else 0)
            keep = set(fresh[-room:] if room > 0 else [])
            drop = [name for name, _ in kept if name not in keep and name != sid]
        if drop:
            pipe.delete(*(_reply_key(contact, name) for name in drop))
            pipe.zrem(index, *drop)
        if replies is not None and sid:
            pipe.set(_reply_key(contact, sid), _dump(replies), ex=self.ttl.seen)
            pipe.zadd(index, {sid: now})
            pipe.expire(index, self.ttl.seen)  # holds only the last hour's MessageSids

    def count(self, now: float, fields: Iterable[str], table: str = "stats") -> None:
        pipe = self.redis.pipeline(transaction=False)
        _count(pipe, stats_key(now, table), fields)
        pipe.execute()


def _count(pipe: Any, name: str, fields: Iterable[str]) -> None:
    fields = list(fields)
    for field in fields:
        pipe.hincrby(name, field, 1)
    if fields:
        pipe.expire(name, STATS_SECONDS)


def _reply_key(contact: str, sid: str | None) -> str:
    return key(contact, f"replies:{sid or '-'}")


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _json(raw: bytes | str | None) -> Any:
    return None if raw is None else json.loads(raw)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
