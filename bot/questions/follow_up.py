"""Replies to a follow-up question, days after a screening (bot/checkins.py):
"Did you apply? Reply 1 Yes, 2 Not yet, 3 I need help" and "Were you approved? Reply 1 Yes,
2 No, 3 Still waiting".

Each is a choice of three, read like any choice (bot/questions/choice.py): its number, its
label, or the phrases residents' languages give each answer under `choices:` in
flows/languages/<lang>.yaml ("todavía no", "đang chờ", "apply kar diya"), the longest phrase
winning. Then, as people write: one digit among words ("3 ạ", "2 ji", "3 necesito ayuda"),
and a yes or a no for the first two answers. A bare "ok" or "thanks" (`acknowledged`) is not
an answer: we would count an application nobody made.
"""

from __future__ import annotations

import re

from bot.flow import Choice, Question
from bot.questions import Context, yes_no
from bot.questions import choice as choice_reader
from bot.questions.normalize import ascii_digits, find_phrase, matches_phrase

QUESTIONS = {
    "applied": Question("follow_up_applied", "choice", "", choices=(
        Choice("applied", "I applied"), Choice("not_yet", "Not yet"),
        Choice("need_help", "I need help"))),
    "approved": Question("follow_up_approved", "choice", "", choices=(
        Choice("approved", "Approved"), Choice("denied", "Denied"),
        Choice("waiting", "Still waiting"))),
}  # a plain yes or no is read by the yes/no reader: "no sé" must stay "not sure"
ACKNOWLEDGED = "acknowledged"  # phrases that only say "OK" or "thanks"
_DIGITS = re.compile(r"\d+")


def read(kind: str, text: str, context: Context, help_words: tuple[str, ...] = ()) -> str | None:
    """The answer (`applied`, `not_yet`, `need_help`, `approved`, `denied`, `waiting`), or
    None when the reply is not one. `help_words` (HELP in every language) anywhere in a reply
    to "Did you apply?" ask for help ("no, necesito ayuda"), unless a longer phrase of an
    answer says otherwise ("chưa cần giúp": no help needed yet)."""
    question = QUESTIONS[kind]
    said = choice_reader.by_words(question, text, context)  # "idk how to apply" says it
    asks_help = kind == "applied" and _help_outside(text, help_words, said, context)
    if asks_help:
        return "need_help"
    if said is not None:
        return said.value
    reading = choice_reader.read(question, text, context)
    if reading.understood:
        return str(reading.value)
    numbers = _DIGITS.findall(ascii_digits(text))
    if len(numbers) == 1 and 1 <= int(numbers[0]) <= len(question.choices):
        return question.choices[int(numbers[0]) - 1].value
    if matches_phrase(text, context.choice_words_for(ACKNOWLEDGED)):
        return None
    says = yes_no.read(question, text, context)
    if says.understood:
        return question.choices[0 if says.value else 1].value
    return None


def _help_outside(text: str, help_words: tuple[str, ...], said: Choice | None,
                  context: Context) -> bool:
    """A HELP word in the reply that is not part of the answer phrase found ("todavía no,
    ocupo ayuda" asks for help; "chưa cần giúp", one not_yet phrase, does not)."""
    helps = [span for span in (find_phrase(text, word) for word in help_words) if span]
    if said is None:
        return bool(helps)
    inside = [span for span in (find_phrase(text, phrase)
                                for phrase in choice_reader.phrases(said, context)) if span]
    return any(not any(start <= h[0] and h[1] <= end for start, end in inside)
               for h in helps)
