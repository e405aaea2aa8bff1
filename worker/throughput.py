"""The sender's throughput, shared by every worker: segments per second, booked in Redis.

Twilio sends from a US long code about one segment a second, from a short code about 100
(docs/twilio.md), and queues the rest; a long queue delays everyone and can overflow
(21611). So each send books its segments on the sender's timeline (`sj:throughput:{<sender>}`
holds when the sender is next free, the GCRA "theoretical arrival time") and learns how long
until its turn. Booking even when it must wait keeps the order: a crowd of messages due at
once (08:00, after quiet hours) gets spread over slots instead of all retrying together.
"""

from __future__ import annotations

from redis import Redis

from bot.store import PREFIX

SEGMENTS_PER_SECOND = {"long_code": 1.0, "toll_free": 3.0, "short_code": 100.0}
# How far ahead of now a send may be booked and still go at once: Twilio's own queue
# absorbs that much without anyone noticing.
AHEAD_SECONDS = 1.0

# ARGV: now and cost in milliseconds. Returns the milliseconds from now to the booked slot.
_BOOK = """
local now = tonumber(ARGV[1])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
if free < now then free = now end
local after = free + tonumber(ARGV[2])
local ttl = after - now + 60000
redis.call('SET', KEYS[1], string.format('%d', after), 'PX', string.format('%d', ttl))
return free - now
"""


def rate(sender_kind: str) -> float:
    if sender_kind not in SEGMENTS_PER_SECOND:
        raise ValueError(f"SENDER_KIND must be one of {tuple(SEGMENTS_PER_SECOND)}, "
                         f"not {sender_kind!r}")
    return SEGMENTS_PER_SECOND[sender_kind]


def book(redis: Redis, sender: str, segments: int, per_second: float, now: float) -> float:
    """Seconds to wait before sending `segments` from `sender` (0 when it may go now)."""
    cost_ms = round(max(segments, 1) * 1000 / per_second)
    script = redis.register_script(_BOOK)
    ahead_ms = script(keys=[f"{PREFIX}:throughput:{{{sender}}}"], args=[round(now * 1000), cost_ms])
    wait = int(ahead_ms) / 1000 - AHEAD_SECONDS
    return wait if wait > 0 else 0.0
