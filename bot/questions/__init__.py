"""Question types: how a resident's free-text reply becomes an answer.

One small module per type, each with `read(question, text, context) -> Reading`. A reading
either holds the answer, or names the re-prompt message to send. Nothing is ever guessed: a
reply that could mean two things is a re-prompt, not an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.flow import Question


@dataclass(frozen=True)
class Context:
    """What a reader needs besides the text: the language and the flow's answer words."""

    lang: str
    words: Mapping[str, Mapping[str, tuple[str, ...]]]
    number_words: Mapping[str, int] = field(default_factory=dict)
    translate: Callable[[str], str] = str  # an English text as the resident reads it

    def words_for(self, name: str) -> tuple[str, ...]:
        """Answer words in the resident's language, plus English ones (people mix them)."""
        table = self.words.get(name, {})
        return tuple(dict.fromkeys([*table.get(self.lang, ()), *table.get("en", ())]))


@dataclass(frozen=True)
class Reading:
    """The outcome of reading one reply."""

    value: Any = None
    understood: bool = True
    retry: str | None = None  # message key of the re-prompt
    retry_params: Mapping[str, Any] = field(default_factory=dict)
    note: str | None = None  # message key to confirm a loose reading, e.g. "understood_money"
    note_params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, retry: str, **params: Any) -> Reading:
        return cls(understood=False, retry=retry, retry_params=params)


Reader = Callable[[Question, str, Context], Reading]


def reader_for(question_type: str) -> Reader:
    from bot.questions import choice, money, number, text, yes_no, zip_code

    readers: dict[str, Reader] = {
        "choice": choice.read,
        "yes_no": yes_no.read,
        "number": number.read,
        "money": money.read,
        "zip": zip_code.read,
        "text": text.read,
    }
    return readers[question_type]
