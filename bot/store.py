"""What the text line keeps in Redis, under keys that never hold a phone number.

A contact is the keyed hash (HMAC-SHA256 with SCREENER_SECRET) of its normalised address, so
a leaked dump or key listing cannot be turned back into numbers without the secret. Every key
of one contact carries the Redis Cluster hash tag `{<contact>}`: the whole contact lives on one
slot, so one script can read or write it.

    sj:{<contact>}:session       the session, compressed (bot/session.py)  retention
    sj:{<contact>}:optout        JSON {"at", "lang"} while opted out      opt-out retention
    sj:{<contact>}:lock          the per-contact turn lock               lock timeout
    sj:{<contact>}:replies       list: replies to the last MessageSids     reply window
    sj:{<contact>}:rate          sorted set of recent message times      rate window
    sj:{<contact>}:rate:notice   set once a flood got its notice         rate window
    sj:{<contact>}:jobs          set of the contact's queued RQ job ids   retention
    sj:{<contact>}:sent:<id>     an outbound message already handed on    retention
    sj:{<contact>}:whatsapp:last_in  time of the last WhatsApp message   24 hours, or STOP
    sj:{<contact>}:invalid       the number was refused as invalid        retention
    sj:{<contact>}:estimate      the household waiting for its estimate   retention
    sj:{<contact>}:simulator     a fictional resident's texts from the worker   a day
    sj:{<contact>}:transcript    web door: list of the last messages (JSON)   retention
    sj:{<contact>}:texted        web door: "text me my results" today   a day
    sj:{<contact>}:consent       JSON {"at", "version", "lang", "via"}: asked for texts on the web
                                                                         opt-out retention
    sj:simulator:next            the simulator's next fictional resident   a day
    sj:case:{<id>}, sj:cases:*   the hand-off's cases (bot/cases.py)      retention; audit: stats
    sj:door:{<hash>}:rate        web door: requests from one client address (keyed hash)  a minute
    sj:door:{<hash>}:texted      web door: "text me my results" from that address today   a day
    sj:estimates:pending         contacts waiting for the estimate drain  a day
    sj:estimates:disagreements   hash: program:kind -> count              stats retention
    sj:throughput:{<sender>}     next free send slot of a sender          seconds
    sj:outbound:{<YYYY-MM-DD>}   hash: send outcome -> count              stats retention
    sj:sent:{<YYYY-MM-DD>}       hash: kind of text sent (estimate...) -> count  stats retention
    sj:jobs:failures             hash: queue -> failed jobs               stats retention
    sj:jobs:waiting              list: engine jobs not yet queued (sealed) retention
    sj:{global}:rate:<minute>    inbound messages in that minute         2 minutes
    sj:stats:{<YYYY-MM-DD>}      hash: funnel event -> count              stats retention
    sj:delivery:{<YYYY-MM-DD>}   hash: delivery status -> count           stats retention
    sj:outreach:{<YYYY-MM-DD>}   hash: campaign|lang|channel|outcome -> count  stats retention

A turn is two round trips (bot/inbound.py). `begin` takes the lock and reads all the turn
needs in one Lua script, sent in one batch with the minute's global flood counter; `commit`
writes the turn and releases the lock in a second script. Both go by bot/wire.py, on a connection
of the thread's own, without redis-py's per-command bookkeeping. Redis runs a script whole, like
MULTI/EXEC, and this one first checks that the lock still holds the turn's token: a turn that
outlived its lock (a slow Redis, a paused process) fails instead of overwriting the session
the next turn already saved. (MULTI cannot check anything first; WATCH costs two more round
trips.) The second script also adds the day's counters, which live on other hash slots: fine
on one Redis, as this app runs (RQ needs one); on Redis Cluster they would move beside it.

The replies kept for Twilio's redeliveries are a list per contact: one entry per MessageSid
("<sid> <time> <replies, compressed>"), the last REPLIES_KEPT of them. `begin`'s script looks
for the message's own MessageSid there, so a turn reads only a redelivery's replies, never the
whole list, and drops the entries older than `Ttl.seen` seconds; a commit appends one entry.
The list expires `Ttl.seen` after its last entry, so no reply stays more than two windows; STOP
and RESTART erase it at once (replies may quote answers).

Every key expires (tests/test_redis_footprint.py): a counter that is not by day lives as
long as the daily counters after its last change. Only RQ's own keys (`rq:*`) are RQ's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from redis import Redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import NoScriptError, ResponseError
from redis.lock import Lock
from redis.retry import Retry

from bot.session import decode, encode
from bot.wire import Wire

PREFIX = "sj"
DEFAULT_REDIS_URL = "redis://localhost:6379/0"  # where a Redis runs unless told otherwise
WHATSAPP_WINDOW = "whatsapp:last_in"  # bot/window.py
OUTREACH = "outreach"  # the table of outreach counts (bot/outreach.py)
CITY_TIME = ZoneInfo("America/Los_Angeles")
STATS_SECONDS = 400 * 86400  # a year of daily counters plus a margin for year-on-year reports
_CHANNEL_PREFIX = re.compile(r"^(whatsapp|sms):", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[\s().-]")
# Replies kept for redeliveries: Twilio redelivers within seconds (docs/reliability.md), and a
# contact sends at most RATE_LIMIT_PER_MINUTE (20) a minute, so 20 covers every real retry.
REPLIES_KEPT = 20
TRANSCRIPT_KEPT = 60  # the web door's conversation so far, enough to read back a screening
# Every part a contact's keys can have (but the worker's `sent:<id>` claims, which a web
# contact never has): `forget` deletes them all at once.
CONTACT_PARTS = ("session", "optout", "lock", "replies", "rate", "rate:notice", "jobs",
                 WHATSAPP_WINDOW, "invalid", "estimate", "simulator", "transcript", "texted",
                 "consent")
PENDING_JOBS = f"{PREFIX}:jobs:waiting"  # engine jobs the web could not queue (bot/inbound.py)
Command = tuple[Any, ...]  # a Redis command on one key: its name, the key, its arguments

# The replies a MessageSid got, if they are kept (KEYS[2], ARGV[6]); a helper of BEGIN.
REPLIED_TO = """
local function replied_to(sid)
    if sid == '' then return false end
    for _, entry in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        local at = string.find(entry, ' ', 1, true)
        if string.sub(entry, 1, at - 1) == sid then
            return string.sub(entry, string.find(entry, ' ', at + 1, true) + 1)
        end
    end
    return false
