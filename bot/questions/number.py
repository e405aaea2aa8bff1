"""Whole numbers: ages, people, children's ages. "22", "22 yrs", "I'm 22", "twenty two"."""

from __future__ import annotations

from bot.flow import Question
from bot.questions import Context, Reading
from bot.questions.normalize import ascii_digits
from bot.questions.numbers import single_number


def read(question: Question, text: str, context: Context) -> Reading:
    number = single_number(text, context.lang, context.number_words)
    if number is None or number != number.to_integral_value():
        return Reading.failed("retry_number")
    value = int(number)
    low, high = question.minimum, question.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        return Reading.failed("retry_number_range", min=_whole(low), max=_whole(high))
    plain = ascii_digits(text.strip()).isdigit()
    return Reading(value, note=None if plain else "understood_number",
                   note_params={"number": value})


def _whole(limit: float | None) -> str:
    return "" if limit is None else str(int(limit))
