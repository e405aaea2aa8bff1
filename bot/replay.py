"""A resident who knows every answer, texting them through the engine: whatever the bot asks,
they reply what is true for their household, the way a resident types it in their language.

Used to measure questions and segments over a population (bench/questions.py) and to prove
that skipping a question never changes the results (tests/test_relevance.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.content import Content
from bot.engine import step
from bot.i18n.segments_report import said
from bot.segments import segments
from bot.session import Stage

START = 1_800_000_000.0  # a fixed clock: one minute between messages, never idle
MAX_TURNS = 40


class CannotAnswer(AssertionError):
    """The bot asked something this household has no answer for (it should not ask it)."""


@dataclass
class Screening:
    """What one resident went through: the questions asked, the texts sent, the results."""

    asked: list[str] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    programs: list[str] = field(default_factory=list)

    @property
    def segments(self) -> int:
        return sum(segments(text) for text in self.texts)


def reply_for(content: Content, lang: str, question_id: str, truth: Mapping[str, Any]) -> str:
    """What the resident texts to `question_id`: their true answer, or SKIP when they have
    none and the question allows it."""
    question = content.flow.question(question_id)
    assert question is not None
    value = truth.get(question_id)
    if value is None:
        if question.optional:
            return said(content, lang, "SKIP")
        raise CannotAnswer(f"asked '{question_id}', which this household has no answer for "
                           f"({dict(truth)})")
    if question.type == "yes_no":
        return said(content, lang, "YES" if value else "NO")
    if question.type == "choice":
        values = [choice.value for choice in question.choices]
        return str(values.index(value) + 1)
    return str(value)


def screen(content: Content, lang: str, truth: Mapping[str, Any]) -> Screening:
    """Text the bot from hello to the first page of results, answering from `truth`."""
    screening = Screening()
    session: dict[str, Any] | None = None
    text = said(content, lang, "HELLO")
    for minute in range(MAX_TURNS):
        result = step(content, session, text, START + 60 * minute)
        session = result.session
        screening.texts += result.replies
        assert session is not None
        if session["stage"] == Stage.RESULTS:
            screening.programs = list(session["programs"])
            return screening
        if session["stage"] == Stage.LANGUAGE:  # the menu lists the languages in order
            text = str(content.languages.index(lang) + 1)
        elif session["stage"] == Stage.CONFIRM:  # "Just to check: $40 a month?"
            text = said(content, lang, "YES")
        elif session["stage"] == Stage.ASKING:
            screening.asked.append(session["question"])
            text = reply_for(content, lang, session["question"], truth)
        else:
            raise CannotAnswer(f"the bot waits at stage '{session['stage']}'")
    raise CannotAnswer(f"no results after {MAX_TURNS} messages")
