"""Yes or no: "y", "yes", "yeah", "nope", "sí", "không", "ਹਾਂ", "नहीं", and "yes I am"."""

from __future__ import annotations

from bot.flow import Question
from bot.questions import Context, Reading
from bot.questions.normalize import bare, find_phrase, matches_phrase
from bot.questions.number import says_unsure


def read(question: Question, text: str, context: Context) -> Reading:
    yes_words, no_words = context.words_for("yes"), context.words_for("no")
    if says_unsure(text, context):
        return Reading.not_sure()  # "no estoy segura" is neither, whatever it starts with
    if matches_phrase(text, yes_words):
        return Reading(True)
    if matches_phrase(text, no_words):
        return Reading(False)
    if len(bare(text).split()) > 6:  # a long message is not a yes or a no
        return Reading.failed("retry_yes_no")
    yes_spans, no_spans = _spans(text, yes_words), _spans(text, no_words)
    says_yes = any(not _inside(span, no_spans) for span in yes_spans)
    says_no = any(not _inside(span, yes_spans) for span in no_spans)
    if says_yes != says_no:
        return Reading(says_yes)
    return Reading.failed("retry_yes_no")


def _spans(text: str, phrases: tuple[str, ...]) -> list[tuple[int, int]]:
    return [span for span in (find_phrase(text, p) for p in phrases) if span]


def _inside(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    """Whether a longer phrase of the other answer covers `span`: "i am" inside
    "no i am not", "ya" inside "ya no"."""
    return any(start <= span[0] and span[1] <= end and end - start > span[1] - span[0]
               for start, end in others)
