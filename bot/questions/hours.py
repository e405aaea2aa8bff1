"""Time worked a week, as people write it: "30hrs", "35 hours a week", "30 horas",
"30 giờ một tuần", "30 घंटे", "5 days a week". Used by the money reader (pay per hour or per
day times the time worked) and by choices that depend on hours (the work question)."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache

from bot.questions import Context
from bot.questions.normalize import fold
from bot.questions.numbers import SpokenNumbers, spoken_numbers

WORKDAYS_A_WEEK = 5


def read_numbers(text: str, context: Context) -> SpokenNumbers:
    """The numbers of a reply in the resident's language (words, multipliers, digits)."""
    return spoken_numbers(text, context.lang, context.number_words, context.multipliers)


@lru_cache(maxsize=256)
def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of `phrases` as whole words of a folded reply ("/hr" may follow a digit); built once
    per set of phrases (a language's unit words), not per reply."""
    folded = sorted({fold(p) for p in phrases if fold(p)}, key=len, reverse=True)
    if not folded:
        return None
    alternatives = "|".join(re.escape(p) for p in folded)
    return re.compile(rf"(?:^|(?<=[\s\d$/.,]))(?:{alternatives})(?=$|[\s.,!?;:)/])")


def without(spoken: SpokenNumbers, start: int, end: int, context: Context) -> SpokenNumbers:
    """The reply read again with the words from `start` to `end` taken out."""
    text = spoken.text[:start] + " " + spoken.text[end:]
    return spoken_numbers(text, context.lang, context.number_words, context.multipliers)


def time_worked(spoken: SpokenNumbers, context: Context, unit: str,
                most: Decimal = Decimal(168)) -> tuple[Decimal | None, SpokenNumbers]:
    """Time worked a week in `unit` ("hours": "30hrs", "30 horas a la semana"; "days":
    "5 days a week"), and the reply without it; more than `most` is not time worked ("cada
    15 días" is a pay period). Hours a day count as five days' worth ("8 hours a day" is 40
    a week); the amount is always read back to the resident."""
    unit_words = phrase_pattern(context.words_for(unit))
    if unit_words is None:
        return None, spoken
    week_words = phrase_pattern(context.words_for("per_week"))
    day_words = phrase_pattern(context.words_for("per_day")) if unit == "hours" else None
    rate_words = phrase_pattern(context.words_for("per_hour" if unit == "hours" else "per_day"))
    text = fold(spoken.text)
    for number in spoken.numbers:
        start = _skip_spaces(text, number.end)
        after = unit_words.match(text, start)
        rate = rate_words.match(text, start) if rate_words else None
        covering = rate_words.match(text, number.start) if rate_words else None
        if after is None or number.value > most or (rate and rate.end() > after.end()) \
                or (covering and covering.end() >= after.end()):
            continue  # "$18 ਘੰਟੇ ਦਾ", "15 đô 1 giờ": a wage per hour, not hours worked
        begin, end, value = number.start, after.end(), number.value
        week = week_words.match(text, _skip_spaces(text, end)) if week_words else None
        day = day_words.match(text, _skip_spaces(text, end)) if day_words else None
        before = _ending_at(week_words, text, number.start)
        if week is not None:
            end = week.end()
        elif day is not None:
            end, value = day.end(), value * WORKDAYS_A_WEEK
        elif before is not None:  # "ਹਫ਼ਤੇ ਦੇ 30 ਘੰਟੇ": the week first
            begin = before
        return value, without(spoken, begin, end, context)
    return None, spoken


def _ending_at(pattern: re.Pattern[str] | None, text: str, position: int) -> int | None:
    """Where a phrase of `pattern` starts if it ends right before `position` (spaces aside)."""
    if pattern is None:
        return None
    head = text[:position].rstrip()
    found = [m for m in pattern.finditer(head) if m.end() == len(head)]
    return found[-1].start() if found else None


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position] == " ":
        position += 1
    return position
