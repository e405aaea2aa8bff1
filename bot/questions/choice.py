"""A choice from a numbered list: by its number ("2", "#2"), by its words ("I don't work",
"got laid off", "no trabajo"), or, for a question whose choices name hours, by the hours
worked ("I work 35 hours"). "Part time" says neither side of 20 hours: we ask how many.

A choice's words come from its label (in English and as translated), its `words` in the
flow, and its phrases in each language file (`choices:`), where translators see them.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bot.flow import Choice, Question
from bot.questions import Context, Reading
from bot.questions.hours import read_numbers, time_worked
from bot.questions.normalize import ascii_digits, bare, find_phrase, matches_phrase, words
from bot.questions.number import says_unsure

_NUMBER_ONLY = re.compile(r"^(?:#|no\.?\s*|number\s*)?(\d{1,2})[.)]?$")


def read(question: Question, text: str, context: Context) -> Reading:
    count = len(question.choices)
    number = _NUMBER_ONLY.match(ascii_digits(bare(text)))
    if context.pending.get("hours"):  # after "part time": "25" is hours, not choice 25
        hours = _hours(text, context, bare_number_is_hours=True)
        by_hours = _by_hours(question, hours)
        if by_hours is not None:
            return Reading(by_hours.value)
    if number:
        index = int(number.group(1))
        if 1 <= index <= count:
            return Reading(question.choices[index - 1].value)
        return Reading.failed("retry_choice", count=count)
    if says_unsure(text, context):
        return Reading.not_sure()
    exact = next((c for c in question.choices if matches_phrase(text, phrases(c, context))), None)
    if exact is not None:  # "I work less than 20 hours a week" is its label, not 20 hours
        return Reading(exact.value)
    matched = by_words(question, text, context)  # "less than 20 hours" before 20 hours
    if matched is not None:
        return Reading(matched.value)
    by_hours = _by_hours(question, _hours(text, context, bare_number_is_hours=False))
    if by_hours is not None:
        return Reading(by_hours.value)
    if any(choice.hours for choice in question.choices) and any(
            find_phrase(text, w) for w in context.words_for("part_time")):
        return Reading.follow_up("ask_hours_week", hours=True)
    return Reading.failed("retry_choice", count=count)


def _hours(text: str, context: Context, bare_number_is_hours: bool) -> Decimal | None:
    spoken = read_numbers(text, context)
    hours, _ = time_worked(spoken, context, "hours")
    if hours is None and bare_number_is_hours and len(spoken.numbers) == 1:
        hours = spoken.numbers[0].value
    return hours


def _by_hours(question: Question, hours: Decimal | None) -> Choice | None:
    if hours is None:
        return None
    return next((choice for choice in question.choices
                 if choice.hours and choice.hours[0] <= hours < choice.hours[1]), None)


def phrases(choice: Choice, context: Context) -> tuple[str, ...]:
    return (context.translate(choice.label), choice.label, *choice.words,
            *context.choice_words_for(choice.value), choice.value.replace("_", " "))


def by_words(question: Question, text: str, context: Context) -> Choice | None:
    """The one choice whose words the reply says; when several match, the one with the
    longest phrase ("I don't work" beats "work"); a tie is not guessed."""
    best: dict[str, int] = {}
    for choice in question.choices:
        found = [len(words(p)) for p in phrases(choice, context) if find_phrase(text, p)]
        if found:
            best[choice.value] = max(found)
    if not best:
        return None
    longest = max(best.values())
    winners = [value for value, size in best.items() if size == longest]
    if len(winners) != 1:
        return None
    return next(choice for choice in question.choices if choice.value == winners[0])
