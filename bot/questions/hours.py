"""Hours worked a week, as people write them: "30hrs", "35 hours a week", "30 horas",
"30 giờ một tuần", "30 घंटे". Used by the money reader (pay per hour times hours) and by
choices that depend on hours (the work question)."""

from __future__ import annotations

import re
from decimal import Decimal

from bot.questions import Context
from bot.questions.normalize import fold
from bot.questions.numbers import SpokenNumbers, spoken_numbers


def read_numbers(text: str, context: Context) -> SpokenNumbers:
    """The numbers of a reply in the resident's language (words, multipliers, digits)."""
    return spoken_numbers(text, context.lang, context.number_words, context.multipliers)


def phrase_pattern(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """Any of `phrases` as whole words of a folded reply ("/hr" may follow a digit)."""
    folded = sorted({fold(p) for p in phrases if fold(p)}, key=len, reverse=True)
    if not folded:
        return None
    alternatives = "|".join(re.escape(p) for p in folded)
    return re.compile(rf"(?:^|(?<=[\s\d$/.,]))(?:{alternatives})(?=$|[\s.,!?;:)/])")


def without(spoken: SpokenNumbers, start: int, end: int, context: Context) -> SpokenNumbers:
    """The reply read again with the words from `start` to `end` taken out."""
    text = spoken.text[:start] + " " + spoken.text[end:]
    return spoken_numbers(text, context.lang, context.number_words, context.multipliers)


def hours_in(spoken: SpokenNumbers, context: Context) -> tuple[Decimal | None,
                                                                SpokenNumbers]:
    """Hours worked a week ("30hrs", "30 horas a la semana"), and the reply without them."""
    hours_words = phrase_pattern(context.words_for("hours"))
    if hours_words is None:
        return None, spoken
    week_words = phrase_pattern(context.words_for("per_week"))
    text = fold(spoken.text)
    for number in spoken.numbers:
        after = hours_words.match(text, _skip_spaces(text, number.end))
        if after is None:
            continue
        end = after.end()
        week = week_words.match(text, _skip_spaces(text, end)) if week_words else None
        if week is not None:
            end = week.end()
        return number.value, without(spoken, number.start, end, context)
    return None, spoken


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position] == " ":
        position += 1
    return position