end
"""
# Take the contact's lock (or find it taken) and read what the turn needs: the replies this
# MessageSid got if it was answered already, then (locked) the contact.
# KEYS: lock, replies, optout, session, rate, rate notice, WhatsApp window.
# ARGV: token, lock ms, flood window start (exclusive), WhatsApp seconds (0 on SMS), now,
# MessageSid ('' when none), replies window start.
# The same token may take the lock again: a retried call whose first answer was lost.
BEGIN = REPLIED_TO + """
local replied = replied_to(ARGV[6])
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then return {0, replied} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
while true do  -- replies kept longer than the window go, oldest first
    local oldest = redis.call('LINDEX', KEYS[2], 0)
    if not oldest then break end
    local at = string.find(oldest, ' ', 1, true)
    local stamp = tonumber(string.sub(oldest, at + 1, string.find(oldest, ' ', at + 1, true) - 1))
    if stamp > tonumber(ARGV[7]) then break end
    redis.call('LPOP', KEYS[2])
end
if ARGV[4] ~= '0' then redis.call('SET', KEYS[7], ARGV[5], 'EX', ARGV[4]) end
return {1, replied, redis.call('GET', KEYS[3]), redis.call('GET', KEYS[4]),
        redis.call('ZCOUNT', KEYS[5], ARGV[3], '+inf'), redis.call('EXISTS', KEYS[6])}
"""
# Write a turn while its lock is still its own, then (ARGV[2] = '1') release the lock.
# KEYS: the lock, then the keys written. ARGV: the lock token ('' when no lock is held), the
# release flag, then each write as: how many words follow its key, its command, its key's index
# in KEYS, its words. Flat arguments, not JSON: decoding JSON in Lua was a fifth of the script.
FINISH = """
if ARGV[1] ~= '' and redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return redis.error_reply('LOCKLOST the turn outlived its lock')
end
local at = 3
while at <= #ARGV do
    local last = at + 2 + tonumber(ARGV[at])
    redis.call(ARGV[at + 1], KEYS[tonumber(ARGV[at + 2])], unpack(ARGV, at + 3, last))
    at = last + 1
