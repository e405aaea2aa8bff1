"""RQ queues, named by purpose.

A worker takes jobs from its queues in the order listed, so `outbound` comes first: a
resident's message must never wait behind a slow benefit estimate.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue

OUTBOUND = "outbound"  # messages to residents (Twilio REST API or the local outbox)
ESTIMATES = "estimates"  # benefit amount estimates and other slow lookups
QUEUES = (OUTBOUND, ESTIMATES)


def queue(name: str, connection: Redis) -> Queue:
    if name not in QUEUES:
        raise ValueError(f"unknown queue {name!r}; the queues are {QUEUES}")
    return Queue(name, connection=connection)
