"""Yes or no: "y", "yes", "yeah", "nope", "sí", "không", "ਹਾਂ", "नहीं", and "yes I am"."""

from __future__ import annotations

from bot.flow import Question
from bot.questions import Context, Reading
from bot.questions.normalize import bare, contains_phrase, matches_phrase
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
    says_yes = any(contains_phrase(text, w) for w in yes_words)
    says_no = any(contains_phrase(text, w) for w in no_words)
    if says_yes != says_no:
        return Reading(says_yes)
    return Reading.failed("retry_yes_no")