end
if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) end
return 1
"""


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
    return _day_of_minute(int(now // 60))


@lru_cache(maxsize=8)
def _day_of_minute(minute: int) -> str:
    """Once a minute, not twice a turn: a day never changes within a minute (time zones are
    whole minutes apart)."""
    return datetime.fromtimestamp(minute * 60, CITY_TIME).strftime("%Y-%m-%d")


def stats_key(now: float, table: str = "stats") -> str:
    return f"{PREFIX}:{table}:{{{day(now)}}}"


@dataclass(frozen=True)
class Ttl:
    """How long things live, in seconds."""

    retention: int = 30 * 86400  # everything about a contact, after its last message
    opt_out: int = 400 * 86400  # a suppression record must outlive the conversation it ended
    seen: int = 300  # replies kept for redeliveries: Twilio's come within seconds
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
    also: tuple[Command, ...] = ()  # more writes of the turn (the flood window, bot/ratelimit.py)


@dataclass(frozen=True)
class Snapshot:
    """A contact as one turn finds it, read in one round trip."""

    seen: list[str] | None  # the replies this MessageSid got, when it was answered already
    opt_out: dict[str, Any] | None
    session: dict[str, Any] | None


@dataclass(frozen=True)
class Begun:
    """What `Store.begin` found. Without the lock only `found.seen` is read:
    a redelivery of a saved turn is answered without waiting for the lock."""

    locked: bool
    found: Snapshot
    recent: int = 0  # the contact's messages in the flood window, before this one
    noticed: bool = False  # this flood got its notice already
    along: list[Any] = field(default_factory=list)  # what the commands sent along returned


class Store:
    def __init__(self, redis: Redis, ttl: Ttl | None = None):
        self.redis = redis
        self.ttl = ttl or Ttl()
        self._wire = Wire(redis)

    def lock(self, contact: str) -> Lock:
        """The contact's lock for work outside a turn (the worker, staff): the same key and
        tokens as `begin` takes, so the two exclude each other."""
        # Turns take milliseconds: poll often so a queued message waits little.
        return self.redis.lock(key(contact, "lock"), timeout=self.ttl.lock, sleep=0.01,
                               blocking_timeout=self.ttl.lock_wait)

    def begin(self, contact: str, sid: str | None, token: bytes, now: float, *,
              rate_window: float, whatsapp_seconds: int = 0,
              along: Sequence[Command] = ()) -> Begun:
        """Take the contact's lock for a turn unless another holds it, and read the contact,
        in one round trip with the commands `along` (other keys: the global flood counter).
        `whatsapp_seconds` notes the time of a WhatsApp message for that long."""
        keys = [key(contact, part) for part in
                ("lock", "replies", "optout", "session", "rate", "rate:notice", WHATSAPP_WINDOW)]
        args = [token, int(self.ttl.lock * 1000), f"({now - rate_window!r}", whatsapp_seconds,
                repr(now), sid or "", repr(now - self.ttl.seen)]
        result, *results = self._script(BEGIN, keys, args, along)
        for answer in (result, *results):
            if isinstance(answer, Exception):
                raise answer
        locked, replied, *rest = result
        seen = None if replied is None else decode(replied)
        if not locked:
            return Begun(False, Snapshot(seen, None, None), along=results)
        opt_out, session, recent, noticed = rest
        return Begun(True, Snapshot(seen, _json(opt_out), _session(session)),
                     int(recent), bool(noticed), results)

    def snapshot(self, contact: str, sid: str | None) -> Snapshot:
        """The contact outside a turn (and, given a MessageSid, the replies it got)."""
        opt_out, session = self.redis.mget(key(contact, "optout"), key(contact, "session"))
        return Snapshot(self.seen(contact, sid) if sid else None, _json(opt_out),
                        _session(session))

    def seen(self, contact: str, sid: str) -> list[str] | None:
        """The replies a MessageSid got, if its turn was saved."""
        return _seen(self.redis.lrange(key(contact, "replies"), 0, -1), sid)

    def opt_out_record(self, contact: str) -> dict[str, Any] | None:
        return _json(self.redis.get(key(contact, "optout")))

    def commit(self, contact: str, change: Change, now: float, sid: str | None = None, *,
               token: bytes | None = None, release: bool = False) -> None:
        """Write a turn all at once: a redelivered MessageSid then finds either nothing (and
        runs the turn) or everything (and gets the same replies).

        `token` is the turn's lock token: the write lands only while that lock is still this
        turn's (else LockLost), and `release` frees the lock in the same round trip."""
        forget = change.session is None or change.forget_replies
        writes = self._replies(contact, change.replies, sid, now, forget)
        if change.session is None:
            writes.append(("DEL", key(contact, "session")))
        elif change.session is not KEEP:
            writes.append(("SET", key(contact, "session"), encode(change.session),
                           "EX", self.ttl.retention))
        if change.opt_out is None:
            writes.append(("DEL", key(contact, "optout")))
        elif change.opt_out is not KEEP:
            writes += [("SET", key(contact, "optout"), _dump(change.opt_out),
                        "EX", self.ttl.opt_out),
                       ("DEL", key(contact, WHATSAPP_WINDOW))]  # START opens it again
        writes += [*change.also, *_counts(stats_key(now), change.counts),
                   *_counts(stats_key(now, OUTREACH), change.outreach)]
        self._write(contact, writes, token, release)

    def transcript(self, contact: str) -> list[dict[str, str]]:
        """The web door's conversation so far, oldest first: `{"from", "text"}` each."""
        return [json.loads(raw) for raw in self.redis.lrange(key(contact, "transcript"), 0, -1)]

    def transcript_writes(self, contact: str, said: Iterable[tuple[str, str]],
                          erase: bool = False) -> tuple[Command, ...]:
        """Writes for a turn's commit that add (`from`, `text`) pairs to the web door's
        transcript, keeping the last TRANSCRIPT_KEPT; `erase` (STOP, RESTART) drops the
        earlier ones first."""
        name = key(contact, "transcript")
        entries = [_dump({"from": who, "text": text}) for who, text in said]
        writes: list[Command] = [("DEL", name)] if erase else []
        if entries:
            writes += [("RPUSH", name, *entries), ("LTRIM", name, -TRANSCRIPT_KEPT, -1),
                       ("EXPIRE", name, self.ttl.retention)]
        return tuple(writes)

    def add_to_transcript(self, contact: str, said: Iterable[tuple[str, str]]) -> None:
        """Messages from outside a turn (a navigator's reply) into the web door's transcript:
        a web contact has no number to text them to."""
        pipe = self.redis.pipeline(transaction=True)
        for command in self.transcript_writes(contact, said):
            pipe.execute_command(*command)
        pipe.execute()

    def forget(self, contact: str, token: bytes | None) -> None:
        """Erase every key of the contact in one script, the lock last (the web door's
        "forget me"). Without a `token` nothing waits: a turn still running then finds its
        lock gone and fails to write, rather than bring anything back."""
        self._write(contact, [("DEL", key(contact, part)) for part in CONTACT_PARTS], token,
                    release=True)

    def release(self, contact: str, token: bytes) -> None:
        """Free the contact's lock if it is still this turn's."""
        with suppress(LockLost):  # it timed out: someone else's now, or nobody's
            self._write(contact, [], token, release=True)

    def _replies(self, contact: str, replies: list[str], sid: str | None, now: float,
                 forget: bool) -> list[Command]:
        """Keep this message's replies after the recent ones (`begin` drops those older than
        the window); all of them go first when the turn forgets what came before."""
        name = key(contact, "replies")
        writes: list[Command] = [("DEL", name)] if forget else []
        if sid and " " not in sid:  # an entry is "<sid> <time> <replies>" (Twilio's have none)
            entry = f"{sid} {now!r} ".encode() + encode(replies)
            writes += [("RPUSH", name, entry), ("LTRIM", name, -REPLIES_KEPT, -1),
                       ("EXPIRE", name, self.ttl.seen)]
        return writes

    def _write(self, contact: str, writes: Sequence[Command], token: bytes | None,
               release: bool) -> None:
        """Run `writes` as one script (FINISH), fenced by `token` when given."""
        keys = {key(contact, "lock"): 1}
        flat: list[Any] = []
        for name, written, *arguments in writes:
            flat += [len(arguments), name, keys.setdefault(written, len(keys) + 1), *arguments]
        [done] = self._script(FINISH, list(keys), [token or b"", int(release), *flat])
        if isinstance(done, ResponseError):
            if str(done).startswith("LOCKLOST"):
                raise LockLost(contact[:8]) from None
            raise done

    def _script(self, script: str, keys: Sequence[str], args: Sequence[Any],
                along: Sequence[Command] = ()) -> list[Any]:
        """Run `script` by its SHA with the commands `along`, in one round trip: the replies,
        errors among them. A Redis that forgot the script (restarted) gets it again, and the
        script alone is sent again: the commands along have run."""
        call = ("EVALSHA", _sha(script), len(keys), *keys, *args)
        replies = self._wire.send([call, *along])
        if isinstance(replies[0], NoScriptError):
            self.redis.script_load(script)
            replies[0] = self._wire.send([call])[0]
        return replies

    def count(self, now: float, fields: Iterable[str], table: str = "stats") -> None:
        pipe = self.redis.pipeline(transaction=False)
        for command in _counts(stats_key(now, table), fields):
            pipe.execute_command(*command)
        pipe.execute()


def _counts(name: str, fields: Iterable[str]) -> list[Command]:
    commands: list[Command] = [("HINCRBY", name, field, 1) for field in fields]
    return [*commands, ("EXPIRE", name, STATS_SECONDS)] if commands else []


def _seen(entries: Iterable[bytes], sid: str | None) -> list[str] | None:
    """The replies of the entry (see `_replies`) for `sid`, if there is one."""
    prefix = f"{sid} ".encode()
    return next((decode(entry.split(b" ", 2)[2]) for entry in entries
                 if sid and entry.startswith(prefix)), None)


@lru_cache(maxsize=4)
def _sha(script: str) -> str:
    return hashlib.sha1(script.encode()).hexdigest()


def _session(raw: bytes | None) -> dict[str, Any] | None:
    return None if raw is None else decode(raw)


def _json(raw: bytes | str | None) -> Any:
    return None if raw is None else json.loads(raw)


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
