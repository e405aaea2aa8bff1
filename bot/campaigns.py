"""Outreach campaigns (flows/campaigns.yaml): the keywords residents text from an event's
flyer, the language a keyword implies, a greeting, dates, and which follow-ups it sends.

A keyword texted alone or at the start of a first message starts the screening in the
campaign's language and attributes the conversation to it; texted in the middle of a
screening it attributes without restarting (bot/engine.py). Outcomes are counted per
campaign as numbers only (bot/outreach.py). Keywords are compared after the same folding as
every other word (`bare`: case, accents, spacing), and a campaign answers only between its
dates, so a keyword can be given to a new event once the old one has ended.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from bot.daily import Daily
from bot.paths import flows_dir, schema
from bot.questions.normalize import bare
from bot.yamlsource import Problem, YamlFileError, load_with_schema

FOLLOW_UPS = ("nudge", "applied", "approved")
NO_CAMPAIGN = "none"  # the campaign of a conversation no keyword started


@dataclass(frozen=True)
class Campaign:
    id: str
    name: str
    keywords: tuple[str, ...]
    starts: datetime.date
    ends: datetime.date
    lang: str | None = None  # the language its keyword implies
    greeting: str | None = None  # an English text, translated in the catalogs
    follow_ups: Mapping[str, bool] = field(default_factory=dict)  # off: {"nudge": False}
    line: int = 0
    keyword_lines: Mapping[str, int] = field(default_factory=dict)

    def running(self, day: datetime.date) -> bool:
        return self.starts <= day <= self.ends

    def sends(self, follow_up: str) -> bool:
        return self.follow_ups.get(follow_up, True)


@dataclass(frozen=True)
class Campaigns:
    campaigns: tuple[Campaign, ...] = ()
    number: str = ""  # the text line's number, as printed on flyers
    whatsapp_number: str = ""  # its WhatsApp number, when it has one
    path: str = ""

    def get(self, campaign_id: str | None) -> Campaign | None:
        return next((c for c in self.campaigns if c.id == campaign_id), None)

    def keyword_at_start(self, text: str, day: datetime.date) -> tuple[Campaign, str] | None:
        """The running campaign whose keyword starts `text`, and the rest of the text."""
        words = text.split()
        for count in range(min(len(words), 3), 0, -1):
            found = self._by_keyword(day).get(bare(" ".join(words[:count])))
            if found:
                return found, " ".join(words[count:])
        return None

    def keyword_alone(self, text: str, day: datetime.date) -> Campaign | None:
        """The running campaign whose keyword is the whole message."""
        return self._by_keyword(day).get(bare(text))

    def _by_keyword(self, day: datetime.date) -> dict[str, Campaign]:
        return self._keywords.on(day)

    @cached_property
    def _keywords(self) -> Daily[dict[str, Campaign]]:
        """The running campaigns' keywords: built once a day, not for every message."""
        return Daily(lambda day: {bare(word): c for c in self.campaigns if c.running(day)
                                  for word in c.keywords})

    def greetings(self) -> Iterable[tuple[str, int]]:
        """The greeting texts (for the catalogs), with their lines."""
        return ((c.greeting, c.line) for c in self.campaigns if c.greeting)


def load_campaigns(path: str | Path | None = None) -> Campaigns:
    """The campaigns, or YamlFileError with `path:line: problem`. No file: no campaigns."""
    path = Path(path or flows_dir() / "campaigns.yaml")
    if not path.exists():
        return Campaigns(path=str(path))
    data = load_with_schema(path, schema("campaigns.schema.json"))
    problems = _date_problems(data, str(path))
    if problems:
        raise YamlFileError(problems)
    settings = data.get("settings") or {}
    return Campaigns(
        campaigns=tuple(_campaign(raw) for raw in data.get("campaigns") or ()),
        number=str(settings.get("number", "")),
        whatsapp_number=str(settings.get("whatsapp_number", "")),
        path=str(path),
    )


def _campaign(raw: Any) -> Campaign:
    keywords = raw["keywords"]
    return Campaign(
        id=raw["id"], name=raw["name"], keywords=tuple(str(k) for k in keywords),
        starts=datetime.date.fromisoformat(str(raw["starts"])),
        ends=datetime.date.fromisoformat(str(raw["ends"])), lang=raw.get("lang"),
        greeting=raw.get("greeting"), follow_ups=dict(raw.get("follow_ups") or {}),
        line=raw.line,
        keyword_lines={str(k): keywords.line_of(i) for i, k in enumerate(keywords)},
    )


def _date_problems(data: Any, path: str) -> list[Problem]:
    problems = []
    for raw in data.get("campaigns") or ():
        for name in ("starts", "ends"):
            try:
                datetime.date.fromisoformat(str(raw[name]))
            except ValueError:
                problems.append(Problem(path, raw.line_of(name),
                                        f"campaign '{raw['id']}': {name} '{raw[name]}' is not a "
                                        "date on the calendar (write YYYY-MM-DD)"))
    return problems


def lint_campaigns(path: Path, taken: Mapping[str, str], languages: Iterable[str],
                   today: datetime.date) -> list[Problem]:
    """Keywords that collide with a command, an answer word or another campaign's keyword
    (after folding, in any language); a language that is not configured; dates the wrong way
    round; duplicate ids; and, as warnings, campaigns that have ended.

    `taken` maps a folded command or answer word of any language to what it is."""
    try:
        campaigns = load_campaigns(path)
    except YamlFileError as error:
        return list(error.problems)
    where, problems = str(path), []
    seen_ids: set[str] = set()
    owners: dict[str, Campaign] = {}
    for campaign in campaigns.campaigns:
        if campaign.id in seen_ids:
            problems.append(Problem(where, campaign.line,
                                    f"campaign id '{campaign.id}' is used twice"))
        seen_ids.add(campaign.id)
        if campaign.lang and campaign.lang not in languages:
            problems.append(Problem(where, campaign.line,
                                    f"campaign '{campaign.id}': language '{campaign.lang}' "
                                    f"is not one of {', '.join(languages)}"))
        if campaign.ends < campaign.starts:
            problems.append(Problem(where, campaign.line,
                                    f"campaign '{campaign.id}' ends ({campaign.ends}) before it "
                                    f"starts ({campaign.starts})"))
        elif campaign.ends < today:
            problems.append(Problem(where, campaign.line,
                                    f"campaign '{campaign.id}' ended on {campaign.ends}: its "
                                    "keywords no longer start a screening. Remove it, or "
                                    "change `ends`", "warning"))
        for keyword in campaign.keywords:
            line = campaign.keyword_lines.get(keyword, campaign.line)
            folded = bare(keyword)
            if folded in taken:
                problems.append(Problem(where, line,
                                        f"keyword '{keyword}' is also {taken[folded]}: residents "
                                        "texting it would be misread. Choose another keyword"))
            other = owners.get(folded)
            if other is not None and other.id != campaign.id and _overlap(other, campaign):
                problems.append(Problem(where, line,
                                        f"keyword '{keyword}' is also a keyword of campaign "
                                        f"'{other.id}' at the same time (line {other.line})"))
            owners.setdefault(folded, campaign)
    return problems


def _overlap(first: Campaign, second: Campaign) -> bool:
    return first.starts <= second.ends and second.starts <= first.ends
