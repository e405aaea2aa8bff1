"""A choice from a numbered list: by its number ("2", "#2") or by its words ("part time")."""

from __future__ import annotations

import re

from bot.flow import Question
from bot.questions import Context, Reading
from bot.questions.normalize import ascii_digits, bare, matches_phrase

_NUMBER_ONLY = re.compile(r"^(?:#|no\.?\s*|number\s*)?(\d{1,2})[.)]?$")


def read(question: Question, text: str, context: Context) -> Reading:
    count = len(question.choices)
    number = _NUMBER_ONLY.match(ascii_digits(bare(text)))
    if number:
        index = int(number.group(1))
        if 1 <= index <= count:
            return Reading(question.choices[index - 1].value)
        return Reading.failed("retry_choice", count=count)
    matched = [
        choice for choice in question.choices
        if matches_phrase(text, (context.translate(choice.label), choice.label, *choice.words,
                                 choice.value.replace("_", " ")))
    ]
    if len(matched) == 1:
        return Reading(matched[0].value)
    return Reading.failed("retry_choice", count=count)
