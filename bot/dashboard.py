"""The staff dashboard's numbers: counts only, summed over a period of the city's days.

Everything comes from counters the text line already keeps per city day (bot/store.py):
`sj:stats:{day}` (funnel events, bot/inbound.py `funnel`), `sj:outreach:{day}` (campaign,
language, channel and outcome, bot/outreach.py), `sj:outbound:{day}` (the worker's send and
check-in outcomes) and `sj:delivery:{day}` (Twilio's delivery statuses); queue health comes
from the job port (bot/jobs.py `Jobs.health`). No contact's key is ever read, so no phone
number, contact hash or answer can reach the page or its CSV.

`read_counts` turns the hashes into flat `Count` rows (metric, dimension, day, count): the
CSV is those rows, and `summarize` builds everything the page shows from the same rows, so
the two cannot disagree.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from redis import Redis

from bot.campaigns import NO_CAMPAIGN
from bot.content import Content
from bot.flow import Flow
from bot.inbound import FINISH_MINUTES_CAP
from bot.outreach import OUTCOMES
from bot.store import OUTREACH, PREFIX

DEFAULT_DAYS = 14
MAX_DAYS = 400  # the daily counters live 400 days (bot/store.py STATS_SECONDS)
# The daily tables read, and the metric their fields become (None: the field's own name).
TABLES = {"stats": None, OUTREACH: "outreach", "outbound": "outbound", "delivery": "delivery",
          "sent": "sent"}  # sent: texts the worker handed on, by kind (estimate, reminder...)
OPT_OUTS = {"opted_out": "STOP, or words like \"stop texting me\"",
            "opted_out_by_carrier": "Refused by the carrier (error 21610)",
            "opted_out_in_outage": "STOP kept on disk while Redis was down"}
OPT_INS = ("opted_in", "opted_in_in_outage")
DELIVERY_FAILURES = ("failed", "undelivered")  # Twilio's statuses for a message that never arrived
CHANNELS = {"sms": "SMS", "whatsapp": "WhatsApp"}
CSV_HEADER = ("metric", "dimension", "day", "count")


@dataclass(frozen=True)
class Period:
    """City days from `start` to `end`, both included."""

    start: date
    end: date

    @classmethod
    def ending(cls, today: date, days: int = DEFAULT_DAYS) -> Period:
        return cls(today - timedelta(days=days - 1), today)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def parse_period(start: str | None, end: str | None, today: date) -> tuple[Period, str | None]:
    """The period a from/to form asks for (ISO dates, either may be left out), and what was
    wrong with it, if anything: the default period then, rather than an error page."""
    default = Period.ending(today)
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        return default, "Dates look like 2026-12-07. Showing the last 14 days."
    if first > last:
        return default, "The first day comes after the last. Showing the last 14 days."
    if (last - first).days >= MAX_DAYS:
        first = last - timedelta(days=MAX_DAYS - 1)
        return Period(first, last), f"Counts are kept {MAX_DAYS} days: showing those."
    return Period(first, last), None


@dataclass(frozen=True)
class Count:
    """One CSV row: `count` events of `metric` (for `dimension`) on `day` ("" when the
    number is not a day's: a queue's jobs now, disagreements since counting began)."""

    metric: str
    dimension: str
    day: str
    count: int


def daily_key(table: str, day: date) -> str:
    return f"{PREFIX}:{table}:{{{day.isoformat()}}}"


def read_counts(redis: Redis, period: Period) -> list[Count]:
    """Every daily counter of the period, in one round trip."""
    pipe = redis.pipeline(transaction=False)
    for day in period.days:
        for table in TABLES:
            pipe.hgetall(daily_key(table, day))
    found = iter(pipe.execute())
    counts = []
    for day in period.days:
        for metric in TABLES.values():
            for field, value in sorted(next(found).items()):
                name, dimension = _split(_text(field), metric)
                counts.append(Count(name, dimension, day.isoformat(), int(value)))
    return counts


def health_counts(health: Mapping[str, Any]) -> list[Count]:
    """The job port's health (bot/jobs.py) as rows without a day."""
    counts = [Count("queue", f"{name}:{registry}", "", int(number))
              for name, registries in health.get("queues", {}).items()
              for registry, number in registries.items()]
    counts += [Count("job_failures", name, "", int(number))
               for name, number in health.get("failures", {}).items()]
    counts += [Count("estimate_disagreements", name, "", int(number))
               for name, number in health.get("disagreements", {}).items()]
    if "estimates_waiting" in health:
        counts.append(Count("estimates_waiting", "", "", int(health["estimates_waiting"])))
    counts += [Count("workers_listening", name, "", int(number))
               for name, number in health.get("workers", {}).items()]
    return counts


