"""Free text, kept short: for the rare question whose answer is not a number or a choice."""

from __future__ import annotations

from bot.flow import Question
from bot.questions import Context, Reading

MAX_LENGTH = 160


def read(question: Question, text: str, context: Context) -> Reading:
    answer = " ".join(text.split())
    if not answer:
        return Reading.failed("retry_text")
    return Reading(answer[:MAX_LENGTH])
