"""WhatsApp's 24-hour customer service window, per contact.

Inside the window the worker may send free text; outside it WhatsApp takes only an approved
template (docs/twilio.md). The window opens with the resident's last WhatsApp
message, so the host notes its time under `sj:{<contact>}:whatsapp:last_in`, which expires
with the window (or with a STOP): no key means no window.
"""

from __future__ import annotations

from redis import Redis

from bot.store import WHATSAPP_WINDOW, key

WINDOW_SECONDS = 24 * 3600
# A send queued at Twilio may go out a little later than we hand it on: do not cut it fine.
MARGIN_SECONDS = 10 * 60


def _key(contact: str) -> str:
    return key(contact, WHATSAPP_WINDOW)


def note_inbound(redis: Redis, contact: str, now: float) -> None:
    redis.set(_key(contact), repr(now), ex=WINDOW_SECONDS)


def is_open(redis: Redis, contact: str, now: float) -> bool:
    raw = redis.get(_key(contact))
    return raw is not None and now - float(raw) < WINDOW_SECONDS - MARGIN_SECONDS
