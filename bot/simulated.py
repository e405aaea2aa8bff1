"""The staff simulator's residents: fictional numbers only, and the thread where the worker
leaves their follow-ups.

A simulated resident texts from +1 555 555-0100 to -0199 (555-0100 to 555-0199 are reserved
for fiction, and 555 is no area code in use), so no real resident is ever texted or impersonated.
The worker never hands a fictional number's message to Twilio or to the local outbox: it goes
to the resident's thread, `sj:{<contact>}:simulator` (the text only, for a day), which the
simulator page polls. Here in `bot/` because both sides use it and `bot/` never imports
`worker/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from redis import Redis

from bot.store import PREFIX, key, normalize_address

RESIDENTS = 100  # +1 555 555-0100 ... -0199
THREAD_SECONDS = 86400
NEXT_RESIDENT = f"{PREFIX}:simulator:next"  # a counter, so two staff get different residents
_FICTIONAL = re.compile(r"\+155555501[0-9]{2}")


def number(resident: int) -> str:
    """The fictional number of resident `resident` (0 to 99)."""
    if not 0 <= resident < RESIDENTS:
        raise ValueError(f"resident {resident} is not between 0 and {RESIDENTS - 1}")
    return f"+155555501{resident:02d}"


def is_fictional(address: str) -> bool:
    """Whether an address (SMS or WhatsApp) is one of the simulator's numbers."""
    return _FICTIONAL.fullmatch(normalize_address(address)) is not None


def thread_key(contact: str) -> str:
    return key(contact, "simulator")


def leave(redis: Redis, contact: str, text: str) -> None:
    """Put a message the worker would have sent in the resident's thread."""
    pipe = redis.pipeline()
    pipe.rpush(thread_key(contact), text)
    pipe.expire(thread_key(contact), THREAD_SECONDS)
    pipe.execute()


def thread(redis: Redis, contact: str, after: int = 0) -> list[str]:
    """The thread's messages from position `after` on (the page has shown the ones before)."""
    return [raw.decode() if isinstance(raw, bytes) else raw
            for raw in redis.lrange(thread_key(contact), max(after, 0), -1)]


def next_resident(redis: Redis, contact_of: Callable[[str], str],
                  cancel_jobs: Callable[[str], None]) -> int:
    """The next resident, wiped clean: its number may have been used before (100 go round),
    and a new resident must start with no session, opt-out, queued follow-up or thread."""
    resident = (int(redis.incr(NEXT_RESIDENT)) - 1) % RESIDENTS
    redis.expire(NEXT_RESIDENT, THREAD_SECONDS)  # idle a day, it starts again at the first
    contact = contact_of(number(resident))
    cancel_jobs(contact)
    stale = list(redis.scan_iter(match=key(contact, "*"), count=100))
    if stale:
        redis.delete(*stale)
    return resident