def to_csv(counts: Iterable[Count]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    writer.writerows((c.metric, c.dimension, c.day, c.count) for c in counts)
    return out.getvalue()


def _split(field: str, metric: str | None) -> tuple[str, str]:
    """A counter field as (metric, dimension): `answered:age` -> (answered, age) in `stats`;
    a field of another table is the dimension of that table's metric."""
    if metric is not None:
        return metric, field
    name, _, dimension = field.partition(":")
    return name, dimension


# -- what the page shows ----------------------------------------------------------------------

@dataclass(frozen=True)
class Tally:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class Share:
    """Screenings that came one way (a language, a channel, a campaign)."""

    key: str
    label: str
    started: int
    finished: int


@dataclass(frozen=True)
class Step:
    """A step of the funnel in flow order: how many got past it."""

    key: str
    label: str
    count: int
    misunderstood: int = 0
    some_only: bool = False  # asked of some people only, so fewer is no drop-out


@dataclass(frozen=True)
class Day:
    day: str
    started: int
    finished: int


@dataclass(frozen=True)
class Dashboard:
    period: Period
    counts: list[Count]
    days: list[Day]
    started: int
    finished: int
    median_minutes: float | None
    languages: list[Share]
    channels: list[Share]
    campaigns: list[Share]
    funnel: list[Step]
    programs: list[Tally]
    estimates_asked: int
    estimates_sent: int
    disagreements: list[Tally]
    opt_outs: list[Tally]
    opt_ins: int
    delivery: list[Tally]
    delivery_failures: int
    outbound: list[Tally]
    queues: dict[str, dict[str, int]]
    job_failures: list[Tally]
    estimates_waiting: int
    outreach: list[tuple[Tally, dict[str, int]]]  # campaign, outcome -> count
    outreach_outcomes: list[str]  # the outcomes any campaign has, in conversation order

    @property
    def opted_out(self) -> int:
        return sum(t.count for t in self.opt_outs)

    @property
    def median_at_cap(self) -> bool:
        """Times are counted up to an hour: a median there means "an hour or more"."""
        return self.median_minutes is not None and self.median_minutes >= FINISH_MINUTES_CAP


def summarize(counts: Sequence[Count], period: Period, content: Content,
              health: Mapping[str, Any]) -> Dashboard:
    """The page's numbers from the period's rows (`read_counts`) and the queues' health."""
    totals = _totals(counts)
    outreach = _outreach(counts)
    delivery = totals.get("delivery", {})
    return Dashboard(
        period=period,
        counts=[*counts, *health_counts(health)],
        days=_days(counts, period),
        started=totals.get("started", {}).get("", 0),
        finished=totals.get("results", {}).get("", 0),
        median_minutes=median_minutes(totals.get("finish_minutes", {})),
        languages=_shares(outreach, 1, lambda code: _language(content, code)),
        channels=_shares(outreach, 2, lambda code: CHANNELS.get(code, code)),
        campaigns=_shares(outreach, 0, lambda code: _campaign(content, code)),
        funnel=funnel(totals, content),
        programs=_ranked(totals.get("program", {}), _program_names(content)),
        estimates_asked=sum(n for key, n in outreach.items() if key[3] == "matched"),
        estimates_sent=totals.get("sent", {}).get("estimate", 0),
        disagreements=_ranked(health.get("disagreements", {})),
        opt_outs=[Tally(name, label, totals.get(name, {}).get("", 0))
                  for name, label in OPT_OUTS.items()],
        opt_ins=sum(totals.get(name, {}).get("", 0) for name in OPT_INS),
        delivery=_ranked(delivery),
        delivery_failures=sum(delivery.get(status, 0) for status in DELIVERY_FAILURES),
        outbound=_ranked(totals.get("outbound", {})),
        queues={name: dict(registries) for name, registries in health.get("queues", {}).items()},
        job_failures=_ranked(health.get("failures", {})),
        estimates_waiting=int(health.get("estimates_waiting", 0)),
        outreach=_by_campaign(outreach, content),
        outreach_outcomes=[o for o in OUTCOMES if any(k[3] == o for k in outreach)],
    )


def median_minutes(histogram: Mapping[str, int]) -> float | None:
    """The median of `finish_minutes:<n>` counts (None without any): the middle screening,
    or halfway between the middle two."""
    values = sorted((int(minutes), count) for minutes, count in histogram.items() if count)
    total = sum(count for _, count in values)
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]  # positions of the middle one or two, from 0
    found: list[int] = []
    seen = 0
    for minutes, count in values:
        found += [minutes for position in middle if seen <= position < seen + count]
        seen += count
    return sum(found) / 2


