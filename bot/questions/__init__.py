"""Question types: how a resident's free-text reply becomes an answer.

One small module per type, each with `read(question, text, context) -> Reading`. A reading
either holds the answer, or names the re-prompt message to send. Nothing is ever guessed: a
reply that could mean two things is a re-prompt, not an answer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bot.flow import Flow, Question


@dataclass(frozen=True)
class Context:
    """What a reader needs besides the text: the language, the flow's answer words and, when
    the question asked a follow-up ("How many hours a week?"), what the first reply gave."""

    lang: str
    words: Mapping[str, Mapping[str, tuple[str, ...]]]
    number_words: Mapping[str, int] = field(default_factory=dict)
    translate: Callable[[str], str] = str  # an English text as the resident reads it
    pending: Mapping[str, Any] = field(default_factory=dict)
    multipliers: Mapping[str, int] = field(default_factory=dict)  # "hundred", "mil", "सौ"
    choice_words: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)

    @classmethod
    def of(cls, flow: Flow, lang: str, translate: Callable[[str], str] = str,
           pending: Mapping[str, Any] | None = None) -> Context:
        """Everything the flow's language files say about reading answers in `lang`
        (English words always count too: people mix them)."""
        language, english = flow.languages.get(lang), flow.languages.get("en")
        return cls(
            lang, flow.words, language.numbers if language else {}, translate,
            pending=pending or {},
            multipliers={**(english.multipliers if english else {}),
                         **(language.multipliers if language else {})},
            choice_words=flow.choice_words,
        )

    def words_for(self, name: str) -> tuple[str, ...]:
        """Answer words in the resident's language, plus English ones (people mix them)."""
        return self._both(self.words.get(name, {}))

    def choice_words_for(self, value: str) -> tuple[str, ...]:
        """The phrases that pick the choice `value`, in the resident's language and English."""
        return self._both(self.choice_words.get(value, {}))

    def _both(self, table: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
        return _merged(table.get(self.lang, ()), table.get("en", ()))


@lru_cache(maxsize=4096)
def _merged(own: tuple[str, ...], english: tuple[str, ...]) -> tuple[str, ...]:
    """A word class's words in a language, then English, merged once rather than at every
    lookup (a reply looks up a dozen classes)."""
    return tuple(dict.fromkeys([*own, *english]))


@dataclass(frozen=True)
class Reading:
    """The outcome of reading one reply: an answer, "not sure", a re-prompt, or a follow-up.

    An answer may carry a read-back `note` ("Got it: $1,950 a month."), or, when it is
    surprising, `confirm`: the engine reads it back and waits for a yes before it counts.
    A follow-up (`retry` plus `pending`) asks for what is missing, like the hours worked
    after "15 an hour", and hands what was read so far back to the reader with the next reply.
    """

    value: Any = None
    understood: bool = True
    retry: str | None = None  # message key of the re-prompt or follow-up question
    retry_params: Mapping[str, Any] = field(default_factory=dict)
    note: str | None = None  # message key to confirm a loose reading, e.g. "understood_money"
    note_params: Mapping[str, Any] = field(default_factory=dict)
    confirm: str | None = None  # message key of a read-back that needs a yes
    unsure: bool = False  # "I don't know": neither an answer nor a miss
    pending: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def failed(cls, retry: str, **params: Any) -> Reading:
        return cls(understood=False, retry=retry, retry_params=params)

    @classmethod
    def not_sure(cls) -> Reading:
        return cls(understood=False, unsure=True)

    @classmethod
    def follow_up(cls, question: str, **pending: Any) -> Reading:
        """Ask `question` (a message key) next, keeping `pending` for the reply."""
        return cls(understood=False, retry=question, pending=pending)


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
