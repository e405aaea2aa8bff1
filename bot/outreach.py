"""What outreach brought in, as counts only: per campaign, language, channel and day.

Outreach workers and the city want to know whether an event led residents to screen, to
apply and to be approved. Each outcome adds 1 to a field `<campaign>|<lang>|<channel>|<outcome>`
of the day's hash `sj:outreach:{<YYYY-MM-DD>}` (city time), written in the same Redis
transaction as the turn that caused it. Nothing else is kept: no number, no contact hash, no
answer. `screener report` sums the days into weeks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from redis import Redis

from bot.campaigns import NO_CAMPAIGN
from bot.engine import Event
from bot.store import OUTREACH, PREFIX

# In the order a conversation reaches them.
OUTCOMES = ("started", "joined", "finished", "matched", "nudged", "returned", "asked_applied",
            "applied", "not_yet", "need_help", "asked_approved", "approved", "denied",
            "waiting", "opted_out")


def outcomes(events: Iterable[Event]) -> list[str]:
    """The outreach outcomes a turn's (or a follow-up's) events amount to."""
    found: list[str] = []
    for event in events:
        if event.kind == "started":
            found.append("started")
        elif event.kind == "campaign_joined":
            found.append("joined")
        elif event.kind == "results":
            found += ["finished"] + (["matched"] if event.data.get("programs") else [])
        elif event.kind in ("returned", "opted_out"):
            found.append(event.kind)
        elif event.kind == "follow_up_answer":
            found.append(event.data["answer"])
        elif event.kind == "asked":
            found.append("nudged" if event.data["kind"] == "nudge"
                         else f"asked_{event.data['kind']}")
    return found


def fields(session: Mapping[str, Any] | None, channel: str,
           found: Sequence[str]) -> tuple[str, ...]:
    """Counter fields for these outcomes of a conversation (its campaign and language)."""
    session = session or {}
    prefix = f"{session.get('campaign') or NO_CAMPAIGN}|{session.get('lang') or 'en'}|{channel}"
    return tuple(f"{prefix}|{outcome}" for outcome in found)


@dataclass(frozen=True)
class Row:
    campaign: str
    lang: str
    channel: str
    week: str  # ISO week of the city's day, e.g. 2026-W49
    outcome: str
    count: int


def read(redis: Redis, campaign: str | None = None, since: date | None = None) -> list[Row]:
    """Every count kept (optionally of one campaign, from one day on), by week."""
    totals: dict[tuple[str, str, str, str, str], int] = {}
    for name in redis.scan_iter(f"{PREFIX}:{OUTREACH}:*"):
        day = date.fromisoformat(_text(name).rsplit("{", 1)[1].rstrip("}"))
        if since and day < since:
            continue
        iso = day.isocalendar()
        week = f"{iso.year}-W{iso.week:02d}"
        for field, value in redis.hgetall(name).items():
            parts = _text(field).split("|")
            if len(parts) != 4 or (campaign and parts[0] != campaign):
                continue
            group = (parts[0], parts[1], parts[2], week, parts[3])
            totals[group] = totals.get(group, 0) + int(value)
    return [Row(*group, count) for group, count in sorted(totals.items())]


def report(rows: Sequence[Row]) -> str:
    """The counts as plain tables: per campaign in all, then by language, channel and week."""
    if not rows:
        return "No outreach counted yet."
    sections = []
    for title, part in (("campaign", lambda r: r.campaign), ("language", lambda r: r.lang),
                        ("channel", lambda r: r.channel), ("week", lambda r: r.week)):
        by: dict[str, dict[str, int]] = {}
        for row in rows:
            counts = by.setdefault(part(row), {})
            counts[row.outcome] = counts.get(row.outcome, 0) + row.count
        sections.append(_table(title, by))
    return "\n\n".join(sections)


def totals(rows: Sequence[Row], **where: str) -> dict[str, int]:
    """Outcome -> count over the rows that match `where` (campaign=..., lang=..., week=...)."""
    found: dict[str, int] = {}
    for row in rows:
        if all(getattr(row, name) == value for name, value in where.items()):
            found[row.outcome] = found.get(row.outcome, 0) + row.count
    return found


def _table(title: str, by: Mapping[str, Mapping[str, int]]) -> str:
    shown = [o for o in OUTCOMES if any(counts.get(o) for counts in by.values())]
    width = max(len(title), *(len(key) for key in by))
    lines = ["  ".join([title.ljust(width), *shown])]
    for key in sorted(by):
        lines.append("  ".join([key.ljust(width),
                                *(str(by[key].get(o, 0)).rjust(len(o)) for o in shown)]))
    return "\n".join(lines)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
