"""The engine's jobs, handed to the worker: the job port (worker/port.py) calls `enqueue` once
a turn is saved.

`estimate` puts the household in line for a dollar-estimate follow-up (worker/followups.py);
`reminder` schedules the reminder text for `days` later; `follow_up` schedules a nudge, a
"Did you apply?" or a "Were you approved?" (worker/checkins.py); `message` sends a text now
(a navigator's reply, bot/web/staff/cases.py). All go back on the channel
the resident wrote on, and all carry the sealed address, never the number.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from redis import Redis

from bot.content import Content
from bot.engine import Job
from bot.results import render_reminder
from worker import checkins, followups
from worker.outbound import Recipient, enqueue_message
from worker.settings import Timing

log = logging.getLogger(__name__)


def enqueue(connection: Redis, content: Content, secret: bytes, address: str,
            jobs: Iterable[Job], turn_id: str, now: float, timing: Timing | None = None) -> None:
    """Queue the turn's jobs; `turn_id` (the MessageSid) makes their ids, so a redelivered
    message cannot queue them twice. The web process passes `timing` from its app's config
    (`Timing.from_config(app.config)`): its quiet hours and retention, not the environment's."""
    to = Recipient.of(secret, address)
    for job in jobs:
        data = job.data
        if job.kind == "estimate":
            followups.submit(connection, to, data["lang"], data["answers"], data["programs"],
                             f"estimate-{turn_id}")
        elif job.kind == "reminder":
            due = datetime.fromtimestamp(now, UTC) + timedelta(days=data["days"])
            enqueue_message(connection, to, render_reminder(content, data["lang"],
                                                            data["programs"]),
                            f"reminder-{turn_id}", at=due, timing=timing, now=now)
        elif job.kind == "message":  # a navigator's reply, or the note when a case closes
            enqueue_message(connection, to, data["body"], f"message-{turn_id}", timing=timing,
                            now=now)
        elif job.kind == "follow_up":
            checkins.enqueue_check_in(connection, to, data, f"{data['kind']}-{turn_id}", now,
                                      timing)
        else:
            log.warning("contact=%s engine job %r has no worker", to.contact[:8], job.kind)
