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
from worker.outbound import Recipient, enqueue_message, run_pipeline
from worker.settings import Timing

log = logging.getLogger(__name__)


def enqueue(connection: Redis, content: Content, secret: bytes, address: str,
            jobs: Iterable[Job], turn_id: str, now: float, timing: Timing | None = None) -> None:
    """Queue the turn's jobs; `turn_id` (the MessageSid) makes their ids, so a redelivered
    message cannot queue them twice. The web process passes `timing` from its app's config
    (`Timing.from_config(app.config)`): its quiet hours and retention, not the environment's.
    The writes of the jobs for later (their places in RQ's scheduled-jobs registry too,
    worker/queues.py `schedule`) and of the estimate's place in line leave in one
    MULTI/EXEC: the results turn costs three round trips more than an answer, not nine, and
    a full Redis refuses a job and the note that lets a STOP find it together."""
    to = Recipient.of(secret, address)
    pipe = connection.pipeline()
    claim = None
    for job in jobs:
        data = job.data
        if job.kind == "estimate":
            claim = followups.put_in_line(pipe, to, data["lang"], data["answers"],
                                          data["programs"], f"estimate-{turn_id}")
        elif job.kind == "reminder":
            due = datetime.fromtimestamp(now, UTC) + timedelta(days=data["days"])
            enqueue_message(connection, to, render_reminder(content, data["lang"],
                                                            data["programs"]),
                            f"reminder-{turn_id}", at=due, timing=timing, now=now,
                            pipeline=pipe)
        elif job.kind == "message":  # a navigator's reply, or the note when a case closes
            enqueue_message(connection, to, data["body"], f"message-{turn_id}", timing=timing,
                            now=now)
        elif job.kind == "follow_up":
            checkins.enqueue_check_in(connection, to, data, f"{data['kind']}-{turn_id}", now,
                                      timing, pipeline=pipe)
        else:
            log.warning("contact=%s engine job %r has no worker", to.contact[:8], job.kind)
    answers = run_pipeline(connection, pipe) if pipe.command_stack else []
    if claim is not None:
        followups.drain_if_claimed(connection, answers[claim])
