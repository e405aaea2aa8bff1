"""Whole numbers: ages, people, children's ages. "22", "22yo", "I'm 22", "twenty two",
"18 months", "tiene 8 meses", "newborn", "just me", "me and my mom".

Ages may come with a unit (days, weeks, months, years): they are turned into whole years,
so a baby of 8 months is 0, as the question asks. A question that `counts: people` also
understands people named ("me and my 2 kids" is 3).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from bot.flow import Question
from bot.questions import Context, Reading
from bot.questions.hours import phrase_pattern, read_numbers
from bot.questions.normalize import Phrases, ascii_digits, fold, matches_phrase, words
from bot.questions.numbers import SpokenNumbers

# Units of age, as word classes in flows/languages/<lang>.yaml, with how many make a year.
AGE_UNITS = {"days": 365, "weeks": 52, "months": 12, "years": 1}
# Word classes that name people besides the resident (flows/languages/<lang>.yaml).
COUNTED = ("couple", "person", "people", "someone", "some_people")


def read(question: Question, text: str, context: Context) -> Reading:
    if says_unsure(text, context):
        return Reading.not_sure()
    if question.counts == "people":
        people = _people(text, context)
        if people is not None:
            return _checked(question, Decimal(people), chatty=True)
    if Phrases.of(context.words_for("newborn")).found_in(text):
        return _checked(question, Decimal(0), chatty=True)
    spoken = read_numbers(text, context)
    if len(spoken.numbers) != 1:
        return Reading.failed("retry_number")
    number = _in_years(spoken, context)
    if number != number.to_integral_value():
        return Reading.failed("retry_number")
    return _checked(question, number, chatty=not ascii_digits(text.strip()).isdigit())


def says_unsure(text: str, context: Context) -> bool:
    """ "I don't know", "no sé", "không chắc", "नहीं पता": never an answer, never a no."""
    return Phrases.of(context.words_for("unsure")).found_in(text)


def _checked(question: Question, number: Decimal, chatty: bool) -> Reading:
    value = int(number)
    low, high = question.minimum, question.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        return Reading.failed("retry_number_range", min=_whole(low), max=_whole(high))
    if not chatty:
        return Reading(value)
    note = "understood_under_one" if value == 0 and question.minimum == 0 else "understood_number"
    return Reading(value, note=note, note_params={"number": value})


def _in_years(spoken: SpokenNumbers, context: Context) -> Decimal:
    """The number, in whole years when a unit of age follows it ("18 months" is 1)."""
    number = spoken.numbers[0]
    text = fold(spoken.text)
    start = number.end
    while start < len(text) and text[start] == " ":
        start += 1
    for unit, per_year in AGE_UNITS.items():
        pattern = phrase_pattern(context.words_for(unit))
        if pattern and pattern.match(text, start):
            return Decimal(int(number.value // per_year))
    return number.value


def _people(text: str, context: Context) -> int | None:
    """How many people a reply names, with the resident: "just me" 1, "me and my mom" 2,
    "my mom" 2, "me and 2 kids" 3, "vợ chồng tôi" (a couple) 2, "tôi với 2 đứa con" 3,
    "me and one person" 2 (a bare "person" or "people" counts only after "me and": "2 people"
    alone is the whole household), "me and 2" 3. None when it names nobody (then the number
    in it is the answer)."""
    if matches_phrase(text, context.words_for("just_me")):
        return 1
    phrases = _counted(tuple((kind, context.words_for(kind)) for kind in COUNTED))
    tokens = _without_classifiers(words(read_numbers(text, context).text), context,
                                  {phrase[0] for _, phrase in phrases})
    me_and = _phrase_words(context.words_for("me_and"))
    claimed = [False] * len(tokens)
    count, named = 1, False  # the question counts the resident, named or not
    for kind, phrase in phrases:
        size = len(phrase)
        for start in range(len(tokens) - size + 1):
            if tuple(tokens[start:start + size]) != phrase or any(claimed[start:start + size]):
                continue
            before = ascii_digits(tokens[start - 1]) if start else ""
            number = int(before) if before.isdigit() else None
            if kind in ("someone", "some_people") and not _after_me_and(
                    tokens[:start - (number is not None)], me_and):
                continue  # "2 people" alone is the whole household: its number answers
            claimed[start:start + size] = [True] * size
            named = True
            if kind == "couple":
                count += 1  # the resident and a partner ("hai vợ chồng" is still two)
            elif number is None and kind in ("people", "some_people"):
                return None  # "me and my kids", "me and some people": how many? ask again
            else:
                count += number or 1
    if not named:
        return _me_and_a_number(tokens, me_and)
    return count


@lru_cache(maxsize=64)
def _counted(tables: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, tuple[str, ...]]]:
    """Each counting phrase's words with its kind, longest first: split once per language,
    not at every reply."""
    return sorted(((kind, tuple(words(phrase))) for kind, phrases in tables
                   for phrase in phrases if words(phrase)), key=lambda item: -len(item[1]))


@lru_cache(maxsize=64)
def _phrase_words(phrases: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(words(phrase)) for phrase in phrases) - {()}


def _me_and_a_number(tokens: list[str], me_and: frozenset[tuple[str, ...]]) -> int | None:
    """ "me and 2", "yo y 3": the resident and that many others; None for anything else."""
    last = ascii_digits(tokens[-1]) if tokens else ""
    if last.isdigit() and _after_me_and(tokens[:-1], me_and):
        return 1 + int(last)
    return None


def _after_me_and(tokens: list[str], me_and: frozenset[tuple[str, ...]]) -> bool:
    """Whether the words end with the resident joined to others: "me and", "yo y"."""
    return any(len(tokens) >= len(phrase) and tuple(tokens[-len(phrase):]) == phrase
               for phrase in me_and)


def _without_classifiers(tokens: list[str], context: Context, persons: set[str]) -> list[str]:
    """Drop counting words between a number and a person ("2 đứa con" is "2 con"); one that
    stands alone ("3 đứa nhỏ") still counts, as a `people` word."""
    classifiers = {w for phrase in context.words_for("classifiers") for w in words(phrase)}
    return [token for index, token in enumerate(tokens)
            if token not in classifiers or index + 1 == len(tokens)
            or tokens[index + 1] not in persons]


def _whole(limit: float | None) -> str:
    return "" if limit is None else str(int(limit))