def funnel(totals: Mapping[str, Mapping[str, int]], content: Content) -> list[Step]:
    """Started, each question of the flow in order (answered, not understood), finished.
    A question no longer in the flow (answered before a flow change) comes last but one."""
    answered = totals.get("answered", {})
    missed = totals.get("misunderstood", {})
    questions = content.flow.questions
    known = {q.id for q in questions}
    some = _asked_of_some(content.flow)
    steps = [Step("started", "Started", totals.get("started", {}).get("", 0))]
    steps += [Step(q.id, _words(q.id), answered.get(q.id, 0), missed.get(q.id, 0),
                   q.id in some) for q in questions]
    steps += [Step(qid, _words(qid) + " (older flow)", answered.get(qid, 0), missed.get(qid, 0))
              for qid in sorted((set(answered) | set(missed)) - known)]
    steps.append(Step("finished", "Finished", totals.get("results", {}).get("", 0)))
    return steps


def _asked_of_some(flow: Flow) -> set[str]:
    """Questions some people never see: those with a condition (`when`), and those a branch
    of an earlier question can jump over."""
    ids = [q.id for q in flow.questions]
    found = {q.id for q in flow.questions if q.when is not None}
    for index, question in enumerate(flow.questions):
        for branch in question.branches:
            found.update(ids[index + 1:ids.index(branch.goto) if branch.goto in ids else None])
    return found


def _totals(counts: Iterable[Count]) -> dict[str, dict[str, int]]:
    """metric -> dimension -> count over the period."""
    found: dict[str, dict[str, int]] = {}
    for c in counts:
        by = found.setdefault(c.metric, {})
        by[c.dimension] = by.get(c.dimension, 0) + c.count
    return found


def _days(counts: Iterable[Count], period: Period) -> list[Day]:
    started = {day.isoformat(): 0 for day in period.days}
    finished = dict(started)
    for c in counts:
        if c.dimension == "" and c.metric in ("started", "results"):
            (started if c.metric == "started" else finished)[c.day] += c.count
    return [Day(day, started[day], finished[day]) for day in started]


def _outreach(counts: Iterable[Count]) -> dict[tuple[str, str, str, str], int]:
    """(campaign, language, channel, outcome) -> count (bot/outreach.py's fields)."""
    found: dict[tuple[str, str, str, str], int] = {}
    for c in counts:
        parts = c.dimension.split("|")
        if c.metric == "outreach" and len(parts) == 4:
            key = (parts[0], parts[1], parts[2], parts[3])
            found[key] = found.get(key, 0) + c.count
    return found


def _shares(outreach: Mapping[tuple[str, str, str, str], int], part: int,
            label: Any) -> list[Share]:
    """Started and finished by one part of the outreach key, most started first."""
    started: dict[str, int] = {}
    finished: dict[str, int] = {}
    for key, count in outreach.items():
        if key[3] == "started":
            started[key[part]] = started.get(key[part], 0) + count
        elif key[3] == "finished":
            finished[key[part]] = finished.get(key[part], 0) + count
    keys = sorted(set(started) | set(finished),
                  key=lambda k: (-started.get(k, 0), -finished.get(k, 0), k))
    return [Share(k, label(k), started.get(k, 0), finished.get(k, 0)) for k in keys]


def _by_campaign(outreach: Mapping[tuple[str, str, str, str], int],
                 content: Content) -> list[tuple[Tally, dict[str, int]]]:
    rows: dict[str, dict[str, int]] = {}
    for (campaign, _, _, outcome), count in outreach.items():
        row = rows.setdefault(campaign, {})
        row[outcome] = row.get(outcome, 0) + count
    ordered = sorted(rows, key=lambda c: (c == NO_CAMPAIGN, -rows[c].get("started", 0), c))
    return [(Tally(c, _campaign(content, c), sum(rows[c].values())), rows[c]) for c in ordered]


def _ranked(counts: Mapping[str, int], label: Any = None) -> list[Tally]:
    """Largest first (then by name), without zeros."""
    return [Tally(key, label(key) if label else key, int(n))
            for key, n in sorted(counts.items(), key=lambda item: (-int(item[1]), item[0]))
            if int(n)]


def _program_names(content: Content) -> Any:
    """A program's name, with its id where two programs share the name (CalFresh)."""
    names = [p.name for p in content.rules.programs]
    by_id = {p.id: p.name if names.count(p.name) == 1 else f"{p.name} ({p.id})"
             for p in content.rules.programs}
    return lambda pid: by_id.get(pid, pid)


def _language(content: Content, code: str) -> str:
    language = content.flow.languages.get(code)
    return f"{language.name} ({code})" if language else code


def _campaign(content: Content, campaign_id: str) -> str:
    if campaign_id == NO_CAMPAIGN:
        return "No campaign"
    campaign = content.campaigns.get(campaign_id)
    return campaign.name if campaign else campaign_id


def _words(identifier: str) -> str:
    return identifier.replace("_", " ").capitalize()


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
